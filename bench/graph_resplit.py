"""Judge the final selection on validation nodes the search never saw (issue 17).

graph_generalise's selections score a search's finalists and the untuned defaults on the graph's
own validation nodes: the nodes the search chose its finalists on. On a single-split graph the
finalists' leads there are partly the search's luck on those nodes (CSBM h=0.5: a finalist led
the best default by 4.95 validation points at z 2.3 and tested 0.59 below it). This script
re-judges every finished search of graph_generalise on re-drawn splits of the labelled nodes
(``gnn.select``'s ``resplits``: per class as many training nodes as before, drawn afresh from
its training and validation nodes, the rest validating, test nodes untouched) and compares the
test accuracy of its pick with the same-node selection's and with the best untuned default's,
paired search by search. Searches are never run here: only the selections (seeds 50.. on each
re-drawn split) and the tests (seeds 100..) of picks not tested before, all kept as units beside
graph_generalise's (``<graph>/val-resplitN``, ``<graph>/select-<tag>-resplitN``).

Usage (after graph_generalise has finished some searches):
    nohup nice -n 10 .venv/bin/python bench/graph_resplit.py --graphs csbm-0.3,csbm-0.5 \\
        --stop-at 09:55 > bench/out/gg_resplit.log 2>&1 &
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import graph_generalise as gg  # noqa: E402
from graph_sets import graph_names  # noqa: E402

RESULTS = REPO / "bench" / "results" / "graph_resplit.md"


def finished_searches(store: gg.Store, graph: str) -> list[dict[str, Any]]:
    """graph_generalise's finished searches of ``graph``: method, seed, budget, in seed order."""
    found = store.glob(f"{graph}/search/*.json")
    return sorted(found, key=lambda f: (f["seed"], list(gg.METHODS).index(f["method"])))


def layer_of(config: dict[str, Any]) -> str:
    return config.get("layer", "gcn")


def percent(accs: list[float]) -> float:
    """Mean accuracy in percent (the units hold fractions)."""
    return 100 * statistics.fmean(accs)


def lead_text(found: tuple[float, float] | None) -> str:
    return "-" if found is None else f"{found[0]:+.2f} (z {found[1]:.1f})"


def one_seed_choice(runner: gg.Runner, graph: str, found: dict[str, Any]) -> dict[str, Any]:
    """gnn.select's rule with one seed per re-drawn split (the first recorded seed of each):
    as many training runs per candidate as the same-node selection's 3 seeds, read from the
    same units."""
    from autoglm_gnn.selection import search_candidates

    candidates, defaults = search_candidates(
        found["best_config"], found["final_ranking"], runner.args.select_top
    )
    return runner.choose(graph, candidates, defaults, first_seeds=1)


def compare(
    graph: str, runners: dict[str, gg.Runner], searches: list[dict], rows: list[dict]
) -> None:
    """Append to ``rows`` one row per search (kept when a stop cuts the loop): the test means
    of the best default, the same-node selection and the re-split selection (guarded and
    not)."""
    bar = percent(runners["same"].test(graph, runners["same"].defaults(graph)["config"]))
    for found in searches:
        picks = {
            name: runner.search(graph, found["method"], found["seed"], found["budget"])
            for name, runner in runners.items()
        }
        rows.append(
            {
                "method": found["method"],
                "seed": found["seed"],
                "bar": bar,
                "same": percent(picks["same"]["test"]),
                "same_layer": layer_of(picks["same"]["select"]["config"]),
                "same_unguarded": percent(picks["same"]["unguarded_test"]),
                "same_unguarded_layer": layer_of(picks["same"]["select"]["unguarded"]["config"]),
                "resplit": percent(picks["resplit"]["test"]),
                "resplit_layer": layer_of(picks["resplit"]["select"]["config"]),
                "resplit_default": picks["resplit"]["select"]["chose_default"],
                "resplit_unguarded": percent(picks["resplit"]["unguarded_test"]),
                "unguarded_layer": layer_of(picks["resplit"]["select"]["unguarded"]["config"]),
                "one_seed": percent(
                    runners["resplit"].test(
                        graph, one_seed_choice(runners["resplit"], graph, found)["config"]
                    )
                ),
                "same_lead": gg.top_lead(
                    runners["same"].store, graph, runners["same"].args, picks["same"]["select"]
                ),
                "resplit_lead": gg.top_lead(
                    runners["resplit"].store,
                    graph,
                    runners["resplit"].args,
                    picks["resplit"]["select"],
                ),
            }
        )


