"""``autoglm run --sandbox`` and ``--policy FILE``: a workflow one did not write is held to the
trust policy, before the run starts for what it fixes up front, at run time for the rest."""

from __future__ import annotations

import json
from pathlib import Path

from core_helpers import run_cli

POLICY_PLUGINS = Path(__file__).parent / "fixtures" / "policy_plugins"
SECRET = "root:TOP-SECRET-CONTENT"
PLUGINS = ("--plugins", "trustnodes", "--plugins-dir", str(POLICY_PLUGINS))


def setup(tmp_path: Path) -> tuple[Path, Path]:
    secret = tmp_path / "outside" / "shadow"
    secret.parent.mkdir()
    secret.write_text(SECRET)
    direct = tmp_path / "direct.yaml"
    direct.write_text(
        "name: direct\ninputs:\n  path: {type: str}\nnodes:\n"
        "  - id: reader\n    type: trustnodes.read\n    inputs: {path: $inputs.path}\n"
        "outputs:\n  text: $reader.text\n"
    )
    relayed = tmp_path / "relayed.yaml"
    relayed.write_text(
        f"name: relayed\nnodes:\n  - id: emit\n    type: trustnodes.emit\n"
        f"    config: {{value: '{secret}'}}\n"
        "  - id: reader\n    type: trustnodes.read\n    inputs: {path: $emit.text}\n"
        "outputs:\n  text: $reader.text\n"
    )
    return secret, tmp_path


def test_sandbox_refuses_before_the_run_and_at_run_time(tmp_path: Path) -> None:
    secret, folder = setup(tmp_path)
    home = ("--home", str(tmp_path / "home"))
    early = run_cli(
        "run", str(folder / "direct.yaml"), "-i", f"path={secret}", "--sandbox", *home, *PLUGINS
    )
    assert early.returncode == 1, early.stderr
    assert "refused by the trust policy" in early.stderr
    assert "node 'reader' field 'inputs.path'" in early.stderr
    assert "'input_outside_roots'" in early.stderr
    assert SECRET not in early.stdout + early.stderr
    assert "started" not in early.stderr  # no run was recorded

    late = run_cli("run", str(folder / "relayed.yaml"), "--sandbox", "--json", *home, *PLUGINS)
    assert late.returncode == 1
    result = json.loads(late.stdout)
    assert result["status"] == "failed"
    assert "'input_outside_roots'" in result["nodes"]["reader"]["error"]
    assert SECRET not in late.stdout + late.stderr


def test_policy_file_widens_the_sandbox(tmp_path: Path) -> None:
    _, folder = setup(tmp_path)
    home = ("--home", str(tmp_path / "home"))
    policy = folder / "policy.yaml"
    policy.write_text("input_roots: [outside]\n")
    widened = run_cli(
        "run", str(folder / "relayed.yaml"), "--policy", str(policy), "--json", *home, *PLUGINS
    )
    assert widened.returncode == 0, widened.stderr
    assert json.loads(widened.stdout)["outputs"] == {"text": SECRET}
    bad = folder / "bad.yaml"
    bad.write_text("input_root: [outside]\n")
    refused = run_cli("run", str(folder / "relayed.yaml"), "--policy", str(bad), *home, *PLUGINS)
    assert refused.returncode == 1
    assert "input_root" in refused.stderr
