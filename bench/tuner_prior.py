"""The space prior (``autoglm_tuner.prior``) on the zero-cost objectives: does a prior from
past searches on similar tasks speed a search up, and does a misleading one leave it no worse
than a cold search?

Problems and variants come from ``bench/tuner_zero_cost.py`` (imported, not edited): each of
its four problems has related *variants* whose numeric optima drift (the performance
predictor's benchmark). The held-out target is variant 4; the prior's sources are TPE searches
(budget 100) on other variants or tasks. Arms, all with the default strategy (TPE) from the
same default start, paired over seeds:

* ``cold``: no prior;
* ``good``: a prior from close variants 3, 5 and 6;
* ``worst``: the same searches, but the prior counts their *worst* 30% (seeds included): a
  deliberately misleading prior;
* ``other``: a prior from three unrelated tasks (the same space, other seeds: other optima),
  what a profile that only looked close would give;
* ``worst-noguard`` / ``good-noguard``: as ``worst`` / ``good`` without the KL guard;
* ``good-samples`` / ``worst-samples``: the prior's seeds plus prior samples (share 0.3, the
  former default), budgets 50 and 100.

Every arm runs separately at each budget (seeds are 10% of the budget). Reported: mean regret
of the best point at budgets 20/50/100, Wilcoxon paired verdicts against cold, and the
trials each arm needs to reach the cold search's budget-100 score (median; not reached counts
101). CPU seconds are process time of this single process.

Usage (about 10 CPU minutes with the defaults):
    nohup .venv/bin/python bench/tuner_prior.py > bench/out/tuner_prior.log 2>&1 &
    .venv/bin/python bench/tuner_prior.py --seeds 5 --quick
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tuner_zero_cost as zc

REPO = zc.REPO
RESULTS = zc.RESULTS
CACHE = REPO / "bench" / "out" / "tuner_prior.jsonl"
BUDGETS = (20, 50, 100)
TARGET = 4
CLOSE = (3, 5, 6)
OTHER_TASKS = (101, 102, 103)
ARMS = (
    "cold",
    "good",
    "worst",
    "other",
    "worst-noguard",
    "good-noguard",
    "good-samples",
    "worst-samples",
)
#: Recorded with every search; searches of another version are not reused (v2: the
#: guard's entropy-loss trigger, prior share 0, the TPE of 251f4bd for every arm; v3: seeds
#: stop once the prior's best is not the search's best, guard 0.7, the TPE of 9e6e70d; v4:
#: seeds asked after the start point and told to TPE only when they beat every other result.
#: A v5 pilot asked seeds only once the prior's density ranked the search's first 4 results
#: the right way: it delayed the good prior's seeds (better than cold in 9 cells, not 11) and
#: did not stop the misleading ones (the worst 30% "agreed" on gnn-rugged), so it was dropped).
#: v6: a held-back seed takes one of TPE's random startup slots instead of pushing the cold
#: search one trial later.
VERSION = "v6"
#: Versions whose *cold* searches are the current ones: a cold search has no prior, and the
#: prior's changes since v3 leave it proposing the same points (tested; the 240 cold searches
#: of v3 and v4 are identical).
COLD_VERSIONS = ("v3", "v4", VERSION)
#: The pilot of the normalised guard (v2: guard at ``PILOT_THRESHOLD``, seeds stopped by the
#: AUC only, the TPE before 9e6e70d): its seeds-against-samples table is kept as recorded.
PILOT_VERSION = "v2"
#: the ``-samples`` arms' prior share (the former default)
SAMPLES_SHARE = 0.3


def default(field: str) -> Any:
    """tuner.search's default for a config field: the arms run with what a search runs."""
    from autoglm_tuner.config import SearchConfig

    return SearchConfig.model_fields[field].default


SEEDS_SHARE, SHARE = default("prior_seeds"), default("prior_share")
KL_THRESHOLD, PATIENCE = default("kl_threshold"), default("kl_patience")


