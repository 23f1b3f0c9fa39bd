"""A real service on loopback for the service tests: a subprocess started with
``python -m autoglm.service serve``, waited on through ``/readyz``, with API keys of each scope
and a folder of small workflows."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from autoglm.service.keys import KeyStore

WORKFLOWS = {
    "quick": """
name: quick
description: a constant through a no-op
inputs:
  x: {type: int, default: 1}
nodes:
  - id: a
    type: core.const
    config: {value: 5}
  - id: b
    type: core.noop
    inputs: {value: $inputs.x}
outputs:
  five: $a.value
  x: $b.value
""",
    "slow": """
name: slow
description: a quick node, then a nap
nodes:
  - id: quick
    type: core.const
    config: {value: ready}
  - id: nap
    type: core.sleep
    config: {seconds: 1.5}
    inputs: {value: $quick.value}
outputs:
  value: $nap.value
""",
    "broken": """
name: broken
nodes:
  - id: a
    type: nosuch.node
""",
}

INLINE = """
name: inline
nodes:
  - id: c
    type: core.const
    config: {value: [1, 2, 3]}
outputs:
  value: $c.value
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A service subprocess, its home, its keys (token by scope) and its log file."""

    home: Path
    workflows: Path
    port: int
    args: list[str]
    keys: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> Server:
        self.log_path = self.home / f"service-{time.time_ns()}.log"
        log = self.log_path.open("w")
        env = {**os.environ, "AUTOGLM_HOME": str(self.home), **self.env}
        for name in ("AUTOGLM_PLUGINS", "AUTOGLM_BLOCK_PLUGINS", "AUTOGLM_PLUGINS_DIR"):
            env.pop(name, None)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "autoglm.service",
                "serve",
                "--port",
                str(self.port),
                "--home",
                str(self.home),
                "--workflows-dir",
                str(self.workflows),
                *self.args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"service exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"service not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path and self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def make_server(tmp: Path, *args: str) -> Server:
    """A configured (not yet started) server with a workflows folder and one key per scope."""
    home = tmp / "home"
    workflows = tmp / "workflows"
    workflows.mkdir(parents=True)
    for name, text in WORKFLOWS.items():
        (workflows / f"{name}.yaml").write_text(text)
    store = KeyStore.in_home(home)
    keys = {}
    for scopes in ("read", "submit", "admin", "read,submit"):
        keys[scopes] = store.create(f"test-{scopes}", scopes.split(","))[1]
    store.close()
    return Server(home=home, workflows=workflows, port=free_port(), args=list(args), keys=keys)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One service for a test module (the tests leave its config as they found it)."""
    srv = make_server(tmp_path_factory.mktemp("service"), "--max-runs", "4").start()
    yield srv
    srv.stop()


@pytest.fixture
def inline_workflow() -> str:
    return INLINE


def _server_factory(base: Path) -> Iterator:
    """Yield a factory of configured, not yet started servers under ``base``; stop every
    server it made when resumed."""
    made: list[Server] = []

    def make(*args: str) -> Server:
        srv = make_server(base / f"s{len(made)}", *args)
        made.append(srv)
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture
def new_server(tmp_path: Path) -> Iterator:
    """Factory of servers of one test (stopped at its end): ``new_server("--max-runs", "1")``
    returns a configured, not yet started ``Server``."""
    yield from _server_factory(tmp_path)


@pytest.fixture(scope="module")
def module_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Like ``new_server``, for servers shared by the tests of one module (stopped at its
    end): a module whose servers need their own settings starts one once."""
    yield from _server_factory(tmp_path_factory.mktemp("module-server"))
