"""The visual UI at ``/ui``: one static page and its assets, all inside the package.

Why static files and no server-side rendering: the page is a client of the same REST API as
the SDK (it signs in with an API key and sends it as a header on every call), so it needs no
session, cookie or template on the server, and every scope check stays where it already is.
Nothing is fetched from a CDN: the service must work offline and leak no page view to a third
party. The page and the vendored scripts are public (they hold no data); the key is asked for
by the page and kept in ``sessionStorage``, never put in a URL.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")
#: the page may load only its own scripts, styles and images, and talk only to its server;
#: reports open in sandboxed frames from blob: URLs
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; frame-src blob:; object-src 'none'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def ui_routes(app: FastAPI) -> None:
    """Mount the page at ``/ui`` and its assets at ``/ui/static``."""
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")

    @app.get("/ui", include_in_schema=False)
    def ui_page() -> FileResponse:
        return FileResponse(
            STATIC / "index.html",
            media_type="text/html",
            headers={
                "Content-Security-Policy": CSP,
                "Referrer-Policy": "no-referrer",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-cache",
            },
        )

    @app.get("/ui/", include_in_schema=False)
    def ui_slash() -> RedirectResponse:
        return RedirectResponse("/ui")
