"""The plugin's entry point: registers the ``dask`` executor. Light on purpose: Dask is
imported when a run starts the executor, not when plugins are listed."""

from __future__ import annotations

from autoglm import hookimpl
from autoglm_dask.executor import DaskExecutor


@hookimpl
def register_executors(register):
    register(DaskExecutor)
