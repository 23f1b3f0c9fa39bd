"""Hot loading: noticing that plugins were installed, upgraded or removed while the service runs.

Where the new code is picked up, and why there:

* **Run processes discover per run.** A run process (``service/runner.py``) imports its
  plugins once and serves many runs, and Python cannot reliably re-import an upgraded package
  in a live process (modules already imported keep the old code, objects made from them keep
  the old classes). So before each run, and every second while idle, the process compares a
  cheap *stamp* (the modification times of the folders on its import path and the plugin
  folders' files: a pip install, upgrade or removal adds or removes a ``*.dist-info`` folder
  there) with the one it loaded under; only when the stamp moved does it compute the
  *fingerprint* (the distributions' metadata folders on the path, by name, which carries
  the version, and modification time; the plugin folders' files). A changed fingerprint
  recycles the process: while idle it tells the supervisor it is stale and is replaced; a run
  already handed to it goes back to the queue and the fresh process takes it. A run in flight
  is never disturbed: it finishes in the process, and on the code, it started with.
* **The API process reloads when told** (``POST /v1/plugins/reload``, admin;
  ``autoglm plugins --reload --url ...``). Its catalogue (node types, schemas, which plugins a
  request may name) validates submissions; rebuilding it means dropping the plugins' modules
  and importing them again in a process that serves requests concurrently, which is safe at a
  moment an operator chooses (right after installing), not as a side effect of some request.
  Plugin routes (chat, feedback) stay as mounted at start: new routes need a restart.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Any

from autoglm.plugins import PluginSelection


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _plugin_dir_files(selection: PluginSelection) -> list[tuple[str, int]]:
    found = []
    for folder in selection.plugin_dirs:
        try:
            names = sorted(os.listdir(folder))
        except OSError:
            continue
        found += [(f"{folder}/{n}", _mtime(f"{folder}/{n}")) for n in names if n.endswith(".py")]
    return found


def stamp(selection: PluginSelection) -> tuple[Any, ...]:
    """Cheap (a few ``stat`` calls): changes whenever anything is installed on the path."""
    dirs = [p for p in sys.path if p and os.path.isdir(p)]
    return (
        tuple((d, _mtime(d)) for d in dirs),
        tuple(_plugin_dir_files(selection)),
    )


_METADATA = (".dist-info", ".egg-info", ".egg-link", ".pth")


def fingerprint(selection: PluginSelection) -> tuple[Any, ...]:
    """What the host would load: every distribution's metadata folder on the import path, by
    name (which carries the version) and modification time (a reinstall of the same version
    makes a new one), the ``.pth`` files (editable installs), the plugin folders' files.
    Listing folders, not parsing metadata: a few milliseconds for hundreds of distributions."""
    importlib.invalidate_caches()
    found = []
    for folder in sys.path:
        if not folder or not os.path.isdir(folder):
            continue
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(_METADATA))
        except OSError:
            continue
        found += [(folder, n, _mtime(os.path.join(folder, n))) for n in names]
    return (tuple(found), tuple(_plugin_dir_files(selection)))


class PluginWatch:
    """Remembers the plugin set a process loaded; says when the installed set differs."""

    def __init__(self, selection: PluginSelection) -> None:
        self.selection = selection
        self._stamp = stamp(selection)
        self._fingerprint = fingerprint(selection)
        self._changed = False

    def changed(self) -> bool:
        """Whether the installed set differs from the loaded one; once true, always true
        (the process holds the old code until it ends)."""
        if self._changed:
            return True
        now = stamp(self.selection)
        if now == self._stamp:
            return False
        self._stamp = now  # an unrelated change (a log written beside a module) costs once
        self._changed = fingerprint(self.selection) != self._fingerprint
        return self._changed


def forget_plugin_modules(names: list[str]) -> int:
    """Drop the modules of the top-level packages in ``names`` (and their submodules) from
    ``sys.modules``, so the next import reads the installed files. Returns how many."""
    tops = {n.split(".", 1)[0] for n in names if n} - {"autoglm"}  # never the core itself
    gone = [m for m in list(sys.modules) if m.split(".", 1)[0] in tops]
    for module in gone:
        sys.modules.pop(module, None)
    importlib.invalidate_caches()
    return len(gone)


def plugin_modules(targets: list[str]) -> list[str]:
    """Top-level module names behind entry point values (``pkg.mod:attr``) and file plugins."""
    names = []
    for target in targets:
        if not target:
            continue
        if target.endswith(".py"):
            names.append(f"autoglm_private_{Path(target).stem}")  # plugins._import_file
        else:
            names.append(target.split(":", 1)[0].split("=", 1)[-1])
    return names
