"""Version isolation: two nodes of one workflow run in two environments holding incompatible
versions of one package (numpy<2 and numpy>=2), end to end through the CLI, and resume.

Real venvs (layered over this one, ``autoglm env create``), a real pip install of numpy 2 from
the index (cached by pip), real subprocesses. One test pays for the environments (slow).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from core_helpers import run_cli
from wheel_helpers import build_plugin_wheel

PLUGIN = '''
from autoglm import NodeContext, NodeModel, NodeType, hookimpl


class Cfg(NodeModel):
    pass


class In(NodeModel):
    previous: str = ""
    fail_if: str = ""  # a file: fail while it exists


class Out(NodeModel):
    numpy: str
    seen: list[str]


class Version(NodeType):
    """Outputs the numpy version it imported, after what its upstream saw."""

    name = "npver.version"
    Config = Cfg
    Inputs = In
    Outputs = Out

    def execute(self, inputs, context):
        import os

        import numpy

        if inputs.fail_if and os.path.exists(inputs.fail_if):
            raise ValueError(f"asked to fail with numpy {numpy.__version__}")
        seen = [inputs.previous] if inputs.previous else []
        return Out(numpy=numpy.__version__, seen=[*seen, numpy.__version__])


@hookimpl
def register_nodes(register):
    register(Version)
'''

WORKFLOW = """
name: two-numpys
inputs:
  fail_if: {type: str, default: ""}
nodes:
  - id: old
    type: npver.version
    environment: np1
  - id: new
    type: npver.version
    environment: np2
    inputs: {previous: $old.numpy, fail_if: $inputs.fail_if}
"""


def _pip_install(python: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", *args],
        check=True,
        capture_output=True,
    )


@pytest.mark.slow
def test_two_environments_with_incompatible_numpy(tmp_path: Path) -> None:
    home = tmp_path / "home"
    wheel = build_plugin_wheel(
        tmp_path / "wheels", "autoglm-npver", "1.0", "npver", PLUGIN, "npver"
    )
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    env = {"AUTOGLM_HOME": str(home), "PYTHONPATH": str(site)}
    made = {}
    for name, constraint in (("np1", "numpy<2"), ("np2", "numpy>=2,<3")):
        result = run_cli("env", "create", name, "--constraint", constraint, env=env, timeout=600)
        assert result.returncode == 0, result.stderr
        python = home / "envs" / name / "bin" / "python"
        _pip_install(python, "--no-index", "--no-deps", str(wheel))
        made[name] = python
    listed = json.loads(run_cli("env", "list", "--json", env=env).stdout)
    assert set(listed) == {"np1", "np2"} and "npver" in listed["np2"]["plugins"]

    flow = tmp_path / "flow.yaml"
    flow.write_text(WORKFLOW)
    # a node error in the other environment comes back located, the run fails at that node
    flag = tmp_path / "fail-now"
    flag.write_text("")
    failed = run_cli("run", str(flow), "--json", "-i", f"fail_if={flag}", env=env, timeout=300)
    assert failed.returncode != 0
    doc = json.loads(failed.stdout)
    run_id = doc["run_id"]
    assert doc["nodes"]["old"]["status"] == "succeeded"
    assert doc["nodes"]["old"]["outputs"]["numpy"].startswith("1.")
    assert "asked to fail with numpy 2." in doc["nodes"]["new"]["error"]

    shown = json.loads(run_cli("runs", run_id, "--json", env=env).stdout)
    versions = shown["options"]["plugin_versions"]
    assert versions["npver@np1"] == versions["npver@np2"] == "autoglm-npver 1.0"
    assert "npver@np2: autoglm-npver 1.0" in run_cli("runs", run_id, env=env).stdout

    # resume keeps the finished node and runs the failed one again, in its environment
    flag.unlink()
    resumed = run_cli("resume", run_id, "--json", env=env, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    nodes = json.loads(resumed.stdout)["nodes"]
    assert nodes["old"] == doc["nodes"]["old"]
    assert nodes["new"]["outputs"]["numpy"].startswith("2.")
    assert nodes["new"]["outputs"]["seen"][0].startswith("1.")

    # a run whose plugin changed in its environment: resume says so and refuses unless told
    flag.write_text("")
    again = json.loads(
        run_cli("run", str(flow), "--json", "-i", f"fail_if={flag}", env=env, timeout=300).stdout
    )
    flag.unlink()
    newer = build_plugin_wheel(tmp_path / "w2", "autoglm-npver", "1.1", "npver", PLUGIN, "npver")
    _pip_install(made["np2"], "--no-index", "--no-deps", str(newer))
    refused = run_cli("resume", again["run_id"], env=env, timeout=300)
    assert refused.returncode != 0
    assert "npver@np2: autoglm-npver 1.0 -> autoglm-npver 1.1" in refused.stderr
    allowed = run_cli(
        "resume", again["run_id"], "--allow-changed-plugins", "--json", env=env, timeout=300
    )
    assert allowed.returncode == 0, allowed.stderr

    # a timeout kills the worker in the other environment, and the node fails at once
    sleepy = tmp_path / "sleepy.yaml"
    sleepy.write_text(
        "name: sleepy\nnodes:\n  - id: nap\n    type: core.sleep\n    environment: np1\n"
        "    timeout: 2\n    config: {seconds: 60}\n    inputs: {value: 1}\n"
    )
    start = time.monotonic()
    slept = run_cli("run", str(sleepy), "--json", env=env, timeout=120)
    assert time.monotonic() - start < 40
    assert "ran past its timeout of 2.0 s" in json.loads(slept.stdout)["nodes"]["nap"]["error"]
    time.sleep(1)  # the reaper's SIGKILL of the group lands
    workers = [p.name for p in Path("/proc").iterdir() if p.name.isdigit()]
    mine = [p for p in workers if "autoglm.env_worker" in (c := _cmdline(p)) and str(home) in c]
    assert mine == []

    # an unknown environment is a validation error at the node's line
    flow.write_text(WORKFLOW.replace("environment: np2", "environment: nope"))
    bad = run_cli("validate", str(flow), env=env)
    assert bad.returncode != 0
    assert "unknown environment 'nope'" in bad.stdout + bad.stderr


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""
