"""The core stays light: the SDK, the service's CLI commands and its schemas import no
FastAPI or uvicorn (only ``autoglm serve`` does)."""

from __future__ import annotations

import subprocess
import sys


def test_service_and_client_imports_are_light() -> None:
    code = (
        "import sys, autoglm, autoglm.client, autoglm.service, autoglm.service.cli, "
        "autoglm.service.schemas, autoglm.service.keys\n"
        "heavy = [m for m in ('fastapi', 'uvicorn', 'starlette', 'torch') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