def variant(base: zc.Problem, v: int) -> zc.Problem:
    """Variant ``v`` of ``base``: numeric optima drift by (v/9 - 0.5) x 0.5 (as in the
    predictor's benchmark) and the rugged table is redrawn."""
    drift = (v / 9 - 0.5) * 0.5
    return zc.Problem(
        base.name, base.space, base.effective, base.rugged, base.seed, drift=drift, variant=v + 1
    )


def other_task(base: zc.Problem, seed: int) -> zc.Problem:
    """An unrelated task over the same space: another seed plants other optima."""
    return zc.Problem(base.name, base.space, base.effective, base.rugged, seed)


def past_search(problem: zc.Problem, seed: int) -> list[tuple[dict[str, Any], float]]:
    """A finished TPE search (budget 100) on ``problem``: its trials (params, loss)."""
    from autoglm_tuner.proposer import Proposer, minimise
    from autoglm_tuner.strategies import make_strategy

    strategy = make_strategy("TPE", problem.space, budget=100, workers=1, seed=seed)
    proposer = Proposer(strategy, problem.space, budget=100, seed=seed, key=key_of(problem))
    return [(p, loss) for p, loss, _ in minimise(proposer, problem.loss)]


def key_of(problem: zc.Problem) -> Any:
    return lambda p: repr(sorted(problem.effective(p).items()))


def priors(name: str) -> dict[str, Any]:
    """The arms' priors for problem ``name``, from past searches made once (seeded)."""
    from autoglm_tuner.prior import PriorSource, build_prior

    base = zc.PROBLEMS[name]
    active = lambda p: base.effective(p).keys()  # noqa: E731
    close = [PriorSource(past_search(variant(base, v), 1000 + v)) for v in CLOSE]
    other = [PriorSource(past_search(other_task(base, s), 2000 + s)) for s in OTHER_TASKS]
    return {
        "good": build_prior(close, base.space, active=active),
        "worst": build_prior(close, base.space, active=active, worst=True),
        "other": build_prior(other, base.space, active=active),
    }


def one_search(arm: str, name: str, seed: int, budget: int, prior: Any) -> dict[str, Any]:
    """One search of the held-out variant: the best loss after each trial, CPU seconds."""
    from autoglm_tuner.design import make_design
    from autoglm_tuner.prior import PriorGuided, seed_count
    from autoglm_tuner.proposer import Proposer
    from autoglm_tuner.strategies import make_strategy

    base = zc.PROBLEMS[name]
    problem = variant(base, TARGET)
    start = zc.LANDSCAPES[name].default_start
    guard = (None if arm.endswith("-noguard") else KL_THRESHOLD, PATIENCE)
    started = time.process_time()
    strategy = make_strategy("TPE", base.space, budget=budget, workers=1, seed=seed, start=start)
    if prior is not None:
        strategy = PriorGuided(
            strategy,
            prior,
            seeds=seed_count(budget, SEEDS_SHARE, prior),
            share=SAMPLES_SHARE if arm.endswith("-samples") else SHARE,
            seed=seed,
            kl_threshold=guard[0],
            patience=guard[1],
            active=lambda p: base.effective(p).keys(),
        )
    proposer = Proposer(
        strategy,
        base.space,
        budget=budget,
        seed=seed,
        key=key_of(problem),
        design=make_design("default", start, base.space),
    )
    best, curve = math.inf, []
    while (candidate := proposer.ask()) is not None:
        loss = problem.loss(candidate.params)
        proposer.tell(candidate, loss)
        best = min(best, loss)
        curve.append(best)
    described = strategy.describe() if prior is not None else {}
    return {
        "task": [arm, name, seed, budget],
        "curve": curve,
        "cpu": time.process_time() - started,
        "share": described.get("final_share"),
        "prior_points": described.get("prior_points"),
        "guard_events": len(described.get("kl_guard", [])),
        "events": described.get("kl_guard", []),
        "version": VERSION,
        "kl_threshold": guard[0] if prior is not None else None,
    }


