"""Plugins depend on each other's public API modules only (issue 19).

``autoglm_text`` imported ``autoglm_hf`` internals and ``autoglm_prompt`` imported
``autoglm_eval`` internals, so neither dependency could reorganise its modules without breaking
them. ``autoglm_hf.api``, ``autoglm_eval.api`` and ``autoglm_prompt.api`` declare what is public
(``__all__``); this test reads the dependants' sources and fails on any import that goes around
them.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEPENDANTS = [
    "plugins/text/src/autoglm_text",
    "plugins/prompt/src/autoglm_prompt",
    "plugins/finetune/src/autoglm_finetune",
]
PUBLIC = {
    "autoglm_hf": "autoglm_hf.api",
    "autoglm_eval": "autoglm_eval.api",
    "autoglm_prompt": "autoglm_prompt.api",
}


def _imports(file: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in ``file`` of a package that has a public API."""
    found = []
    for node in ast.walk(ast.parse(file.read_text(), str(file))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module in PUBLIC:  # `from autoglm_hf import registry`
                names = [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.split(".")[0] in PUBLIC]
    return found


@pytest.mark.parametrize("package", DEPENDANTS)
def test_dependants_import_only_the_public_api(package):
    own = Path(package).name
    wrong = [
        f"{file.relative_to(ROOT)}:{line}: {module}"
        for file in sorted((ROOT / package).rglob("*.py"))
        for line, module in _imports(file)
        if module.split(".")[0] != own and module != PUBLIC[module.split(".")[0]]
    ]
    assert not wrong, "import through the public api modules instead:\n" + "\n".join(wrong)


@pytest.mark.parametrize("module", sorted(PUBLIC.values()))
def test_public_api_declares_what_it_exports(module):
    api = importlib.import_module(module)
    assert api.__all__ and len(set(api.__all__)) == len(api.__all__)
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert not missing


def test_hf_api_is_light_to_import():
    code = (
        "import sys, autoglm_hf.api\n"
        "heavy = {'torch', 'transformers', 'numpy'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
