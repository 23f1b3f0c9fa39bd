"""docs/plugin-authoring.md followed alone works: its example plugin, taken from the page, builds
with its own ``[build-system]``, installs, loads under its entry-point name, runs its example
workflow and passes its own tests; and what the page says about failures is what happens."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from core_helpers import PRIVATE_PLUGINS, python, run_cli

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugin-authoring.md"
FILE_BLOCK = re.compile(r"```\w+\n# ([\w./-]+\.(?:py|toml|yaml))\n.*?```", re.S)


def write_guide_project(root: Path) -> list[str]:
    """Write every code block of the guide whose first line names a file; return the names."""
    names = []
    for match in FILE_BLOCK.finditer(GUIDE.read_text(encoding="utf-8")):
        name = match.group(1)
        body = match.group(0).split("\n", 1)[1].rsplit("```", 1)[0]
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body, encoding="utf-8")
        names.append(name)
    (root / "src" / "autoglm_sentiment" / "__init__.py").touch()
    return names


@pytest.mark.slow
def test_the_guides_example_plugin_builds_installs_runs_and_passes_its_tests(tmp_path: Path):
    project = tmp_path / "autoglm-sentiment"
    assert set(write_guide_project(project)) == {
        "pyproject.toml",
        "src/autoglm_sentiment/nodes.py",
        "src/autoglm_sentiment/plugin.py",
        "sentiment.yaml",
        "tests/test_sentiment_nodes.py",
    }
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation"]
    build = subprocess.run(
        [*pip, "--no-index", "--target", str(site), str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    env = {"PYTHONPATH": str(site), "AUTOGLM_HOME": str(tmp_path / "home")}

    listing = run_cli("plugins", "--plugins", "sentiment", env=env)
    assert "sentiment 0.1.0 [loaded]" in listing.stdout, listing.stdout + listing.stderr
    assert "sentiment.classify v1: Label texts positive or negative." in listing.stdout

    workflow = project / "sentiment.yaml"
    ran = run_cli(
        "run", str(workflow), "--plugins", "sentiment", "-i", 'texts=["I love it"]', "--json",
        env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["outputs"] == {"labels": ["positive"]}

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "4 passed" in tests.stdout


def test_log_level_debug_shows_the_traceback_of_a_failing_node(tmp_path: Path):
    workflow = tmp_path / "wf.yaml"
    workflow.write_text("nodes:\n  - id: b\n    type: testnodes.boom\n")
    result = run_cli(
        "run", str(workflow), "--plugins-dir", str(PRIVATE_PLUGINS), "--plugins", "testnodes",
        "--no-progress", "--log-level", "debug",
        env={"AUTOGLM_HOME": str(tmp_path / "home")},
    )  # fmt: skip
    assert result.returncode == 1
    assert "node traceback" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert 'testnodes.py", line' in result.stderr and 'raise ValueError("boom")' in result.stderr


def test_the_run_api_is_exported_from_autoglm_lazily():
    result = python(
        """
        import sys
        import autoglm
        light = sorted(m for m in sys.modules if m.startswith(("autoglm.", "pydantic", "pluggy")))
        from autoglm import Engine, Host, PluginSelection, RunStore, load_workflow, parse_workflow
        from autoglm.engine import Engine as E
        from autoglm.workflow import parse_workflow as p
        print(light, Engine is E, parse_workflow is p)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "True", "True"]
