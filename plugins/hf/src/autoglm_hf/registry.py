"""Process-wide sharing of loaded models.

Loading a causal LM or an encoder costs seconds to minutes and gigabytes, and several workflow
nodes (and tuner trials running in threads) often point at the same weights. Every loader goes
through ``shared(key, factory)`` so one process holds at most one copy per key. A per-key lock
makes concurrent first requests wait for the single load instead of racing to load twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

_objects: dict[Hashable, Any] = {}
_key_locks: dict[Hashable, threading.Lock] = {}
_guard = threading.Lock()
_load_count: dict[Hashable, int] = {}


def shared(key: Hashable, factory: Callable[[], T]) -> T:
    """Return the object stored under ``key``, building it with ``factory`` on first use."""
    with _guard:
        if key in _objects:
            return _objects[key]
        lock = _key_locks.setdefault(key, threading.Lock())
    with lock:
        with _guard:
            if key in _objects:
                return _objects[key]
        value = factory()
        with _guard:
            _objects[key] = value
            _load_count[key] = _load_count.get(key, 0) + 1
        return value


def load_count(key: Hashable) -> int:
    """How many times ``key`` was built in this process (tests assert it stays at one)."""
    with _guard:
        return _load_count.get(key, 0)


def clear() -> None:
    """Forget every shared object (tests; or to free memory between unrelated workloads)."""
    with _guard:
        _objects.clear()
        _key_locks.clear()
        _load_count.clear()
