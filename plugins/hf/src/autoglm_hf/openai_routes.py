"""The one OpenAI-compatible API of autoglm: ``/v1/models``, ``/v1/chat/completions`` and
``/v1/completions`` (including ``echo`` + ``logprobs`` with ``max_tokens: 0``, the prompt-scoring
call of lm-eval-harness and vLLM).

One router, mounted twice:

* by ``autoglm serve`` through the ``register_routes`` hook (``service_router``): the model is
  the service's ``chat_model`` setting, loaded once on first use; every call needs an API key
  (``read`` to list models, ``submit`` to generate); without a configured model the calls
  answer 501 and say what to set;
* by ``python -m autoglm_hf.serve`` (``autoglm_hf.serve.create_app``): one local model in a
  minimal app without keys, for development and the adapter's loopback tests.

Request and answer shapes of the chat call are the service's wire schemas
(``autoglm.service.schemas``), which the SDK's ``Client.chat`` reads back. Errors are the
service's error bodies (``ApiError``). Generation is serialised by the adapter: one request at
a time per model.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from autoglm.errors import AutoGLMError
from autoglm.service.errors import ApiError, error_responses
from autoglm.service.schemas import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    ChatUsage,
)

DEFAULT_MAX_TOKENS = 64


@dataclass(frozen=True)
class Served:
    """The model behind the API and the name clients use for it. ``exclusive``: a request
    naming another model is a 404 (a standalone server of one named model); otherwise any
    name is answered by this model (the service, which serves one configured model)."""

    model: Any
    name: str
    exclusive: bool = False

    def check(self, requested: str) -> None:
        if self.exclusive and requested != self.name:
            raise ApiError(404, f"model {requested!r} is not served here; serving {self.name!r}")


class CompletionRequest(BaseModel):
    """OpenAI's legacy completions request, the fields honoured here."""

    model: str = Field(max_length=256)
    prompt: str | list[str] = Field(description="One prompt or up to 32.")
    max_tokens: int = Field(default=16, ge=0, le=4096)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    echo: bool = False
    logprobs: int | None = Field(default=None, ge=0, le=5)

    def prompts(self) -> list[str]:
        prompts = [self.prompt] if isinstance(self.prompt, str) else self.prompt
        if not 1 <= len(prompts) <= 32:
            raise ApiError(422, f"prompt: expected 1 to 32 prompts, got {len(prompts)}")
        return prompts


def load_adapter(spec: dict[str, Any]) -> Any:
    """The text model of an adapter spec; ``ApiError`` 503 if it fails to load, 501 if it
    cannot generate text (an encoder)."""
    from autoglm_hf.adapters import from_spec

    try:
        model = from_spec(dict(spec))
    except AutoGLMError as exc:
        raise ApiError(503, f"chat model failed to load: {exc}") from None
    if not hasattr(model, "generate"):
        raise ApiError(501, f"chat_model of kind {spec.get('kind')!r} cannot generate text")
    return model


def _token_count(model: Any, prompt: str | list[dict]) -> int | None:
    render = getattr(model, "render", None)
    tokenizer = getattr(model, "tokenizer", None)
    try:
        if isinstance(prompt, list) and render is not None:
            return len(render(prompt))
        if isinstance(prompt, str) and tokenizer is not None:
            return len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    except Exception:
        return None
    return None


def _stops(stop: str | list[str] | None) -> list[str] | None:
    return [stop] if isinstance(stop, str) else stop


def _generate(model: Any, prompts: list[Any], **options: Any) -> list[str]:
    try:
        return model.generate(prompts, **options)
    except AutoGLMError as exc:
        raise ApiError(422, f"the model refused the request: {exc}") from None


def _echo_choice(model: Any, index: int, prompt: str, logprobs: int | None) -> dict[str, Any]:
    """The prompt echoed back with per-token log-probabilities (OpenAI legacy format)."""
    if logprobs is not None and not hasattr(model, "token_logprobs"):
        raise ApiError(501, "this model cannot score prompts (no token log-probabilities)")
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


