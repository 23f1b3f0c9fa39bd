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
run per seed (anytime); NGOpt is built for the run's budget, while random, TPE and GP do not
depend on it, so a shorter budget is read from a longer search of the same seed.

Searches run one at a time and are cached in bench/out/ (a run resumes where it stopped). The
defaults cost about an hour of CPU, most of it TPE's and GP's searches; two runners may split
the tiers (each re-reads what the other cached before every search), then the report:
    nohup .venv/bin/python bench/tuner_zero_cost.py --tiers long-default,mid-default,mid-bad \
        --no-report > bench/out/tuner_zero_cost_p1.log 2>&1 &
    nohup .venv/bin/python bench/tuner_zero_cost.py --tiers plain,gp,main --no-report \
        > bench/out/tuner_zero_cost_p2.log 2>&1 &
    .venv/bin/python bench/tuner_zero_cost.py --report-only
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CHECKPOINTS = (20, 50, 100, 200, 500, 1000, 2000)
#: Optuna's TPE on the whole history (the default until its history was bounded)
PLAIN_TPE = "TPE-plain"


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
    best, curve, reached, cpu_at = math.inf, {}, None, {}
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
            cpu_at[evaluations] = time.process_time() - started
    record = {
        "task": task,
        "curve": curve,
        "reached": reached,
        "cpu": time.process_time() - started,
        "cpu_at": cpu_at,
        "trials": evaluations,
        "fills": proposer.sources.get("random fill", 0),
    }
    if strategy_name == "TPE":
        from autoglm_tuner.tpe import FIT, HISTORY, WHOLE_HISTORY

        record["history"] = HISTORY
        record["whole"] = WHOLE_HISTORY
        record["fit"] = FIT
    return record


PROBLEMS = make_problems()
LANDSCAPES: dict[str, Landscape] = {}


#: Strategies whose proposals do not depend on the budget (the budget only stops them): a
#: search of budget b is the first b trials of a longer one, so it is read from that one.
BUDGET_FREE = ("random", "TPE", PLAIN_TPE, "GP")


def _plain_tpe(space: dict[str, Any], *, budget: int, workers: int, seed: int) -> Any:
    """Optuna's multivariate TPE fitted on the whole history (the default before its history
    was bounded): the reference the bounded default is compared with."""
    from autoglm_tuner.strategies import OptunaStrategy

    return OptunaStrategy("TPE", space, seed=seed, history=None)


def _init_worker() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from autoglm_tuner.strategies import register_strategy

    register_strategy(PLAIN_TPE, _plain_tpe)
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
    """Every search of the benchmark, most important first, so that an interrupted run still
    answers the main questions: the long searches of random and the default from the default
    start, GP + EI and NGOpt at the GP budget, plain TPE's long reference, the long searches
    from the bad start, the budget-100 comparison, NGOpt's long searches and the other
    Nevergrad choices. Searches of budget-free strategies are read from longer ones when
    those ran (``lookup``)."""
    main = args.strategies.split(",")
    first, others = main[:3], main[3:]
    problems = list(PROBLEMS)
    long_strategies = args.long_strategies.split(",")

    def tier(strategies, starts, seeds, budget, tier_problems=problems):
        return [
            (s, p, start, seed, budget)
            for start in starts
            for seed in range(seeds)
            for p in tier_problems
            for s in strategies
        ]

    gp_problems = args.gp_problems.split(",")
    tiers = {
        "long-default": tier(long_strategies, ("default",), args.long_seeds, args.long_budget),
        "mid-default": tier(long_strategies, ("default",), args.mid_seeds, args.mid_budget),
        "gp": tier(("GP", "NGOpt"), ("default",), args.gp_seeds, args.gp_budget, gp_problems),
        "plain": tier((PLAIN_TPE,), ("default", "bad"), args.plain_seeds, args.plain_budget),
        "long-bad": tier(long_strategies, ("bad",), args.long_bad_seeds, args.long_budget),
        "mid-bad": tier(long_strategies, ("bad",), args.mid_bad_seeds, args.mid_budget),
        "main": tier(first, ("default", "bad"), args.seeds, args.budget),
        "ngopt-long": tier(("NGOpt",), ("default",), args.ngopt_long_seeds, args.long_budget),
        "others": tier(others, ("default",), args.others_seeds, args.budget),
    }
    tasks = []
    for name in args.tiers.split(","):
        tasks += tiers[name]
    return tasks


