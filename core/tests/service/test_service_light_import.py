"""The core stays light: the SDK, the service's CLI commands and its schemas import no
FastAPI or uvicorn (only ``autoglm serve`` does)."""

from __future__ import annotations

from core_helpers import assert_light_import


def test_service_and_client_imports_are_light() -> None:
    assert_light_import(
        "autoglm, autoglm.client, autoglm.service, autoglm.service.cli, "
        "autoglm.service.schemas, autoglm.service.keys",
        ("fastapi", "uvicorn", "starlette", "torch"),
    )
