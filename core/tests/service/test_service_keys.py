"""API keys: stored hashed, verified, scoped, revoked; and the ``keys`` commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autoglm.service.keys import KeyStore, parse_scopes


def test_keys_are_stored_hashed_and_verified(tmp_path: Path) -> None:
    store = KeyStore.in_home(tmp_path)
    key, token = store.create("ci", ["read", "submit"])
    assert token.startswith(f"agk_{key.id}_")
    secret = token.rsplit("_", 1)[1]
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("keys.sqlite*"))
    assert secret.encode() not in raw and token.encode() not in raw
    found = store.verify(token)
    assert found is not None and found.id == key.id
    assert found.allows("read") and found.allows("submit") and not found.allows("admin")
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "", "agk__x", "x" * 500):
        assert store.verify(wrong) is None
    other_key, other = store.create("ops", ["admin"])
    assert store.verify(other).allows("submit")  # admin implies every scope
    assert store.revoke(key.id) and not store.revoke(key.id)
    assert store.verify(token) is None
    assert [k.id for k in store.list()] == [other_key.id]
    assert len(store.list(include_revoked=True)) == 2


def test_scopes_are_checked() -> None:
    assert parse_scopes("submit, read") == ["read", "submit"]
    for bad in ("", "write", "read,root"):
        with pytest.raises(ValueError, match="subset of read, submit, admin"):
            parse_scopes(bad)


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autoglm.service", "keys", *args, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_keys_commands(tmp_path: Path) -> None:
    created = _cli("create", "--name", "bot", "--scopes", "submit", "--json", home=tmp_path)
    assert created.returncode == 0, created.stderr
    made = json.loads(created.stdout)
    assert made["scopes"] == ["submit"] and made["token"].startswith("agk_")
    listed = _cli("list", "--json", home=tmp_path)
    assert [k["id"] for k in json.loads(listed.stdout)] == [made["id"]]
    assert made["token"] not in listed.stdout
    assert _cli("revoke", made["id"], home=tmp_path).returncode == 0
    again = _cli("revoke", made["id"], home=tmp_path)
    assert again.returncode == 1 and "no active key" in again.stderr
    bad = _cli("create", "--name", "x", "--scopes", "root", home=tmp_path)
    assert bad.returncode == 2 and "--scopes" in bad.stderr
