"""Helpers shared by the core's tests (importable: the root pyproject puts tests/ on the path)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
PRIVATE_PLUGINS = FIXTURES / "private_plugins"
OBSERVERS = FIXTURES / "observers"
AUTOGLM = Path(sys.executable).parent / "autoglm"


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``autoglm`` command."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(AUTOGLM), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
