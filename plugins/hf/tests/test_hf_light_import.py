"""Listing plugins must stay cheap: the entry point and the adapter API import no torch."""

from __future__ import annotations

import pytest
from core_helpers import assert_light_import


@pytest.mark.parametrize("module", ["autoglm_hf.plugin", "autoglm_hf.adapters"])
def test_module_imports_without_heavy_libraries(module):
    assert_light_import(module, ("torch", "transformers", "numpy"))
