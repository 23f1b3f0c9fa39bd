"""Import plugins in a child process first, so that one that kills its interpreter cannot kill
the command that loads it.

Why: ``SystemExit`` and ``KeyboardInterrupt`` at import are caught in-process (``plugins.py``),
but ``os._exit``, ``os.abort`` or a crash in an extension module end the process with no chance
to catch anything: ``autoglm plugins``, ``validate`` and ``run`` died with the plugin's exit
code and no output, even for workflows that do not use it.

How: one child imports the selected plugins one by one (paying Python's start-up and the core's
import once) and reports ``start``/``done`` for each over a pipe, so when it dies the plugin in
progress is the killer; a new child goes on with the plugins after it. A plugin whose import
does not finish within ``IMPORT_TIMEOUT_S`` is reported as hung. The command then loads, in its
own process, only the plugins that did not kill the child.

Probing costs a child process (about 0.3 s), so it is done once per plugin version:
``plugin-probe.json`` in the autoglm home records which installed distribution (name, version,
entry point) or private plugin file (path, size, modification time) was probed and what
happened. A new or changed plugin is probed before its first in-process import; a known one is
not. Editing the source of an editable install changes no version: run ``autoglm plugins --check``
(which probes every selected plugin, ``--plugin-module`` ones included). ``AUTOGLM_PROBE_PLUGINS=0``
turns probing off.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from autoglm.plugins import Host, PluginInfo, PluginSelection

PROBE_FILE = "plugin-probe.json"
ENV_PROBE = "AUTOGLM_PROBE_PLUGINS"
IMPORT_TIMEOUT_S = 60.0
STARTUP_TIMEOUT_S = 60.0
STDERR_LINES = 5
_CACHE_VERSION = 1
_MAX_ENTRIES = 500


@dataclass
class ProbeResult:
    """What importing one plugin did to the child that imported it."""

    outcome: str  # "ok" (the child survived it) | "killed" | "hung"
    exit_code: int | None = None
    stderr: str = ""
    timeout_s: float | None = None  # how long a hung import was given

    @classmethod
    def from_dict(cls, data: Any) -> ProbeResult | None:
        """A remembered result, or None when the entry is not one (a damaged cache file only
        means probing again)."""
        try:
            result = cls(**data)
        except TypeError:
            return None
        return result if result.outcome in {"ok", "killed", "hung"} else None

    def error(self) -> str | None:
        """The load error the host records for this plugin, or None if it may be imported."""
        if self.outcome == "ok":
            return None
        if self.outcome == "hung":
            what = f"did not finish importing within {self.timeout_s:g} s"
        else:
            what = f"killed its interpreter at import: exit code {self.exit_code}"
        return what + (f"; last stderr: {self.stderr}" if self.stderr else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "exit_code": self.exit_code,
            "stderr": self.stderr,
            "timeout_s": self.timeout_s,
        }


def probing_enabled() -> bool:
    """Whether commands probe new plugins (``AUTOGLM_PROBE_PLUGINS``, on by default). The
    child's progress pipe needs POSIX (``pass_fds``, ``select`` on a pipe): elsewhere plugins are
    imported in-process only, as before."""
    if os.name != "posix":
        return False
    return os.environ.get(ENV_PROBE, "1").strip().lower() not in {"0", "false", "no", "off"}


def load_host(
    selection: PluginSelection, home: Path, *, check: bool = False, probe_new: bool = True
) -> Host:
    """``Host.load(selection)``, after importing in a child every selected plugin that is new or
    changed since it was last probed (every one when ``check``); plugins that kill the child are
    recorded as failed and never imported here. Raises ``PluginError`` as ``Host.load`` does.

    ``probe_new=False`` only applies what ``home`` remembers, starting no child: for a process
    that rebuilds the host of a command that probed already (a node's worker process), which
    must set aside the same plugins or die of them."""
    if not probing_enabled() and not (check and os.name == "posix"):
        return Host.load(selection)
    host = Host(selection)
    selected = host.candidates()
    candidates = [info for info, _ in selected]
    cache_path = home / PROBE_FILE
    cache = _read_cache(cache_path)
    keys = {info.name: _cache_key(info) for info in candidates}
    known: dict[str, ProbeResult] = {}
    if not check:
        for name, key in keys.items():
            if key is not None and (result := ProbeResult.from_dict(cache.get(key))):
                known[name] = result
    to_probe = [
        info.name
        for info in candidates
        if info.name not in known and (check or keys[info.name] is not None) and probe_new
    ]
    probed = probe(selection, to_probe) if to_probe else {}
    if probed:
        for name, result in probed.items():
            if keys[name] is not None:
                cache[keys[name]] = result.to_dict()
        _write_cache(cache_path, cache, keep=set(filter(None, keys.values())))
    results = {**known, **probed}
    quarantine = {name: err for name, result in results.items() if (err := result.error())}
    host.load_candidates(selected, quarantine=quarantine)
    for name, result in results.items():
        if name in host.plugins:
            host.plugins[name].probe = result.to_dict()
    return host


def probe(
    selection: PluginSelection, names: list[str], *, timeout: float = IMPORT_TIMEOUT_S
) -> dict[str, ProbeResult]:
    """Import ``names`` (selected by ``selection``) in child processes; say what each did."""
    results: dict[str, ProbeResult] = {}
    remaining = list(names)
    while remaining:
        done, current, exit_code, stderr = _probe_child(selection, remaining, timeout)
        for name in done:
            results[name] = ProbeResult("ok")
        if current is not None:
            if exit_code is None:
                results[current] = ProbeResult("hung", None, stderr, timeout)
            else:
                results[current] = ProbeResult("killed", exit_code, stderr)
        elif not done:  # it died before its first plugin: nobody to blame, nothing learnt
            break
        remaining = [name for name in remaining if name not in results]
    return results


def _probe_child(
    selection: PluginSelection, names: list[str], timeout: float
) -> tuple[list[str], str | None, int | None, str]:
    """Run one child over ``names``: the plugins it finished, the one it was importing when it
    ended (None if it ended between plugins), its exit code (None when killed for hanging) and
    the last lines of its stderr."""
    read_fd, write_fd = os.pipe()
    request = json.dumps({"selection": selection.to_dict(), "names": names, "fd": write_fd})
    with tempfile.TemporaryFile() as stderr:
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "autoglm.plugin_probe"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                pass_fds=(write_fd,),
            )
        finally:
            os.close(write_fd)
        assert child.stdin is not None
        try:
            child.stdin.write(request.encode())
            child.stdin.close()
        except BrokenPipeError:
            pass
        done, current, hung = _follow(read_fd, child, timeout)
        os.close(read_fd)
        if hung:
            child.kill()
        exit_code = child.wait()
        stderr.seek(0)
        lines = stderr.read().decode("utf-8", "replace").strip().splitlines()
    tail = " | ".join(line.strip() for line in lines[-STDERR_LINES:] if line.strip())
    return done, current, None if hung else exit_code, tail


def _follow(
    read_fd: int, child: subprocess.Popen[bytes], timeout: float
) -> tuple[list[str], str | None, bool]:
    """Read the child's progress until it closes the pipe; say if a plugin's import ran past
    ``timeout`` (the child's own start-up gets ``STARTUP_TIMEOUT_S``, so a slow machine does not
    blame the first plugin). Polls the child too: a grandchild may hold the pipe open."""
    done: list[str] = []
    current: str | None = None
    buffer = b""
    deadline = time.monotonic() + max(timeout, STARTUP_TIMEOUT_S)
    while True:
        ready, _, _ = select.select([read_fd], [], [], 0.2)
        if ready:
            chunk = os.read(read_fd, 65536)
            if not chunk:
                return done, current, False
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                event = json.loads(line)
                if event["event"] == "start":
                    current = event["name"]
                    deadline = time.monotonic() + timeout
                else:
                    done.append(event["name"])
                    current = None
                    deadline = time.monotonic() + max(timeout, STARTUP_TIMEOUT_S)
        elif child.poll() is not None:
            return done, current, False
        elif time.monotonic() > deadline:
            return done, current, True


def _cache_key(info: PluginInfo) -> str | None:
    """What identifies this version of a plugin without importing it; None when nothing cheap
    does (``--plugin-module`` specs: finding their file would import their parent packages)."""
    if info.source == "entry point":
        return f"entry point {info.name}={info.target} {info.distribution}=={info.version}"
    if info.source == "plugins-dir":
        try:
            stat = Path(info.target).stat()
        except OSError:
            return None
        return f"file {info.target} {stat.st_size} {stat.st_mtime_ns}"
    return None


def _read_cache(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _CACHE_VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _write_cache(path: Path, entries: dict[str, dict[str, Any]], keep: set[str]) -> None:
    """Write atomically (concurrent commands may probe at once; either result is right). An
    unwritable home only means probing again next time."""
    if len(entries) > _MAX_ENTRIES:
        entries = {key: value for key, value in entries.items() if key in keep}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".plugin-probe-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"version": _CACHE_VERSION, "entries": entries}, handle, indent=1)
        os.replace(tmp, path)
    except OSError:
        pass


def _child_main() -> None:
    """The probing child: load the requested plugins, reporting each over the pipe."""
    request = json.loads(sys.stdin.read())
    selection = replace(
        PluginSelection.from_dict(request["selection"]),
        allow=tuple(request["names"]),
        strict=False,
    )
    fd = request["fd"]

    def report(event: str, info: PluginInfo) -> None:
        os.write(fd, (json.dumps({"event": event, "name": info.name}) + "\n").encode())

    Host.load(selection, progress=report)
    sys.stderr.flush()
    os._exit(0)  # not the normal exit: a plugin's thread or atexit handler must not hold us here


if __name__ == "__main__":
    _child_main()