def load_cache() -> dict[tuple, dict[str, Any]]:
    runs: dict[tuple, dict[str, Any]] = {}
    read_cache(runs, 0)
    return runs


def read_cache(runs: dict[tuple, dict[str, Any]], offset: int) -> int:
    """Add the cached searches from byte ``offset`` on to ``runs``; the offset after the last
    whole line (a second runner may be writing the next one)."""
    if not CACHE.exists():
        return offset
    with CACHE.open("rb") as cache:
        cache.seek(offset)
        text = cache.read()
    text = text[: text.rfind(b"\n") + 1]
    for line in text.decode().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # the last line of an interrupted run
            continue
        if record["task"][0] == "TPE" and "history" not in record:
            record["task"][0] = PLAIN_TPE  # run before TPE's history was bounded
        elif stale_fit(record):
            continue
        record["task"] = tuple(record["task"])
        record["curve"] = {int(k): v for k, v in record["curve"].items()}
        record["cpu_at"] = {int(k): v for k, v in record.get("cpu_at", {}).items()}
        runs[record["task"]] = record
    return offset + len(text)


def stale_fit(record: dict[str, Any]) -> bool:
    """Whether ``record`` is a search of the default by another version of its fit than
    ``tpe.FIT`` (``uniform``: the first, before the tag): its points are not (all) the
    current default's, so it is left out, and a longer search of the current one is read
    instead. (Even below 100 trials the versions before ``whole-2000`` could differ from
    plain TPE in the 12th digit: SciPy's log Phi in place of Optuna's.)"""
    from autoglm_tuner.tpe import FIT

    if record["task"][0] != "TPE" or "history" not in record:
        return False
    return record.get("fit", "uniform") != FIT


