"""The other side of ``environment: NAME``: runs one node attempt in this interpreter.

``python -m autoglm.env_worker --describe`` prints one JSON line saying what this environment
offers (autoglm and core API versions, the plugins installed here by entry point, with their
distributions and versions, and the site folders whose changes invalidate that answer). It
imports no plugin.

``python -m autoglm.env_worker`` reads one JSON payload on stdin (node type, config, inputs,
run and node ids, the run's home and store, the run's plugin selection), loads only the node's
plugin, runs ``init`` and ``execute``, and answers JSON lines on stdout: ``["progress", [done,
total, message]]`` while it works, then ``["ok", outputs]`` or ``["error", [kind, message,
trace]]``. What the node prints goes to stderr, so it cannot corrupt the answer. It leads a
process group and dies with the engine, as a process-isolated node's worker does.
"""

from __future__ import annotations

import json
import os
import site
import sys
import sysconfig
import traceback
from typing import Any


def describe() -> dict[str, Any]:
    from importlib import metadata

    import autoglm
    from autoglm.nodes import SUPPORTED_API_VERSIONS

    plugins: dict[str, dict[str, str | None]] = {}
    for ep in metadata.entry_points(group="autoglm"):
        if ep.name in plugins:
            continue
        dist = getattr(ep, "dist", None)
        plugins[ep.name] = {
            "distribution": dist.metadata["Name"] if dist is not None else None,
            "version": dist.version if dist is not None else None,
        }
    # every site folder on the path (a layered environment's host folders too): installing,
    # upgrading or removing a distribution in any of them changes that folder's mtime
    dirs = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    dirs.update(site.getsitepackages())
    dirs.update(p for p in sys.path if p.endswith(("site-packages", "dist-packages")))
    return {
        "autoglm": autoglm.__version__,
        "api_versions": sorted(SUPPORTED_API_VERSIONS),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "plugins": plugins,
        "site": sorted(d for d in dirs if os.path.isdir(d)),
    }


def _policy(options: dict[str, Any] | None) -> Any:
    if options is None:
        return None
    from autoglm.policy import TrustPolicy

    return TrustPolicy.model_validate(options)


def run(payload: dict[str, Any], answer: Any) -> None:
    from pathlib import Path

    from autoglm.context import NodeContext
    from autoglm.lifeline import die_with_parent, lead_process_group
    from autoglm.plugins import Host, PluginSelection

    lead_process_group()  # first: the reaper is a fork, before any thread starts
    die_with_parent(payload["parent_pid"])

    def send(kind: str, value: Any) -> None:
        answer.write(json.dumps([kind, value]) + "\n")
        answer.flush()

    try:
        base = PluginSelection.from_dict(payload["selection"])
        plugin = payload["node_type"].split(".", 1)[0]
        # only the node's own plugin: the others may not even import here
        selection = PluginSelection(
            allow=(plugin,) if plugin != "core" else (),
            plugin_dirs=base.plugin_dirs,
            modules=base.modules,
        )
        host = Host.load(selection)
        context = NodeContext(
            run_id=payload["run_id"],
            node_id=payload["node_id"],
            node_type=payload["node_type"],
            home=Path(payload["home"]),
            selection=selection,
            store_path=Path(payload["store_path"]) if payload.get("store_path") else None,
            progress_callback=lambda node, done, total, msg: send("progress", [done, total, msg]),
            policy=_policy(payload.get("policy")),
            _host=host,
        )
        node_type = host.get_node_type(payload["node_type"])
        node = node_type()
        node.init(node_type.Config.model_validate(payload["config"]), context)
        outputs = node.execute(node_type.Inputs.model_validate(payload["inputs"]), context)
        if not isinstance(outputs, node_type.Outputs):
            outputs = node_type.Outputs.model_validate(outputs)
        send("ok", outputs.model_dump(mode="json"))
    except BaseException as exc:
        send("error", [type(exc).__name__, str(exc), traceback.format_exc()])


def main(argv: list[str]) -> int:
    if argv[:1] == ["--describe"]:
        print(json.dumps(describe()))
        return 0
    payload = json.loads(sys.stdin.read())
    # answers on a private copy of stdout; fd 1 becomes stderr, so a node's print() is a log
    answer = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    run(payload, answer)
    answer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