#: The guard threshold of the first v2 searches (records without ``kl_threshold``).
PILOT_THRESHOLD = 0.5
#: Arms whose searches must have run with the current default guard to be reused; the
#: ``-samples`` arms are kept from the pilot threshold (their table says so).
GUARDED = ("good", "worst", "other")


def current_guard(record: dict[str, Any], threshold: float) -> bool:
    """Whether a recorded search ran with the guard ``threshold`` its arm needs. A guard
    cannot fire within 20 results (it needs a full window and 20 stalled results), so
    budget-20 searches do not depend on the threshold."""
    arm, _, _, budget = record["task"]
    if arm not in GUARDED or budget <= 20:
        return True
    return record.get("kl_threshold", PILOT_THRESHOLD) == threshold


WINDOWS = REPO / "bench" / "out" / "tuner_prior_windows.json"
#: Strategies and seeds of the guard's calibration (share of entropy lost per window).
WINDOW_STRATEGIES, WINDOW_SEEDS, WINDOW_STARTS = ("random", "TPE", "NGOpt"), 8, (0, 20, 40, 80)


def guard_windows() -> dict[str, list[float]]:
    """The KL guard's trigger (share of entropy lost, prior.SpacePrior.divergence) over
    windows of ``prior.WINDOW`` trials of cold budget-100 searches on the held-out variants:
    how collapsed a healthy (random) search, TPE and a local search (NGOpt) get, the
    measurement the default threshold is chosen from. Recorded once (about 1 CPU minute)."""
    if WINDOWS.is_file():
        return json.loads(WINDOWS.read_text())
    from autoglm_tuner.design import make_design
    from autoglm_tuner.prior import WINDOW, SpacePrior, bin_count
    from autoglm_tuner.proposer import Proposer
    from autoglm_tuner.strategies import make_strategy

    found: dict[str, list[float]] = {}
    for name in zc.PROBLEMS:
        zc.LANDSCAPES[name] = zc.landscape(zc.PROBLEMS[name])
        base = zc.PROBLEMS[name]
        problem, start = variant(base, TARGET), zc.LANDSCAPES[name].default_start
        counts = {n: bin_count(d) for n, d in base.space.items()}
        active = functools.partial(effective_fields, base)
        uniform = SpacePrior(base.space, {n: [1 / c] * c for n, c in counts.items()}, [])
        for strategy_name in WINDOW_STRATEGIES:
            for seed in range(WINDOW_SEEDS):
                strategy = make_strategy(
                    strategy_name, base.space, budget=100, workers=1, seed=seed, start=start
                )
                proposer = Proposer(
                    strategy,
                    base.space,
                    budget=100,
                    seed=seed,
                    key=key_of(problem),
                    design=make_design("default", start, base.space),
                )
                points = []
                while (candidate := proposer.ask()) is not None:
                    proposer.tell(candidate, problem.loss(candidate.params))
                    points.append(candidate.params)
                for lo in WINDOW_STARTS:
                    window = points[lo : lo + WINDOW]
                    share = uniform.divergence(window, active)[2]
                    found.setdefault(f"{strategy_name}/{lo}", []).append(share)
    WINDOWS.write_text(json.dumps(found))
    return found


def effective_fields(problem: zc.Problem, params: dict[str, Any]) -> Any:
    """The fields ``problem``'s objective reads at ``params``."""
    return problem.effective(params).keys()