def lookup(runs: dict[tuple, dict[str, Any]], task: tuple) -> dict[str, Any] | None:
    """The run of ``task``, or for a budget-free strategy its first ``budget`` trials read from
    a longer run of the same seed (anytime: the same points in the same order)."""
    if task in runs:
        return runs[task]
    s, p, start, seed, budget = task
    if s not in BUDGET_FREE or budget not in CHECKPOINTS:
        return None
    longer = [b for b in CHECKPOINTS if b > budget and (s, p, start, seed, b) in runs]
    if not longer:
        return None
    run = runs[(s, p, start, seed, longer[0])]
    reached = run["reached"] if run["reached"] is not None and run["reached"] <= budget else None
    return {
        **run,
        "task": task,
        "curve": {b: v for b, v in run["curve"].items() if b <= budget},
        "reached": reached,
        "cpu": run["cpu_at"].get(budget, run["cpu"] * budget / run["trials"]),
        "trials": budget,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--default", default="TPE", help="the strategy judged against the rest")
    parser.add_argument(
        "--strategies",
        default="random,NGOpt,TPE,PortfolioDiscreteOnePlusOne",
        help="the first three run from both starts before the rest",
    )
    parser.add_argument("--budget", type=int, default=100, help="budget of every strategy")
    parser.add_argument("--others-seeds", type=int, default=10, help="seeds of strategies 4+")
    parser.add_argument("--long-budget", type=int, default=2000)
    parser.add_argument("--long-strategies", default="random,TPE")
    parser.add_argument("--long-problems", default=",".join(PROBLEMS))
    parser.add_argument("--long-seeds", type=int, default=10)
    parser.add_argument("--long-bad-seeds", type=int, default=0, help="long, from the bad start")
    parser.add_argument(
        "--mid-budget", type=int, default=1000, help="a shorter long search for more seeds"
    )
    parser.add_argument("--mid-seeds", type=int, default=40)
    parser.add_argument("--mid-bad-seeds", type=int, default=40)
    parser.add_argument("--ngopt-long-seeds", type=int, default=0, help="NGOpt at --long-budget")
    parser.add_argument("--plain-budget", type=int, default=500, help="plain TPE's long runs")
    parser.add_argument("--plain-seeds", type=int, default=5)
    parser.add_argument("--gp-budget", type=int, default=50)
    parser.add_argument("--gp-problems", default=",".join(PROBLEMS))
    parser.add_argument("--gp-seeds", type=int, default=20)
    parser.add_argument("--report-only", action="store_true", help="report what is cached")
    parser.add_argument(
        "--tiers",
        default="long-default,mid-default,plain,gp,long-bad,mid-bad,main,ngopt-long,others",
        help="which searches to run, in this order (a second runner can take other tiers)",
    )
    parser.add_argument("--no-report", action="store_true", help="only fill the cache")
    parser.add_argument(
        "--reverse",
        action="store_true",
        help="run the tiers' searches last first (a second runner)",
    )
    parser.add_argument(
        "--bad-seeds", type=int, default=None, help="seeds reported from the bad start (--seeds)"
    )
    parser.add_argument("--no-overhead", action="store_true", help="skip the tuner.search run")
    parser.add_argument("--quick", action="store_true", help="write *_quick.md / .png")
    args = parser.parse_args()

    _init_worker()
    runs = load_cache()
    if not args.report_only:
        run_plan(args, runs)
    if args.no_report:
        return
    overhead = {}
    # the default's own measurements are kept per version of its bounded fit
    from autoglm_tuner.tpe import FIT

    tag = f"_{FIT}" if args.default == "TPE" else ""
    if not args.no_overhead:
        overhead["random"] = cached("overhead", search_overhead)
        overhead[args.default] = cached(
            f"overhead_{args.default}{tag}", lambda: search_overhead(args.default)
        )
    predictor = cached("predictor", lambda: predictor_study(min(args.seeds, 20)))
    final_cost = (
        [] if args.no_overhead else cached(f"cost{tag}", lambda: default_cost(args.default))
    )
    write_report(args, runs, overhead, predictor, final_cost)


def run_plan(args: argparse.Namespace, runs: dict[tuple, dict[str, Any]]) -> None:
    """Run what the plan needs and the cache lacks, one search at a time in this process
    (the benchmark shares its cores), appending each result to the cache as it ends."""
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    began, done = time.monotonic(), 0
    read = read_cache({}, 0)
    tasks = plan(args)
    with CACHE.open("a") as out:
        for task in reversed(tasks) if args.reverse else tasks:
            read = read_cache(runs, read)  # what a second runner added meanwhile
            if lookup(runs, task) is not None:
                continue
            result = one_search(task)
            runs[task] = result
            out.write(json.dumps(result) + "\n")
            out.flush()
            done += 1
            if done % 20 == 0:
                print(
                    f"{done} searches, {time.monotonic() - began:.0f} s, last {task} "
                    f"{result['cpu']:.1f} CPU s",
                    flush=True,
                )


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


def search_overhead(optimizer: str = "random") -> list[tuple[int, float, float]]:
    """CPU seconds of the search process (workers excluded) for a real ``tuner.search`` of
    250, 1,000 and 2,000 trials of ``optimizer`` on a zero-cost toy objective on 2 workers:
    (trials, CPU s, wall s). What the tuner itself costs per trial: proposing, journaling,
    scheduling, reporting."""
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
                "optimizer": optimizer,
                "budget": budget,
                "warm_start": False,
            }
            cpu, wall = time.process_time(), time.monotonic()
            out = run_node(SearchNode, config, {}, home=home, context=context)
            rows.append((out.trials, time.process_time() - cpu, time.monotonic() - wall))
            print(f"overhead: {rows[-1]}", flush=True)
    return rows


WINDOWS = ((0, 100), (100, 500), (500, 1000), (1000, 2000))


