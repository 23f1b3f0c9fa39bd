"""Where shared data lives. Tests and default configs read Planetoid files from the shared data
folder beside the repository instead of a copy inside it; ``AUTOGLM_DATA_DIR`` overrides it."""

from __future__ import annotations

import os
from pathlib import Path

#: plugins/gnn/src/autoglm_gnn/paths.py -> the repository root is four folders up.
_REPO_ROOT = Path(__file__).resolve().parents[4]


def data_dir() -> Path:
    """The shared data folder: ``$AUTOGLM_DATA_DIR`` or ``<repo>/../shared/data``."""
    env = os.environ.get("AUTOGLM_DATA_DIR")
    return Path(env) if env else _REPO_ROOT.parent / "shared" / "data"


def planetoid_dir() -> Path:
    """The folder holding the raw Planetoid files ``ind.<name>.*``."""
    return data_dir() / "planetoid"
