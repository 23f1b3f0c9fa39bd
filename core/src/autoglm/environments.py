"""Named Python environments that a node can run in (``environment: NAME``): version isolation.

Why: two plugins can need versions of one package that cannot be installed side by side (DGL
2.1 loads only with torch 2.2.1, transformers 5 needs torch 2.6 or later). A node that names
an environment runs in that environment's interpreter, through the same protocol as process
isolation: config, inputs and outputs cross as JSON, artefacts as paths under the run's home;
the other side is ``python -m autoglm.env_worker`` (so autoglm must be installed there).

Registry: a settings file mapping names to interpreters, ``$AUTOGLM_ENVIRONMENTS`` or
``$AUTOGLM_HOME/environments.json``. Only whoever may write that file (a local user, or a
service admin through ``POST /v1/environments``) registers an environment; a workflow only
*names* one, so a submitter cannot make the service run an interpreter of their choosing.

What an environment offers (its autoglm and core API versions, its plugins' distributions) is
asked once, by running the worker with ``--describe``, and cached by the interpreter's and the
environment's site folders' modification times: installing into the environment invalidates
it, validating a workflow again does not start a process.

This module imports nothing heavy: the CLI, the validator and the engine use it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autoglm.errors import AutoGLMError, NodeCancelled, NodeTimeout
from autoglm.lifeline import kill_process_group

ENV_REGISTRY = "AUTOGLM_ENVIRONMENTS"
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
#: seconds an environment has to describe itself (imports importlib.metadata, no plugin)
DESCRIBE_TIMEOUT_S = 60.0


class EnvironmentUnavailable(AutoGLMError):
    """An environment is unknown, unusable, or lacks what a node needs."""


def registry_path() -> Path:
    """The settings file: ``$AUTOGLM_ENVIRONMENTS``, else ``$AUTOGLM_HOME/environments.json``
    (read now, not at import, so a service can point its run processes at its own home)."""
    explicit = os.environ.get(ENV_REGISTRY)
    if explicit:
        return Path(explicit)
    home = Path(os.environ.get("AUTOGLM_HOME") or ".autoglm").resolve()
    return home / "environments.json"


def load_registry(path: Path | None = None) -> dict[str, str]:
    """Registered environments: name -> interpreter path. A missing file is an empty registry."""
    path = path or registry_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise EnvironmentUnavailable(f"cannot read environments file {path}: {exc}") from None
    envs = data.get("environments", data) if isinstance(data, dict) else {}
    return {str(k): str(v) for k, v in envs.items() if isinstance(v, str)}


def register(name: str, python: str | Path, path: Path | None = None) -> dict[str, Any]:
    """Register (or replace) environment ``name``; checks that the interpreter runs the worker
    and returns its description. Written atomically (a reader never sees half a file)."""
    if not NAME.match(name):
        raise EnvironmentUnavailable(f"environment name {name!r}: letters, digits, '_', '.', '-'")
    interpreter = Path(python).expanduser().absolute()
    with _describe_lock:  # asked afresh: the admin may just have fixed it
        _describe_cache.pop(str(interpreter), None)
    info = describe(str(interpreter))
    path = path or registry_path()
    envs = load_registry(path)
    envs[name] = str(interpreter)
    _write(path, envs)
    return info


def unregister(name: str, path: Path | None = None) -> bool:
    path = path or registry_path()
    envs = load_registry(path)
    if envs.pop(name, None) is None:
        return False
    _write(path, envs)
    return True


def _write(path: Path, envs: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"environments": envs}, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


# ------------------------------------------------------------------ describe


@dataclass
class _Cached:
    key: tuple[Any, ...]
    info: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


#: seconds a failed description is remembered (installing autoglm into a venv does not change
#: its interpreter's mtime, so a failure cannot be keyed on what would fix it)
FAILURE_TTL_S = 30.0


_describe_cache: dict[str, _Cached] = {}
_describe_lock = threading.Lock()


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return -1


def _key(python: str, site: list[str]) -> tuple[Any, ...]:
    """Changes when the interpreter is replaced or anything is installed into, upgraded in or
    removed from the environment (each adds or removes a ``*.dist-info`` folder there)."""
    return (_mtime(python), *(_mtime(s) for s in site))


def describe(python: str) -> dict[str, Any]:
    """What the environment of ``python`` offers: ``autoglm`` and ``api_versions``,
    ``python``, ``plugins`` (name -> ``{"distribution", "version"}``) and ``site``. Asked once,
    then answered from the cache while the interpreter and its site folders are unchanged.
    A failure is cached too (until the interpreter changes), so submissions that name a broken
    environment do not each start a process."""
    with _describe_lock:
        cached = _describe_cache.get(python)
        if cached is not None and cached.key == _key(python, cached.info.get("site", [])):
            if "error" not in cached.info:
                return cached.info
            if time.monotonic() - cached.at < FAILURE_TTL_S:
                raise EnvironmentUnavailable(cached.info["error"])
    try:
        info = _ask(python)
    except EnvironmentUnavailable as exc:
        info = {"error": str(exc), "site": []}
    with _describe_lock:
        _describe_cache[python] = _Cached(_key(python, info.get("site", [])), info)
    if "error" in info:
        raise EnvironmentUnavailable(info["error"])
    return info


def _ask(python: str) -> dict[str, Any]:
    if not os.path.exists(python):
        raise EnvironmentUnavailable(f"no interpreter at {python}")
    try:
        proc = subprocess.run(
            [python, "-m", "autoglm.env_worker", "--describe"],
            capture_output=True,
            text=True,
            timeout=DESCRIBE_TIMEOUT_S,
            env=child_env(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentUnavailable(f"{python} could not describe itself: {exc}") from None
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit code {proc.returncode}"]
        raise EnvironmentUnavailable(
            f"{python} cannot run autoglm.env_worker (is autoglm installed there?): {tail[0]}"
        )
    try:
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        raise EnvironmentUnavailable(f"{python} gave no description") from None


def child_env() -> dict[str, str]:
    """The other environment must not see this one's import path."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    return env


