"""``autoglm runs RUN_ID --follow``: a run's events printed as they happen, read from the
local run store (the same reader as the service's event stream) or from a service.

Exit status: 0 when the run succeeded, 1 when it failed or was cancelled, so a script can
follow a run and act on its outcome.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import click

from autoglm.run_events import RunEvent, RunReader

POLL_S = 0.2


def local_events(store_path: Path, run_id: str) -> Iterator[RunEvent]:
    """Events of a run in a local store until it ends (``ClickException`` if unknown)."""
    reader = RunReader(store_path, run_id)
    try:
        while True:
            try:
                batch = reader.poll()
            except LookupError as exc:
                raise click.ClickException(f"{exc} in {store_path}") from None
            yield from batch
            if reader.ended:
                return
            time.sleep(POLL_S)
    finally:
        reader.close()


def describe(event: RunEvent) -> str:
    """One human line for an event."""
    d = event.data
    if event.kind == "node":
        line = f"node {d.get('node_id')}: {d.get('status')}"
        if d.get("status") == "running" and (d.get("attempts") or 0) > 1:
            line += f" (attempt {d['attempts']})"
        if d.get("duration_s") is not None and d.get("status") != "running":
            line += f" in {d['duration_s']:.2f} s"
        if d.get("reason"):
            line += f" ({d['reason']})"
        if d.get("error"):
            line += f": {d['error']}"
        return line
    if event.kind == "progress":
        total = d.get("total")
        done = f"{d.get('completed'):g}/{total:g}" if total else f"{d.get('completed'):g}"
        return f"  {d.get('node_id')} progress {done} {d.get('message') or ''}".rstrip()
    if event.kind == "log":
        return f"  {d.get('node_id')} [{d.get('level')}] {d.get('line')}"
    if event.kind == "run":
        line = f"run {d.get('run_id')}: {d.get('status')}"
        return line + (f": {d['error']}" if d.get("error") else "")
    return f"run ended: {d.get('status')}" if event.kind == "end" else f"{event.kind}: {d}"


def follow_run(run_id: str, *, url: str | None, home: str | None, as_json: bool) -> int:
    if url:
        from autoglm.client import Client, ServiceError

        with Client(url) as client:
            try:
                return _print(client.watch(run_id), as_json)
            except ServiceError as exc:
                raise click.ClickException(str(exc)) from None
    from autoglm.store import default_home

    root = Path(home).resolve() if home else default_home()
    store_path = root / "runs.sqlite"
    if not store_path.exists():
        raise click.ClickException(f"no run store at {store_path}")
    return _print(local_events(store_path, run_id), as_json)


def _print(events: Iterator[RunEvent], as_json: bool) -> int:
    status = None
    for event in events:
        if as_json:
            click.echo(json.dumps({"event": event.kind, "id": event.id, "data": event.data}))
        else:
            stamp = time.strftime("%H:%M:%S")
            click.echo(f"{stamp} {describe(event)}")
        if event.kind == "end":
            status = event.data.get("status")
    return 0 if status == "succeeded" else 1
