"""Regular expressions from workflows, matched in time linear in the text.

A workflow (and so a service request) may carry regular expressions: ``text.task_type`` rules,
``eval.weak_labels`` regex rules. Python's ``re`` backtracks, so one pattern such as ``(a+)+$``
on 27 characters blocks the thread holding the GIL for seconds (19.4 s measured against the
service) and no timeout can interrupt it. These patterns are compiled with RE2 (google-re2),
whose automata match in time linear in the text, whatever the pattern.

RE2 was chosen over the ``regex`` module with ``timeout=`` by measurement (see
docs/benchmarks.md): RE2 answers every catastrophic pattern tried in under a millisecond, while
``regex`` still runs some of them (``(a|aa)+$``) to its timeout on every text it is given, and a
timeout fails the node instead of answering. The price is RE2's syntax: no backreferences and
no look-around, and ``\\w``, ``\\d``, ``\\b`` are ASCII. A pattern RE2 refuses is a validation
error of the field that holds it, before anything runs: declare such fields as ``SafeRegex``.

``re2`` is imported on first use, so importing the core stays cheap.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator

if TYPE_CHECKING:
    import re2

#: Memory RE2 may use for one compiled pattern (its default is 8 MiB). A pattern needing more,
#: such as a bounded repeat of a large group, is refused instead of growing the process.
MAX_PATTERN_MEMORY = 8 << 20


class UnsafePatternError(ValueError):
    """The pattern cannot be compiled by the linear-time engine (syntax RE2 lacks, or too big)."""


@lru_cache(maxsize=256)
def compile_pattern(
    pattern: str, *, ignorecase: bool = False, multiline: bool = False
) -> re2._Regexp:
    """Compile ``pattern`` for linear-time matching; ``UnsafePatternError`` says why not.

    ``multiline`` makes ``^``/``$`` match at line boundaries (``re.MULTILINE``). Compiled
    patterns are cached, since nodes match the same rules against every item.
    """
    import re2

    options = re2.Options()
    options.log_errors = False  # the error is raised to the caller, not logged to stderr
    options.case_sensitive = not ignorecase
    options.max_mem = MAX_PATTERN_MEMORY
    try:
        return re2.compile(f"(?m){pattern}" if multiline else pattern, options)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise UnsafePatternError(
            f"regular expression {pattern!r} refused by the linear-time engine (RE2): {reason}; "
            "(RE2 syntax: no backreferences or look-around)"
        ) from None


def _check(pattern: str) -> str:
    compile_pattern(pattern)
    return pattern


#: A config or input field holding a regular expression: validated with RE2 when the workflow
#: is validated, so a pattern the engine refuses is an error located at that field.
SafeRegex = Annotated[str, AfterValidator(_check)]


def search(pattern: str, text: str, *, ignorecase: bool = False, multiline: bool = False) -> Any:
    """``re.search`` in linear time: the match object, or None."""
    return compile_pattern(pattern, ignorecase=ignorecase, multiline=multiline).search(text)
