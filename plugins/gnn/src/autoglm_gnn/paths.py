"""Where shared data lives. Tests and default configs read Planetoid files from the shared data
folder beside the repository instead of a copy inside it; ``AUTOGLM_DATA_DIR`` overrides it."""

from __future__ import annotations

from pathlib import Path

from autoglm.paths import data_dir


def planetoid_dir() -> Path:
    """The folder holding the raw Planetoid files ``ind.<name>.*``."""
    return data_dir() / "planetoid"


def geomgcn_dir() -> Path:
    """The folder holding the Geom-GCN graphs (``film/``...) and their ``splits/``."""
    return data_dir() / "geomgcn"