def mean_se(values: list[float]) -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:+.2f} (1 search)"
    se = statistics.stdev(values) / len(values) ** 0.5
    return f"{statistics.fmean(values):+.2f} (s.e. {se:.2f}, {len(values)} searches)"


def report(results: dict[str, list[dict]], resplits: int) -> str:
    lines = [
        "# Selection judged on re-drawn splits (issue 17)",
        "",
        f"`python bench/graph_resplit.py` over graph_generalise's finished searches: each search's "
        f"finalists and the untuned defaults judged by gnn.select's rule (seeds 50-52, guard z 2) "
        f"on the graph's own validation nodes (**same nodes**, graph_generalise's +select) and on "
        f"{resplits} re-drawn splits of the labelled nodes (**re-split**: per class as many "
        "training nodes as before, drawn afresh from its training and validation nodes; test "
        "nodes untouched). Test: seeds 100-104 on the graph's own split, mean in percent; "
        "differences against the best untuned default by validation (the bar) and between the "
        "two selections, paired search by search.",
        "",
        "| graph | search | bar | same nodes: pick, test | same nodes, no guard | "
        "its lead over the best default (val, z) | "
        "re-split: pick, test | re-split, no guard | its lead (val, z) | re-split - same | "
        "re-split, 1 seed per split |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    summary = []
    for graph, rows in results.items():
        for r in rows:
            lines.append(
                f"| {graph} | {r['method']} s{r['seed']} | {r['bar']:.2f} | "
                f"{r['same_layer']} {r['same']:.2f} | "
                f"{r['same_unguarded_layer']} {r['same_unguarded']:.2f} | "
                f"{lead_text(r['same_lead'])} | "
                f"{r['resplit_layer']} {r['resplit']:.2f} | "
                f"{r['unguarded_layer']} {r['resplit_unguarded']:.2f} | "
                f"{lead_text(r['resplit_lead'])} | "
                f"{r['resplit'] - r['same']:+.2f} | {r['one_seed']:.2f} |"
            )
        if rows:
            summary.append(
                f"* {graph}: re-split - bar {mean_se([r['resplit'] - r['bar'] for r in rows])}; "
                f"same nodes - bar {mean_se([r['same'] - r['bar'] for r in rows])}; "
                f"re-split - same {mean_se([r['resplit'] - r['same'] for r in rows])}; "
                f"without the guard: re-split - bar "
                f"{mean_se([r['resplit_unguarded'] - r['bar'] for r in rows])}, same nodes - bar "
                f"{mean_se([r['same_unguarded'] - r['bar'] for r in rows])}; re-split with 1 "
                f"seed per split - bar {mean_se([r['one_seed'] - r['bar'] for r in rows])}"
            )
    every = [r for rows in results.values() for r in rows]
    if every:
        summary.append(
            f"* all graphs: re-split - same {mean_se([r['resplit'] - r['same'] for r in every])}"
            f"; re-split - bar {mean_se([r['resplit'] - r['bar'] for r in every])}; same nodes "
            f"- bar {mean_se([r['same'] - r['bar'] for r in every])}"
        )
    return "\n".join([*lines, "", *summary, ""])


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--select-resplits" not in argv:
        argv += ["--select-resplits", "3"]
    args = gg.parse_args(argv)
    resplits = args.select_resplits
    store = gg.Store(Path(args.units_dir))
    timer = gg.install_stop(args.stop_at)
    same_args = gg.parse_args([*argv, "--select-resplits", "0"])
    runners = {"same": gg.real_runner(same_args, store), "resplit": gg.real_runner(args, store)}
    results: dict[str, list[dict]] = {}
    try:
        for graph in graph_names(args.graphs):
            searches = finished_searches(store, graph)
            if searches and runners["resplit"].resplits(graph):
                compare(graph, runners, searches, results.setdefault(graph, []))
    except gg.Stop as stop:
        print(f"stopped cleanly: {stop}", flush=True)
    if timer is not None:
        timer.cancel()
    out = Path(args.out) if args.out != str(gg.RESULTS) else RESULTS
    out.write_text(report(results, resplits), encoding="utf-8")
    print(f"written {out}", flush=True)


if __name__ == "__main__":
    main()
