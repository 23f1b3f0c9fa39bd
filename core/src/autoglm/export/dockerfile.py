"""The Dockerfile of the image an exported pipeline's steps run in: the core and exactly the
plugins the workflow uses (plus the repository distributions they depend on), installed from
the repository's sources with the pinned stack of ``constraints.txt``, and the workflow's own
folder (files beside it, such as a knowledge base, come along).

Built from the repository root, the build context. The image is checked at build time with
``autoglm validate`` on the workflow, so an image that cannot load a node type never ships.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

from autoglm.export.model import ExportError, ExportModel
from autoglm.plugins import Host

BASE_IMAGE = "python:3.11-slim"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def local_distributions(context: Path) -> dict[str, tuple[str, list[str]]]:
    """Distributions whose sources are in ``context``: name -> (folder, dependency names)."""
    found: dict[str, tuple[str, list[str]]] = {}
    candidates = [
        context / "core" / "pyproject.toml",
        *sorted(context.glob("plugins/*/pyproject.toml")),
        *sorted(context.glob("contrib/*/pyproject.toml")),
    ]
    for pyproject in candidates:
        if not pyproject.is_file():
            continue
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        deps = [m.group(1) for d in project.get("dependencies", []) if (m := _NAME.match(d))]
        folder = pyproject.parent.relative_to(context).as_posix()
        found[_normal(project.get("name", ""))] = (folder, [_normal(d) for d in deps])
    return found


def to_dockerfile(model: ExportModel, host: Host, context: Path, *, base: str = BASE_IMAGE) -> str:
    """The Dockerfile text; raises ``ExportError`` when ``context`` is not the repository root
    or a plugin's sources are not in it."""
    if not (context / "constraints.txt").is_file():
        raise ExportError(
            f"{context} has no constraints.txt: run `autoglm export dockerfile` from the "
            "repository root (the build context), or give --context"
        )
    local = local_distributions(context)
    if "autoglm" not in local:
        raise ExportError(f"{context} has no core/pyproject.toml of the autoglm distribution")
    wanted: list[str] = ["autoglm"]
    for plugin in model.plugins:
        info = host.plugins[plugin]
        dist = _normal(info.distribution or "")
        if dist not in local:
            raise ExportError(
                f"plugin {plugin!r} (distribution {info.distribution!r}) has no sources under "
                f"{context}: the image installs plugins from the repository"
            )
        wanted.append(dist)
    folders: list[str] = []
    pending = list(wanted)
    while pending:  # the repository distributions they depend on come from source too
        dist = pending.pop(0)
        folder, deps = local[dist]
        if folder in folders:
            continue
        folders.append(folder)
        pending.extend(d for d in deps if d in local)
    workflow_dir = PurePosixPath(model.workflow_path).parent.as_posix()
    # the workflow's folder, for files beside it; at the root, the file alone
    copy_workflow = model.workflow_path if workflow_dir == "." else f"{workflow_dir}/"
    plugins = ",".join(model.plugins)
    select = f" --plugins {plugins}" if plugins else ""
    copies = "\n".join(f"COPY {f}/ {f}/" for f in folders)
    installs = " ".join(f"./{f}" for f in folders)
    return f"""\
# The image of the steps of workflow {model.name!r} (autoglm export dockerfile).
# Build from the repository root:  docker build -f Dockerfile -t IMAGE .
# It holds the core and the plugins {plugins or "(none)"} with the pinned stack (constraints.txt).
FROM {base}
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    AUTOGLM_HOME=/app/.autoglm
WORKDIR /app
COPY constraints.txt ./
{copies}
RUN pip install --constraint constraints.txt {installs}
COPY {copy_workflow} {copy_workflow}
# an image that cannot load the workflow's node types fails here, not in the cluster
RUN autoglm validate {model.workflow_path}{select}
ENTRYPOINT []
CMD ["autoglm", "--help"]
"""