def openai_router(
    served: Callable[[Request], Served], auth: Callable[[str], Any] | None = None
) -> APIRouter:
    """The API over the model that ``served(request)`` returns. ``auth(scope)`` makes the key
    dependency of a route (the service passes ``autoglm.service.auth.require``); ``None``
    leaves the routes open (a local development server)."""

    def guard(scope: str) -> list[Any]:
        return [auth(scope)] if auth is not None else []

    router = APIRouter(tags=["openai"])
    model_of = Depends(served)

    @router.get(
        "/v1/models", dependencies=guard("read"), responses=error_responses(401, 403, 501, 503)
    )
    def models(target: Served = model_of) -> dict[str, Any]:
        """The served model, as OpenAI's model list."""
        entry = {"id": target.name, "object": "model", "owned_by": "autoglm"}
        return {"object": "list", "data": [entry]}

    @router.post(
        "/v1/chat/completions",
        response_model=ChatCompletion,
        dependencies=guard("submit"),
        responses=error_responses(400, 401, 403, 404, 413, 422, 501, 503),
    )
    def chat_completions(body: ChatCompletionRequest, target: Served = model_of) -> ChatCompletion:
        """Chat completion with the served model (OpenAI's request and response)."""
        target.check(body.model)
        messages = [m.model_dump() for m in body.messages]
        max_tokens = body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_TOKENS
        texts = _generate(
            target.model,
            [messages] * body.n,
            max_new_tokens=max_tokens,
            temperature=body.temperature,
            top_p=body.top_p,
            stop=_stops(body.stop),
            seed=body.seed,
        )
        prompt_tokens = _token_count(target.model, messages)
        counts = [_token_count(target.model, text) for text in texts]
        usage = None
        if prompt_tokens is not None and None not in counts:
            done = sum(c or 0 for c in counts)
            usage = ChatUsage(
                prompt_tokens=prompt_tokens,
                completion_tokens=done,
                total_tokens=prompt_tokens + done,
            )
        return ChatCompletion(
            id=f"chatcmpl-{uuid.uuid4().hex[:16]}",
            created=int(time.time()),
            model=target.name,
            choices=[
                ChatChoice(
                    index=i,
                    message=ChatMessage(role="assistant", content=text),
                    finish_reason="length" if (counts[i] or 0) >= max_tokens else "stop",
                )
                for i, text in enumerate(texts)
            ],
            usage=usage,
        )

    @router.post(
        "/v1/completions",
        dependencies=guard("submit"),
        responses=error_responses(400, 401, 403, 404, 413, 422, 501, 503),
    )
    def completions(body: CompletionRequest, target: Served = model_of) -> dict[str, Any]:
        """Text completion; ``max_tokens: 0`` with ``echo`` and ``logprobs`` scores prompts."""
        target.check(body.model)
        prompts = body.prompts()
        if body.max_tokens == 0:
            if not body.echo:
                raise ApiError(400, "max_tokens 0 is only meaningful with echo: true")
            choices = [
                _echo_choice(target.model, i, p, body.logprobs) for i, p in enumerate(prompts)
            ]
        else:
            texts = _generate(
                target.model,
                prompts,
                max_new_tokens=body.max_tokens,
                temperature=body.temperature,
                top_p=body.top_p,
                stop=_stops(body.stop),
                seed=body.seed,
            )
            choices = [
                {
                    "index": i,
                    "text": (p + t) if body.echo else t,
                    "logprobs": None,
                    "finish_reason": "stop",
                }
                for i, (p, t) in enumerate(zip(prompts, texts, strict=True))
            ]
        return {
            "id": f"cmpl-{uuid.uuid4().hex[:12]}",
            "object": "text_completion",
            "created": int(time.time()),
            "model": target.name,
            "choices": choices,
        }

    return router


def served_by_service(request: Request) -> Served:
    """The service's chat model (its ``chat_model`` setting), loaded once on first use."""
    state = request.app.state.service
    spec = state.settings.chat_model
    if spec is None:
        raise ApiError(
            501,
            "no chat model is configured: set chat_model: {kind: hf-causal, model: PATH} "
            "in the service config (or start with --chat-model PATH)",
        )
    model = state.resource("chat", lambda: load_adapter(spec)).get()
    name = state.settings.chat_model_name or Path(str(spec.get("model", "model"))).name
    return Served(model, name)


def service_router() -> APIRouter:
    """The router ``autoglm serve`` mounts (see the plugin's ``register_routes``)."""
    from autoglm.service.auth import require

    return openai_router(served_by_service, require)
