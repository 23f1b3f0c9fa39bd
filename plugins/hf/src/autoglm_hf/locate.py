"""Finding weights: a local folder or a hub id, honouring offline mode, failing clearly.

transformers' own error for missing weights is a long ``OSError`` that mentions network
problems even when the user simply misspelt a folder. Here a name that looks like a path must
exist; a hub id is looked up with ``local_files_only`` when ``HF_HUB_OFFLINE`` or
``TRANSFORMERS_OFFLINE`` is set, and any failure becomes a ``ModelNotFoundError`` that says
what was tried and how to fix it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from autoglm_hf.errors import ModelNotFoundError

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}


def offline_mode() -> bool:
    """True when the environment forbids hub downloads."""
    return any(
        os.environ.get(name, "").strip().lower() in _TRUE
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def looks_like_path(model: str) -> bool:
    """Paths start with ``/``, ``.`` or ``~`` or exist; hub ids are ``owner/name``."""
    return model.startswith(("/", ".", "~")) or Path(model).expanduser().exists()


def resolve_model(model: str) -> str:
    """Canonical form used in cache keys: an absolute folder path, or the hub id unchanged."""
    if not model or not model.strip():
        raise ModelNotFoundError("model: expected a local folder or a hub id, got an empty string")
    if looks_like_path(model):
        path = Path(model).expanduser().resolve()
        if not path.is_dir():
            raise ModelNotFoundError(
                f"model: folder {model!r} does not exist (resolved to {path}); expected a folder "
                "with config.json and weights saved by save_pretrained"
            )
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"model: folder {model!r} has no config.json; expected a folder written by "
                "save_pretrained (config.json, tokenizer files, *.safetensors)"
            )
        return str(path)
    return model


def folder_version(resolved: str) -> str:
    """A short digest of a local model folder's files (name, size, inode, modification time);
    empty for a hub id, whose revision pins it. Every per-process and on-disk cache keyed on a
    model folder includes it: a folder saved again in place (a checkpoint retrained under the
    same path) is another model, and must not be served the first one's weights or vectors."""
    path = Path(resolved)
    if not path.is_dir():
        return ""
    digest = hashlib.sha256()
    for item in sorted(path.iterdir()):
        if item.is_file():
            st = item.stat()
            digest.update(f"{item.name}\0{st.st_size}\0{st.st_ino}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def from_pretrained(loader: Callable[..., T], model: str, what: str, **kwargs: Any) -> T:
    """Call ``loader(model, ...)`` (an ``Auto*.from_pretrained``) with offline handling."""
    local = looks_like_path(model)
    if offline_mode() and not local:
        kwargs.setdefault("local_files_only", True)
    try:
        return loader(model, **kwargs)
    except (OSError, ValueError) as exc:
        if local:
            hint = "the folder exists but its files could not be read as a " + what
        elif offline_mode():
            hint = (
                "offline mode is on (HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE) and the hub cache has "
                "no copy; download it on a connected machine or point `model` at a local folder"
            )
        else:
            hint = "it is not a local folder and could not be fetched from the hub"
        raise ModelNotFoundError(f"model {model!r}: cannot load {what}: {hint} ({exc})") from exc
