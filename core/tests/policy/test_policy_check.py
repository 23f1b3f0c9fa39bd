"""The checker on real folders and links: ``..`` and symlink escapes, relative paths against
a stated base, nested lists, URLs, secrets, code loading, unpickling, model sources, globs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from autoglm.policy import (
    Glob,
    InputDir,
    InputPath,
    LoadsCode,
    ModelSource,
    OutputDir,
    Places,
    PolicyViolation,
    SecretName,
    TrustPolicy,
    UnpickleFrom,
    Url,
    check_node,
    enforce,
    load_policy_file,
)


class Doc(BaseModel):
    path: InputPath


class Config(BaseModel):
    folder: InputDir | None = None
    out: OutputDir | None = None
    docs: list[list[Doc]] = Field(default_factory=list)
    url: Url | None = None
    key_env: SecretName | None = None
    remote_code: LoadsCode = False
    pickles: UnpickleFrom | None = None
    model: ModelSource | None = None
    pattern: Glob | None = None


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    home, data, outside = tmp_path / "home", tmp_path / "data", tmp_path / "secret"
    for folder in (home / "artifacts", home / "cache", data / "kb", outside):
        folder.mkdir(parents=True)
    (outside / "passwd").write_text("root:TOP-SECRET-CONTENT\n")
    (home / "keys.sqlite").write_text("keys")
    (data / "kb" / "escape").symlink_to(outside)
    return {"home": home, "data": data, "outside": outside, "base": tmp_path}


def rules(tree: dict[str, Path], policy: TrustPolicy, **config: object) -> list[tuple[str, str]]:
    places = Places.of(policy, tree["home"], base=tree["base"])
    found = check_node("n", Config.model_validate(config), None, policy, places)
    return [(v.field, v.rule) for v in found]


def test_reads_inside_roots_pass_and_escapes_fail(tree: dict[str, Path]) -> None:
    policy = TrustPolicy(input_roots=[str(tree["data"])])
    assert rules(tree, policy, folder=str(tree["data"] / "kb")) == []
    assert rules(tree, policy, folder="data/kb") == []  # relative to the stated base
    assert rules(tree, policy, folder=str(tree["home"] / "artifacts" / "x")) == []
    for escape in (
        str(tree["outside"]),
        str(tree["data"] / ".." / "secret"),
        "data/kb/../../secret",
        str(tree["data"] / "kb" / "escape"),  # a link out of the root
        str(tree["data"] / "kb" / "escape" / "passwd"),
        str(tree["home"] / "keys.sqlite"),  # the home itself is not readable, its artefacts are
        "/etc",
        "~",
    ):
        assert rules(tree, policy, folder=escape) == [("config.folder", "input_outside_roots")], (
            escape
        )


def test_nested_lists_of_models_are_checked(tree: dict[str, Path]) -> None:
    policy = TrustPolicy(input_roots=[str(tree["data"])])
    docs = [[{"path": "data/kb/a"}], [{"path": "data/b"}, {"path": "secret/passwd"}]]
    assert rules(tree, policy, docs=docs) == [("config.docs[1][1].path", "input_outside_roots")]


def test_writes_only_in_artifacts_and_output_roots(tree: dict[str, Path]) -> None:
    policy = TrustPolicy()
    assert rules(tree, policy, out=str(tree["home"] / "artifacts" / "index")) == []
    assert rules(tree, policy, out=str(tree["home"])) == [("config.out", "output_outside_roots")]
    assert rules(tree, policy, out=str(tree["home"] / "keys.sqlite")) == [
        ("config.out", "output_outside_roots")
    ]
    wider = TrustPolicy(output_roots=[str(tree["data"])])
    assert rules(tree, wider, out="data/new") == []
    # with the run's id (the engine's check), only its own artefact folder
    places = Places.of(policy, tree["home"], base=tree["base"], run_id="r1")
    own = Config.model_validate({"out": str(tree["home"] / "artifacts" / "r1" / "x")})
    other = Config.model_validate({"out": str(tree["home"] / "artifacts" / "r2" / "x")})
    assert check_node("n", own, None, policy, places) == []
    assert [v.rule for v in check_node("n", other, None, policy, places)] == [
        "output_outside_roots"
    ]
    assert places.readable(tree["home"] / "artifacts" / "r2" / "report.html")
    assert not places.readable(tree["home"] / "keys.sqlite")


def test_urls_by_origin_and_by_prefix(tree: dict[str, Path]) -> None:
    policy = TrustPolicy(allowed_urls=["http://127.0.0.1:8000", "https://api.example.com/v1/"])
    assert rules(tree, policy, url="http://127.0.0.1:8000/v1") == []
    assert rules(tree, policy, url="https://API.example.com/v1/chat") == []
    for bad in (
        "http://127.0.0.1:8001/v1",
        "https://127.0.0.1:8000/",
        "https://api.example.com/v2",
        "https://api.example.com/v1evil",
        "https://api.example.com/v1/../admin",
        "https://api.example.com/v1/%2e%2e/admin",
        "http://127.0.0.1:8000@evil.com/",
        "http://user:pw@127.0.0.1:8000/",
        "file:///etc/passwd",
        "http://[::1",
    ):
        assert rules(tree, policy, url=bad) == [("config.url", "url_not_allowed")], bad


def test_secrets_code_unpickling_models_and_globs(
    tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = TrustPolicy(allowed_secrets=["OPENAI_API_KEY"], unpickle_roots=[str(tree["data"])])
    assert rules(tree, policy, key_env="OPENAI_API_KEY") == []
    assert rules(tree, policy, key_env="SECRET_DB_PASSWORD") == [
        ("config.key_env", "secret_not_allowed")
    ]
    assert rules(tree, policy, remote_code=False) == []
    assert rules(tree, policy, remote_code=True) == [("config.remote_code", "code_loading_refused")]
    assert rules(tree, policy, pickles="data/planetoid") == []
    assert rules(tree, policy, pickles=str(tree["outside"])) == [
        ("config.pickles", "unpickling_refused")
    ]
    assert rules(tree, TrustPolicy(), pickles="data/planetoid") == [
        ("config.pickles", "unpickling_refused")
    ]
    assert rules(tree, policy, model=str(tree["outside"])) == [
        ("config.model", "input_outside_roots")
    ]
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    assert rules(tree, policy, model="Qwen/Qwen2-0.5B") == [("config.model", "hub_model_refused")]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # offline: the admin's cache only, no download
    assert rules(tree, policy, model="Qwen/Qwen2-0.5B") == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    assert rules(tree, TrustPolicy(allow_hub_models=True), model="Qwen/Qwen2-0.5B") == []
    assert rules(tree, policy, pattern="**/*.md") == []
    for bad in ("../*", "a/../../b", "/etc/*", "~/x"):
        assert rules(tree, policy, pattern=bad) == [("config.pattern", "glob_escapes_folder")]


def test_unrestricted_allows_all_and_enforce_names_the_rule(tree: dict[str, Path]) -> None:
    config = Config.model_validate(
        {"folder": str(tree["outside"] / "passwd"), "url": "http://x", "remote_code": True}
    )
    free = TrustPolicy.unrestricted()
    enforce("n", config, None, free, Places.of(free, tree["home"]))
    policy = TrustPolicy()
    with pytest.raises(PolicyViolation) as info:
        enforce("reader", config, None, policy, Places.of(policy, tree["home"]))
    message = str(info.value)
    assert "node 'reader' field 'config.folder'" in message
    assert "'input_outside_roots'" in message
    assert "(and 2 more)" in message
    assert "TOP-SECRET" not in message
    assert [v.rule for v in info.value.violations] == [
        "input_outside_roots",
        "url_not_allowed",
        "code_loading_refused",
    ]


def test_policy_file_roots_are_relative_to_the_file(tree: dict[str, Path]) -> None:
    file = tree["base"] / "policy.yaml"
    file.write_text("input_roots: [data]\nallowed_urls: ['http://127.0.0.1:9']\n")
    policy = load_policy_file(file)
    assert policy.input_roots == [str(tree["data"].resolve())]
    assert policy.output_roots == []
    assert policy.allowed_urls == ["http://127.0.0.1:9"]
    file.write_text("input_root: [data]\n")
    with pytest.raises(Exception, match="input_root"):
        load_policy_file(file)


def test_relative_paths_fall_back_to_the_data_folder_as_loaders_do(
    tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tree["data"] / "kb" / "dev.tsv").write_text("x")
    monkeypatch.setenv("AUTOGLM_DATA_DIR", str(tree["data"]))
    policy = TrustPolicy(input_roots=[str(tree["data"])])
    base = tree["home"] / "artifacts"  # "kb/dev.tsv" is not there: the data folder's is read
    places = Places.of(policy, tree["home"], base=base)
    config = Config.model_validate({"folder": "kb/dev.tsv"})
    assert check_node("n", config, None, policy, places) == []
    config = Config.model_validate({"folder": "kb/escape/passwd"})  # a link out of the data
    assert [v.rule for v in check_node("n", config, None, policy, places)] == [
        "input_outside_roots"
    ]
