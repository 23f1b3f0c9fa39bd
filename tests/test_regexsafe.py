"""``autoglm.regexsafe``: regexes from workflows match in linear time or are refused by field."""

from __future__ import annotations

import time

import pytest
from pydantic import BaseModel, ValidationError

from autoglm.regexsafe import SafeRegex, UnsafePatternError, compile_pattern, search


def test_the_issues_pattern_answers_at_once_on_any_length():
    """``(a+)+$`` on 27 characters held a service for 19.4 s with ``re`` (issue 11)."""
    started = time.perf_counter()
    for length in (27, 1_000, 100_000):
        assert search(r"(a+)+$", "a" * length + "!") is None
    assert time.perf_counter() - started < 0.5


def test_flags_match_the_re_module_ones():
    assert search(r"^\s*how\b", "x\n  HOW now", ignorecase=True, multiline=True)
    assert not search(r"^\s*how\b", "x\n  HOW now", ignorecase=True)
    assert not search(r"how", "HOW")
    assert compile_pattern("a+", ignorecase=True) is compile_pattern("a+", ignorecase=True)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("(a)\\1", "escape"),
        ("(?<!x)y", "perl operator"),
        ("(", "missing"),
        ("a{1001}", "repetition"),
    ],
)
def test_what_re2_refuses_is_an_error_that_says_why(pattern, reason):
    with pytest.raises(UnsafePatternError, match=reason):
        compile_pattern(pattern)


def test_a_safe_regex_field_is_a_located_validation_error():
    class Config(BaseModel):
        rules: dict[str, list[SafeRegex]]

    assert Config(rules={"qa": [r"\?\s*$"]}).rules == {"qa": [r"\?\s*$"]}
    with pytest.raises(ValidationError) as info:
        Config(rules={"qa": ["ok", "(?=x)"]})
    [error] = info.value.errors()
    assert error["loc"] == ("rules", "qa", 1)
    assert "linear-time engine" in error["msg"]
