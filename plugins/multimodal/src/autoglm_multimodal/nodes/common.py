"""What every per-item preprocessing node shares: its inputs and outputs, the error policy,
gathering the files a manifest names, and writing the feature folder.

Light on purpose: pydantic and autoglm only, so the plugin's entry point imports nothing heavy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from autoglm import NodeContext, NodeModel
from autoglm.fingerprints import digest
from autoglm.policy import InputPath

MAX_SHOWN = 20


class ItemsInputs(NodeModel):
    items: InputPath = Field(description="items manifest (JSON lines) written by a multimodal node")
    stats: InputPath | None = Field(
        None,
        description="statistics file (stats.json) of an earlier run to apply instead of fitting "
        "new ones: inference on new items with the training statistics",
    )


class PerItemConfig(NodeModel):
    """Fields of every node that preprocesses one file per item."""

    field: str = Field(description="manifest key of the value each item gives this node")
    workers: int = Field(1, ge=1, le=64, description="worker processes (1: in the calling process)")
    on_error: Literal["skip", "fail"] = Field(
        "skip",
        description="skip: a bad item is reported (located) and left out, the others go on; "
        "fail: the node fails listing every bad item",
    )
    memoize: bool = Field(
        True, description="reuse raw features of identical content and config from earlier runs"
    )


class FeatureOutputs(NodeModel):
    folder: str = Field(description="feature folder: one .npy per array, features.json")
    items: int = Field(description="items in the manifest")
    ok: int = Field(description="items whose features were computed")
    failed: int = Field(description="items left out, each with a located problem")
    problems: list[str] = Field(description=f"the first {MAX_SHOWN} problems, located")
    problems_file: str = Field(description="every problem, one JSON object per line")
    stats_file: str | None = Field(description="fitted statistics (None: none were used)")
    fitted_on: int = Field(description="training rows the statistics were fitted on")
    cached: int = Field(0, description="items whose raw features came from the content cache")
    computed: int = Field(0, description="items whose raw features were computed")
    files_per_second: float = Field(0.0, description="preprocessing throughput of this run")
    shape: list[int] = Field(description="shape of the main array (items first)")


def config_digest(kind: str, version: str, params: dict[str, Any]) -> str:
    """The part of a content-cache key that comes from the config (what changes features)."""
    return f"{kind}-v{version}-" + digest(sorted(params.items()))[:16]


def gather_tasks(context: NodeContext, items: list[dict], manifest: str, field: str):
    """``(tasks, problems)``: ``(item id, file)`` pairs for items naming a readable file, and
    a located problem for each item without the field or outside the trust policy."""
    from autoglm_multimodal.errors import ItemProblem
    from autoglm_multimodal.guard import read_guard
    from autoglm_multimodal.items import item_file

    guard = read_guard(context)
    tasks, problems = [], []
    for item in items:
        value = item.get(field)
        if not isinstance(value, str) or not value:
            problems.append(ItemProblem(item["id"], None, f"has no {field!r} value"))
            continue
        path = item_file(manifest, value)
        refused = guard(path)
        if refused:
            problems.append(ItemProblem(item["id"], str(path), refused))
            continue
        tasks.append((item["id"], str(path)))
    return tasks, problems


def extract_items(
    context: NodeContext,
    inputs: Any,
    cfg: Any,
    modality: str,
    version: str,
    extract: Any,
    warm_up: Any,
    what: str,
):
    """The per-file loop of a node reading one file per item: read the manifest, gather the
    files it names, extract each file's raw features (workers, content cache, progress).

    ``(items, tasks, problems, extraction)``; ``problems`` holds the gathering's and the
    extraction's."""
    from autoglm_multimodal.cache import FeatureCache
    from autoglm_multimodal.items import read_items
    from autoglm_multimodal.parallel import run_extraction

    items = read_items(inputs.items)
    tasks, problems = gather_tasks(context, items, inputs.items, cfg.field)
    params = cfg.extract_params()
    cache_root = context.cache_dir("multimodal") / "features" if cfg.memoize else None
    extraction = run_extraction(
        extract,
        params,
        tasks,
        workers=cfg.workers,
        cache=FeatureCache(cache_root, config_digest(modality, version, params)),
        progress=progress_reporter(context, what),
        check_cancelled=context.check_cancelled,
        warm_up=warm_up,
    )
    problems += extraction.problems
    return items, tasks, problems, extraction


