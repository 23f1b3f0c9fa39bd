"""The trust markers: found through Optional, lists, dicts, tuples and nested models, shown in
JSON schemas, and skipped where a submission left the author's default."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from autoglm.policy import (
    SCHEMA_KEY,
    InputDir,
    InputPath,
    LoadsCode,
    OutputDir,
    SecretName,
    Trust,
    Url,
    declared_trust,
    marked_values,
)


class Source(BaseModel):
    path: InputPath
    note: str = ""


class Config(BaseModel):
    folder: InputDir
    index_dir: OutputDir | None = None
    files: list[InputPath] = Field(default_factory=list)
    headers: dict[str, SecretName] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)
    nested: Source | None = None
    pair: tuple[Url, int] | None = None
    trust_remote_code: LoadsCode = False
    many: Annotated[list[str], Trust("input_path")] = Field(default_factory=list)
    plain: str = "x"


def test_declared_trust_lists_every_marked_field() -> None:
    assert declared_trust(Config) == {
        "folder": "input_dir",
        "index_dir": "output_dir",
        "files[]": "input_path",
        "headers.*": "secret_name",
        "sources[].path": "input_path",
        "nested.path": "input_path",
        "pair[]": "url",
        "trust_remote_code": "loads_code",
        "many": "input_path",
    }


def test_marked_values_follow_values_with_dotted_paths() -> None:
    config = Config.model_validate(
        {
            "folder": "kb",
            "files": ["a", "b"],
            "headers": {"auth": "TOKEN"},
            "sources": [{"path": "s0"}, {"path": "s1", "note": "n"}],
            "nested": {"path": "n0"},
            "pair": ["http://h", 3],
            "trust_remote_code": True,
            "many": ["m0"],
            "plain": "not marked",
        }
    )
    found = {(m.path, m.kind, m.value) for m in marked_values(config)}
    assert found == {
        ("folder", "input_dir", "kb"),
        ("files[0]", "input_path", "a"),
        ("files[1]", "input_path", "b"),
        ("headers.auth", "secret_name", "TOKEN"),
        ("sources[0].path", "input_path", "s0"),
        ("sources[1].path", "input_path", "s1"),
        ("nested.path", "input_path", "n0"),
        ("pair[0]", "url", "http://h"),
        ("trust_remote_code", "loads_code", True),
        ("many[0]", "input_path", "m0"),
    }


def test_defaults_and_none_are_not_checked() -> None:
    config = Config.model_validate({"folder": "kb", "index_dir": None})
    assert [(m.path, m.value) for m in marked_values(config)] == [("folder", "kb")]


def test_json_schema_carries_the_kind() -> None:
    schema = Config.model_json_schema()
    props = schema["properties"]
    assert props["folder"][SCHEMA_KEY] == "input_dir"
    assert {SCHEMA_KEY: "output_dir", "type": "string"} in props["index_dir"]["anyOf"]
    assert props["files"]["items"][SCHEMA_KEY] == "input_path"
    assert props["headers"]["additionalProperties"][SCHEMA_KEY] == "secret_name"
    assert props["trust_remote_code"][SCHEMA_KEY] == "loads_code"
    assert schema["$defs"]["Source"]["properties"]["path"][SCHEMA_KEY] == "input_path"


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown trust kind"):
        Trust("read_anything")  # type: ignore[arg-type]


def test_a_value_equal_to_the_default_is_the_authors_choice() -> None:
    class Defaults(BaseModel):
        encoder: InputDir = "default"
        files: list[InputPath] = Field(default_factory=list)

    config = Defaults.model_validate({"encoder": "default", "files": []})
    assert list(marked_values(config)) == []
    config = Defaults.model_validate({"encoder": "/etc", "files": ["a"]})
    assert [(m.path, m.value) for m in marked_values(config)] == [
        ("encoder", "/etc"),
        ("files[0]", "a"),
    ]


def test_a_literal_arm_declares_sentinels_beside_a_marked_type() -> None:
    from typing import Literal

    from autoglm.policy import ModelSource

    class Generate(BaseModel):
        model: ModelSource | Literal["extractive"] | None = None

    assert list(marked_values(Generate(model="extractive"))) == []
    assert [m.value for m in marked_values(Generate(model="./my-model"))] == ["./my-model"]
    assert declared_trust(Generate) == {"model": "model_source"}
