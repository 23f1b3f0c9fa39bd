"""Per-run limits of the service: what one run may use, and how an overrun is named.

Why: a run executes request-chosen work (a regular expression, a graph size, a sleep), so one
request could otherwise spin a CPU, exhaust memory, hang a run slot or fill the disk. Every run
executes in a run process of its own (``service/supervisor.py``); these limits are set on it
(``setrlimit``) and watched from the service, and a run over one is stopped and marked failed
with a message that names the limit, its value and the setting that changes it:
``run exceeded its wall-clock limit of 3600 s (limits.wall_s)``.

The settings live under ``limits:`` in the service's YAML settings. ``null`` switches a limit
off.
"""

from __future__ import annotations

import contextlib
import os
import resource
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from autoglm.writebudget import WriteBudget

MB = 1024 * 1024
#: A margin on top of ``cpu_s`` for the kernel's own CPU limit: the service's watch normally
#: stops the run first, with its clearer message; the kernel limit is the backstop.
KERNEL_CPU_MARGIN_S = 5

LimitName = Literal["memory_mb", "address_space_mb", "cpu_s", "wall_s", "output_mb", "store_mb"]

_WHAT: dict[str, tuple[str, str]] = {
    "memory_mb": ("memory limit", "MB resident"),
    "address_space_mb": ("address-space limit", "MB per process"),
    "cpu_s": ("CPU-time limit", "s"),
    "wall_s": ("wall-clock limit", "s"),
    "output_mb": ("output limit", "MB per recorded value"),
    "store_mb": ("store limit", "MB"),
}


class RunLimits(BaseModel):
    """Limits of one service run. Safe defaults: 4 GiB resident, an hour of CPU and of wall
    clock, 16 MB per recorded value and 50 MB recorded in all."""

    model_config = ConfigDict(extra="forbid")

    memory_mb: int | None = Field(
        default=4096,
        ge=16,
        description="Resident memory of the run's processes together (the run process and "
        "its node workers), watched by the service.",
    )
    address_space_mb: int | None = Field(
        default=None,
        ge=64,
        description="Address space of each run process (RLIMIT_AS): an allocation over it "
        "fails at once. Off by default: libraries such as torch reserve far more address "
        "space than they use.",
    )
    cpu_s: float | None = Field(
        default=3600.0,
        gt=0,
        description="CPU seconds the run's processes may use together.",
    )
    wall_s: float | None = Field(
        default=3600.0, gt=0, description="Seconds from the run's start to its end."
    )
    output_mb: float | None = Field(
        default=16.0,
        gt=0,
        description="Size of one value a run records: a node's inputs or outputs, a journal "
        "entry, the run's outputs (JSON).",
    )
    store_mb: float | None = Field(
        default=50.0,
        gt=0,
        description="Bytes one run may record in the run store in all (node inputs and "
        "outputs, cache entries, journal, run outputs).",
    )
    cancel_grace_s: float = Field(
        default=3.0,
        ge=0,
        le=600,
        description="Seconds a cancelled run has to stop by itself before its processes are "
        "killed.",
    )
    runs_per_process: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Runs one run process executes, one after another, before it is replaced "
        "(1: a fresh process for every run). A process is also replaced after any run that "
        "was stopped, or that left threads or memory behind.",
    )
    poll_s: float = Field(
        default=0.1, gt=0, le=5, description="How often the service checks its runs' usage."
    )
    nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower the CPU priority of run processes is than the API's "
        "(os.nice): on a busy machine the API answers first and runs use what is left.",
    )

    def describe(self, name: LimitName) -> str:
        """``"wall-clock limit of 3600 s (limits.wall_s)"``: how a message names a limit."""
        what, unit = _WHAT[name]
        value = getattr(self, name)
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{what} of {shown} {unit} (limits.{name})"

    def exceeded(self, name: LimitName, detail: str = "") -> str:
        """The error of a run stopped by limit ``name``."""
        return f"run exceeded its {self.describe(name)}" + (f": {detail}" if detail else "")

    def write_budget(self) -> WriteBudget:
        """The run store's budget for a run under these limits."""
        return WriteBudget(
            run_bytes=None if self.store_mb is None else int(self.store_mb * 1_000_000),
            record_bytes=None if self.output_mb is None else int(self.output_mb * 1_000_000),
            run_limit=self.describe("store_mb"),
            record_limit=self.describe("output_mb"),
        )


def apply_rlimits(limits: RunLimits) -> None:
    """Set the kernel's limits of this run process, inherited by its node workers.

    ``RLIMIT_CPU`` counts this process's CPU since it started, so the soft limit is what it has
    used so far plus ``cpu_s`` (and a margin); the hard limit stays where it was, so the next
    run in the same process can move the soft one again. Platforms without ``resource`` limits
    rely on the service's watch alone.
    """
    if limits.address_space_mb is not None:
        size = limits.address_space_mb * MB
        _set(resource.RLIMIT_AS, size)
    if limits.cpu_s is not None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        used = usage.ru_utime + usage.ru_stime
        _set(resource.RLIMIT_CPU, int(used + limits.cpu_s) + KERNEL_CPU_MARGIN_S)


def lower_priority(limits: RunLimits) -> None:
    """Give this run process (and what it starts) ``limits.nice`` less CPU priority."""
    if limits.nice and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(limits.nice)


def _set(which: int, soft: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    # a platform that refuses: the service's watch still holds
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (soft, hard))