def default_cost(default: str, seeds: int = 2) -> list[list[Any]]:
    """CPU milliseconds per trial of the default over the windows of a 2,000-trial search
    (objective included: microseconds), on one smooth problem of each space, measured apart
    from the benchmark's searches (which ran with an earlier version of the same proposals):
    rows of (problem, seeds, ms per window..., mean over the search)."""
    rows = []
    for p in ("gnn-smooth", "prompt-smooth"):
        found = [one_search((default, p, "default", seed, 2000)) for seed in range(seeds)]
        cells = [
            1000
            * statistics.mean(r["cpu_at"][hi] - (r["cpu_at"][lo] if lo else 0) for r in found)
            / (hi - lo)
            for lo, hi in WINDOWS
        ]
        rows.append([p, seeds, *cells, 1000 * statistics.mean(r["cpu"] / 2000 for r in found)])
        print(f"cost: {rows[-1]}", flush=True)
    return rows


@dataclass
class Reader:
    """Reads groups of cached searches (one per seed) for the report; a group counts only when
    every seed ran (or, for a budget-free strategy, can be read from a longer search)."""

    runs: dict[tuple, dict[str, Any]]

    def group(self, s: str, p: str, start: str, budget: int, n: int) -> list[dict] | None:
        found = [lookup(self.runs, (s, p, start, seed, budget)) for seed in range(n)]
        return None if not n or any(r is None for r in found) else found  # type: ignore[misc]

    def regrets(self, s: str, p: str, start: str, at: int, budget: int, n: int) -> list | None:
        found = self.group(s, p, start, budget, n)
        return None if found is None else [r["curve"][at] for r in found]


#: (start, budget, problem, other strategy, verdict of the default against it, seeds)
VERDICTS: list[tuple[str, int, str, str, str, int]] = []
#: (table, problem, start, whether the default reached the top 1% sooner than random)
TOP1_FASTER: list[tuple[str, str, str, bool]] = []


def regret_table(
    args: argparse.Namespace,
    reader: Reader,
    start: str,
    n: int,
    run_budget: dict[str, int],
    budgets: list[int],
    against: list[str],
) -> list[str]:
    """Mean regret per problem and budget of each strategy in ``run_budget`` (read from its
    search of that budget), with the default's paired verdicts against ``against``."""
    default = args.default
    shown = list(run_budget)
    rows = []
    for p in PROBLEMS:
        for b in budgets:
            values = {s: reader.regrets(s, p, start, b, run_budget[s], n) for s in shown}
            if values.get(default) is None:
                continue
            cells = ["-" if v is None else f"{statistics.mean(v):.3f}" for v in values.values()]
            verdicts = []
            for s in against:
                if values.get(s) is None:
                    continue
                v = verdict(values[default], values[s])
                verdicts.append(f"vs {s}: {v}")
                VERDICTS.append((start, b, p, s, v, n))
            rows.append(f"| {p} | {b} | " + " | ".join(cells) + " | " + "; ".join(verdicts) + " |")
    if not rows:
        return []
    return [
        "| problem | budget | " + " | ".join(shown) + f" | {default} against |",
        "|" + "---|" * (len(shown) + 3),
        *rows,
        "",
    ]


def top1_table(
    reader: Reader, name: str, strategies: dict[str, int], seeds: dict[str, int], default: str
) -> list[str]:
    """Median evaluations to reach the top 1% of the space within each strategy's search
    budget (never reached: budget + 1), and the share of seeds that reached it."""
    rows = []
    for p in PROBLEMS:
        for start, n in seeds.items():
            cells, medians = [], {}
            for s, budget in strategies.items():
                found = reader.group(s, p, start, budget, n)
                if found is None:
                    cells.append("-")
                    continue
                reached = [r["reached"] for r in found]
                medians[s] = statistics.median(x if x is not None else budget + 1 for x in reached)
                share = sum(x is not None for x in reached) / len(reached)
                cells.append(f"{medians[s]:g} ({share:.0%})")
            if default in medians and "random" in medians:
                TOP1_FASTER.append((name, p, start, medians[default] < medians["random"]))
            rows.append(f"| {p} | {start} ({n} seeds) | " + " | ".join(cells) + " |")
    return [
        "| problem | start | " + " | ".join(strategies) + " |",
        "|" + "---|" * (len(strategies) + 2),
        *rows,
        "",
    ]


def gp_table(args: argparse.Namespace, reader: Reader) -> list[str]:
    """GP + EI beside random, NGOpt and the default at the GP budget, with its CPU per trial."""
    b, n = args.gp_budget, args.gp_seeds
    shown = ["GP", "random", "NGOpt", args.default]
    rows = []
    for p in args.gp_problems.split(","):
        found = {s: reader.group(s, p, "default", b, n) for s in shown}
        if any(v is None for v in found.values()):
            continue
        values = {s: [r["curve"][b] for r in found[s]] for s in shown}
        cells = [f"{statistics.mean(values[s]):.3f}" for s in shown]
        gp_vs = f"GP vs {args.default}: {verdict(values['GP'], values[args.default])}"
        gp_random = f"GP vs random: {verdict(values['GP'], values['random'])}"
        cpu = 1000 * statistics.mean(r["cpu"] / r["trials"] for r in found["GP"])
        rows.append(f"| {p} | " + " | ".join(cells) + f" | {gp_vs}; {gp_random} | {cpu:.0f} |")
    if not rows:
        return []
    return [
        f"### GP + EI (Optuna's GPSampler): budget {b}, default start, {n} seeds",
        "",
        "Random and the default are read from their long searches (the first "
        f"{b} trials); NGOpt ran for budget {b}.",
        "",
        "| problem | " + " | ".join(shown) + " | paired | GP ms per trial |",
        "|" + "---|" * (len(shown) + 3),
        *rows,
        "",
    ]


def cost_tables(args: argparse.Namespace, reader: Reader, final_cost: list) -> list[str]:
    """CPU per trial of each strategy at budget 100, and of the default and plain TPE over
    windows of their long searches (a search's cost per trial grows with its history)."""
    rows = []
    for s in [*args.strategies.split(","), PLAIN_TPE, "GP"]:
        budget = args.gp_budget if s == "GP" else args.budget
        found = [
            lookup(reader.runs, (s, p, start, seed, budget))
            for p in PROBLEMS
            for start in ("default", "bad")
            for seed in range(args.seeds)
        ]
        found = [r for r in found if r is not None]
        if found:
            ms = 1000 * statistics.mean(r["cpu"] / r["trials"] for r in found)
            rows.append(f"| {s} | {budget} | {ms:.2f} | {len(found)} |")
    lines = [
        "### Cost of the search itself",
        "",
        "CPU milliseconds per trial of each strategy (ask and tell, proposer included, the "
        "objective's microseconds too; mean over its searches of that budget, from both starts; "
        "measured on 2 cores shared with other benchmarks, so figures are high by up to a third):",
        "",
        "| strategy | budget | ms per trial | searches |",
        "|---|---|---|---|",
        *rows,
        "",
    ]
    windows = WINDOWS
    window_rows = [
        f"| {args.default} (history {HISTORY_NOTE['TPE']}), measured apart | {p} | {n} | "
        + " | ".join(f"{ms:.2f}" for ms in cells)
        + " |"
        for p, n, *cells in final_cost
    ]
    for s, budget, n in (
        (args.default, args.long_budget, args.long_seeds),
        (PLAIN_TPE, args.plain_budget, args.plain_seeds),
        ("random", args.long_budget, args.long_seeds),
    ):
        for p in PROBLEMS:
            found = reader.group(s, p, "default", budget, n)
            if found is None or not found[0]["cpu_at"]:
                continue
            cells = []
            for lo, hi in windows:
                if hi > budget:
                    cells.append("-")
                    continue
                spent = [r["cpu_at"][hi] - (r["cpu_at"][lo] if lo else 0.0) for r in found]
                cells.append(f"{1000 * statistics.mean(spent) / (hi - lo):.2f}")
            whole = 1000 * statistics.mean(r["cpu"] / r["trials"] for r in found)
            label = f"{s} (history {HISTORY_NOTE.get(s, 'all')})"
            if s == args.default:
                label += ", in the benchmark"
            window_rows.append(
                f"| {label} | {p} | {n} | " + " | ".join(cells) + f" | {whole:.2f} |"
            )
    if window_rows:
        lines += [
            "Per trial over the windows of long searches (default start): the default's TPE fits "
            "the whole history through the tuner's fast path (`autoglm_tuner/tpe.py`), plain "
            "TPE through Optuna's own code; the same points. The rows measured apart are two "
            "seeds of the version committed run again on their own, one process on an "
            "otherwise idle core (the benchmark's searches ran two at a time):",
            "",
            "| strategy | problem | seeds | trials 1-100 | 101-500 | 501-1,000 | 1,001-2,000 "
            "| mean over the search |",
            "|---|---|---|---|---|---|---|---|",
            *window_rows,
            "",
        ]
    return lines


