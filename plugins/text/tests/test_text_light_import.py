"""Listing plugins must stay cheap: the text entry point imports no torch or numpy."""

from __future__ import annotations

import subprocess
import sys


def test_plugin_imports_without_heavy_libraries():
    code = (
        "import autoglm_text.plugin, sys; "
        "heavy = [m for m in ('torch', 'transformers', 'numpy') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
