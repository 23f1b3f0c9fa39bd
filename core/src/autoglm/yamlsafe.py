"""Safe YAML loading that remembers where each key and item came from.

Only YAML's standard tags are understood (``yaml.SafeLoader``): no tag or field of a workflow
can construct Python objects or run code. Mappings load as ``LocatedDict`` and sequences as
``LocatedList``, which carry the 1-based line of the container and of each key or item, so that
validation errors can say ``workflow.yaml:14: node 'train': field 'config.lr': ...``.

A scalar that YAML's own constructors cannot turn into a value (``!!float 'x'``,
``!!bool maybe``, an integer of 5,000 digits) raises ``ValueError`` or ``KeyError`` inside
PyYAML, not ``yaml.YAMLError``; here it becomes an ``InvalidScalar`` placed where the value
would be, so the caller can say where it is (which node, which field) instead of crashing.
"""

from __future__ import annotations

from typing import Any

import yaml

#: Integers must fit in 64 bits (signed or unsigned): beyond that a value is a typo, JSON
#: consumers lose it, and Python refuses to print one of over 4,300 digits.
INT_MIN, INT_MAX = -(2**63), 2**64 - 1
_INT_MAX_CHARS = 80  # checked before converting, so a 1 MB digit string is never parsed
_MERGE_TAG = "tag:yaml.org,2002:merge"


class LocatedDict(dict):
    """A dict with ``line`` (where the mapping starts) and ``lines`` (line of each key)."""

    line: int | None = None
    lines: dict[Any, int]

    def line_of(self, key: Any) -> int | None:
        return getattr(self, "lines", {}).get(key, self.line)


class LocatedList(list):
    """A list with ``line`` (where the sequence starts) and ``lines`` (line of each item)."""

    line: int | None = None
    lines: list[int]

    def line_of(self, index: int) -> int | None:
        lines = getattr(self, "lines", [])
        return lines[index] if 0 <= index < len(lines) else self.line


class InvalidScalar:
    """A value YAML could not construct, kept in place of it with its tag, text and line."""

    __slots__ = ("line", "reason", "tag", "text")

    def __init__(self, tag: str, text: str, reason: str, line: int) -> None:
        self.tag, self.text, self.reason, self.line = tag, text, reason, line

    def __repr__(self) -> str:
        return f"<invalid {self.tag} {self.text[:40]!r}>"


_SAFE_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present


class _LocatingLoader(_SAFE_BASE):  # type: ignore[misc,valid-type]
    """SafeLoader whose containers remember their source lines and whose failing scalars
    become ``InvalidScalar`` values listed in ``invalid``."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.invalid: list[InvalidScalar] = []

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, RecursionError, MemoryError):
            raise
        except Exception as exc:  # ValueError, KeyError, OverflowError... of a constructor
            text = node.value if isinstance(node, yaml.ScalarNode) else ""
            if node.tag.endswith(":bool"):
                reason = "expected true or false (YAML also reads yes/no, on/off)"
            else:
                reason = f"{type(exc).__name__}: {exc}" if isinstance(exc, KeyError) else str(exc)
            marker = InvalidScalar(node.tag, str(text), reason, node.start_mark.line + 1)
            self.invalid.append(marker)
            # forget the half-built node, so an alias to it reads the marker too
            self.recursive_objects.pop(node, None)
            self.constructed_objects[node] = marker
            return marker


def _construct_mapping(loader: _LocatingLoader, node: yaml.MappingNode) -> LocatedDict:
    """A located mapping. Keys written twice are an error; keys that ``<<`` merge keys bring
    in are overridden by the mapping's own, as YAML's merge-key rule says."""
    own = sum(1 for key_node, _ in node.value if key_node.tag != _MERGE_TAG)
    loader.flatten_mapping(node)
    merged = len(node.value) - own  # flatten_mapping puts merged pairs first
    result = LocatedDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    own_keys: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable key",
                key_node.start_mark,
            ) from exc
        if index >= merged:
            if key in own_keys:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {_key_text(key)}",
                    key_node.start_mark,
                )
            own_keys.add(key)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _key_text(key: Any) -> str:
    text = repr(key) if not isinstance(key, int) else str(key)
    return text if len(text) <= 80 else text[:77] + "..."


def _construct_sequence(loader: _LocatingLoader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


def _construct_int(loader: _LocatingLoader, node: yaml.ScalarNode) -> int:
    text = str(node.value)
    if len(text) > _INT_MAX_CHARS:
        raise ValueError(f"integer of {len(text)} characters is out of range (64 bits at most)")
    value = yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"integer {text} is out of range (64 bits at most)")
    return value


_LocatingLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LocatingLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence
)
_LocatingLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def load_located_lenient(text: str) -> tuple[Any, list[InvalidScalar]]:
    """Parse YAML text safely into located containers, with the scalars that could not be
    constructed left in place as ``InvalidScalar``. Raises ``yaml.YAMLError``."""
    loader = _LocatingLoader(text)
    try:
        return loader.get_single_data(), loader.invalid
    finally:
        loader.dispose()


def load_located(text: str) -> Any:
    """Parse YAML text safely into located containers. Raises ``yaml.YAMLError``, also for a
    scalar that cannot be constructed."""
    data, invalid = load_located_lenient(text)
    if invalid:
        first = invalid[0]
        raise yaml.constructor.ConstructorError(
            None, None, f"cannot read {first.tag} value {first.text[:40]!r}: {first.reason}"
        )
    return data


def line_of(container: Any, key: Any) -> int | None:
    """The line of ``key`` in a located container, or of the container, or None."""
    if isinstance(container, LocatedDict | LocatedList):
        return container.line_of(key)
    return None