def interpreter_of(name: str) -> str:
    envs = load_registry()
    python = envs.get(name)
    if python is None:
        known = ", ".join(sorted(envs)) or "(none registered)"
        raise EnvironmentUnavailable(f"unknown environment {name!r}; registered: {known}")
    return python


def check(name: str, plugin: str) -> dict[str, Any]:
    """The environment's description, after checking that it is registered, runs, has
    ``plugin`` installed and speaks a core API version this host supports; raises
    ``EnvironmentUnavailable`` with the reason (the validator locates it at the node)."""
    from autoglm.nodes import SUPPORTED_API_VERSIONS

    info = describe(interpreter_of(name))
    if not set(info.get("api_versions", [])) & set(SUPPORTED_API_VERSIONS):
        raise EnvironmentUnavailable(
            f"environment {name!r} has autoglm {info.get('autoglm')} with core API versions "
            f"{info.get('api_versions')}; this host supports {sorted(SUPPORTED_API_VERSIONS)}"
        )
    plugins = info.get("plugins", {})
    if plugin != "core" and plugin not in plugins:  # core: autoglm itself
        raise EnvironmentUnavailable(
            f"environment {name!r} has no plugin {plugin!r}; it has: "
            f"{', '.join(sorted(plugins)) or '(none)'}"
        )
    return info


def plugin_of(node_type: str) -> str:
    return node_type.split(".", 1)[0]


# ----------------------------------------------------------------------- run


def run_in_environment(
    *,
    python: str,
    payload: dict[str, Any],
    timeout: float | None,
    cancel_event: threading.Event,
    on_progress: Callable[[float, float | None, str | None], None] | None = None,
) -> dict[str, Any]:
    """Run one node attempt in ``python -m autoglm.env_worker``; its outputs as JSON data.
    A node's exception comes back as ``RemoteError`` (kind, message, the other side's
    traceback), exactly as from a process-isolated worker.

    The payload goes in on stdin as one JSON document; the worker answers JSON lines on
    stdout (``progress``, then ``ok`` or ``error``); its stderr (the node's logs) is this
    process's. On timeout or cancellation the worker's process group is killed; the worker
    also dies with this process (``lifeline``), like a process-isolated node's worker."""
    from autoglm.isolation import RemoteError  # not at import: the validator imports this

    proc = subprocess.Popen(
        [python, "-m", "autoglm.env_worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=child_env(),
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps({**payload, "parent_pid": os.getpid()}))
    proc.stdin.close()
    answers: list[tuple[str, Any]] = []
    done = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                kind, value = json.loads(line)
            except ValueError:
                continue
            if kind == "progress":
                if on_progress is not None:
                    with contextlib.suppress(Exception):
                        on_progress(*value)
                continue
            answers.append((kind, value))
        done.set()

    reader = threading.Thread(target=read, name="autoglm-env-reader", daemon=True)
    reader.start()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while not done.wait(0.05):
            if cancel_event.is_set():
                raise NodeCancelled(f"node {payload['node_id']!r} was cancelled")
            if deadline is not None and time.monotonic() >= deadline:
                raise NodeTimeout(
                    f"node {payload['node_id']!r} ran past its timeout of {timeout} s"
                )
        proc.wait()
        if not answers:
            raise RemoteError(
                "WorkerDied", f"environment worker exited with code {proc.returncode}"
            )
        kind, value = answers[-1]
        if kind == "ok":
            return value
        raise RemoteError(*value)
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        if not kill_process_group(proc.pid, signal.SIGTERM):
            proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(0.5)
    kill_process_group(proc.pid, signal.SIGKILL)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def python_of(venv: Path) -> Path:
    """The interpreter of a virtualenv folder."""
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def run_node_in_environment(
    name: str,
    *,
    context: Any,
    config: dict[str, Any],
    inputs: dict[str, Any],
    timeout: float | None,
    on_progress: Callable[[float, float | None, str | None], None] | None = None,
) -> dict[str, Any]:
    """Run one attempt of the context's node in environment ``name`` (the engine's entry)."""
    payload = {
        "node_type": context.node_type,
        "node_id": context.node_id,
        "run_id": context.run_id,
        "home": str(context.home),
        "store_path": str(context.store_path) if context.store_path else None,
        "selection": context.selection.to_dict(),
        # the run's trust policy crosses too: a node checks what it does on its own behalf
        "policy": context.policy.to_options() if context.policy is not None else None,
        "config": config,
        "inputs": inputs,
    }
    return run_in_environment(
        python=interpreter_of(name),
        payload=payload,
        timeout=timeout,
        cancel_event=context.cancel_event,
        on_progress=on_progress,
    )