def window_lines() -> list[str]:
    """The calibration table of the guard's threshold."""
    from autoglm_tuner.prior import WINDOW

    found = guard_windows()
    lines = [
        "",
        "### The KL guard's trigger: share of entropy lost by windows of cold searches",
        "",
        f"Windows of {WINDOW} consecutive trials of cold budget-100 searches (random, TPE, "
        f"NGOpt; {WINDOW_SEEDS} seeds x 4 problems, held-out variant): the share of entropy "
        "lost (0 = uniform, 1 = every field in one bin) that the guard fires on. Random "
        f"search is the healthy reference; the default threshold is {KL_THRESHOLD}.",
        "",
        "| strategy | trials | windows | median | 90th percentile | max | above threshold |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in WINDOW_STRATEGIES:
        for lo in WINDOW_STARTS:
            values = sorted(found.get(f"{name}/{lo}", []))
            if not values:
                continue
            q90 = values[min(len(values) - 1, int(0.9 * len(values)))]
            above = sum(v > KL_THRESHOLD for v in values) / len(values)
            lines.append(
                f"| {name} | {lo + 1}-{lo + WINDOW} | {len(values)} | "
                f"{statistics.median(values):.2f} | {q90:.2f} | {values[-1]:.2f} | {above:.0%} |"
            )
    return lines


def load_cache(
    version: str = VERSION, threshold: float = KL_THRESHOLD
) -> dict[tuple, dict[str, Any]]:
    """The recorded searches of this version, the guarded arms' at ``threshold``."""
    runs: dict[tuple, dict[str, Any]] = {}
    if CACHE.exists():
        for line in CACHE.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            same = record.get("version") == version
            cold = version == VERSION and record["task"][0] == "cold"
            if (same or (cold and record.get("version") in COLD_VERSIONS)) and current_guard(
                record, threshold
            ):
                runs[tuple(record["task"])] = record
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=40)
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--problems", default=",".join(zc.PROBLEMS))
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--quick", action="store_true", help="write tuner_prior_quick.md")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args()
    import warnings

    warnings.simplefilter("ignore")
    arms, problems = args.arms.split(","), args.problems.split(",")
    budgets = [int(b) for b in args.budgets.split(",")]
    runs = load_cache()
    began = time.process_time()
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    with CACHE.open("a") as out:
        for name in problems:
            todo = [
                (arm, name, seed, budget)
                for arm in arms
                for budget in budgets
                for seed in range(args.seeds)
                if (arm, name, seed, budget) not in runs and (budget != 20 or "-" not in arm)
            ]
            if not todo or args.report_only:
                continue
            zc.LANDSCAPES[name] = zc.landscape(zc.PROBLEMS[name])
            made = priors(name)
            for arm, _, seed, budget in todo:
                prior = None if arm == "cold" else made[arm.split("-")[0]]
                result = one_search(arm, name, seed, budget, prior)
                runs[(arm, name, seed, budget)] = result
                out.write(json.dumps(result) + "\n")
                out.flush()
            print(f"{name}: {len(todo)} searches, {time.process_time() - began:.0f} CPU s")
    write_report(args, runs, arms, problems, budgets, time.process_time() - began)


