"""Error answers for keys that may not read the catalogue.

A key with only the ``submit`` scope must not learn what ``read`` shows (the workflows offered,
the plugins allowed, the node types installed) from the messages of its failed submissions.
The messages that list them end in a known phrase (``the service offers: ...``, ``allowed:
...``, ``available node types: ...``); for such a key that listing is cut off and the rest of
the message, which says what was wrong with the request, stays.
"""

from __future__ import annotations

import re

from autoglm.service.errors import ApiError
from autoglm.service.keys import ApiKey

#: A listing at the end of a message, and what replaces it.
_LISTINGS = (
    (re.compile(r";\s*the service offers: .*$", re.S), " (a key with 'read' can list them)"),
    (re.compile(r";\s*allowed: .*$", re.S), ""),
    (re.compile(r";\s*available node types: .*$", re.S), ""),
    (re.compile(r"\.?\s*Installed plugins: .*$", re.S), ""),
    (re.compile(r"(failed to load): .*$", re.S), r"\1"),
)


def redact_text(text: str) -> str:
    for pattern, replacement in _LISTINGS:
        text = pattern.sub(replacement, text)
    return text


def for_key(exc: ApiError, key: ApiKey) -> ApiError:
    """``exc`` as ``key`` may see it: unchanged for a key with ``read``, else with every
    catalogue listing cut from its message and problems."""
    if key.allows("read"):
        return exc
    exc.detail = redact_text(exc.detail)
    exc.problems = [p.model_copy(update={"message": redact_text(p.message)}) for p in exc.problems]
    return exc
