"""Listing plugins must stay cheap: the entry point and the adapter API import no torch."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["autoglm_hf.plugin", "autoglm_hf.adapters"])
def test_module_imports_without_heavy_libraries(module):
    code = (
        f"import {module}, sys; "
        "heavy = [m for m in ('torch', 'transformers', 'numpy') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