def write_report(args, runs, arms, problems, budgets, cpu: float) -> None:
    def curve(arm: str, name: str, budget: int) -> list[list[float]] | None:
        found = [runs.get((arm, name, seed, budget)) for seed in range(args.seeds)]
        return None if any(r is None for r in found) else [r["curve"] for r in found]

    #: the question arms; the guard's variants are compared in their own table
    shown = [a for a in arms if a != "cold" and "-" not in a]
    lines = [
        "## Space prior and KL guard on zero-cost objectives (`bench/tuner_prior.py`)",
        "",
        f"Command: `python bench/tuner_prior.py --seeds {args.seeds}"
        + (f" --arms {args.arms}" if args.arms != ",".join(ARMS) else "")
        + f"` ({len(runs)} searches "
        f"cached; {platform.machine()}, Python {sys.version.split()[0]}; one process on 2 cores "
        "shared with other jobs; times are CPU seconds, process time).",
        "",
        "The four problems of `bench/tuner_zero_cost.py`; the target is its held-out variant "
        f"{TARGET} (numeric optima drifted, rugged table redrawn). Default strategy (TPE), "
        "default start. Priors: `good` from TPE searches (budget 100) on close variants "
        f"{', '.join(map(str, CLOSE))}; `worst` from the same searches' worst 30% (a "
        "deliberately misleading prior, its seeds included); `other` from TPE searches on three "
        "unrelated tasks over the same space (other optima); `-noguard` without the KL guard. "
        f"Settings: seeds {SEEDS_SHARE:.0%} of the budget, prior share {SHARE}, KL guard "
        f"threshold {KL_THRESHOLD} (share of entropy lost), patience {PATIENCE} (the search's "
        f"defaults; `-samples`: prior share {SAMPLES_SHARE}, budgets 50 and 100). Searches of "
        f"version {VERSION} only (every arm, cold included, on the same sources). Each "
        "budget is its own "
        f"search; {args.seeds} paired seeds. Figures: **mean regret of the best point** "
        "(the held-out variant's loss; lower is better). Verdicts: each arm against cold, "
        "Wilcoxon signed-rank, two-sided, p < 0.05.",
        "",
        "| problem | budget | cold | " + " | ".join(shown) + " | against cold |",
        "|" + "---|" * (len(shown) + 4),
    ]
    worse = []
    for name in problems:
        for budget in budgets:
            cold = curve("cold", name, budget)
            if cold is None:
                continue
            cold_best = [c[-1] for c in cold]
            cells, verdicts = [f"{statistics.mean(cold_best):.3f}"], []
            for arm in shown:
                found = curve(arm, name, budget)
                if found is None:
                    cells.append("-")
                    continue
                best = [c[-1] for c in found]
                cells.append(f"{statistics.mean(best):.3f}")
                v = zc.verdict(best, cold_best)
                verdicts.append(f"{arm}: {v}")
                if v.startswith("WORSE"):
                    worse.append(f"{arm} on {name} at {budget}")
            lines.append(
                f"| {name} | {budget} | " + " | ".join(cells) + " | " + "; ".join(verdicts) + " |"
            )
    lines += [
        "",
        "How the prior is used (version "
        f"{VERSION}): seeds are asked after the start point, alternating with TPE's points while "
        "the prior leads, and a seed's result is told to TPE only if it beats every other "
        "result so far; a losing seed is held back (told only if TPE proposes that point) and "
        "takes one of TPE's random startup slots (TPE's first 10 results are random draws; "
        "the start point is one). A misleading prior's first seed loses to the start point and "
        "stops the seeds; TPE then draws the cold search's first 8 random points, not its 9th, "
        "and its model starts at trial 11 as in the cold search, fitted on one random point "
        "fewer. Before (v4) the held-back seed did not count for the startup, so the guided "
        "search was the cold one one trial later, without its last trial: significantly worse "
        "than cold at budget 20 on gnn-rugged and prompt-smooth (20 seeds).",
        "",
        "### Trials to reach the cold search's budget-100 score",
        "",
        "Per seed, the trial at which each arm's budget-100 search first matches the cold "
        "search's final best (median over seeds; not reached counts 101; share reached in "
        "brackets; cold reaches its own final in every seed by construction, an arm no "
        "different from cold in about half). Also the mean final prior share and KL guard "
        "firings per search.",
        "",
        "| problem | cold | "
        + " | ".join(shown)
        + " | final share: "
        + " / ".join(shown)
        + " | guard firings: "
        + " / ".join(shown)
        + " |",
        "|" + "---|" * (len(shown) + 4),
    ]
    for name in problems:
        cold = curve("cold", name, 100)
        if cold is None:
            continue
        goal = [c[-1] for c in cold]
        cells, shares, fired = [], [], []
        for arm in ["cold", *shown]:
            found = curve(arm, name, 100)
            if found is None:
                cells.append("-")
                continue
            reached = [
                next((i + 1 for i, b in enumerate(c) if b <= g), None)
                for c, g in zip(found, goal, strict=True)
            ]
            median = statistics.median(r if r is not None else 101 for r in reached)
            share = sum(r is not None for r in reached) / len(reached)
            cells.append(f"{median:g} ({share:.0%})")
            if arm != "cold":
                records = [runs[(arm, name, s, 100)] for s in range(args.seeds)]
                shares.append(f"{statistics.mean(r['share'] for r in records):.2f}")
                fired.append(f"{statistics.mean(r['guard_events'] for r in records):.2f}")
        lines.append(
            f"| {name} | " + " | ".join(cells) + f" | {' / '.join(shares)} | {' / '.join(fired)} |"
        )
    lines += window_lines()
    guard = guard_table(args, runs, problems, curve)
    if not guard and not args.quick:
        guard = [
            "",
            "The KL guard against the same priors without it (`-noguard` arms) was last "
            "measured on version v4 with 20 seeds: no paired difference in 16 comparisons "
            "(this file as of commit 0b68107). Rerun with `--arms` including "
            "`worst-noguard,good-noguard` to measure it on this version.",
        ]
    lines += guard
    pilot = load_cache(PILOT_VERSION, PILOT_THRESHOLD)

    def pilot_curve(arm: str, name: str, budget: int) -> list[list[float]] | None:
        found = [pilot.get((arm, name, seed, budget)) for seed in range(args.seeds)]
        return None if any(r is None for r in found) else [r["curve"] for r in found]

    lines += seeds_table(problems, pilot_curve)
    cost = {
        arm: [r["cpu"] / len(r["curve"]) for t, r in runs.items() if t[0] == arm and t[3] == 100]
        for arm in ["cold", *shown]
    }
    lines += [
        "",
        "CPU milliseconds per trial at budget 100 (search work: ask, tell, prior, guard): "
        + ", ".join(f"{a} {1000 * statistics.mean(c):.2f}" for a, c in cost.items() if c)
        + f". The {len(runs)} searches took {sum(r['cpu'] for r in runs.values()):.0f} CPU s "
        "(making the landscapes and past searches not counted); this invocation "
        f"{cpu:.0f} CPU s.",
        "",
        "Significantly worse than cold: " + (", ".join(worse) if worse else "none") + ".",
        "",
    ]
    suffix = "_quick" if args.quick else ""
    if plot(args, runs, ["cold", *shown], problems, curve, RESULTS / f"tuner_prior{suffix}.png"):
        lines += [f"![mean regret of the best point so far](tuner_prior{suffix}.png)", ""]
    (RESULTS / f"tuner_prior{suffix}.md").write_text("\n".join(lines))
    print("\n".join(lines))


