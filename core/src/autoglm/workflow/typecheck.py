"""Lenient type compatibility between a connected output and input, from their JSON schemas.

Only clear mismatches (a string into an integer) are refused: annotations vary too much between
plugins for anything stricter to be right.
"""

from __future__ import annotations

import contextlib
from typing import Any

from pydantic import TypeAdapter

_JSON_TYPES: dict[Any, frozenset[str]] = {}


def _json_types(annotation: Any) -> frozenset[str]:
    """The JSON types a value of ``annotation`` may have (empty = anything). Memoised: building
    a schema costs far more than a lookup, and big workflows repeat the same few types."""
    try:
        return _JSON_TYPES[annotation]
    except (KeyError, TypeError):
        pass
    try:
        types = frozenset(_schema_types(adapter(annotation).json_schema()))
    except Exception:
        types = frozenset()
    with contextlib.suppress(TypeError):  # unhashable annotations are simply not memoised
        _JSON_TYPES[annotation] = types
    return types


_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def adapter(annotation: Any) -> TypeAdapter[Any]:
    """A ``TypeAdapter`` for ``annotation``, memoised: building one costs about a hundred times
    more than validating a small value, and a large workflow repeats the same few types."""
    try:
        return _ADAPTERS[annotation]
    except (KeyError, TypeError):
        pass
    built = TypeAdapter(annotation)
    with contextlib.suppress(TypeError):  # unhashable annotations are simply not memoised
        _ADAPTERS[annotation] = built
    return built


def _schema_types(schema: dict[str, Any]) -> set[str]:
    if "anyOf" in schema:
        parts = [_schema_types(s) for s in schema["anyOf"]]
        if any(not p for p in parts):
            return set()
        return set().union(*parts) - {"null"}
    kind = schema.get("type")
    if isinstance(kind, list):
        return set(kind) - {"null"}
    return {kind} if isinstance(kind, str) else set()


def types_compatible(source: Any, target: Any) -> bool:
    """Can an output annotated ``source`` feed an input annotated ``target``? Lenient: only
    clear mismatches (a string into an integer) are refused."""
    src, dst = _json_types(source), _json_types(target)
    if not src or not dst:
        return True
    if "number" in dst:
        dst = dst | {"integer"}
    return bool(src & dst)


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
