"""Zero-cost benchmark of the tuner itself: every strategy on synthetic objectives whose
optimum is known, paired over seeds, from a default start and from a bad one.

The objectives are made here, seeded, and cost microseconds, so thousands of searches run in
minutes and only the search differs. Two spaces shaped like the ones the tuner serves:

* ``gnn``: an unordered layer type, ordered widths and head/propagation counts, integer depth,
  linear and log-scaled rates; ``heads`` is read only by GAT, ``k``/``alpha`` only by APPNP
  (conditional fields, declared through the effective config, as gnn.train does);
* ``prompt``: unordered instructions, templates, label words and example selection, an integer
  shot count, a temperature; selection and order are read only with shots > 0.

Each space gets a *smooth* and a *rugged* landscape. The loss is a sum of main effects (a
penalty per option of an unordered field, a power of the distance to the planted optimum on
the other fields), pairwise interactions, and per-option shifts of the numeric optima (each
layer type has its own good region); the rugged one adds a tabulated term, a hash of the
point's cell on an 8-bin grid. Every term is 0 at the planted optimum and positive elsewhere,
so the optimum is known (loss 0: the figures are regrets). "Top 1%" is the 1% quantile of the
loss over 20,000 uniform points.

Every strategy runs through the tuner's own proposer (``autoglm_tuner.proposer``): the same
start point first (the ``default`` design), distinct points, repeats discarded and filled
with random points, each result told once. Budgets are read as best-so-far values of one
run per seed (anytime); NGOpt is built for the run's largest budget.

Usage (about 12 minutes on 2 shared cores with the defaults):
    nohup .venv/bin/python bench/tuner_zero_cost.py > bench/out/tuner_zero_cost.log 2>&1 &
    .venv/bin/python bench/tuner_zero_cost.py --seeds 5 --quick
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CHECKPOINTS = (20, 50, 100, 200, 500, 1000, 2000)


# ------------------------------------------------------------------------------- spaces


def gnn_space() -> dict[str, Any]:
    from autoglm.space import Choice, FloatRange, IntRange

    return {
        "layer": Choice(["gcn", "gat", "sage", "gin", "appnp", "mlp"]),
        "hidden": Choice([16, 32, 64, 128, 256], ordered=True),
        "depth": IntRange(1, 4),
        "dropout": FloatRange(0.0, 0.8),
        "input_dropout": FloatRange(0.0, 0.9),
        "lr": FloatRange(1e-3, 5e-2, log=True),
        "weight_decay": FloatRange(1e-5, 1e-2, log=True),
        "heads": Choice([1, 2, 4, 8], ordered=True),
        "k": Choice([2, 4, 8, 10, 16], ordered=True),
        "alpha": FloatRange(0.05, 0.5),
    }


def gnn_effective(params: dict[str, Any]) -> dict[str, Any]:
    drop = set()
    if params["layer"] != "gat":
        drop.add("heads")
    if params["layer"] != "appnp":
        drop |= {"k", "alpha"}
    return {k: v for k, v in params.items() if k not in drop}


def prompt_space() -> dict[str, Any]:
    from autoglm.space import Choice, FloatRange, IntRange

    return {
        "instruction": Choice([f"instruction-{i}" for i in range(8)]),
        "template": Choice(["plain", "qa", "json", "chat"]),
        "label_words": Choice(["pos/neg", "good/bad", "yes/no", "1/0", "great/terrible"]),
        "shots": IntRange(0, 8),
        "selection": Choice(["random", "similar", "diverse", "balanced"]),
        "order": Choice(["asc", "desc", "shuffled"]),
        "temperature": FloatRange(0.0, 1.5),
    }


def prompt_effective(params: dict[str, Any]) -> dict[str, Any]:
    if params["shots"] == 0:
        return {k: v for k, v in params.items() if k not in ("selection", "order")}
    return dict(params)


SPACES = {"gnn": (gnn_space, gnn_effective), "prompt": (prompt_space, prompt_effective)}


# ---------------------------------------------------------------------------- objectives


@dataclass
class Problem:
    """A seeded synthetic landscape over one space, with its optimum planted at ``optimum``."""

    name: str
    space: dict[str, Any]
    effective: Any
    rugged: bool
    seed: int
    #: a related task (the performance predictor's benchmark): every numeric optimum moves by
    #: ``drift`` (on the [0, 1] coordinate) and the rugged table is redrawn per ``variant``
    drift: float = 0.0
    variant: int = 0

    def __post_init__(self) -> None:
        from autoglm.space import Choice
        from autoglm_tuner.spaces import sample

        rng = random.Random(f"{self.name}-{self.seed}")
        self.optimum = self.effective(sample(self.space, rng))
        self.unordered = [
            n for n, d in self.space.items() if isinstance(d, Choice) and not d.ordered
        ]
        self.numeric = [n for n in self.space if n not in self.unordered]
        # main effects: a penalty per wrong option, a weight and a power per numeric field
        self.option_cost = {
            n: {v: (0.0 if v == self.optimum.get(n) else rng.uniform(0.2, 1.0)) for v in d.values}
            for n, d in self.space.items()
            if n in self.unordered
        }
        self.weight = {n: rng.uniform(0.3, 1.5) for n in self.numeric}
        self.power = {n: rng.choice([1.0, 1.5, 2.0]) for n in self.numeric}
        # interactions between numeric fields, and per-option shifts of numeric optima
        pairs = [(a, b) for i, a in enumerate(self.numeric) for b in self.numeric[i + 1 :]]
        self.pairs = [
            (a, b, rng.uniform(0.5, 2.0)) for a, b in rng.sample(pairs, min(4, len(pairs)))
        ]
        # interactions between unordered fields: a penalty per pair of options
        combos = [(a, b) for i, a in enumerate(self.unordered) for b in self.unordered[i + 1 :]]
        self.combos = {
            (a, b): {
                (x, y): 0.0
                if (x, y) == (self.optimum.get(a), self.optimum.get(b))
                else rng.uniform(0, 0.5)
                for x in self.space[a].values
                for y in self.space[b].values
            }
            for a, b in rng.sample(combos, min(2, len(combos)))
        }
        first = self.unordered[0]
        self.shift = {
            v: {
                n: (0.0 if v == self.optimum[first] else rng.uniform(-0.5, 0.5))
                for n in self.numeric
            }
            for v in self.space[first].values
        }
        self.rugged_scale = 0.6 if self.rugged else 0.0
        self.best_cell = self._cell(self.optimum)

    def _coordinate(self, name: str, value: Any) -> float:
        """The field's value mapped to [0, 1] (log scale for log ranges, index for choices)."""
        dim = self.space[name]
        if hasattr(dim, "values"):
            return dim.values.index(value) / max(1, len(dim.values) - 1)
        if dim.log:
            return (math.log(value) - math.log(dim.low)) / (math.log(dim.high) - math.log(dim.low))
        return (value - dim.low) / (dim.high - dim.low)

    def _cell(self, point: dict[str, Any]) -> str:
        cells = [
            f"{n}={point[n]}"
            if n in self.unordered
            else f"{n}={min(7, int(self._coordinate(n, point[n]) * 8))}"
            for n in sorted(point)
        ]
        return "|".join(cells)

    def loss(self, params: dict[str, Any]) -> float:
        point = self.effective(params)
        shift = self.shift[point[self.unordered[0]]]
        total = sum(self.option_cost[n][point[n]] for n in self.unordered if n in point)
        gap: dict[str, float] = {}
        for n in self.numeric:
            if n in point and n in self.optimum:
                target = self._coordinate(n, self.optimum[n]) + shift[n] + self.drift
                target = min(1.0, max(0.0, target))
                gap[n] = abs(self._coordinate(n, point[n]) - target)
                total += self.weight[n] * gap[n] ** self.power[n]
                total += abs(shift[n]) * 0.5  # away from the planted option's region
        total += sum(w * gap.get(a, 0.0) * gap.get(b, 0.0) for a, b, w in self.pairs)
        total += sum(
            table[(point[a], point[b])]
            for (a, b), table in self.combos.items()
            if a in point and b in point
        )
        if self.rugged_scale:
            cell = self._cell(point)
            if cell != self.best_cell:
                salt = f"{self.seed}-{self.variant}" if self.variant else f"{self.seed}"
                digest = hashlib.blake2b(f"{salt}{cell}".encode(), digest_size=8).digest()
                total += self.rugged_scale * int.from_bytes(digest, "big") / 2**64
        return total