def to_cold_final(found: list[list[float]], cold: list[list[float]]) -> list[int]:
    """Per seed, the trial at which a search first matches the cold search's final best
    (same budget); never counts budget + 1."""
    never = len(cold[0]) + 1
    return [
        next((i + 1 for i, b in enumerate(c) if b <= g[-1]), never)
        for c, g in zip(found, cold, strict=True)
    ]


def arm_pairs(problems, curve, variant: str):
    """(problem, budget, prior, cold, prior arm, its ``variant`` arm) at budgets 50 and 100 for
    the good and the worst prior, where all three arms ran: the pairs the ablation tables
    compare (the guard switched off, prior samples added)."""
    for name in problems:
        for budget in (50, 100):
            cold = curve("cold", name, budget)
            for prior in ("good", "worst"):
                arm, other = curve(prior, name, budget), curve(f"{prior}-{variant}", name, budget)
                if cold is not None and arm is not None and other is not None:
                    yield name, budget, prior, cold, arm, other


def guard_table(args, runs, problems, curve) -> list[str]:
    """What the KL guard does: the same prior with and without it, paired, budgets 50/100:
    regret, trials to the cold search's final best, firings and what they measured."""
    rows = []
    for name, budget, prior, cold, on, off in arm_pairs(problems, curve, "noguard"):
        a, b = [c[-1] for c in on], [c[-1] for c in off]
        records = [runs[(prior, name, s, budget)] for s in range(args.seeds)]
        events = [e for r in records for e in r.get("events", [])]
        fired = len(events) / len(records)
        measured = (
            f"{statistics.mean(e['collapse'] for e in events):.2f} / "
            f"{statistics.mean(e['kl_prior'] for e in events):.2f} / "
            f"{statistics.mean(e['kl_uniform'] for e in events):.2f}"
            if events
            else "-"
        )
        t_on = statistics.median(to_cold_final(on, cold))
        t_off = statistics.median(to_cold_final(off, cold))
        rows.append(
            f"| {name} | {budget} | {prior} | {statistics.mean(b):.3f} | "
            f"{statistics.mean(a):.3f} | {t_off:g} | {t_on:g} | {fired:.2f} | {measured} "
            f"| {zc.verdict(a, b)} |"
        )
    if not rows:
        return []
    return [
        "",
        "### What the KL guard does (against the same prior without a guard)",
        "",
        f"Default guard (share of entropy lost above {KL_THRESHOLD}, best stalled for "
        f"{PATIENCE} results). Mean regret without and with it; median trials to reach the cold "
        "search's final best at the same budget (budget + 1 = never); firings per search and, "
        "over the firings, the mean share of entropy lost / KL to the prior / KL to uniform "
        "(nats) of the window that fired; paired verdict of the guard against no guard "
        "(Wilcoxon, p < 0.05).",
        "",
        "| problem | budget | prior | regret: no guard | guard | to cold's final: no guard "
        "| guard | firings | entropy lost / KL prior / KL uniform | guard vs no guard |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def seeds_table(problems, curve) -> list[str]:
    """Do prior samples add to the seeds, or cause harm? Seeds only (the default) against
    seeds plus samples (share ``SAMPLES_SHARE``), each against cold."""
    rows = []
    for name, budget, prior, cold, seeds, full in arm_pairs(problems, curve, "samples"):
        a, b, c = ([x[-1] for x in found] for found in (full, seeds, cold))
        rows.append(
            f"| {name} | {budget} | {prior} | {statistics.mean(c):.3f} | "
            f"{statistics.mean(b):.3f} | {statistics.mean(a):.3f} | {zc.verdict(b, c)} | "
            f"{zc.verdict(a, c)} | {zc.verdict(a, b)} |"
        )
    if not rows:
        return []
    return [
        "",
        f"### Seeds alone (the default) against seeds and prior samples (share {SAMPLES_SHARE})",
        "",
        f"The pilot searches (version {PILOT_VERSION}: KL guard at {PILOT_THRESHOLD}, seeds "
        "stopped by the AUC alone, the TPE before 9e6e70d; cold from the same pilot), so the "
        "columns differ only in the samples.",
        "",
        "Mean regret; verdicts (Wilcoxon, p < 0.05): seeds only against cold, seeds + samples "
        "against cold, seeds + samples against seeds only.",
        "",
        "| problem | budget | prior | cold | seeds only | seeds + samples | seeds vs cold "
        "| seeds + samples vs cold | seeds + samples vs seeds only |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ]


def plot(args, runs, arms, problems, curve, path: Path) -> bool:
    """Mean best-so-far regret of the budget-100 searches, one panel per problem."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(problems), figsize=(4 * len(problems), 3.6), squeeze=False)
    drawn = False
    for axis, name in zip(axes[0], problems, strict=True):
        for arm in arms:
            found = curve(arm, name, 100)
            if found is None:
                continue
            xs = range(1, len(found[0]) + 1)
            axis.plot(xs, [statistics.mean(c[i] for c in found) for i in range(len(xs))], label=arm)
            drawn = True
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("trials")
        axis.set_ylabel("mean regret of the best so far")
        axis.set_yscale("log")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=6)
    fig.tight_layout()
    if drawn:
        fig.savefig(path, dpi=90)
    plt.close(fig)
    return drawn


if __name__ == "__main__":
    main()
