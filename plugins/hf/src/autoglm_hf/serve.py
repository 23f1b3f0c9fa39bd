"""``python -m autoglm_hf.serve``: one local causal LM behind autoglm's OpenAI-compatible API,
without the rest of the service.

There is one implementation of that API, ``autoglm_hf.openai_routes``: ``autoglm serve`` mounts
it with API keys and its configured ``chat_model`` (the production way), and ``create_app`` below
mounts the same router in a minimal app around one model, without keys, for development and for
the OpenAI adapter's loopback tests::

    python -m autoglm_hf.serve --model ./my-qwen --port 8000

It binds 127.0.0.1 by default and does one request at a time per model (the adapter serialises
generation): for development and tests, not for production traffic; use ``autoglm serve
--chat-model PATH`` there.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI

from autoglm.service.errors import install_error_handlers
from autoglm_hf.openai_routes import Served, openai_router


def create_app(model: Any, served_name: str | None = None) -> FastAPI:
    """A minimal app serving ``model`` (an ``HFCausalLM``) under ``served_name`` (its id by
    default); requests naming another model get a 404."""
    served = Served(model, served_name or model.model_id, exclusive=True)
    app = FastAPI(title="autoglm-hf OpenAI-compatible server")
    install_error_handlers(app)
    app.include_router(openai_router(lambda: served))
    return app


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextmanager
def serve_in_thread(
    app: FastAPI, host: str = "127.0.0.1", port: int | None = None
) -> Iterator[str]:
    """Run ``app`` with uvicorn in a daemon thread; yield its ``/v1`` base URL; stop on exit."""
    import uvicorn

    port = port or free_port(host)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"autoglm-serve-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"server on {host}:{port} did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main(argv: list[str] | None = None) -> None:
    """``python -m autoglm_hf.serve --model FOLDER_OR_HUB_ID [--port 8000]``."""
    import uvicorn

    from autoglm_hf.causal import load_causal_lm

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="folder or hub id of a causal LM")
    parser.add_argument("--name", help="model name clients send (default: --model)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--trust-remote-code", action="store_true")
    args = parser.parse_args(argv)
    model = load_causal_lm(
        args.model, device=args.device, dtype=args.dtype, trust_remote_code=args.trust_remote_code
    )
    uvicorn.run(create_app(model, args.name or args.model), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
