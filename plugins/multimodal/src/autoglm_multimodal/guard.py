"""The trust policy for files named inside a manifest.

The policy checks declared fields (the manifest's own path is an ``InputPath``), but the files a
manifest lists are data, not fields: a manifest could name ``/etc/shadow``. Each listed file is
checked against the run policy's read roots here, and one outside them becomes a located item
problem like any other bad file, so a sandboxed run reads nothing the policy forbids.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from autoglm import NodeContext


def read_guard(context: NodeContext) -> Callable[[Path], str | None]:
    """A function returning why a file may not be read (None: it may) under the run's policy."""
    policy = context.policy
    if policy is None or policy.is_unrestricted:
        return lambda path: None
    from autoglm.policy import Places

    roots = Places.of(policy, context.home).reads
    if roots is None:
        return lambda path: None

    def check(path: Path) -> str | None:
        real = Path(os.path.realpath(path))
        if any(real == root or real.is_relative_to(root) for root in roots):
            return None
        return "refused by the run's trust policy: outside the readable folders"

    return check
