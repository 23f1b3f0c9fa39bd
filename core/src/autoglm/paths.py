"""Where shared data lives, for loaders, tests and benchmarks.

Data sets are read where they are, never copied into the repository: ``$AUTOGLM_DATA_DIR`` when
set (read at call time), else the ``shared/data`` folder beside a development checkout of the
repository (``core/src/autoglm`` is three folders below its root).
"""

from __future__ import annotations

import os
from pathlib import Path

_CHECKOUT_ROOT = Path(__file__).resolve().parents[3]


def data_dir() -> Path:
    """The shared data folder: ``$AUTOGLM_DATA_DIR`` or ``<checkout>/../shared/data``."""
    env = os.environ.get("AUTOGLM_DATA_DIR")
    return Path(env) if env else _CHECKOUT_ROOT.parent / "shared" / "data"
