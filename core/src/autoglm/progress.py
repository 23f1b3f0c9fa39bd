"""A rich progress display for long runs: nodes done out of total, and each running node's
own progress (trials, epochs) as it reports it through ``context.progress``."""

from __future__ import annotations

import threading
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class RichReporter:
    """Implements the engine's ``ProgressReporter`` protocol on a rich ``Progress``."""

    def __init__(self, console: Console | None = None) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._lock = threading.Lock()
        self._run_task: Any = None
        self._node_tasks: dict[str, Any] = {}

    def run_started(self, run_id: str, total: int, done: int) -> None:
        self.progress.start()
        self._run_task = self.progress.add_task(
            f"run {run_id}", total=total, completed=done, note=""
        )

    def node_started(self, node_id: str) -> None:
        with self._lock:
            self._node_tasks[node_id] = self.progress.add_task(f"  {node_id}", total=None, note="")

    def node_progress(
        self, node_id: str, completed: float, total: float | None, message: str | None
    ) -> None:
        with self._lock:
            task = self._node_tasks.get(node_id)
            if task is not None:
                self.progress.update(task, completed=completed, total=total, note=message or "")

    def node_finished(self, node_id: str, status: str) -> None:
        with self._lock:
            task = self._node_tasks.pop(node_id, None)
            if task is not None:
                self.progress.remove_task(task)
            if self._run_task is not None:
                self.progress.update(self._run_task, advance=1, note=f"{node_id}: {status}")

    def run_finished(self, status: str) -> None:
        if self._run_task is not None:
            self.progress.update(self._run_task, note=status)
        self.progress.stop()
