"""The OpenAI-compatible adapter against real HTTP servers on loopback.

The main server is ``autoglm_hf.serve`` backed by the tiny trained Qwen2, so the adapter's
answers can be compared with the same model called in-process. Two more small FastAPI apps
misbehave on purpose (503 before succeeding, answering too slowly) to test retries and timeouts.
"""

from __future__ import annotations

import time

import pytest
from fastapi import FastAPI, Response

from autoglm_hf.adapters import from_spec, load_causal_lm
from autoglm_hf.errors import ServerError
from autoglm_hf.openai_client import OpenAIChatModel
from autoglm_hf.serve import create_app, serve_in_thread


@pytest.fixture(scope="module")
def local(tiny_qwen2):
    return load_causal_lm(tiny_qwen2, device="cpu")


@pytest.fixture(scope="module")
def server(local):
    with serve_in_thread(create_app(local, "tiny-qwen")) as url:
        yield url


def test_chat_generation_matches_the_local_model(server, local):
    remote = from_spec({"kind": "openai", "model": "tiny-qwen", "base_url": server})
    prompts = [
        [{"role": "user", "content": "what is autoglm ?"}],
        "the capital of france is",  # a plain string is raw text, as for the local model
    ]
    expected = local.generate(prompts, max_new_tokens=10)
    assert remote.generate(prompts, max_new_tokens=10) == expected
    assert remote.generate(prompts[:1], stop=["engine"]) == ["autoglm is a workflow"]


def test_scoring_over_echo_logprobs_matches_local(server, local):
    remote = OpenAIChatModel("tiny-qwen", base_url=server)
    prompt = "review : terrible plot and awful pacing . sentiment :"
    labels = [" positive", " negative"]
    remote_scores = remote.score(prompt, labels)
    assert remote_scores == pytest.approx(local.score(prompt, labels), abs=1e-4)
    assert remote_scores[1] > remote_scores[0]


def test_unknown_model_is_not_retried(server):
    remote = OpenAIChatModel("other", base_url=server, retries=3, backoff=0.01)
    with pytest.raises(ServerError, match=r"HTTP 404 \(not retried\).*not served here"):
        remote.generate([HI])
    assert remote.attempts == 1


#: A chat prompt: the misbehaving apps below only serve /v1/chat/completions.
HI = [{"role": "user", "content": "hi"}]


def _flaky_app(failures: int, delay: float = 0.0) -> FastAPI:
    """Answers 503 ``failures`` times, then a canned completion after ``delay`` seconds."""
    app = FastAPI()
    state = {"calls": 0}

    @app.post("/v1/chat/completions")
    def chat(response: Response) -> dict:
        state["calls"] += 1
        if state["calls"] <= failures:
            response.status_code = 503
            return {"error": "overloaded"}
        time.sleep(delay)
        return {"choices": [{"message": {"role": "assistant", "content": "ok STOP tail"}}]}

    return app


def test_retries_transient_errors_then_succeeds():
    with serve_in_thread(_flaky_app(failures=2)) as url:
        remote = OpenAIChatModel("m", base_url=url, retries=2, backoff=0.01)
        assert remote.generate([HI], stop=["STOP"]) == ["ok"]
        assert remote.attempts == 3


def test_gives_up_after_the_last_retry():
    with serve_in_thread(_flaky_app(failures=10)) as url:
        remote = OpenAIChatModel("m", base_url=url, retries=1, backoff=0.01)
        with pytest.raises(ServerError, match=r"failed after 2 attempt\(s\); last: HTTP 503"):
            remote.generate([HI])


def test_timeout_is_enforced_and_reported():
    with serve_in_thread(_flaky_app(failures=0, delay=1.0)) as url:
        remote = OpenAIChatModel("m", base_url=url, timeout=0.2, retries=0)
        started = time.monotonic()
        with pytest.raises(ServerError, match=r"timed out after 0\.2s"):
            remote.generate([HI])
        assert time.monotonic() - started < 0.9


def test_unreachable_server_and_missing_scoring_endpoint():
    with serve_in_thread(_flaky_app(failures=0)) as url:
        remote = OpenAIChatModel("m", base_url=url, retries=0)
        with pytest.raises(ServerError, match="scoring needs /completions"):
            remote.score("a", ["b"])
    closed = OpenAIChatModel("m", base_url=url, retries=1, backoff=0.01)
    with pytest.raises(ServerError, match="could not connect"):
        closed.generate([HI])
