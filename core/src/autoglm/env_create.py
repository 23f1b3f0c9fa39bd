"""Build a Python environment for ``environment: NAME`` nodes (``autoglm env create``).

Two kinds:

* **layered** (the default): a virtualenv whose own ``site-packages`` comes first on its path,
  with this host's site folders *after* it (one ``.pth`` line that calls ``site.addsitedir``,
  so the host's editable installs work too). autoglm and every plugin of the host are
  importable there without a copy, and what the constraints install in the environment
  (``transformers>=5`` with its torch) shadows the host's versions. pip, run against the
  environment, does not uninstall the host's packages (they are outside the environment). It
  builds in seconds, but the host's other packages stay visible: fine for a different version
  of a leaf package stack, wrong if the host's copies would be imported instead of missing ones.
* **isolated** (``--isolated``): a plain virtualenv into which the core and the named plugins
  are installed (from their source folders when the host has them as editable installs, else
  at the host's version from the index), then the constraints.

pip is this host's (``pip --python``), so the environment needs no pip of its own.
"""

from __future__ import annotations

import json
import site
import subprocess
import sys
from pathlib import Path
from typing import Any

from autoglm.environments import EnvironmentUnavailable, child_env, python_of, register

PTH = "_autoglm_host.pth"


def _run(cmd: list[str]) -> None:
    # this process's PYTHONPATH would make pip see (and skip) what is only on that path
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=child_env())
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise EnvironmentUnavailable(f"{' '.join(cmd[:4])} ... failed:\n{tail}")


def _site_of(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def _host_sites() -> list[str]:
    return [p for p in site.getsitepackages() if Path(p).is_dir()]


def _source_of(distribution: str) -> str:
    """A pip requirement for ``distribution`` as the host has it: its source folder for an
    editable install (``direct_url.json``), else ``name==version``."""
    from importlib import metadata

    dist = metadata.distribution(distribution)
    text = dist.read_text("direct_url.json")
    if text:
        data = json.loads(text)
        url = str(data.get("url", ""))
        if url.startswith("file://"):
            return url[len("file://") :]
    return f"{distribution}=={dist.version}"


def _distribution_of(plugin: str) -> str:
    from autoglm.plugins import discover_entry_points

    ep = discover_entry_points().get(plugin)
    dist = getattr(ep, "dist", None) if ep is not None else None
    if dist is None:
        raise EnvironmentUnavailable(f"no installed plugin {plugin!r} to put in the environment")
    return str(dist.metadata["Name"])


def create(
    name: str,
    folder: Path,
    *,
    plugins: list[str] = (),  # type: ignore[assignment]
    constraints: list[str] = (),  # type: ignore[assignment]
    isolated: bool = False,
    registry: Path | None = None,
) -> dict[str, Any]:
    """Build the environment in ``folder``, install, register it as ``name``; its description."""
    folder = folder.absolute()
    _run([sys.executable, "-m", "venv", "--without-pip", str(folder)])
    python = python_of(folder)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    if isolated:
        wanted = [_source_of("autoglm"), *(_source_of(_distribution_of(p)) for p in plugins)]
        _run([*pip, *wanted])
    else:
        for plugin in plugins:
            _distribution_of(plugin)  # seen through the host's folders; refuse a typo now
        lines = "".join(f"import site; site.addsitedir({s!r})\n" for s in _host_sites())
        (_site_of(python) / PTH).write_text(lines, encoding="utf-8")
    if constraints:
        _run([*pip, *constraints])
    info = register(name, python, registry)
    info["conflicts"] = [] if isolated else conflicts(python)
    return info


def conflicts(python: Path) -> list[str]:
    """``pip check`` of the environment: in a layered one, a host package built for what the
    constraints replaced (torchvision 0.17 for torch 2.2.1 beside torch 2.6) still shows
    through and breaks imports; the fix is to name it in the constraints so the environment
    gets its own copy."""
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "check"],
        capture_output=True,
        text=True,
        check=False,
        env=child_env(),
    )
    return [line for line in proc.stdout.splitlines() if "but you have" in line]