HISTORY_NOTE = {"TPE": "all up to 2,000", "random": "-"}


def overhead_lines(name: str, optimizer: str, overhead: list) -> list[str]:
    if not overhead:
        return []
    return [
        f"A real `tuner.search` ({name}, zero-cost toy objective, 2 worker processes, journal "
        "in SQLite): CPU of the search process, workers excluded:",
        "",
        "| strategy | trials | search CPU s | ms per trial | wall s |",
        "|---|---|---|---|---|",
        *[
            f"| {optimizer} | {n} | {cpu:.2f} | {1000 * cpu / n:.2f} | {w:.1f} |"
            for n, cpu, w in overhead
        ],
        "",
    ]


def identical_to_plain(runs: dict[tuple, dict[str, Any]], default: str) -> tuple[int, int]:
    """How many cached plain-TPE searches the default's search of the same problem, start
    and seed matches at every checkpoint of the best-so-far curve (its budget-b figures read
    from its longer search), and how many were compared."""
    same = compared = 0
    for task, run in runs.items():
        if task[0] != PLAIN_TPE:
            continue
        mine = lookup(runs, (default, *task[1:]))
        if mine is None:
            continue
        compared += 1
        same += mine["curve"] == run["curve"]
    return same, compared


def verdict_lines(args: argparse.Namespace) -> list[str]:
    """Every budget and start: is the default significantly worse than random or plain TPE?"""
    default = args.default
    lines = [
        "### Verdict",
        "",
        f"Paired Wilcoxon of `{default}` (the default) against random search and "
        f"Optuna's plain multivariate TPE (`{PLAIN_TPE}`), per problem: `better`/`WORSE` when "
        "p < 0.05, else `=`. Seeds in brackets.",
        "",
        "| start | budget | against | " + " | ".join(PROBLEMS) + " |",
        "|" + "---|" * (len(PROBLEMS) + 3),
    ]
    keys = sorted(
        {(start, b, s, n) for start, b, _, s, _, n in VERDICTS if s in ("random", PLAIN_TPE)},
        key=lambda k: (k[0] != "default", k[1], k[2] != "random", -k[3]),
    )
    seen = set()
    for start, b, s, n in keys:
        if (start, b, s) in seen:
            continue
        seen.add((start, b, s))
        found = {p: v for st, bb, p, ss, v, nn in VERDICTS if (st, bb, ss, nn) == (start, b, s, n)}
        cells = [found.get(p, "-") for p in PROBLEMS]
        lines.append(f"| {start} | {b} | {s} ({n}) | " + " | ".join(cells) + " |")
    checked = [v for v in VERDICTS if v[3] in ("random", PLAIN_TPE)]
    worse = [f"{p}/{start}/{b} vs {s}" for start, b, p, s, v, _ in checked if v.startswith("WORSE")]
    lines += [
        "",
        f"* `{default}` significantly worse than random or plain TPE: "
        + ("none" if not worse else ", ".join(worse))
        + f" ({len(checked)} paired comparisons, budgets 20 to {args.long_budget}, both starts).",
    ]
    for name in dict.fromkeys(t for t, *_ in TOP1_FASTER):
        faster = [f for t, *_, f in TOP1_FASTER if t == name]
        lines.append(
            f"* `{default}` reaches the top 1% in fewer evaluations than random (median over "
            f"seeds, {name}): {sum(faster)} of {len(faster)} problem/start pairs."
        )
    return [*lines, ""]


