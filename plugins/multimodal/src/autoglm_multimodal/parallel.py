"""Parallel per-file preprocessing with progress, caching and located errors.

Work is cut into chunks handed to a pool of worker processes (``fork`` where the platform has
it: a worker then starts in milliseconds with torch already imported, where ``spawn`` would pay
a second of imports per worker and erase the gain on small files). Each worker reads a file's
bytes once, looks the content up in the :class:`~autoglm_multimodal.cache.FeatureCache`, and
otherwise decodes and extracts from those bytes. A file that cannot be used becomes an
:class:`~autoglm_multimodal.errors.ItemProblem`; the others go on. ``workers: 1`` runs in the
calling process (no pool), which is also what a plain loop costs.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autoglm_multimodal.cache import FeatureCache, content_digest
from autoglm_multimodal.errors import BadInput, ItemProblem

#: ``extract(data, name, params) -> array``; raises BadInput for a file it cannot use.
Extractor = Callable[[bytes, str, dict[str, Any]], np.ndarray]


@dataclass
class Extraction:
    """What a preprocessing pass produced: arrays by item id, problems, and how it went."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    problems: list[ItemProblem] = field(default_factory=list)
    cached: int = 0
    computed: int = 0
    seconds: float = 0.0

    @property
    def files_per_second(self) -> float:
        done = self.cached + self.computed + len(self.problems)
        return done / self.seconds if self.seconds > 0 else 0.0


def _one(
    extract: Extractor, params: dict[str, Any], cache: FeatureCache, item: str, path: str
) -> tuple[str, np.ndarray | None, str | None, bool]:
    """(item, array or None, problem or None, from cache) for one file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return item, None, f"cannot read the file: {exc.strerror or exc}", False
    key = content_digest(data)
    hit = cache.get(key)
    if hit is not None:
        return item, hit, None, True
    try:
        array = extract(data, path, params)
    except BadInput as exc:
        return item, None, str(exc), False
    except Exception as exc:  # a decoder's own error on a corrupt file: located, not raised
        return item, None, f"{type(exc).__name__}: {exc}", False
    cache.put(key, array)
    return item, array, None, False


def _chunk(
    extract: Extractor,
    params: dict[str, Any],
    cache: FeatureCache,
    tasks: list[tuple[str, str]],
) -> list[tuple[str, np.ndarray | None, str | None, bool]]:
    return [_one(extract, params, cache, item, path) for item, path in tasks]


def _worker_setup() -> None:
    """One torch thread per worker process: the pool is the parallelism; nested threads only
    fight. (The calling process, with ``workers: 1``, keeps its own setting.)"""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


def run_extraction(
    extract: Extractor,
    params: dict[str, Any],
    tasks: list[tuple[str, str]],
    *,
    workers: int = 1,
    cache: FeatureCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    check_cancelled: Callable[[], None] | None = None,
    warm_up: Callable[[], None] | None = None,
) -> Extraction:
    """Extract every ``(item id, file)`` task; never raises for a bad file. ``warm_up`` runs
    first in this process (imports the extractor's libraries once, before any fork)."""
    cache = cache or FeatureCache(None, "")
    result = Extraction()
    start = time.perf_counter()
    if warm_up is not None:
        warm_up()
    total = len(tasks)

    paths = dict(tasks)

    def take(rows: list[tuple[str, np.ndarray | None, str | None, bool]]) -> None:
        for item, array, problem, hit in rows:
            if array is None:
                result.problems.append(ItemProblem(item, paths[item], problem or "unknown"))
            elif hit:
                result.arrays[item] = array
                result.cached += 1
            else:
                result.arrays[item] = array
                result.computed += 1
        if progress is not None:
            progress(len(result.arrays) + len(result.problems), total)

    if workers <= 1 or total < 2:
        step = max(1, min(64, total // 20 or 1))
        for begin in range(0, total, step):
            if check_cancelled is not None:
                check_cancelled()
            take(_chunk(extract, params, cache, tasks[begin : begin + step]))
    else:
        size = max(1, min(64, total // (workers * 8) or 1))
        chunks = [tasks[i : i + size] for i in range(0, total, size)]
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=_worker_setup
        ) as pool:
            pending = {pool.submit(_chunk, extract, params, cache, chunk) for chunk in chunks}
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    if check_cancelled is not None:
                        check_cancelled()
                    for future in done:
                        take(future.result())
            except BaseException:
                for future in pending:
                    future.cancel()
                raise
    # Results come back in completion order; keep the problems in task order for reports.
    order = {item: i for i, (item, _) in enumerate(tasks)}
    result.problems.sort(key=lambda p: order[p.item])
    result.seconds = time.perf_counter() - start
    return result
