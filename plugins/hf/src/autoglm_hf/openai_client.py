"""A ``TextModel`` for OpenAI-compatible servers (vLLM, Ollama, llama.cpp's server, TGI).

Teams often serve GLM and Qwen behind ``/v1/chat/completions``; workflow nodes then talk to
the server exactly as to a local model: chat messages go to ``/v1/chat/completions``, a plain
string to ``/v1/completions`` as raw text (the local adapter's rule too). Requests go through
httpx with a timeout; connection errors, timeouts, 429 and 5xx answers are retried with
exponential back-off, other 4xx answers fail at once with the server's own message.
``score`` uses ``/v1/completions`` with ``echo`` and ``logprobs`` (supported by vLLM and the
bundled ``autoglm_hf.serve``); servers without it give a clear error.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from autoglm_hf import registry
from autoglm_hf.causal import check_messages
from autoglm_hf.errors import ServerError
from autoglm_hf.stops import truncate_at_stop

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIChatModel:
    """Chat completions against ``base_url`` (which ends in ``/v1``)."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        concurrency: int = 4,
        backoff: float = 0.5,
    ) -> None:
        if retries < 0 or timeout <= 0 or concurrency < 1:
            raise ServerError(
                f"openai adapter: expected retries >= 0, timeout > 0, concurrency >= 1, got "
                f"{retries}, {timeout}, {concurrency}"
            )
        self.model_id = model
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.concurrency = concurrency
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers)
        #: HTTP attempts made (tests check retries happen, and stop).
        self.attempts = 0

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST with retries; return the decoded JSON body or raise ``ServerError``."""
        url = f"{self.base_url}{path}"
        last = "no attempt made"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            self.attempts += 1
            try:
                response = self.client.post(path, json=payload)
            except httpx.TimeoutException as exc:
                last = f"timed out after {self.client.timeout.read}s ({type(exc).__name__})"
                continue
            except httpx.TransportError as exc:
                last = f"could not connect ({type(exc).__name__}: {exc})"
                continue
            if response.status_code in RETRY_STATUS:
                last = f"HTTP {response.status_code}: {response.text[:300]}"
                continue
            if response.status_code >= 400:
                raise ServerError(
                    f"{url}: HTTP {response.status_code} (not retried): {response.text[:500]}"
                )
            try:
                return response.json()
            except ValueError as exc:
                raise ServerError(
                    f"{url}: expected a JSON body, got {response.text[:200]!r}"
                ) from exc
        raise ServerError(f"{url}: failed after {self.retries + 1} attempt(s); last: {last}")

    def _complete(self, prompt: str | list[dict], options: dict[str, Any]) -> str:
        """One answer: chat messages through ``/chat/completions``, a plain string as raw text
        through ``/completions``, exactly as the local adapter treats them (a string sent as a
        chat message would be wrapped in the chat template a base model never saw)."""
        if isinstance(prompt, str):
            path, payload, where = "/completions", {"prompt": prompt}, ("text",)
        else:
            path, payload = "/chat/completions", {"messages": check_messages(prompt)}
            where = ("message", "content")
        body = self._post(path, {"model": self.model_id, **payload, **options})
        try:
            content = body["choices"][0]
            for key in where:
                content = content[key]
        except (KeyError, IndexError, TypeError) as exc:
            raise ServerError(
                f"{self.base_url}{path}: expected choices[0].{'.'.join(where)} in the answer, "
                f"got {str(body)[:300]}"
            ) from exc
        return truncate_at_stop(content or "", options.get("stop")).strip()

    def generate(
        self,
        prompts: list[str | list[dict]],
        *,
        max_new_tokens: int = 64,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> list[str]:
        """One completion per prompt: chat messages as a chat completion, a plain string as a
        raw text completion. Requests run ``concurrency`` at a time: servers batch concurrent
        requests themselves."""
        options: dict[str, Any] = {
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "top_p": top_p,
        }
        if stop:
            options["stop"] = stop
        if seed is not None:
            options["seed"] = seed
        if len(prompts) <= 1 or self.concurrency == 1:
            return [self._complete(p, options) for p in prompts]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda p: self._complete(p, options), prompts))

    def score(self, prompt: str, continuations: list[str]) -> list[float]:
        """Sum of the log-probabilities the server reports for the continuation's tokens."""
        return [self._score_one(prompt, c) for c in continuations]

    def _score_one(self, prompt: str, continuation: str) -> float:
        if not continuation:
            return 0.0
        payload = {
            "model": self.model_id,
            "prompt": prompt + continuation,
            "max_tokens": 0,
            "echo": True,
            "logprobs": 0,
            "temperature": 0.0,
        }
        try:
            body = self._post("/completions", payload)
            logprobs = body["choices"][0]["logprobs"]
            offsets, values = logprobs["text_offset"], logprobs["token_logprobs"]
        except (ServerError, KeyError, IndexError, TypeError) as exc:
            raise ServerError(
                f"{self.base_url}: scoring needs /completions with echo and logprobs (vLLM and "
                f"autoglm_hf.serve have it; Ollama and llama.cpp do not): {exc}"
            ) from exc
        return float(
            sum(
                v
                for off, v in zip(offsets, values, strict=True)
                if off >= len(prompt) and v is not None
            )
        )

    def close(self) -> None:
        self.client.close()


def load_openai(
    model: str,
    *,
    base_url: str,
    api_key: str | None = None,
    timeout: float = 60.0,
    retries: int = 2,
) -> OpenAIChatModel:
    """Shared per process like the local adapters (one connection pool per server and model)."""
    key = ("openai", model, base_url.rstrip("/"), api_key, timeout, retries)
    return registry.shared(
        key,
        lambda: OpenAIChatModel(
            model, base_url=base_url, api_key=api_key, timeout=timeout, retries=retries
        ),
    )