def write_report(
    args: argparse.Namespace,
    runs: dict[tuple, dict[str, Any]],
    overhead: dict[str, list],
    predictor: list[str],
    final_cost: list,
) -> None:
    """The markdown section and the plot, from whatever searches are cached: a group of
    searches (strategy, problem, start, budget) is reported only when all its seeds ran."""
    suffix = "_quick" if args.quick else ""
    default = args.default
    reader = Reader(runs)
    strategies = args.strategies.split(",")
    main = {s: args.budget for s in [*strategies[:3], PLAIN_TPE] if s != default}
    main[default] = args.budget
    short = [b for b in CHECKPOINTS if b <= args.budget]
    long = [b for b in CHECKPOINTS if args.budget < b <= args.long_budget]
    lines = [
        "## Tuner on zero-cost objectives (`bench/tuner_zero_cost.py`)",
        "",
        f"Command: `python bench/tuner_zero_cost.py --long-seeds {args.long_seeds} "
        f"--long-bad-seeds {args.long_bad_seeds} --mid-seeds {args.mid_seeds} --mid-bad-seeds "
        f"{args.mid_bad_seeds} --plain-seeds {args.plain_seeds} --plain-budget {args.plain_budget} "
        f"--gp-seeds {args.gp_seeds}` "
        f"({len(runs)} searches cached, run one at a time in at most two processes; "
        f"{platform.machine()}, Python "
        f"{sys.version.split()[0]}, 2 cores shared with other benchmarks).",
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
        f"the 98% quantile. `{default}` is the default strategy: Optuna's multivariate TPE "
        "on the whole history up to 2,000 trials through the tuner's fast path (the same "
        "points as Optuna's own sampler; past 2,000 trials, a bounded fit of 100), "
        f"`{PLAIN_TPE}` is Optuna's own `TPESampler` (multivariate), the reference. "
        "Budgets are read from one search per seed (anytime): NGOpt is built for the search's "
        "budget; random and TPE do not depend on the budget, so their budget-b figures are "
        "the first b trials of their 2,000-trial searches. Verdicts compare "
        f"`{default}` with each strategy on the same seeds: Wilcoxon signed-rank, two-sided, "
        "p < 0.05.",
        "",
    ]
    for start in ("default", "bad"):
        table = regret_table(
            args, reader, start, args.seeds, main, short, [s for s in main if s != default]
        )
        if table:
            lines += [
                f"### From the {start} start, budgets up to {args.budget} ({args.seeds} seeds)",
                "",
                *table,
            ]
    long_strategies = args.long_strategies.split(",")
    for start, n, budget in (
        ("default", args.mid_seeds, args.mid_budget),
        ("bad", args.mid_bad_seeds, args.mid_budget),
        ("default", args.long_seeds, args.long_budget),
        ("bad", args.long_bad_seeds, args.long_budget),
    ):
        runs_of = {s: budget for s in long_strategies}
        if start == "default" and args.ngopt_long_seeds >= n and budget == args.long_budget:
            runs_of = {"NGOpt": budget, **runs_of}
        shorter = args.mid_budget if budget == args.long_budget else args.budget
        budgets = [b for b in long if shorter < b <= budget]
        table = regret_table(
            args, reader, start, n, runs_of, budgets, [s for s in runs_of if s != default]
        )
        if table:
            lines += [
                f"### Long searches from the {start} start: budget"
                f"{'s' if len(budgets) > 1 else ''} {', '.join(map(str, budgets))} ({n} seeds)",
                "",
                *table,
            ]
    plain = {
        start: regret_table(
            args,
            reader,
            start,
            args.plain_seeds,
            {PLAIN_TPE: args.plain_budget, default: args.mid_budget},
            [b for b in long if b <= args.plain_budget],
            [PLAIN_TPE],
        )
        for start in ("default", "bad")
    }
    if any(plain.values()):
        same, compared = identical_to_plain(runs, default)
        lines += [
            f"### The default against Optuna's own TPE: seeds 0-{args.plain_seeds - 1}, "
            f"budgets up to {args.plain_budget}",
            "",
            f"The same best-so-far curve as `{PLAIN_TPE}`'s at every checkpoint: {same} of "
            f"{compared} searches (every cached `{PLAIN_TPE}` search, budgets "
            f"{args.budget} to {args.long_budget}, against the default's search of the same "
            "problem, start and seed).",
            "",
        ]
        for start, table in plain.items():
            if table:
                lines += [f"From the {start} start:", "", *table]
    others = strategies[3:]
    if others:
        table = regret_table(
            args,
            reader,
            "default",
            args.others_seeds,
            {s: args.budget for s in strategies},
            short,
            others,
        )
        if table:
            lines += [
                f"### Other Nevergrad choices: default start, seeds 0-{args.others_seeds - 1}",
                "",
                *table,
            ]
    lines += [
        "### Evaluations to reach the top 1% of the space",
        "",
        f"Median over seeds of the evaluations to the first point in the top 1% (never reached "
        "within the budget: budget + 1; share of seeds that reached it in brackets). Budget "
        f"{args.budget}:",
        "",
        *top1_table(
            reader,
            f"budget {args.budget}",
            main,
            {"default": args.seeds, "bad": args.seeds},
            default,
        ),
    ]
    for budget, seeds in (
        (args.mid_budget, {"default": args.mid_seeds, "bad": args.mid_bad_seeds}),
        (args.long_budget, {"default": args.long_seeds, "bad": args.long_bad_seeds}),
    ):
        lines += [
            f"Budget {budget}:",
            "",
            *top1_table(
                reader,
                f"budget {budget}",
                {s: budget for s in long_strategies},
                {start: n for start, n in seeds.items() if n},
                default,
            ),
        ]
    lines += gp_table(args, reader)
    lines += cost_tables(args, reader, final_cost)
    lines += overhead_lines("random strategy", "random", overhead.get("random", []))
    lines += overhead_lines(f"the default, {default}", default, overhead.get(default, []))
    lines += predictor
    lines += verdict_lines(args)
    lines += [f"![mean regret of the best point so far](tuner_zero_cost{suffix}.png)", ""]
    (RESULTS / f"tuner_zero_cost{suffix}.md").write_text("\n".join(lines))
    plot(args, reader, suffix)
    print("\n".join(lines))


