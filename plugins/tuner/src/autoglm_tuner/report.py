"""What a search shows people: the leaderboard (rows and a text table), a best-so-far plot and
an HTML report. Everything is computed from the journaled evaluation records, so a resumed
search reports exactly as an uninterrupted one would.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

Record = dict[str, Any]


def loss_of(score: float, mode: str) -> float:
    """Scores become losses (lower is better) for optimisers and ranking."""
    return -score if mode == "max" else score


def leaderboard(records: list[Record], mode: str) -> list[dict[str, Any]]:
    """One row per trial at the highest rung it reached, best first. Scores from different
    fidelities are not comparable, so a higher rung always ranks above a lower one."""
    by_trial: dict[int, list[Record]] = {}
    for record in records:
        by_trial.setdefault(record["trial"], []).append(record)
    rows = []
    for trial, evaluations in by_trial.items():
        last = max(evaluations, key=lambda r: r["rung"])
        rows.append(
            {
                "trial": trial,
                "score": last["score"],
                "rung": last["rung"],
                "fidelity": last["fidelity"],
                "status": last["status"],
                "params": last["params"],
                "seconds": round(sum(r["seconds"] for r in evaluations), 3),
                "cpu_seconds": round(sum(r.get("cpu_seconds") or 0.0 for r in evaluations), 3),
                "warm": bool(last.get("warm")),
                "source": evaluations[0].get("source"),
                "error": last.get("error"),
                "outputs": last.get("outputs"),
            }
        )

    def key(row: dict[str, Any]) -> tuple:
        ok = row["status"] == "ok" and row["score"] is not None
        return (not ok, -row["rung"], loss_of(row["score"], mode) if ok else 0.0, row["trial"])

    rows.sort(key=key)
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return [{"rank": row.pop("rank"), **row} for row in rows]


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)


def leaderboard_text(rows: list[dict[str, Any]], metric: str, top: int) -> str:
    """A fixed-width table of the best ``top`` trials, for terminals and logs. Parameters with
    the same value in every shown row are left out of the columns and listed once below."""
    shown = rows[:top]
    names = list(rows[0]["params"]) if rows else []
    same = {p for p in names if len({json.dumps(r["params"].get(p)) for r in shown}) == 1}
    params = [p for p in names if p not in same] if len(shown) > 1 else names
    header = ["rank", "trial", metric, "fidelity", "status", *params, "seconds"]
    table = [
        [
            str(row["rank"]),
            str(row["trial"]),
            _fmt(row["score"]),
            _fmt(row["fidelity"]),
            row["status"],
            *(_fmt(row["params"].get(p)) for p in params),
            f"{row['seconds']:.1f}",
        ]
        for row in shown
    ]
    widths = [max(len(line[i]) for line in [header, *table]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in [header, *table]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    failed = sum(row["status"] != "ok" for row in rows)
    lines.append(f"({len(rows)} trials, {failed} failed; showing the best {min(top, len(rows))})")
    if len(shown) > 1 and same:
        fixed = ", ".join(f"{p}={_fmt(shown[0]['params'][p])}" for p in names if p in same)
        lines.append(f"same in every row shown: {fixed}")
    return "\n".join(lines)


def best_so_far(
    records: list[Record], mode: str, rung: int
) -> tuple[list[int], list[float], list[float], list[float]]:
    """Completion-ordered curve of the best score on ``rung``: evaluation number, elapsed
    seconds, cumulative CPU seconds and best score so far."""
    xs: list[int] = []
    times: list[float] = []
    cpu: list[float] = []
    best: list[float] = []
    current: float | None = None
    cpu_total = 0.0
    for number, record in enumerate(records, start=1):
        cpu_total += record.get("cpu_seconds") or 0.0
        if record["rung"] != rung or record["status"] != "ok" or record["score"] is None:
            continue
        score = record["score"]
        if current is None or loss_of(score, mode) < loss_of(current, mode):
            current = score
        xs.append(number)
        times.append(record.get("elapsed") or 0.0)
        cpu.append(cpu_total)
        best.append(current)
    return xs, times, cpu, best


def plot(records: list[Record], mode: str, metric: str, rung_labels: list[str], path: Path) -> Path:
    """Best-so-far score against evaluations and against wall time, one line per rung."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (by_trial, by_time) = plt.subplots(1, 2, figsize=(11, 4))
    for rung, label in enumerate(rung_labels):
        xs, times, _cpu, best = best_so_far(records, mode, rung)
        if not xs:
            continue
        points = [
            (number, r["score"])
            for number, r in enumerate(records, start=1)
            if r["rung"] == rung and r["status"] == "ok"
        ]
        by_trial.scatter([n for n, _ in points], [s for _, s in points], s=10, alpha=0.4)
        by_trial.step(xs, best, where="post", label=f"best so far, {label}")
        by_time.step(times, best, where="post", label=f"best so far, {label}")
    by_trial.set_xlabel("evaluations completed")
    by_time.set_xlabel("elapsed seconds")
    for axis in (by_trial, by_time):
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="lower right" if mode == "max" else "upper right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def html_report(
    summary: dict[str, Any], rows: list[dict[str, Any]], plot_name: str, path: Path
) -> Path:
    """A self-contained page (the plot sits beside it) with the summary and every trial."""
    esc = html.escape
    facts = "".join(
        f"<tr><th>{esc(str(k))}</th><td>{esc(_fmt(v) if not isinstance(v, dict | list) else json.dumps(v))}</td></tr>"  # noqa: E501
        for k, v in summary.items()
    )
    params = list(rows[0]["params"]) if rows else []
    head = "".join(
        f"<th>{esc(h)}</th>"
        for h in ["rank", "trial", "score", "fidelity", "status", *params, "seconds", "error"]
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{esc(_fmt(v))}</td>"
            for v in [
                row["rank"],
                row["trial"],
                row["score"],
                row["fidelity"],
                row["status"],
                *(row["params"].get(p) for p in params),
                row["seconds"],
                row["error"],
            ]
        )
        + "</tr>"
        for row in rows
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>autoglm search report</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;text-align:left;font-size:13px}}</style></head>
<body><h1>Search report</h1>
<table>{facts}</table>
<h2>Best so far</h2><img src="{esc(plot_name)}" alt="best-so-far curve">
<h2>Leaderboard</h2><table><tr>{head}</tr>{body}</table>
</body></html>
"""
    path.write_text(page, encoding="utf-8")
    return path
