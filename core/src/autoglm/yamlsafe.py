"""Safe YAML loading that remembers where each key and item came from.

Only YAML's standard tags are understood (``yaml.SafeLoader``): no tag or field of a workflow
can construct Python objects or run code. Mappings load as ``LocatedDict`` and sequences as
``LocatedList``, which carry the 1-based line of the container and of each key or item, so that
validation errors can say ``workflow.yaml:14: node 'train': field 'config.lr': ...``.
"""

from __future__ import annotations

from typing import Any

import yaml


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


_SAFE_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present


class _LocatingLoader(_SAFE_BASE):  # type: ignore[misc,valid-type]
    """SafeLoader whose containers remember their source lines."""


def _construct_mapping(loader: _LocatingLoader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    result = LocatedDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
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
        if key in result:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LocatingLoader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LocatingLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LocatingLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence
)


def load_located(text: str) -> Any:
    """Parse YAML text safely into located containers. Raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=_LocatingLoader)


def line_of(container: Any, key: Any) -> int | None:
    """The line of ``key`` in a located container, or of the container, or None."""
    if isinstance(container, LocatedDict | LocatedList):
        return container.line_of(key)
    return None
