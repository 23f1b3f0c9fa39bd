"""Discovery through really installed entry points, selection before import, and isolation of
broken plugins."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from core_helpers import PRIVATE_PLUGINS, run_cli

from autoglm.errors import PluginError
from autoglm.plugins import Host, PluginSelection, discover_entry_points

REPO_PLUGINS = {"gnn", "tuner", "hf", "text", "prompt", "eval", "textkit"}


def write_installed_plugin(site: Path, dist: str, module: str, body: str) -> None:
    """Install a plugin for real: a module plus a dist-info folder with its entry point, on a
    folder that the child process puts on sys.path."""
    (site / f"{module}.py").write_text(textwrap.dedent(body))
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[autoglm]\n{module.split('_', 1)[1]} = {module}\n")


def python(code: str, site: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    import os

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


def test_every_repo_plugin_is_installed_and_discovered():
    assert set(discover_entry_points()) >= REPO_PLUGINS


def test_allow_list_loads_only_the_named_plugins(autoglm_home):
    host = Host.load(PluginSelection(allow=("textkit",)))
    assert host.plugins["textkit"].status == "loaded"
    others = {n: i.status for n, i in host.plugins.items() if n not in {"textkit", "core"}}
    assert others and set(others.values()) == {"not selected"}
    assert set(host.node_types) == {
        "core.const",
        "core.noop",
        "core.sleep",
        "textkit.split",
        "textkit.keyword_router",
    }


def test_unknown_allow_list_name_is_an_error_listing_installed(autoglm_home):
    with pytest.raises(PluginError) as info:
        Host.load(PluginSelection(allow=("textkit", "nonesuch")))
    message = str(info.value)
    assert "'nonesuch'" in message and "not installed" in message
    assert "textkit" in message and "gnn" in message


def test_environment_variable_selects_plugins(monkeypatch, autoglm_home):
    monkeypatch.setenv("AUTOGLM_PLUGINS", "textkit")
    monkeypatch.setenv("AUTOGLM_BLOCK_PLUGINS", "gnn")
    selection = PluginSelection.from_env()
    assert selection.allow == ("textkit",)
    assert selection.block == ("gnn",)
    assert PluginSelection.from_env(allow=["eval"]).allow == ("eval",)


def test_blocked_plugin_is_never_imported(tmp_path):
    result = python(
        """
        import sys
        from autoglm.plugins import Host, PluginSelection
        host = Host.load(PluginSelection(block=("textkit",)))
        print(host.plugins["textkit"].status, "autoglm_textkit" in sys.modules)
        """
    )
    assert result.stdout.split() == ["blocked", "False"], result.stderr


def test_broken_plugin_is_recorded_and_others_load(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    write_installed_plugin(
        site, "autoglm-broken", "autoglm_broken", "import not_a_module_anywhere\n"
    )
    code = """
        import json
        from autoglm.plugins import Host, PluginSelection
        host = Host.load(PluginSelection(allow=("broken", "textkit")))
        print(json.dumps({n: [i.status, i.error] for n, i in host.plugins.items()}))
        """
    result = python(code, site)
    states = json.loads(result.stdout)
    assert states["broken"][0] == "failed"
    assert "No module named 'not_a_module_anywhere'" in states["broken"][1]
    assert states["textkit"] == ["loaded", None]
    strict = python(code.replace('"textkit")))', '"textkit"), strict=True))'), site)
    assert strict.returncode != 0
    assert "strict plugin loading: plugin 'broken' failed" in strict.stderr


def test_plugins_command_reports_a_broken_plugin_and_strict_mode_fails(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    write_installed_plugin(site, "autoglm-broken", "autoglm_broken", "raise RuntimeError('bad')\n")
    env = {"PYTHONPATH": str(site)}
    listing = run_cli("plugins", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    plugins = {p["name"]: p for p in json.loads(listing.stdout)}
    assert plugins["broken"]["status"] == "failed"
    assert plugins["broken"]["error"] == "RuntimeError: bad"
    assert plugins["textkit"]["status"] == "loaded"
    assert plugins["textkit"]["node_types"][0]["config_schema"]["type"] == "object"
    strict = run_cli("plugins", "--strict-plugins", env=env)
    assert strict.returncode == 1
    assert "plugin 'broken' failed: RuntimeError: bad" in strict.stderr


def test_a_workflow_using_a_failed_plugin_says_why(tmp_path, autoglm_home):
    from autoglm.errors import WorkflowError
    from autoglm.workflow import parse_workflow

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "shaky.py").write_text("raise ImportError('needs libfoo')\n")
    host = Host.load(PluginSelection(allow=("shaky",), plugin_dirs=(str(plugins),)))
    with pytest.raises(WorkflowError) as info:
        parse_workflow("nodes:\n  - id: a\n    type: shaky.thing\n", host, path="wf.yaml")
    assert "plugin 'shaky' failed to load: ImportError: needs libfoo" in str(info.value)


PROBLEM_PLUGINS = {
    "oldapi": """
        from autoglm import NodeType, hookimpl
        class Old(NodeType):
            name = "oldapi.node"
            api_version = 99
        @hookimpl
        def register_nodes(register):
            register(Old)
    """,
    "typo": """
        from autoglm import hookimpl
        @hookimpl
        def register_node(register):
            pass
    """,
    "clash": """
        from autoglm import NodeType, hookimpl
        class Clash(NodeType):
            name = "core.noop"
        @hookimpl
        def register_nodes(register):
            register(Clash)
    """,
    "fine": """
        from autoglm import NodeType, hookimpl
        class Fine(NodeType):
            name = "fine.node"
        @hookimpl
        def register_nodes(register):
            register(Fine)
    """,
}


def test_api_mismatch_misspelt_hook_and_collision_are_load_errors(tmp_path, autoglm_home):
    for name, body in PROBLEM_PLUGINS.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    host = Host.load(PluginSelection(allow=tuple(PROBLEM_PLUGINS), plugin_dirs=(str(tmp_path),)))
    errors = {name: host.plugins[name].error for name in PROBLEM_PLUGINS}
    assert "needs core API version 99" in errors["oldapi"]
    assert "implements unknown hook 'register_node'" in errors["typo"]
    assert "register_nodes" in errors["typo"]  # lists the known hooks
    assert "'core.noop' is already provided by plugin 'core'" in errors["clash"]
    assert errors["fine"] is None and "fine.node" in host.node_types
    assert host.node_owner["core.noop"] == "core"


def test_module_spec_plugin(autoglm_home, monkeypatch):
    monkeypatch.syspath_prepend(str(PRIVATE_PLUGINS))
    host = Host.load(PluginSelection(allow=("testnodes",), modules=("testnodes",)))
    assert host.plugins["testnodes"].source == "module"
    assert "testnodes.flaky" in host.node_types


def test_help_and_plugins_listing_import_no_heavy_code():
    code = """
        import sys
        from click.testing import CliRunner
        from autoglm.cli import main
        runner = CliRunner()
        assert runner.invoke(main, ["--help"]).exit_code == 0
        after_help = sorted(m for m in sys.modules if m.startswith("autoglm_"))
        result = runner.invoke(main, ["plugins"])
        assert result.exit_code == 0, result.output
        heavy = sorted(m for m in ("torch", "dgl", "transformers", "nevergrad", "sklearn")
                       if m in sys.modules)
        print(after_help, heavy)
        """
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] []"


def test_node_types_report_every_config_value_as_effective_by_default():
    """``NodeType.effective_config`` is a copy of the config unless a node says otherwise
    (tuners rely on it to skip configs that compute the same thing)."""
    from autoglm.nodes import NodeType

    config = {"a": 1, "b": [2]}
    effective = NodeType.effective_config(config)
    assert effective == config and effective is not config