def train_ids(items: list[dict], usable: set[str]) -> list[str]:
    """Ids of usable items whose split is ``train``: the only rows statistics are fitted on."""
    return [i["id"] for i in items if i.get("split") == "train" and i["id"] in usable]


def finish(
    context: NodeContext,
    modality: str,
    items: list[dict],
    arrays: dict[str, Any],
    ok: list[bool],
    problems: list,
    on_error: str,
    meta: dict[str, Any],
    stats: Any = None,
    extraction: Any = None,
) -> FeatureOutputs:
    """Fail or report per ``on_error``, write the feature folder and the statistics."""
    from autoglm_multimodal.errors import ItemsFailed
    from autoglm_multimodal.featureset import PROBLEMS, write_featureset

    if problems and on_error == "fail":
        raise ItemsFailed(modality, problems)
    folder = Path(context.artifacts_dir) / modality
    stats_file = None
    if stats is not None:
        folder.mkdir(parents=True, exist_ok=True)
        stats_file = folder / "stats.json"
        stats.save(stats_file)
        meta = {**meta, "stats": stats.to_dict()}
    ids = [i["id"] for i in items]
    write_featureset(folder, modality, ids, ok, arrays, problems, meta)
    for problem in problems[:MAX_SHOWN]:
        context.log.warning("item left out", problem=problem.message())
    main = next(iter(arrays.values()))
    return FeatureOutputs(
        folder=str(folder),
        items=len(items),
        ok=sum(ok),
        failed=len(items) - sum(ok),
        problems=[p.message() for p in problems[:MAX_SHOWN]],
        problems_file=str(folder / PROBLEMS),
        stats_file=None if stats_file is None else str(stats_file),
        fitted_on=0 if stats is None else stats.fitted_on,
        cached=0 if extraction is None else extraction.cached,
        computed=0 if extraction is None else extraction.computed,
        files_per_second=0.0 if extraction is None else round(extraction.files_per_second, 2),
        shape=list(main.shape),
    )


def progress_reporter(context: NodeContext, what: str):
    """A progress callback for ``run_extraction`` (every call; the engine rate-limits)."""

    def report(done: int, total: int) -> None:
        context.progress(done, total, f"{what} {done}/{total}")

    return report


def named_files_fingerprint(manifest: str, fields: list[str], *extra: str | None) -> str:
    """The engine-cache fingerprint of a manifest, the files its items name under ``fields``
    and ``extra`` files: stat only (size, modification time), so a recording edited in place
    under an unchanged manifest path still recomputes the node."""
    from autoglm.fingerprints import files_fingerprint
    from autoglm_multimodal.items import item_file, read_items

    paths = [manifest, *(e for e in extra if e)]
    if fields:
        for item in read_items(manifest):
            for name in fields:
                value = item.get(name)
                if isinstance(value, str) and value:
                    paths.append(str(item_file(manifest, value)))
    return files_fingerprint(paths)


class ManifestFingerprint:
    """Mixin of the per-item nodes: the engine's cache key follows the files they read."""

    @classmethod
    def state_fingerprint(cls, config: Any, inputs: Any, context: NodeContext) -> str | None:
        field = getattr(config, "field", None)  # the table node reads its table, no item files
        fields = [field] if field and getattr(config, "from_disk", True) else []
        return named_files_fingerprint(
            inputs.items, fields, getattr(inputs, "stats", None), getattr(inputs, "table", None)
        )
