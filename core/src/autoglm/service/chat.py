"""``POST /v1/chat/completions``: the service as a stand-in for an OpenAI-compatible model
server, backed by the model adapter of the ``chat_model`` setting.

The adapter comes from the ``autoglm-hf`` plugin (``autoglm_hf.adapters.from_spec``), imported
on the first chat request and loaded once; without a configured model, or without the plugin,
the endpoint answers 501 and says what to configure. Streaming is not offered.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from autoglm.errors import AutoGLMError
from autoglm.service.auth import require
from autoglm.service.errors import ApiError, error_responses
from autoglm.service.schemas import (
    ChatChoice,
    ChatCompletion,
    ChatCompletionRequest,
    ChatMessage,
    ChatUsage,
)

DEFAULT_MAX_TOKENS = 64


def load_adapter(spec: dict[str, Any]) -> Any:
    """The text model of ``spec``; ``ApiError`` 501 without autoglm-hf, 503 if it fails."""
    try:
        from autoglm_hf.adapters import from_spec
    except ImportError:
        raise ApiError(
            501, "the chat API needs the autoglm-hf plugin (pip install autoglm-hf)"
        ) from None
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


def chat_router() -> APIRouter:
    router = APIRouter(tags=["chat"])

    @router.post(
        "/v1/chat/completions",
        response_model=ChatCompletion,
        responses=error_responses(400, 401, 403, 413, 422, 501, 503),
    )
    def chat_completions(
        body: ChatCompletionRequest, request: Request, _key: Any = require("submit")
    ) -> ChatCompletion:
        """Chat completion with the configured model (OpenAI's request and response)."""
        state = request.app.state.service
        spec = state.settings.chat_model
        if spec is None:
            raise ApiError(
                501,
                "no chat model is configured: set chat_model: {kind: hf-causal, model: PATH} "
                "in the service config (or start with --chat-model PATH)",
            )
        model = state.resource("chat", lambda: load_adapter(spec)).get()
        messages = [m.model_dump() for m in body.messages]
        max_tokens = body.max_completion_tokens or body.max_tokens or DEFAULT_MAX_TOKENS
        stop = [body.stop] if isinstance(body.stop, str) else body.stop
        try:
            texts = model.generate(
                [messages] * body.n,
                max_new_tokens=max_tokens,
                temperature=body.temperature,
                top_p=body.top_p,
                stop=stop,
                seed=body.seed,
            )
        except AutoGLMError as exc:
            raise ApiError(422, f"the model refused the request: {exc}") from None
        prompt_tokens = _token_count(model, messages)
        counts = [_token_count(model, text) for text in texts]
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
            model=state.settings.chat_model_name or Path(str(spec.get("model", "model"))).name,
            choices=[
                ChatChoice(
                    index=i,
                    message=ChatMessage(role="assistant", content=text),
                    finish_reason="length"
                    if counts[i] is not None and (counts[i] or 0) >= max_tokens
                    else "stop",
                )
                for i, text in enumerate(texts)
            ],
            usage=usage,
        )

    return router
