"""``/v1/chat/completions`` backed by a real (tiny) Qwen2 model: the OpenAI request and answer
shapes, through raw HTTP and the SDK. Skipped when the autoglm-hf plugin is not installed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("autoglm_hf.adapters")
testing = pytest.importorskip("autoglm_hf.testing")

from autoglm.client import Client, ValidationFailed  # noqa: E402

QUESTION = [{"role": "user", "content": "what is autoglm ?"}]


@pytest.fixture(scope="module")
def tiny_qwen2(tmp_path_factory: pytest.TempPathFactory) -> str:
    import torch

    torch.set_num_threads(1)
    return testing.build_tiny_causal_lm(tmp_path_factory.mktemp("tiny-qwen2"), family="qwen2")


@pytest.mark.slow
def test_chat_completions_with_a_tiny_qwen2(new_server: Any, tiny_qwen2: str) -> None:
    server = new_server("--chat-model", tiny_qwen2)
    server.env = {"OMP_NUM_THREADS": "1"}
    server.start()
    headers = {"Authorization": f"Bearer {server.keys['submit']}"}
    response = httpx.post(
        f"{server.url}/v1/chat/completions",
        json={"model": "tiny", "messages": QUESTION, "max_tokens": 10, "user": "ignored"},
        headers=headers,
        timeout=120,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["model"] == Path(tiny_qwen2).name
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "autoglm is a workflow engine ."}
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["completion_tokens"] == 6
    assert usage["total_tokens"] == usage["prompt_tokens"] + 6
    with Client(server.url, server.keys["submit"]) as client:
        stopped = client.chat(QUESTION, stop=["workflow"], max_tokens=20, n=2)
        assert [c.message.content for c in stopped.choices] == ["autoglm is a"] * 2
        short = client.chat(QUESTION, max_tokens=2)
        assert short.choices[0].finish_reason == "length"
        with pytest.raises(ValidationFailed, match="stream"):
            client.chat(QUESTION, stream=True)
