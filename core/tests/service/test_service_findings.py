"""The smaller findings of the service review, each against a real server: ill-typed config
updates, the Allow header of OPTIONS and 405, the modes of the database files, and what a
submit-only key learns from error bodies."""

from __future__ import annotations

import stat
from typing import Any

import httpx
import pytest

from autoglm.client import Client, NotFound, ValidationFailed


def _auth(server: Any, scope: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.keys[scope]}"}


@pytest.mark.parametrize(
    "change",
    [
        {"max_concurrent_runs": False},
        {"max_concurrent_runs": True},
        {"max_concurrent_runs": "0"},
        {"max_concurrent_runs": 1.0},
        {"reset_allowed_plugins": 1},
        {"allowed_plugins": "eval"},
    ],
)
def test_ill_typed_config_updates_are_refused(server: Any, change: dict[str, Any]) -> None:
    before = httpx.get(f"{server.url}/v1/config", headers=_auth(server, "admin")).json()
    response = httpx.put(f"{server.url}/v1/config", json=change, headers=_auth(server, "admin"))
    assert response.status_code == 422, response.text
    field = next(iter(change))
    assert any(p["field"].startswith(f"body.{field}") for p in response.json()["problems"])
    after = httpx.get(f"{server.url}/v1/config", headers=_auth(server, "admin")).json()
    assert after == before and after["max_concurrent_runs"] == 4


def test_options_and_405_list_every_method_of_the_path(server: Any) -> None:
    options = httpx.options(f"{server.url}/v1/runs", headers=_auth(server, "admin"))
    assert options.status_code == 204, options.text
    allow = {m.strip() for m in options.headers["allow"].split(",")}
    assert {"GET", "POST", "OPTIONS"} <= allow
    wrong = httpx.delete(f"{server.url}/v1/runs", headers=_auth(server, "admin"))
    assert wrong.status_code == 405 and wrong.json()["type"] == "method_not_allowed"
    assert {m.strip() for m in wrong.headers["allow"].split(",")} == allow
    one = httpx.options(f"{server.url}/v1/runs/some-id/cancel")
    assert one.status_code == 204 and "POST" in one.headers["allow"]
    assert "GET" not in one.headers["allow"]
    assert httpx.options(f"{server.url}/v1/nowhere").status_code == 404


def test_database_files_are_created_owner_only(server: Any) -> None:
    with Client(server.url, server.keys["admin"]) as client:
        client.wait(client.submit("quick").id, timeout=20)
    files = sorted(server.home.glob("*.sqlite*"))
    names = {path.name for path in files}
    assert {"runs.sqlite", "runs.sqlite-wal", "keys.sqlite"} <= names, names
    for path in files:
        if path.name.startswith(("runs.", "keys.")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_a_submit_only_key_learns_no_catalogue_from_errors(server: Any) -> None:
    with Client(server.url, server.keys["read"]) as reader:
        workflows = [w.name for w in reader.list_workflows()]
        plugins = [p.name for p in reader.list_plugins() if p.name != "core"]
    secret_words = [*workflows, *plugins, "core.const", "core.noop"]
    bad_type = "name: t\nnodes:\n  - id: a\n    type: nosuch.thing\n"
    attempts = (
        lambda c: c.submit("no-such-workflow"),
        lambda c: c.submit("quick", plugins=["not-installed"]),
        lambda c: c.submit(workflow_yaml=bad_type),
    )
    for attempt in attempts:
        with Client(server.url, server.keys["submit"]) as submitter:
            with pytest.raises((NotFound, ValidationFailed)) as err:
                attempt(submitter)
            text = f"{err.value} {[p.message for p in err.value.problems]}"
            leaked = [word for word in secret_words if word in text]
            assert not leaked, (leaked, text)
        with Client(server.url, server.keys["read,submit"]) as reader:
            with pytest.raises((NotFound, ValidationFailed)) as err:
                attempt(reader)
            full = f"{err.value} {[p.message for p in err.value.problems]}"
            assert any(word in full for word in secret_words), full  # read may see them