def plot(args: argparse.Namespace, reader: Reader, suffix: str) -> None:
    """Mean regret against evaluations per problem and start, one colour per strategy: the
    budget-100 searches, the long ones to ``mid_budget`` on all their seeds (dashed) and to
    ``long_budget`` on fewer (dotted), GP at its budget; log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    both = {"default": args.seeds, "bad": args.seeds}
    mid = {"default": args.mid_seeds, "bad": args.mid_bad_seeds}
    long = {"default": args.long_seeds, "bad": args.long_bad_seeds}
    curves = [
        ("NGOpt", args.budget, both, "-", "tab:blue"),
        (PLAIN_TPE, args.budget, both, "-", "tab:orange"),
        ("random", args.mid_budget, mid, "--", "tab:green"),
        ("random", args.long_budget, long, ":", "tab:green"),
        (args.default, args.mid_budget, mid, "--", "tab:red"),
        (args.default, args.long_budget, long, ":", "tab:red"),
        ("GP", args.gp_budget, {"default": args.gp_seeds}, "-", "tab:purple"),
    ]
    fig, axes = plt.subplots(2, len(PROBLEMS), figsize=(4 * len(PROBLEMS), 7), squeeze=False)
    for row, start in enumerate(("default", "bad")):
        for col, p in enumerate(PROBLEMS):
            axis = axes[row][col]
            for s, budget, seeds, style, colour in curves:
                n = seeds.get(start, 0)
                found = reader.group(s, p, start, budget, n)
                if found is None:
                    continue
                xs = [b for b in CHECKPOINTS if b <= budget]
                ys = [statistics.mean(r["curve"][b] for r in found) for b in xs]
                label = f"{s} ({n} seeds)"
                axis.plot(
                    xs, ys, marker="o", markersize=3, linestyle=style, color=colour, label=label
                )
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
