"""Limits on what a workflow file may cost to read, so that validation is always fast.

A workflow is small: the shipped ones are a few kB, 10-20 nodes, nested 5-6 levels. Without
limits a 530-byte file of nested YAML aliases expands to billions of values once anything
walks it (it took 105 s and 4.6 GB in the service), and a 10 MB file takes a minute to
validate. Each limit is far above any real workflow and far below what hurts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

#: environment variable that raises (or lowers) ``max_bytes`` for every load, CLI and service
MAX_BYTES_ENV = "AUTOGLM_WORKFLOW_MAX_BYTES"


@dataclass(frozen=True)
class ParseLimits:
    """What one workflow text may contain. ``max_alias_nodes`` bounds the *expanded* size of
    aliases: every ``*alias`` counts the scalars and containers of what it stands for
    (aliases inside it included), however few aliases there are. ``max_values`` bounds the
    whole document so expanded: PyYAML builds about 100,000 values a second on a loaded core,
    and a 1 MB flow list holds 500,000 of them (10 s to validate without this bound); the
    largest shipped workflow has about 300."""

    max_bytes: int = 1_000_000
    max_depth: int = 64
    max_values: int = 100_000
    max_alias_nodes: int = 100_000
    max_aliases: int | None = None
    max_expression_chars: int = 1_000
    max_expression_depth: int = 32

    @classmethod
    def from_env(cls) -> ParseLimits:
        """The defaults, with ``max_bytes`` from ``$AUTOGLM_WORKFLOW_MAX_BYTES`` when set."""
        limits = cls()
        raw = os.environ.get(MAX_BYTES_ENV, "").strip()
        if raw.isdigit() and int(raw) > 0:
            limits = replace(limits, max_bytes=int(raw))
        return limits
