"""The host survives its plugins: a plugin that exits, is interrupted or kills its interpreter at
import is a load error of that plugin, and every command goes on for workflows that do not use it.

Every plugin here is really installed (a dist-info folder with its entry point on PYTHONPATH) and
every command is a real ``autoglm`` process.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from core_helpers import run_cli, write_installed_plugin

CORE_WORKFLOW = """
name: core-only
nodes:
  - id: a
    type: core.const
    config: {value: 41}
outputs:
  answer: $a.value
"""

NODE = """
from autoglm import NodeType, hookimpl

class Node(NodeType):
    name = "{name}.node"

@hookimpl
def register_nodes(register):
    {register}
    register(Node)
"""


def _install(site: Path, name: str, at_import: str = "", in_register: str = "pass") -> None:
    body = at_import + "\n" + NODE.format(name=name, register=in_register)
    write_installed_plugin(site, f"autoglm-{name}", f"autoglm_{name}", body)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    return folder


def _env(site: Path, home: Path, **extra: str) -> dict[str, str]:
    """The test's plugins plus textkit, not every installed plugin (that is slower, not truer)."""
    plugins = ",".join([*(p.name.split("-")[0] for p in site.glob("*.dist-info")), "textkit"])
    return {
        "PYTHONPATH": str(site),
        "AUTOGLM_HOME": str(home),
        "AUTOGLM_PLUGINS": plugins.replace("autoglm_", ""),
        **extra,
    }


def _listing(result) -> dict[str, dict]:
    assert result.returncode == 0, result.stderr
    return {p["name"]: p for p in json.loads(result.stdout)}


def test_system_exit_and_keyboard_interrupt_are_load_errors(site: Path, tmp_path: Path):
    _install(site, "bad_exit", "import sys\nsys.exit(3)")
    _install(site, "bad_interrupt", "raise KeyboardInterrupt")
    _install(site, "bad_register", in_register="raise SystemExit('no nodes today')")
    _install(site, "good")
    env = _env(site, tmp_path / "home")
    plugins = _listing(run_cli("plugins", "--json", env=env))
    assert plugins["bad_exit"]["status"] == "failed"
    assert plugins["bad_exit"]["error"] == "SystemExit: 3"
    assert plugins["bad_interrupt"]["error"] == "KeyboardInterrupt"
    assert plugins["bad_register"]["error"] == "register_nodes raised: SystemExit: no nodes today"
    assert plugins["good"]["status"] == plugins["textkit"]["status"] == "loaded"

    workflow = tmp_path / "wf.yaml"
    workflow.write_text(CORE_WORKFLOW)
    checked = run_cli("validate", str(workflow), env=env)
    assert checked.returncode == 0, checked.stderr
    ran = run_cli("run", str(workflow), "--json", "--no-progress", env=env)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["outputs"] == {"answer": 41}

    uses_it = tmp_path / "uses.yaml"
    uses_it.write_text("nodes:\n  - id: a\n    type: bad_exit.node\n")
    refused = run_cli("validate", str(uses_it), env=env)
    assert refused.returncode == 2
    assert "plugin 'bad_exit' failed to load: SystemExit: 3" in refused.stderr


def test_check_names_the_plugin_that_kills_its_interpreter(site: Path, tmp_path: Path):
    _install(site, "bad_osexit", "import os, sys\nsys.stderr.write('about to die\\n')\nos._exit(7)")
    _install(site, "bad_abort", "import os\nos.abort()")
    _install(site, "good")
    env = _env(site, tmp_path / "home")
    result = run_cli("plugins", "--check", "--json", env=env)
    plugins = _listing(result)
    killer = plugins["bad_osexit"]
    assert killer["status"] == "failed"
    assert killer["probe"]["outcome"] == "killed"
    assert killer["probe"]["exit_code"] == 7
    assert "about to die" in killer["probe"]["stderr"]
    assert "exit code 7" in killer["error"] and "about to die" in killer["error"]
    assert plugins["bad_abort"]["probe"]["exit_code"] < 0  # killed by a signal (SIGABRT)
    for name in ("good", "textkit"):
        assert plugins[name]["status"] == "loaded"
        assert plugins[name]["probe"]["outcome"] == "ok"

    text = run_cli("plugins", "--check", env=env)
    assert text.returncode == 0, text.stderr
    assert "bad_osexit 0.1 [failed]" in text.stdout
    assert "killed its interpreter at import: exit code 7" in text.stdout
    assert "checked 4 plugin(s) in a child process: bad_abort, bad_osexit cannot be imported" in (
        text.stdout
    )


