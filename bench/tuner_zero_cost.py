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
        self.pairs = [(a, b, rng.uniform(0.5, 2.0)) for a, b in rng.sample(pairs, min(4, len(pairs)))]
        # interactions between unordered fields: a penalty per pair of options
        combos = [(a, b) for i, a in enumerate(self.unordered) for b in self.unordered[i + 1 :]]
        self.combos = {
            (a, b): {
                (x, y): 0.0 if (x, y) == (self.optimum.get(a), self.optimum.get(b)) else rng.uniform(0, 0.5)
                for x in self.space[a].values
                for y in self.space[b].values
            }
            for a, b in rng.sample(combos, min(2, len(combos)))
        }
        first = self.unordered[0]
        self.shift = {
            v: {n: (0.0 if v == self.optimum[first] else rng.uniform(-0.5, 0.5)) for n in self.numeric}
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
                target = min(1.0, max(0.0, self._coordinate(n, self.optimum[n]) + shift[n]))
                gap[n] = abs(self._coordinate(n, point[n]) - target)
                total += self.weight[n] * gap[n] ** self.power[n]
                total += abs(shift[n]) * 0.5  # away from the planted option's region
        total += sum(w * gap.get(a, 0.0) * gap.get(b, 0.0) for a, b, w in self.pairs)
        total += sum(
            table[(point[a], point[b])] for (a, b), table in self.combos.items() if a in point and b in point
        )
        if self.rugged_scale:
            cell = self._cell(point)
            if cell != self.best_cell:
                digest = hashlib.blake2b(f"{self.seed}{cell}".encode(), digest_size=8).digest()
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
    """``better`` / ``worse`` when the paired difference is significant (p < 0.05), else ``=``."""
    p = wilcoxon(mine, other)
    if p >= 0.05:
        return f"= (p={p:.2f})"
    better = statistics.mean(mine) < statistics.mean(other)
    return f"{'better' if better else 'WORSE'} (p={p:.1g})"


# ------------------------------------------------------------------------------ report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--default", default="NGOpt", help="the strategy judged against the rest")
    parser.add_argument(
        "--strategies", default="random,NGOpt,PortfolioDiscreteOnePlusOne,TwoPointsDE,TPE"
    )
    parser.add_argument("--budget", type=int, default=200, help="budget of every strategy")
    parser.add_argument("--long-budget", type=int, default=2000)
    parser.add_argument("--long-strategies", default="random,NGOpt")
    parser.add_argument("--long-seeds", type=int, default=40)
    parser.add_argument("--gp-budget", type=int, default=40)
    parser.add_argument("--gp-seeds", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="write *_quick.md / .png")
    args = parser.parse_args()

    _init_worker()
    strategies = args.strategies.split(",")
    starts = ("default", "bad")
    tasks = [
        (s, p, start, seed, args.budget)
        for p in PROBLEMS
        for start in starts
        for seed in range(args.seeds)
        for s in strategies
    ]
    long = [
        (s, p, "default", seed, args.long_budget)
        for p in PROBLEMS
        for seed in range(args.long_seeds)
        for s in args.long_strategies.split(",")
    ]
    gp = [
        (s, p, start, seed, args.gp_budget)
        for p in PROBLEMS
        for start in starts
        for seed in range(args.gp_seeds)
        for s in ("GP", args.default, "random", "TPE")
    ]
    began = time.monotonic()
    with ProcessPoolExecutor(args.jobs, initializer=_init_worker) as pool:
        results = list(pool.map(one_search, tasks + long + gp, chunksize=4))
    wall = time.monotonic() - began
    print(f"{len(results)} searches in {wall:.0f} s", flush=True)
    runs: dict[tuple, dict[str, Any]] = {r["task"]: r for r in results}
    overhead = search_overhead()
    write_report(args, runs, strategies, starts, wall, overhead)


def search_overhead() -> list[tuple[int, float, float]]:
    """CPU seconds of the search process (workers excluded) for a real ``tuner.search`` of
    250..2,000 random trials of a zero-cost toy objective on 2 workers: (trials, CPU s, wall
    s). What the tuner itself costs per trial: proposing, journaling, scheduling, reporting."""
    import tempfile

    from autoglm.plugins import PluginSelection
    from autoglm.testing import make_context, run_node
    from autoglm_tuner.node import SearchNode

    toy = REPO / "plugins" / "tuner" / "tests" / "toy_plugins"
    selection = PluginSelection(allow=("tuner", "toy"), plugin_dirs=(str(toy),))
    rows = []
    for budget in (250, 500, 1000, 2000):
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
    strategies: list[str],
    starts: tuple[str, ...],
    wall: float,
    overhead: list[tuple[int, float, float]],
) -> None:
    suffix = "_quick" if args.quick else ""
    default = args.default
    budgets = [b for b in CHECKPOINTS if b <= args.budget]
    long_budgets = [b for b in CHECKPOINTS if args.budget < b <= args.long_budget]
    seeds = range(args.seeds)

    def regrets(s: str, p: str, start: str, budget: int, run_budget: int, n: int) -> list[float]:
        return [runs[(s, p, start, seed, run_budget)]["curve"][budget] for seed in range(n)]

    lines = [
        "## Tuner on zero-cost objectives (`bench/tuner_zero_cost.py`)",
        "",
        f"Command: `python bench/tuner_zero_cost.py --seeds {args.seeds} --default {default}` "
        f"({wall / 60:.1f} min for {len(runs)} searches on {args.jobs} processes, "
        f"{platform.machine()}, Python {sys.version.split()[0]}; shared cores).",
        "",
        "Synthetic objectives made by the script (a GNN-shaped and a prompt-shaped space, each "
        "smooth and rugged; categorical, ordered, integer, continuous and conditional fields; "
        "the optimum planted, loss 0). Figures are **mean regret of the best point so far** "
        "(lower is better) over the seeds; every strategy asks the same start point first "
        "and then runs through the tuner's proposer (distinct points, each result told once). "
        f"Verdicts compare `{default}` with each strategy on the same seeds (Wilcoxon "
        "signed-rank, two-sided, p < 0.05).",
        "",
    ]
    worse_anywhere = []
    for start in starts:
        lines += [f"### From the {start} start, budgets {budgets[0]}-{budgets[-1]}", ""]
        header = "| problem | budget | " + " | ".join(strategies) + " | " + default + " vs others |"
        lines += [header, "|" + "---|" * (len(strategies) + 3)]
        for p in PROBLEMS:
            for b in budgets:
                values = {s: regrets(s, p, start, b, args.budget, args.seeds) for s in strategies}
                cells = [f"{statistics.mean(values[s]):.3f}" for s in strategies]
                verdicts = []
                for s in strategies:
                    if s == default:
                        continue
                    v = verdict(values[default], values[s])
                    verdicts.append(f"{s}: {v}")
                    if v.startswith("WORSE") and s in ("random", "TPE"):
                        worse_anywhere.append((p, start, b, s))
                lines.append(f"| {p} | {b} | " + " | ".join(cells) + " | " + "; ".join(verdicts) + " |")
        lines.append("")
    # evaluations to the top 1%
    lines += [
        "### Evaluations to reach the top 1% of the space",
        "",
        f"Median over {args.seeds} seeds (runs that never reach it count as {args.budget + 1}; "
        "the share that reached it in brackets).",
        "",
        "| problem | start | " + " | ".join(strategies) + " |",
        "|" + "---|" * (len(strategies) + 2),
    ]
    faster = []
    for p in PROBLEMS:
        for start in starts:
            cells = []
            medians = {}
            for s in strategies:
                reached = [runs[(s, p, start, seed, args.budget)]["reached"] for seed in seeds]
                counted = [r if r is not None else args.budget + 1 for r in reached]
                medians[s] = statistics.median(counted)
                share = sum(r is not None for r in reached) / len(reached)
                cells.append(f"{medians[s]:g} ({share:.0%})")
            faster.append(medians[default] < medians["random"])
            lines.append(f"| {p} | {start} | " + " | ".join(cells) + " |")
    lines.append("")
    # long budget
    long_strategies = args.long_strategies.split(",")
    if long_budgets:
        lines += [
            f"### Long searches, default start, {args.long_seeds} seeds",
            "",
            "| problem | budget | " + " | ".join(long_strategies) + " | verdict |",
            "|" + "---|" * (len(long_strategies) + 3),
        ]
        for p in PROBLEMS:
            for b in [*budgets[-1:], *long_budgets]:
                values = {
                    s: regrets(s, p, "default", b, args.long_budget, args.long_seeds)
                    for s in long_strategies
                }
                cells = [f"{statistics.mean(values[s]):.3f}" for s in long_strategies]
                v = verdict(values[default], values["random"]) if default in values else "-"
                if v.startswith("WORSE"):
                    worse_anywhere.append((p, "default", b, "random"))
                lines.append(f"| {p} | {b} | " + " | ".join(cells) + f" | vs random: {v} |")
        lines.append("")
    # GP
    gp_strategies = ["GP", default, "random", "TPE"]
    lines += [
        f"### GP + EI (Optuna's GPSampler), budget {args.gp_budget}, {args.gp_seeds} seeds",
        "",
        "| problem | start | " + " | ".join(gp_strategies) + " | GP CPU s per search |",
        "|" + "---|" * (len(gp_strategies) + 3),
    ]
    for p in PROBLEMS:
        for start in starts:
            cells = []
            for s in gp_strategies:
                values = regrets(s, p, start, args.gp_budget, args.gp_budget, args.gp_seeds)
                cells.append(f"{statistics.mean(values):.3f}")
            cpu = statistics.mean(
                runs[("GP", p, start, seed, args.gp_budget)]["cpu"] for seed in range(args.gp_seeds)
            )
            lines.append(f"| {p} | {start} | " + " | ".join(cells) + f" | {cpu:.1f} |")
    lines.append("")
    # cost
    lines += [
        "### Cost of the search itself",
        "",
        "CPU milliseconds per trial of each strategy's proposals (ask and tell, proposer "
        f"included; mean over the budget-{args.budget} searches):",
        "",
        "| " + " | ".join(strategies) + " |",
        "|" + "---|" * len(strategies),
        "| "
        + " | ".join(
            f"{1000 * statistics.mean(r['cpu'] / r['trials'] for t, r in runs.items() if t[0] == s and t[4] == args.budget):.2f}"
            for s in strategies
        )
        + " |",
        "",
        "A real `tuner.search` (random strategy, zero-cost toy objective, 2 worker processes; "
        "CPU of the search process, workers excluded):",
        "",
        "| trials | search CPU s | ms per trial | wall s |",
        "|---|---|---|---|",
        *[f"| {n} | {cpu:.2f} | {1000 * cpu / n:.2f} | {w:.1f} |" for n, cpu, w in overhead],
        "",
    ]
    lines += [
        "### Verdict",
        "",
        f"* `{default}` significantly worse than random or TPE: "
        + ("never" if not worse_anywhere else ", ".join(map(str, worse_anywhere)))
        + ".",
        f"* `{default}` reaches the top 1% in fewer evaluations than random (median): "
        f"{sum(faster)} of {len(faster)} problem/start pairs.",
        "",
        f"![best so far](tuner_zero_cost{suffix}.png)",
        "",
    ]
    (RESULTS / f"tuner_zero_cost{suffix}.md").write_text("\n".join(lines))
    plot(args, runs, strategies, suffix)
    print("\n".join(lines))


def plot(args: argparse.Namespace, runs: dict, strategies: list[str], suffix: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(PROBLEMS), figsize=(4 * len(PROBLEMS), 7), squeeze=False)
    for row, start in enumerate(("default", "bad")):
        for col, p in enumerate(PROBLEMS):
            axis = axes[row][col]
            for s in strategies:
                xs = [b for b in CHECKPOINTS if b <= args.budget]
                ys = [
                    statistics.mean(
                        runs[(s, p, start, seed, args.budget)]["curve"][b]
                        for seed in range(args.seeds)
                    )
                    for b in xs
                ]
                axis.plot(xs, ys, marker="o", label=s)
            axis.set_xscale("log")
            axis.set_title(f"{p}, {start} start", fontsize=9)
            axis.set_xlabel("evaluations")
            axis.set_ylabel("mean regret (best so far)")
            axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / f"tuner_zero_cost{suffix}.png", dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
