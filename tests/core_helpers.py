"""Helpers shared by the core's tests (importable: the root pyproject puts tests/ on the path)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"
PRIVATE_PLUGINS = FIXTURES / "private_plugins"
OBSERVERS = FIXTURES / "observers"
AUTOGLM = Path(sys.executable).parent / "autoglm"


def assert_light_import(modules: str, heavy: tuple[str, ...], then: str = "") -> None:
    """Import ``modules`` (``"a, b.c"``) in a fresh interpreter, run the statements ``then``,
    and fail if any of ``heavy`` got loaded (the failure shows the child's stderr)."""
    code = (
        f"import sys, {modules}\n{then}\n"
        f"heavy = [m for m in {heavy!r} if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def sigkill_search_after(
    process: subprocess.Popen, store: Any, trials: int, timeout: float
) -> set[int]:
    """SIGKILL the process running the tuner search of run ``killed`` (node ``search``) once
    ``trials`` trials are in its journal; the trials recorded by then."""
    deadline = time.monotonic() + timeout
    while len(store.journal_read("killed", "search", "trial")) < trials:
        assert process.poll() is None, "the search ended before it could be killed"
        assert time.monotonic() < deadline, "the search recorded no trials in time"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return {r["trial"] for r in store.journal_read("killed", "search", "trial")}


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, step: float = 0.05) -> Any:
    """Poll ``predicate`` every ``step`` seconds until it returns a true value, and return that
    value; ``AssertionError`` if it has not after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(step)
    raise AssertionError("condition not reached in time")


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


def write_installed_plugin(
    site: Path, dist: str, module: str, body: str, *, name: str | None = None
) -> None:
    """Install a plugin for real: a module plus a dist-info folder with its entry point, on a
    folder that the child process puts on sys.path. The entry-point name defaults to the module
    name after its first underscore (``autoglm_broken`` -> ``broken``)."""
    (site / f"{module}.py").write_text(textwrap.dedent(body))
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    entry = name or module.split("_", 1)[1]
    (info / "entry_points.txt").write_text(f"[autoglm]\n{entry} = {module}\n")


def python(code: str, site: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (with ``site`` on its path): entry points are read
    per process, so plugins installed by a test are only seen by a new one."""
    full_env = {**os.environ, **env}
    if site is not None:
        full_env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )
