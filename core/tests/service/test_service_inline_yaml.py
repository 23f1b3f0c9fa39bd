"""Issue 11's alias bomb against a real service: a 560-byte inline workflow whose ``core.const``
value is 7 levels of 9 aliases (63 aliases, under the 100 cap; 4.8 million values expanded) took
105 s and 4.6 GB at 8 levels. It is now refused with a located 422 in milliseconds, and the
service keeps answering."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from autoglm.client import Client, ValidationFailed
from autoglm.testing.workflow_fuzz import alias_bomb


def bomb(levels: int) -> str:
    head = "name: bomb\nnodes:\n  - id: a\n    type: core.const\n    config:\n      value:\n"
    return head + alias_bomb(levels, "        ")


@pytest.mark.parametrize("levels", [7, 8])
def test_inline_alias_bomb_is_refused_fast_and_located(server: Any, levels: int) -> None:
    text = bomb(levels)
    assert len(text.encode()) < 650 and text.count("*") < 100
    with Client(server.url, server.keys["submit"], retries=0) as client:
        started = time.perf_counter()
        with pytest.raises(ValidationFailed) as err:
            client.submit(workflow_yaml=text)
        elapsed = time.perf_counter() - started
    assert err.value.status == 422
    [problem] = err.value.problems
    assert "aliases expand to more than 100,000 values" in problem.message
    assert (problem.line, problem.node, problem.field) == (12, "a", "config.value.x5.0")
    assert elapsed < 1.0  # the HTTP round trip included; the check itself takes ~0.1 ms
    health = httpx.get(f"{server.url}/healthz", timeout=2.0)
    assert health.status_code == 200


def test_inline_surrogate_and_deep_when_are_4xx_not_500(server: Any) -> None:
    deep_when = (
        "nodes:\n  - id: a\n    type: core.const\n    config: {value: 1}\n"
        f'    when: "{"not " * 3000}true"\n'
    )
    with Client(server.url, server.keys["submit"], retries=0) as client:
        with pytest.raises(ValidationFailed) as err:
            client.submit(workflow_yaml=deep_when)
        assert err.value.problems[0].field == "when"
    # a lone surrogate, escaped in the JSON body as a careless client would send it
    body = '{"workflow_yaml": "nodes: [{id: a, type: core.const, config: {value: \\ud800}}]"}'
    answer = httpx.post(
        f"{server.url}/v1/runs",
        content=body,
        headers={
            "Authorization": f"Bearer {server.keys['submit']}",
            "Content-Type": "application/json",
        },
        timeout=5.0,
    )
    assert answer.status_code == 422 and "workflow_yaml" in answer.text, answer.text