def make_problems(seed: int = 0) -> dict[str, Problem]:
    problems = {}
    for space_name, (make_space, effective) in SPACES.items():
        for rugged in (False, True):
            name = f"{space_name}-{'rugged' if rugged else 'smooth'}"
            problems[name] = Problem(name, make_space(), effective, rugged, seed)
    return problems


@dataclass
class Landscape:
    """What the benchmark knows about a problem: its top-1% threshold and two start points."""

    top1: float
    default_start: dict[str, Any]
    bad_start: dict[str, Any]


def landscape(problem: Problem) -> Landscape:
    """20,000 uniform points: the 1% quantile of the loss, a typical default (the point at the
    25% quantile: decent, like a node's untuned defaults) and a bad start (98% quantile)."""
    from autoglm_tuner.spaces import sample

    rng = random.Random(f"landscape-{problem.name}")
    points = [sample(problem.space, rng) for _ in range(20_000)]
    ranked = sorted(points, key=problem.loss)
    return Landscape(
        top1=problem.loss(ranked[len(ranked) // 100]),
        default_start=ranked[len(ranked) // 4],
        bad_start=ranked[int(len(ranked) * 0.98)],
    )


# ------------------------------------------------------------------------------- runs


def one_search(task: tuple[str, str, str, int, int]) -> dict[str, Any]:
    """One search: best-so-far regret at each checkpoint, evaluations to the top 1%, and the
    CPU seconds of the search's own work (the objective is microseconds)."""
    import warnings

    warnings.simplefilter("ignore")
    from autoglm_tuner.design import make_design
    from autoglm_tuner.proposer import Proposer
    from autoglm_tuner.strategies import make_strategy

    strategy_name, problem_name, start_name, seed, budget = task
    problem = PROBLEMS[problem_name]
    land = LANDSCAPES[problem_name]
    start = land.default_start if start_name == "default" else land.bad_start
    strategy = make_strategy(
        strategy_name, problem.space, budget=budget, workers=1, seed=seed, start=start
    )
    proposer = Proposer(
        strategy,
        problem.space,
        budget=budget,
        seed=seed,
        key=lambda p: repr(sorted(problem.effective(p).items())),
        design=make_design("default", start, problem.space),
    )
    best, curve, reached = math.inf, {}, None
    started = time.process_time()
    evaluations = 0
    while (candidate := proposer.ask()) is not None:
        loss = problem.loss(candidate.params)
        proposer.tell(candidate, loss)
        evaluations += 1
        best = min(best, loss)
        if reached is None and best <= land.top1:
            reached = evaluations
        if evaluations in CHECKPOINTS:
            curve[evaluations] = best
    return {
        "task": task,
        "curve": curve,
        "reached": reached,
        "cpu": time.process_time() - started,
        "trials": evaluations,
        "fills": proposer.sources.get("random fill", 0),
    }


PROBLEMS = make_problems()
LANDSCAPES: dict[str, Landscape] = {}


def _init_worker() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    for name, problem in PROBLEMS.items():
        LANDSCAPES[name] = landscape(problem)


# -------------------------------------------------------------------------- statistics


def wilcoxon(a: list[float], b: list[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired samples (1.0 when all pairs tie)."""
    from scipy.stats import wilcoxon as test

    if all(x == y for x, y in zip(a, b, strict=True)):
        return 1.0
    return float(test(a, b, zero_method="zsplit").pvalue)


def verdict(mine: list[float], other: list[float]) -> str:
    """How ``mine`` (the default) fares against ``other``: ``better`` / ``WORSE`` when the
    paired difference is significant (p < 0.05), else ``=``."""
    p = wilcoxon(mine, other)
    if p >= 0.05:
        return f"= (p={p:.2f})"
    better = statistics.mean(mine) < statistics.mean(other)
    return f"{'better' if better else 'WORSE'} (p={p:.1g})"


# ------------------------------------------------------------------------------ report


CACHE = REPO / "bench" / "out" / "tuner_zero_cost.jsonl"


def plan(args: argparse.Namespace) -> list[tuple[str, str, str, int, int]]:
    """Every search of the benchmark, most important first: the main strategies from the
    default start, then from the bad start, then GP, the long searches and the other
    Nevergrad choices (so an interrupted run still answers the main question)."""
    main = args.strategies.split(",")
    first, others = main[:3], main[3:]
    tasks = []
    for start in ("default", "bad"):
        tasks += [
            (s, p, start, seed, args.budget)
            for seed in range(args.seeds)
            for p in PROBLEMS
            for s in first
        ]
    tasks += [
        (s, p, "default", seed, args.gp_budget)
        for seed in range(args.gp_seeds)
        for p in args.gp_problems.split(",")
        for s in ("GP", *first)
    ]
    tasks += [
        (s, p, "default", seed, args.long_budget)
        for seed in range(args.long_seeds)
        for p in args.long_problems.split(",")
        for s in args.long_strategies.split(",")
    ]
    tasks += [
        (s, p, "default", seed, args.budget)
        for seed in range(args.others_seeds)
        for p in PROBLEMS
        for s in others
    ]
    return tasks


def load_cache() -> dict[tuple, dict[str, Any]]:
    runs: dict[tuple, dict[str, Any]] = {}
    if CACHE.exists():
        for line in CACHE.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:  # the last line of an interrupted run
                continue
            record["task"] = tuple(record["task"])
            record["curve"] = {int(k): v for k, v in record["curve"].items()}
            runs[record["task"]] = record
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--default", default="NGOpt", help="the strategy judged against the rest")
    parser.add_argument(
        "--strategies",
        default="random,NGOpt,TPE,PortfolioDiscreteOnePlusOne",
        help="the first three run from both starts before the rest",
    )
    parser.add_argument("--budget", type=int, default=100, help="budget of every strategy")
    parser.add_argument("--others-seeds", type=int, default=10, help="seeds of strategies 4+")
    parser.add_argument("--long-budget", type=int, default=1000)
    parser.add_argument("--long-strategies", default="random,NGOpt,TPE")
    parser.add_argument("--long-problems", default="gnn-rugged")
    parser.add_argument("--long-seeds", type=int, default=10)
    parser.add_argument("--gp-budget", type=int, default=50)
    parser.add_argument("--gp-problems", default="gnn-smooth")
    parser.add_argument("--gp-seeds", type=int, default=5)
    parser.add_argument("--report-only", action="store_true", help="report what is cached")
    parser.add_argument(
        "--bad-seeds", type=int, default=None, help="seeds reported from the bad start (--seeds)"
    )
    parser.add_argument("--no-overhead", action="store_true", help="skip the tuner.search run")
    parser.add_argument("--quick", action="store_true", help="write *_quick.md / .png")
    args = parser.parse_args()

    _init_worker()
    runs = load_cache()
    todo = [t for t in plan(args) if t not in runs]
    began = time.monotonic()
    if todo and not args.report_only:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        with (
            ProcessPoolExecutor(args.jobs, initializer=_init_worker) as pool,
            CACHE.open("a") as out,
        ):
            for done, result in enumerate(pool.map(one_search, todo, chunksize=2), start=1):
                runs[result["task"]] = result
                out.write(json.dumps(result) + "\n")
                out.flush()
                if done % 50 == 0:
                    print(
                        f"{done}/{len(todo)} searches, {time.monotonic() - began:.0f} s", flush=True
                    )
    wall = time.monotonic() - began
    if not args.seeds:  # a run that only fills the cache (other tiers)
        return
    overhead = [] if args.no_overhead else cached("overhead", search_overhead)
    predictor = cached("predictor", lambda: predictor_study(min(args.seeds, 20)))
    write_report(args, runs, wall, overhead, predictor)


def seeds_of(args: argparse.Namespace, start: str) -> int:
    """Seeds reported from ``start`` (the bad start may be reported on fewer, and says so)."""
    return args.seeds if start == "default" or args.bad_seeds is None else args.bad_seeds


def cached(name: str, compute: Any) -> Any:
    """``compute()``, kept in bench/out/ so that rebuilding the report does not redo it."""
    path = CACHE.with_name(f"tuner_zero_cost_{name}.json")
    if path.exists():
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return value


def predictor_study(seeds: int) -> list[str]:
    """The performance predictor on families of related tasks: ten variants of each rugged
    problem whose numeric optima drift with a profile value. Fitted on 100 random trials of
    eight variants, it ranks the points of the two held-out variants (Spearman against their
    true loss), and a random search that trains only the best-ranked 30% of its proposals is
    compared with plain random search on the held-out variants, paired over seeds."""
    from autoglm_tuner.design import make_design
    from autoglm_tuner.fidelity import spearman
    from autoglm_tuner.predictor import PastSearch, Predictor
    from autoglm_tuner.proposer import Proposer, minimise
    from autoglm_tuner.spaces import sample
    from autoglm_tuner.strategies import make_strategy

    lines = [
        "### Performance predictor (`screen: 0.3`) on held-out related tasks",
        "",
        "Ten variants of each rugged problem: every numeric optimum drifts by "
        "(v/9 - 0.5) x 0.5 on its [0, 1] scale and the rugged table is redrawn; the profile "
        "gives the drift and a size. Fitted on 100 random trials of each of eight variants, "
        f"tested on variants 3 and 6. Searches: random proposals, default start, {seeds} "
        "seeds; `screened` trains the best-ranked of every 3 proposals.",
        "",
        "| problem | held-out variant | Spearman (500 points) | evaluations to top 1%: random "
        "| screened | best at 50: random | screened | paired |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("gnn-rugged", "prompt-rugged"):
        base = PROBLEMS[name]

        def variant(v: int, base: Problem = base) -> tuple[dict[str, Any], Problem]:
            drift = (v / 9 - 0.5) * 0.5
            problem = Problem(
                base.name, base.space, base.effective, True, base.seed, drift=drift, variant=v + 1
            )
            return {"drift": drift, "size": 1000 * (1 + v)}, problem

        rng = random.Random(f"predictor-{name}")
        past = []
        for v in (0, 1, 2, 4, 5, 7, 8, 9):
            profile, problem = variant(v)
            points = [sample(base.space, rng) for _ in range(100)]
            past.append(PastSearch(profile, [(p, problem.loss(p)) for p in points]))
        predictor = Predictor(base.space, past)
        for v in (3, 6):
            profile, problem = variant(v)
            points = [sample(base.space, rng) for _ in range(500)]
            rho = spearman(predictor.rank(points, profile), [problem.loss(p) for p in points])
            top1 = sorted(problem.loss(sample(base.space, rng)) for _ in range(20_000))[200]
            start = LANDSCAPES[name].default_start
            results: dict[bool, list[tuple[int, float]]] = {True: [], False: []}
            for screened in (False, True):
                for seed in range(seeds):
                    proposer = Proposer(
                        make_strategy("random", base.space, budget=200, workers=1, seed=seed),
                        base.space,
                        budget=200,
                        seed=seed,
                        key=lambda p, pr=problem: repr(sorted(pr.effective(p).items())),
                        design=make_design("default", start, base.space),
                        screen=(lambda pts, pf=profile, m=predictor: m.rank(pts, pf))
                        if screened
                        else None,
                        keep=0.3,
                    )
                    trials = minimise(proposer, problem.loss)
                    losses = [loss for _, loss, _ in trials]
                    reached = next((i + 1 for i, x in enumerate(losses) if x <= top1), 201)
                    results[screened].append((reached, min(losses[:50])))
            plain, screened_runs = results[False], results[True]
            lines.append(
                f"| {name} | {v} | {rho:.2f} "
                f"| {statistics.median(r for r, _ in plain):g} "
                f"| {statistics.median(r for r, _ in screened_runs):g} "
                f"| {statistics.mean(b for _, b in plain):.3f} "
                f"| {statistics.mean(b for _, b in screened_runs):.3f} "
                f"| screened {verdict([b for _, b in screened_runs], [b for _, b in plain])} |"
            )
    return [*lines, ""]


def search_overhead() -> list[tuple[int, float, float]]:
    """CPU seconds of the search process (workers excluded) for a real ``tuner.search`` of
    250, 1,000 and 2,000 random trials of a zero-cost toy objective on 2 workers: (trials,
    CPU s, wall s). What the tuner itself costs per trial: proposing, journaling, scheduling,
    reporting."""
    import tempfile

    from autoglm.plugins import PluginSelection
    from autoglm.testing import make_context, run_node
    from autoglm_tuner.node import SearchNode

    toy = REPO / "plugins" / "tuner" / "tests" / "toy_plugins"
    selection = PluginSelection(allow=("tuner", "toy"), plugin_dirs=(str(toy),))
    rows = []
    for budget in (250, 1000, 2000):
        with tempfile.TemporaryDirectory() as home:
            context = make_context(
                Path(home), node_id="search", node_type="tuner.search", selection=selection
            )
            config = {
                "objective": "toy.quadratic",
                "metric": "score",
                "optimizer": "random",
                "budget": budget,
                "warm_start": False,
            }
            cpu, wall = time.process_time(), time.monotonic()
            out = run_node(SearchNode, config, {}, home=home, context=context)
            rows.append((out.trials, time.process_time() - cpu, time.monotonic() - wall))
            print(f"overhead: {rows[-1]}", flush=True)
    return rows


def write_report(
    args: argparse.Namespace,
    runs: dict[tuple, dict[str, Any]],
    wall: float,
    overhead: list[tuple[int, float, float]],
    predictor: list[str],
) -> None:
    """The markdown section and the plot, from whatever searches are cached: a group of
    searches (strategy, problem, start, budget) is reported only when all its seeds ran."""
    suffix = "_quick" if args.quick else ""
    default = args.default
    strategies = args.strategies.split(",")
    starts = ("default", "bad")

    def group(s: str, p: str, start: str, run_budget: int, n: int) -> list[dict] | None:
        found = [runs.get((s, p, start, seed, run_budget)) for seed in range(n)]
        return None if any(r is None for r in found) else found  # type: ignore[return-value]

    def regrets(s: str, p: str, start: str, at: int, run_budget: int, n: int) -> list | None:
        found = group(s, p, start, run_budget, n)
        return None if found is None else [r["curve"][at] for r in found]

    lines = [
        "## Tuner on zero-cost objectives (`bench/tuner_zero_cost.py`)",
        "",
        f"Command: `python bench/tuner_zero_cost.py --seeds {args.seeds} --budget {args.budget} "
        f"--default {default}` ({len(runs)} searches cached; {platform.machine()}, Python "
        f"{sys.version.split()[0]}, {args.jobs} processes on 2 cores shared with other jobs).",
        "",
        "Synthetic objectives made by the script: a GNN-shaped space (unordered layer type, "
        "ordered widths, heads and propagation steps, integer depth, linear and log rates; "
        "`heads` read only by GAT, `k`/`alpha` only by APPNP) and a prompt-shaped one "
        "(unordered instruction, template, label words, example selection and order, integer "
        "shots, a temperature; selection and order read only with shots > 0), each with a "
        "smooth and a rugged landscape (main effects, interactions, per-option optima; the "
        "rugged one adds a hashed 8-bin table), the optimum planted at loss 0. Figures are "
        "**mean regret of the best point so far** (lower is better). Every strategy asks the "
        "same start point first, then runs through the tuner's own proposer (distinct points, "
        "each result told once, random fill after repeats). Starts: `default` is the point at "
        "the 25% quantile of 20,000 uniform points (a decent untuned default), `bad` the one at "
        "the 98% quantile. Budgets are read from one search per seed (anytime; NGOpt is built "
        f"for the search's budget). Verdicts compare `{default}` with each strategy on the same "
        "seeds: Wilcoxon signed-rank, two-sided, p < 0.05.",
        "",
    ]
    worse: list[str] = []
    checked = 0
    for start in starts:
        budgets = [b for b in CHECKPOINTS if b <= args.budget]
        shown = [
            s
            for s in strategies
            if group(s, next(iter(PROBLEMS)), start, args.budget, seeds_of(args, start))
        ]
        if default not in shown:
            continue
        lines += [
            f"### From the {start} start ({seeds_of(args, start)} seeds)",
            "",
            "| problem | budget | " + " | ".join(shown) + f" | {default} against |",
            "|" + "---|" * (len(shown) + 3),
        ]
        for p in PROBLEMS:
            for b in budgets:
                n = seeds_of(args, start)
                values = {s: regrets(s, p, start, b, args.budget, n) for s in shown}
                if any(v is None for v in values.values()):
                    continue
                cells = [f"{statistics.mean(values[s]):.3f}" for s in shown]
                verdicts = []
                for s in shown:
                    if s == default:
                        continue
                    v = verdict(values[default], values[s])
                    verdicts.append(f"vs {s}: {v}")
                    if s in ("random", "TPE"):
                        checked += 1
                        if v.startswith("WORSE"):
                            worse.append(f"{p}/{start}/{b} vs {s}")
                lines.append(
                    f"| {p} | {b} | " + " | ".join(cells) + " | " + "; ".join(verdicts) + " |"
                )
        lines.append("")
    others = strategies[3:]
    other_rows = []
    for p in PROBLEMS:
        for b in [b for b in CHECKPOINTS if b <= args.budget]:
            values = {
                s: regrets(s, p, "default", b, args.budget, args.others_seeds) for s in strategies
            }
            if any(v is None for v in values.values()):
                continue
            cells = [f"{statistics.mean(values[s]):.3f}" for s in strategies]
            verdicts = [f"vs {s}: {verdict(values[default], values[s])}" for s in others]
            other_rows.append(
                f"| {p} | {b} | " + " | ".join(cells) + " | " + "; ".join(verdicts) + " |"
            )
    if others and other_rows:
        lines += [
            f"### Other Nevergrad choices: default start, seeds 0-{args.others_seeds - 1}",
            "",
            "| problem | budget | " + " | ".join(strategies) + f" | {default} against |",
            "|" + "---|" * (len(strategies) + 3),
            *other_rows,
            "",
        ]
        strategies = strategies[:3]
    lines += top1_table(args, runs, strategies, starts, group)
    faster = TOP1_FASTER
    long_strategies = args.long_strategies.split(",")
    long_rows = []
    for p in args.long_problems.split(","):
        for b in [b for b in CHECKPOINTS if args.budget <= b <= args.long_budget]:
            values = {
                s: regrets(s, p, "default", b, args.long_budget, args.long_seeds)
                for s in long_strategies
            }
            if any(v is None for v in values.values()):
                continue
            cells = [f"{statistics.mean(values[s]):.3f}" for s in long_strategies]
            verdicts = []
            for s in long_strategies:
                if s != default and default in values:
                    v = verdict(values[default], values[s])
                    verdicts.append(f"vs {s}: {v}")
                    if s in ("random", "TPE"):
                        checked += 1
                        if v.startswith("WORSE"):
                            worse.append(f"{p}/default/{b} vs {s} (long)")
            long_rows.append(
                f"| {p} | {b} | " + " | ".join(cells) + " | " + "; ".join(verdicts) + " |"
            )
    if long_rows:
        lines += [
            f"### Long searches: budget {args.long_budget}, default start, {args.long_seeds} seeds "
            "(too few for a significant difference: these show the curve, not a verdict)",
            "",
            "| problem | budget | " + " | ".join(long_strategies) + f" | {default} against |",
            "|" + "---|" * (len(long_strategies) + 3),
            *long_rows,
            "",
        ]
    gp_strategies = ["GP", *strategies[:3]]
    gp_rows = []
    for p in args.gp_problems.split(","):
        found = {s: group(s, p, "default", args.gp_budget, args.gp_seeds) for s in gp_strategies}
        if any(v is None for v in found.values()):
            continue
        cells = [
            f"{statistics.mean(r['curve'][args.gp_budget] for r in found[s]):.3f}"
            for s in gp_strategies
        ]
        cpu = statistics.mean(r["cpu"] for r in found["GP"])
        gp_rows.append(f"| {p} | " + " | ".join(cells) + f" | {cpu:.1f} |")
    if gp_rows:
        lines += [
            f"### GP + EI (Optuna's GPSampler): budget {args.gp_budget}, default start, "
            f"{args.gp_seeds} seeds",
            "",
            "| problem | " + " | ".join(gp_strategies) + " | GP CPU s per search |",
            "|" + "---|" * (len(gp_strategies) + 2),
            *gp_rows,
            "",
        ]
    cost = []
    for s in [*args.strategies.split(","), "GP"]:
        found = [r for t, r in runs.items() if t[0] == s and t[4] in (args.budget, args.gp_budget)]
        if found:
            cost.append(
                f"| {s} | {1000 * statistics.mean(r['cpu'] / r['trials'] for r in found):.2f} |"
            )
    lines += [
        "### Cost of the search itself",
        "",
        f"CPU milliseconds per trial of each strategy (ask and tell, proposer included; mean over "
        f"its budget-{args.budget} searches, GP's budget-{args.gp_budget} ones; the objective "
        "costs microseconds):",
        "",
        "| strategy | ms per trial |",
        "|---|---|",
        *cost,
        "",
    ]
    if overhead:
        lines += [
            "A real `tuner.search` (random strategy, zero-cost toy objective, 2 worker processes, "
            "journal in SQLite): CPU of the search process, workers excluded:",
            "",
            "| trials | search CPU s | ms per trial | wall s |",
            "|---|---|---|---|",
            *[f"| {n} | {cpu:.2f} | {1000 * cpu / n:.2f} | {w:.1f} |" for n, cpu, w in overhead],
            "",
        ]
    lines += predictor
    lines += [
        "### Verdict",
        "",
        f"* `{default}` significantly worse than random or TPE ({checked} paired comparisons, "
        "a strategy against itself left out): " + ("none" if not worse else ", ".join(worse)) + ".",
        f"* `{default}` reaches the top 1% in fewer evaluations than random (median over seeds): "
        f"{sum(faster)} of {len(faster)} problem/start pairs.",
        "",
        f"![mean regret of the best point so far](tuner_zero_cost{suffix}.png)",
        "",
    ]
    (RESULTS / f"tuner_zero_cost{suffix}.md").write_text("\n".join(lines))
    plot(args, runs, strategies, starts, group, suffix)
    print("\n".join(lines))


TOP1_FASTER: list[bool] = []


def top1_table(args, runs, strategies, starts, group) -> list[str]:
    """Median evaluations to reach the top 1% of the space (never reached: budget + 1)."""
    lines = [
        "### Evaluations to reach the top 1% of the space (median over the seeds above; "
        f"never reached counts as {args.budget + 1}; share reached in brackets)",
        "",
        "| problem | start | " + " | ".join(strategies) + " |",
        "|" + "---|" * (len(strategies) + 2),
    ]
    for p in PROBLEMS:
        for start in starts:
            n = seeds_of(args, start)
            found = {s: group(s, p, start, args.budget, n) for s in strategies}
            cells, medians = [], {}
            for s in strategies:
                if found[s] is None:
                    cells.append("-")
                    continue
                reached = [r["reached"] for r in found[s]]
                medians[s] = statistics.median(
                    x if x is not None else args.budget + 1 for x in reached
                )
                cells.append(
                    f"{medians[s]:g} ({sum(x is not None for x in reached) / len(reached):.0%})"
                )
            if args.default in medians and "random" in medians:
                TOP1_FASTER.append(medians[args.default] < medians["random"])
            lines.append(f"| {p} | {start} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def plot(args, runs, strategies, starts, group, suffix: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(PROBLEMS), figsize=(4 * len(PROBLEMS), 7), squeeze=False)
    for row, start in enumerate(starts):
        for col, p in enumerate(PROBLEMS):
            axis = axes[row][col]
            for s in strategies:
                found = group(s, p, start, args.budget, seeds_of(args, start))
                if found is None:
                    continue
                xs = [b for b in CHECKPOINTS if b <= args.budget]
                ys = [statistics.mean(r["curve"][b] for r in found) for b in xs]
                axis.plot(xs, ys, marker="o", label=s)
            long = [
                (s, group(s, p, start, args.long_budget, args.long_seeds))
                for s in args.long_strategies.split(",")
            ]
            for s, found in long:
                if found is None:
                    continue
                xs = [b for b in CHECKPOINTS if b <= args.long_budget]
                ys = [statistics.mean(r["curve"][b] for r in found) for b in xs]
                axis.plot(xs, ys, linestyle="--", label=f"{s} (budget {args.long_budget})")
            axis.set_xscale("log")
            axis.set_title(f"{p}, {start} start", fontsize=9)
            axis.set_xlabel("evaluations")
            axis.set_ylabel("mean regret of the best so far")
            axis.grid(alpha=0.3)
            if axis.get_legend_handles_labels()[0]:
                axis.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(RESULTS / f"tuner_zero_cost{suffix}.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
