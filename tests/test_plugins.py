"""Discovery through really installed entry points, selection before import, and isolation of
broken plugins."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from core_helpers import PRIVATE_PLUGINS, python, run_cli, write_installed_plugin

from autoglm.errors import PluginError
from autoglm.plugins import Host, PluginSelection, discover_entry_points

REPO_PLUGINS = {"gnn", "tuner", "hf", "text", "prompt", "eval", "textkit"}


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


INTRUDER = """
from autoglm import NodeType, hookimpl

class Split(NodeType):
    name = "textkit.split"

@hookimpl
def register_nodes(register):
    register(Split)
"""


def test_an_intruder_cannot_take_another_plugins_node_type(tmp_path):
    """Issue 10 finding 4: a plugin registering ``textkit.split`` made the real textkit fail."""
    site = tmp_path / "site"
    site.mkdir()
    write_installed_plugin(site, "autoglm-aaa-evil", "autoglm_aaa", INTRUDER)  # loads first
    private = tmp_path / "private"
    private.mkdir()
    (private / "textkit.py").write_text(textwrap.dedent(INTRUDER))  # impersonates by name
    listing = run_cli(
        "plugins", "--json", "--plugins-dir", str(private), env={"PYTHONPATH": str(site)}
    )
    assert listing.returncode == 0, listing.stderr
    entries = json.loads(listing.stdout)
    plugins = {p["name"]: p for p in entries if p["source"] == "entry point"}
    assert plugins["aaa"]["status"] == "failed"
    assert plugins["aaa"]["error"] == (
        "node type 'textkit.split' is not named 'aaa.<node>': a plugin registers node types "
        "under its own name only"
    )
    assert plugins["textkit"]["status"] == "loaded"
    assert [n["name"] for n in plugins["textkit"]["node_types"]] == [
        "textkit.split",
        "textkit.keyword_router",
    ]
    (impostor,) = [p for p in entries if p["source"] == "plugins-dir"]
    assert impostor["status"] == "failed"
    assert (
        "plugin name 'textkit' is already taken by installed plugin 'textkit'"
        in (impostor["error"])
    )


def test_only_the_core_registers_core_node_types(autoglm_home):
    with pytest.raises(PluginError, match="not named 'mine.<node>'"):
        Host.load(PluginSelection(allow=())).register_node_type(
            type("X", (__import__("autoglm").NodeType,), {"name": "core.x"}), plugin="mine"
        )


def test_every_shipped_plugin_and_fixture_follows_the_naming_rule(autoglm_home):
    """Every plugin folder of the repository's tests, found by looking, so a new one is checked
    too (a fixture may be broken on purpose, but never by naming another plugin's nodes)."""
    repo = Path(__file__).resolve().parents[1]
    folders = sorted(
        {
            file.parent
            for pattern in (
                "tests/fixtures/*/*.py",
                "core/tests/*/*/*.py",
                "plugins/*/tests/*/*.py",
            )
            for file in repo.glob(pattern)
            if "hookimpl" in file.read_text(encoding="utf-8")
        }
    )
    assert repo / "plugins" / "tuner" / "tests" / "toy_plugins" in folders
    host = Host.load(PluginSelection(plugin_dirs=tuple(str(f) for f in folders)))
    assert {p.name for p in host.plugins.values() if p.status == "loaded"} >= REPO_PLUGINS | {
        "testnodes",
        "toy",
    }
    misnamed = {p.name: p.error for p in host.failed_plugins() if "is not named" in p.error}
    assert misnamed == {}
    for node_type, owner in host.node_owner.items():
        assert node_type.startswith(f"{owner}."), (node_type, owner)


def test_block_takes_comma_lists_like_the_environment():
    """Issue 10 finding 5: ``--block a,b`` blocked nothing."""
    for args, env in (
        (("--block", "textkit,eval"), {}),
        (("--block", "textkit", "--block", "eval"), {}),
        (("--block", "textkit"), {"AUTOGLM_BLOCK_PLUGINS": "eval"}),
    ):
        listing = run_cli("plugins", "--plugins", "textkit,eval,text", *args, env=env)
        assert listing.returncode == 0, listing.stderr
        assert "textkit 0.1.0 [blocked]" in listing.stdout, (args, env)
        assert "eval 0.1.0 [blocked]" in listing.stdout, (args, env)
        assert "text 0.1.0 [loaded]" in listing.stdout
    listing = run_cli("plugins", "--plugins", "textkit", "--plugins", "eval")
    assert "textkit 0.1.0 [loaded]" in listing.stdout and "eval 0.1.0 [loaded]" in listing.stdout
    assert "text 0.1.0 [not selected]" in listing.stdout


@pytest.mark.parametrize(
    ("args", "env", "option"),
    [
        (("--block", "textkit,nonesuch"), {}, "--block"),
        ((), {"AUTOGLM_BLOCK_PLUGINS": "nonesuch"}, "--block"),
        (("--plugins", "nonesuch"), {}, "--plugins"),
        ((), {"AUTOGLM_PLUGINS": "textkit,nonesuch"}, "--plugins"),
    ],
)
def test_unknown_names_in_either_list_are_errors(args, env, option):
    result = run_cli("plugins", *args, env=env)
    assert result.returncode == 1
    assert f"{option} names 'nonesuch', which is not installed" in result.stderr
    assert "Installed plugins: " in result.stderr and "textkit" in result.stderr


def test_selection_splits_comma_lists_however_given(monkeypatch):
    monkeypatch.setenv("AUTOGLM_BLOCK_PLUGINS", "c")
    monkeypatch.delenv("AUTOGLM_PLUGINS", raising=False)
    selection = PluginSelection.from_env(allow=["a,b", " b "], block=["a,d", "d"])
    assert selection.allow == ("a", "b")
    assert selection.block == ("a", "d", "c")
    assert PluginSelection.from_env(allow=[""]).allow == ()  # an explicit empty list: core only


def test_plugin_module_names(tmp_path, autoglm_home, monkeypatch):
    """``--plugin-module pkg.plugin`` is plugin ``pkg`` (``autoglm_`` dropped, as entry points
    are named), ``NAME=module`` names it explicitly, and a module that is already a plugin says so
    in one line instead of dumping every loaded module."""
    package = tmp_path / "acme"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(textwrap.dedent(INTRUDER.replace("textkit.", "acme.")))
    monkeypatch.syspath_prepend(str(tmp_path))
    host = Host.load(PluginSelection(allow=("acme",), modules=("acme.plugin",)))
    assert host.plugins["acme"].status == "loaded"
    assert "acme.split" in host.node_types

    host = Host.load(
        PluginSelection(allow=("textkit", "tk"), modules=("tk=autoglm_textkit.plugin",))
    )
    assert host.plugins["textkit"].status == "loaded"
    assert host.plugins["tk"].status == "failed"
    assert host.plugins["tk"].error == (
        "module autoglm_textkit.plugin is already loaded as plugin 'textkit'"
    )

    result = run_cli("plugins", "--plugin-module", "autoglm_textkit.plugin")
    assert result.returncode == 0, result.stderr
    # No dump of every loaded module: at most a line more than the plain listing, which
    # grows with every installed plugin's node types.
    plain = run_cli("plugins")
    assert len(result.stdout) < len(plain.stdout) + 1000
    assert "plugin name 'textkit' is already taken" in result.stdout


WRAPPERS = {
    "oldwrap": """
        from autoglm import hookimpl
        @hookimpl(hookwrapper=True)
        def after_node_run(run_id, node_id, node_type, inputs, outputs, duration_s, cached):
            yield
    """,
    "newwrap": """
        from autoglm import hookimpl
        @hookimpl(wrapper=True)
        def before_run(run_id, workflow, inputs):
            return (yield)
    """,
    "regwrap": """
        from autoglm import hookimpl
        @hookimpl(wrapper=True)
        def register_nodes(register):
            return (yield)
    """,
}


def test_hook_wrappers_are_rejected_at_load(tmp_path, autoglm_home):
    """The engine calls each observer on its own (one that raises cannot stop the others), which
    a wrapper cannot work with: before, a wrapper was silently never run."""
    for name, body in WRAPPERS.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(body))
    host = Host.load(PluginSelection(allow=tuple(WRAPPERS), plugin_dirs=(str(tmp_path),)))
    for name, hook in (
        ("oldwrap", "after_node_run"),
        ("newwrap", "before_run"),
        ("regwrap", "register_nodes"),
    ):
        assert host.plugins[name].status == "failed"
        assert host.plugins[name].error.startswith(
            f"plugin {name!r}: {hook} is a hook wrapper, which autoglm does not support"
        )
    assert not host.pm.get_plugins() - {host.pm.get_plugin("core")}


def test_two_distributions_claiming_one_plugin_name_load_neither(tmp_path):
    """Which of two claims on ``textkit`` is the impostor cannot be known: neither is imported,
    and the error names both distributions."""
    site = tmp_path / "site"
    site.mkdir()
    write_installed_plugin(site, "autoglm-fake-textkit", "autoglm_fake", INTRUDER, name="textkit")
    workflow = tmp_path / "wf.yaml"
    workflow.write_text("nodes:\n  - id: s\n    type: textkit.split\n    inputs: {text: hi}\n")
    result = run_cli("validate", str(workflow), env={"PYTHONPATH": str(site)})
    assert result.returncode == 2
    assert "plugin 'textkit' failed to load: plugin name 'textkit' is claimed by several" in (
        result.stderr
    )
    assert "autoglm-fake-textkit: autoglm_fake" in result.stderr
    assert "autoglm-textkit: autoglm_textkit.plugin" in result.stderr
