"""A small OpenAI-compatible server for a local ``HFCausalLM``.

It serves ``/v1/models``, ``/v1/chat/completions`` and ``/v1/completions`` (including
``echo`` + ``logprobs`` with ``max_tokens: 0``, the prompt-scoring call of lm-eval-harness and
vLLM). Uses: the loopback server of the OpenAI adapter's tests, and a quick way to put a local
checkpoint behind the same API as production vLLM/Ollama servers::

    python -m autoglm_hf.serve --model ./my-qwen --port 8000

It does one request at a time per model (the adapter serialises generation), so it is for
development and tests, not for production traffic.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field


class ChatRequest(BaseModel):
    model: str
    messages: list[dict[str, Any]]
    max_tokens: int = Field(default=64, ge=1)
    temperature: float = Field(default=0.0, ge=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None


class CompletionRequest(BaseModel):
    model: str
    prompt: str | list[str]
    max_tokens: int = Field(default=16, ge=0)
    temperature: float = Field(default=0.0, ge=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    echo: bool = False
    logprobs: int | None = None


def _stops(stop: str | list[str] | None) -> list[str] | None:
    return [stop] if isinstance(stop, str) else stop


def _envelope(kind: str, model: str, choices: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": f"{kind}-{uuid.uuid4().hex[:12]}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
        "choices": choices,
    }


def create_app(model: Any, served_name: str | None = None) -> FastAPI:
    """An app serving ``model`` (an ``HFCausalLM``) under ``served_name`` (its id by default)."""
    name = served_name or model.model_id
    app = FastAPI(title="autoglm-hf OpenAI-compatible server")

    def check_model(requested: str) -> None:
        if requested != name:
            raise HTTPException(404, f"model {requested!r} is not served here; serving {name!r}")

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "autoglm"}]}

    @app.post("/v1/chat/completions")
    def chat(request: ChatRequest) -> dict[str, Any]:
        check_model(request.model)
        [text] = model.generate(
            [request.messages],
            max_new_tokens=request.max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            stop=_stops(request.stop),
            seed=request.seed,
        )
        message = {"role": "assistant", "content": text}
        return _envelope(
            "chat.completion",
            name,
            [{"index": 0, "message": message, "finish_reason": "stop"}],
        )

    @app.post("/v1/completions")
    def completions(request: CompletionRequest) -> dict[str, Any]:
        check_model(request.model)
        prompts = [request.prompt] if isinstance(request.prompt, str) else request.prompt
        if request.max_tokens == 0:
            if not request.echo:
                raise HTTPException(400, "max_tokens 0 is only meaningful with echo: true")
            choices = [_echo_choice(model, i, p, request.logprobs) for i, p in enumerate(prompts)]
        else:
            texts = model.generate(
                prompts,
                max_new_tokens=request.max_tokens,
                temperature=request.temperature,
                top_p=request.top_p,
                stop=_stops(request.stop),
                seed=request.seed,
            )
            choices = [
                {
                    "index": i,
                    "text": (p + t) if request.echo else t,
                    "logprobs": None,
                    "finish_reason": "stop",
                }
                for i, (p, t) in enumerate(zip(prompts, texts, strict=True))
            ]
        return _envelope("text_completion", name, choices)

    return app


def _echo_choice(model: Any, index: int, prompt: str, logprobs: int | None) -> dict[str, Any]:
    """The prompt echoed back with per-token log-probabilities (OpenAI legacy format)."""
    tokens = model.token_logprobs(prompt) if logprobs is not None else []
    return {
        "index": index,
        "text": prompt,
        "finish_reason": "length",
        "logprobs": None
        if logprobs is None
        else {
            "tokens": [t for t, _, _ in tokens],
            "text_offset": [o for _, o, _ in tokens],
            "token_logprobs": [v for _, _, v in tokens],
            "top_logprobs": None,
        },
    }


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