def test_first_load_probes_new_plugins_in_a_child_and_remembers(site: Path, tmp_path: Path):
    """A new plugin is imported in a child first (the killer cannot take the command down); a
    plugin already known to import cleanly is not probed again until it changes."""
    _install(site, "bad_osexit", "import os\nos._exit(7)")
    private = tmp_path / "private"
    private.mkdir()
    pids = tmp_path / "pids.txt"
    watched = private / "watched.py"
    watched.write_text(
        f"import os\nopen({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
        + NODE.format(name="watched", register="pass")
    )
    env = _env(site, tmp_path / "home")
    env["AUTOGLM_PLUGINS"] += ",watched"
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(CORE_WORKFLOW)
    args = ("--plugins-dir", str(private))

    first = run_cli("run", str(workflow), "--no-progress", *args, env=env)
    assert first.returncode == 0, first.stderr
    assert len(set(pids.read_text().split())) == 2  # the probing child, then the command

    pids.write_text("")
    second = run_cli("validate", str(workflow), *args, env=env)
    assert second.returncode == 0, second.stderr
    assert len(pids.read_text().split()) == 1  # known to import cleanly: no child

    listing = _listing(run_cli("plugins", "--json", *args, env=env))
    assert listing["bad_osexit"]["status"] == "failed"  # remembered, not imported again
    assert "exit code 7" in listing["bad_osexit"]["error"]

    watched.write_text("import os\nos._exit(9)\n")  # a changed plugin is probed again
    changed = _listing(run_cli("plugins", "--json", *args, env=env))
    assert changed["watched"]["probe"]["exit_code"] == 9
    assert changed["textkit"]["status"] == "loaded"


def test_probing_can_be_turned_off(site: Path, tmp_path: Path):
    """Embedded or locked-down uses may skip the child (then a killer does kill the command)."""
    _install(site, "bad_osexit", "import os\nos._exit(7)")
    env = _env(site, tmp_path / "home", AUTOGLM_PROBE_PLUGINS="0")
    result = run_cli("plugins", env=env)
    assert result.returncode == 7
    assert not (tmp_path / "home" / "plugin-probe.json").exists()


def test_a_plugin_that_hangs_at_import_is_named_and_the_rest_probed(tmp_path: Path, autoglm_home):
    from autoglm.plugin_probe import probe
    from autoglm.plugins import PluginSelection

    (tmp_path / "a_sleepy.py").write_text("import time\ntime.sleep(60)\n")
    (tmp_path / "b_fine.py").write_text(NODE.format(name="b_fine", register="pass"))
    (tmp_path / "c_thread.py").write_text(  # a thread that would keep its interpreter alive
        "import threading, time\nthreading.Thread(target=time.sleep, args=(600,)).start()\n"
    )
    names = ("a_sleepy", "b_fine", "c_thread")
    selection = PluginSelection(allow=names, plugin_dirs=(str(tmp_path),))
    start = time.monotonic()
    results = probe(selection, list(names), timeout=1.0)
    assert time.monotonic() - start < 30
    assert results["a_sleepy"].outcome == "hung"
    assert results["a_sleepy"].error() == "did not finish importing within 1 s"
    assert results["b_fine"].outcome == "ok" and results["b_fine"].error() is None
    assert results["c_thread"].outcome == "ok"


def test_a_damaged_probe_cache_means_probing_again(site: Path, tmp_path: Path):
    _install(site, "bad_osexit", "import os\nos._exit(7)")
    home = tmp_path / "home"
    home.mkdir()
    (home / "plugin-probe.json").write_text('{"version": 1, "entries": {"x": 1, "y": {"z": 2}}')
    plugins = _listing(run_cli("plugins", "--json", env=_env(site, home)))
    assert plugins["bad_osexit"]["probe"]["exit_code"] == 7
    (home / "plugin-probe.json").write_text('{"version": 1, "entries": [1]}')
    plugins = _listing(run_cli("plugins", "--json", env=_env(site, home)))
    assert plugins["bad_osexit"]["status"] == "failed"


def test_process_isolated_nodes_skip_a_plugin_known_to_kill_its_interpreter(
    site: Path, tmp_path: Path
):
    """A worker rebuilds the host from the run's selection; it must not import the plugin that
    the command set aside, or every process-isolated node of the run dies with it."""
    _install(site, "bad_osexit", "import os\nos._exit(7)")
    workflow = tmp_path / "wf.yaml"
    workflow.write_text(
        CORE_WORKFLOW.replace("config: {value: 41}", "config: {value: 41}\n    timeout: 60")
    )
    ran = run_cli(
        "run", str(workflow), "--json", "--no-progress", env=_env(site, tmp_path / "home")
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert json.loads(ran.stdout)["outputs"] == {"answer": 41}
