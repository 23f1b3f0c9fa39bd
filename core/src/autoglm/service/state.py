"""Everything one running service holds, built once from its settings."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autoglm.plugins import PluginSelection
from autoglm.service.catalogue import Catalogue
from autoglm.service.hosts import HostCache
from autoglm.service.keys import KeyStore
from autoglm.service.settings import ServiceSettings
from autoglm.service.worker import WorkerPool
from autoglm.store import RunStore


@dataclass
class LazyResource:
    """A heavy object (a chat model, the feedback store) made on first use, once, under a
    lock; a failure is remembered so each request does not retry a broken load."""

    factory: Any
    _value: Any = None
    _error: BaseException | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self) -> Any:
        with self._lock:
            if self._value is None and self._error is None:
                try:
                    self._value = self.factory()
                except BaseException as exc:
                    self._error = exc
            if self._error is not None:
                raise self._error
            return self._value


def _environments_in(home: Path) -> None:
    """The service's environments file is in its home unless the operator named another
    (``$AUTOGLM_ENVIRONMENTS``); set in the environment so run processes read the same."""
    from autoglm.environments import ENV_REGISTRY

    if not os.environ.get(ENV_REGISTRY) or os.environ.get(_FROM_HOME) == "1":
        os.environ[ENV_REGISTRY] = str(home / "environments.json")
        os.environ[_FROM_HOME] = "1"


_FROM_HOME = "AUTOGLM_ENVIRONMENTS_FROM_HOME"


@dataclass
class ServiceState:
    settings: ServiceSettings
    home: Path
    store: RunStore
    keys: KeyStore
    hosts: HostCache
    pool: WorkerPool
    catalogue: Catalogue
    log_level: str
    resources: dict[str, LazyResource] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    @classmethod
    def build(cls, settings: ServiceSettings) -> ServiceState:
        home = settings.home_path()
        _environments_in(home)
        store = RunStore(home / "runs.sqlite")
        store.max_running_per_key = settings.max_running_runs_per_key
        store.purge_idempotency(time.time() - settings.idempotency_ttl_s)
        hosts = HostCache(
            PluginSelection.from_env(
                allow=settings.plugins, block=settings.block, plugin_dirs=settings.plugin_dirs
            )
        )
        return cls(
            settings=settings,
            home=home,
            store=store,
            keys=KeyStore.in_home(home),
            hosts=hosts,
            pool=WorkerPool(
                store,
                hosts,
                limit=settings.max_concurrent_runs,
                node_workers=settings.node_workers,
                executor=settings.executor,
                limits=settings.limits,
                log_level=settings.log_level,
                json_logs=settings.json_logs,
            ),
            catalogue=Catalogue(settings.workflows_dir),
            log_level=settings.log_level,
        )

    def resource(self, name: str, factory: Any) -> LazyResource:
        """The lazy resource ``name``, created with ``factory`` on first ask."""
        return self.resources.setdefault(name, LazyResource(factory))
