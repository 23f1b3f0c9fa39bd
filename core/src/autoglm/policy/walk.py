"""Find the trust-marked values of a validated model, through containers and nested models.

The walk follows the *types* (where the markers are) and the *values* together, so a marker
inside ``X | None``, ``list[X]``, ``dict[str, X]``, a tuple or a nested model is found with the
dotted path of the value it applies to (``sources[2].path``, ``headers.auth``).

Fields a submission left at their default, or set to it, are not yielded: a default was chosen
by the plugin's author, who is trusted (their code runs anyway); what the policy guards against
is what a request chose.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from autoglm.policy.fields import annotated_trust, strip_annotated, trust_of


@dataclass(frozen=True)
class MarkedValue:
    """One value under a trust marker: where it is, what kind it is, and the value."""

    path: str
    kind: str
    value: Any


def marked_values(model: BaseModel, prefix: str = "") -> Iterator[MarkedValue]:
    """Every trust-marked value the submission set in ``model`` (defaults are skipped)."""
    fields_set = model.model_fields_set
    for name, info in type(model).model_fields.items():
        if name not in fields_set:
            continue
        value = getattr(model, name, None)
        if _is_default(info, value):
            continue
        trust = trust_of(info.metadata)
        yield from _walk(info.annotation, trust.kind if trust else None, value, prefix + name)


def marked_in_data(
    model: type[BaseModel], data: dict[str, Any], prefix: str = ""
) -> Iterator[MarkedValue]:
    """Trust-marked values among some fields of ``model`` given as raw ``data`` (the inputs
    known when a run is submitted, while others still wait for upstream nodes). Each field
    holding a marker is validated on its own; one that does not validate is left to the
    engine, which validates and checks all inputs before the node runs."""
    marked = _marked_fields(model)
    for name, value in data.items():
        if name not in marked:
            continue
        try:
            typed = _field_adapter(model, name).validate_python(value)
        except ValidationError:
            continue
        info = model.model_fields[name]
        if _is_default(info, typed):
            continue
        trust = trust_of(info.metadata)
        yield from _walk(info.annotation, trust.kind if trust else None, typed, prefix + name)


def has_marks(model: type[BaseModel]) -> bool:
    """Whether any field of ``model`` holds a trust marker (cached per model)."""
    return bool(_marked_fields(model))


@lru_cache(maxsize=1024)
def _marked_fields(model: type[BaseModel]) -> frozenset[str]:
    """Names of the fields of ``model`` with a trust marker somewhere inside."""
    return frozenset(path.split(".")[0].split("[")[0] for path in declared_trust(model))


def _is_default(info: Any, value: Any) -> bool:
    """Whether ``value`` is the field's own default (the author's choice, as when unset:
    ``encoder: default`` written out means what leaving it out means)."""
    if info.is_required():
        return False
    try:
        return bool(value == info.get_default(call_default_factory=True))
    except Exception:  # a factory that needs other fields' values: not the default then
        return False


@lru_cache(maxsize=1024)
def _field_adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    info = model.model_fields[name]
    if info.metadata:
        return TypeAdapter(Annotated[(info.annotation, *info.metadata)])  # type: ignore[misc]
    return TypeAdapter(info.annotation)


def _walk(annotation: Any, kind: str | None, value: Any, path: str) -> Iterator[MarkedValue]:
    if value is None:
        return
    marker = annotated_trust(annotation)
    if marker is not None:
        kind = marker.kind
    annotation = strip_annotated(annotation)
    if kind is not None:
        yield from _spread(kind, value, path)
        return
    if isinstance(value, BaseModel):
        yield from marked_values(value, path + ".")
        return
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (Union, types.UnionType):
        if any(_is_literal_of(arm, value) for arm in args):
            return  # a sentinel of the field ("extractive"), not a path or a name
        seen: set[tuple[str, str]] = set()
        for arm in args:
            if not _fits(arm, value):
                continue
            for item in _walk(arm, None, value, path):
                if (item.path, item.kind) not in seen:
                    seen.add((item.path, item.kind))
                    yield item
        return
    if isinstance(value, dict) and args:
        for key, item in value.items():
            yield from _walk(args[-1], None, item, f"{path}.{key}")
        return
    if isinstance(value, (list, tuple, set, frozenset)) and args:
        items = list(value)
        for index, item in enumerate(items):
            if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
                arm = args[index] if index < len(args) else Any
            else:
                arm = args[0]
            yield from _walk(arm, None, item, f"{path}[{index}]")


def _spread(kind: str, value: Any, path: str) -> Iterator[MarkedValue]:
    """A marker on a container applies to each of its scalar values."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _spread(kind, item, f"{path}.{key}")
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            yield from _spread(kind, item, f"{path}[{index}]")
    elif value is not None:
        yield MarkedValue(path, kind, value)


def _is_literal_of(arm: Any, value: Any) -> bool:
    """Whether the union arm ``arm`` is a ``Literal`` that lists ``value``: the way a field
    declares sentinels beside a marked type (``ModelSource | Literal["extractive"]``)."""
    base = strip_annotated(arm)
    if get_origin(base) is not Literal:
        return False
    return any(type(option) is type(value) and option == value for option in get_args(base))


def _fits(arm: Any, value: Any) -> bool:
    """Whether ``value`` has the shape of the union arm ``arm`` (so the walk follows it)."""
    base = strip_annotated(arm)
    origin = get_origin(base) or base
    if base is type(None):
        return value is None
    if isinstance(origin, type) and issubclass(origin, BaseModel):
        return isinstance(value, origin)
    if origin in (list, tuple, set, frozenset):
        return isinstance(value, (list, tuple, set, frozenset))
    if origin is dict:
        return isinstance(value, dict)
    if origin in (Union, types.UnionType):
        return any(_fits(a, value) for a in get_args(base))
    return not isinstance(value, (BaseModel, dict, list, tuple, set, frozenset))


def declared_trust(model: type[BaseModel]) -> dict[str, str]:
    """The trust-marked fields a model declares: ``{"path": kind}``, ``[]`` for list items
    and ``.*`` for dict values (``{"sources[].path": "input_path"}``); for listings and tests."""
    found: dict[str, str] = {}
    _declare(model, "", found, set())
    return found


def _declare(model: type[BaseModel], prefix: str, found: dict[str, str], seen: set[type]) -> None:
    if model in seen:
        return
    seen = seen | {model}
    for name, info in model.model_fields.items():
        trust = trust_of(info.metadata)
        if trust is not None:
            found[prefix + name] = trust.kind
            continue
        _declare_type(info.annotation, prefix + name, found, seen)


def _declare_type(annotation: Any, path: str, found: dict[str, str], seen: set[type]) -> None:
    marker = annotated_trust(annotation)
    if marker is not None:
        found[path] = marker.kind
        return
    annotation = strip_annotated(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _declare(annotation, path + ".", found, seen)
        return
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin in (Union, types.UnionType):
        for arm in args:
            _declare_type(arm, path, found, seen)
    elif origin is dict and args:
        _declare_type(args[-1], path + ".*", found, seen)
    elif origin in (list, tuple, set, frozenset) and args:
        for arm in args:
            if arm is not Ellipsis:
                _declare_type(arm, path + "[]", found, seen)
