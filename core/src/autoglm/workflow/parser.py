"""The parser: workflow bytes or text in, located data (``LocatedDict``/``LocatedList``) out.

Every failure becomes a ``WorkflowError`` with the file and, where there is one, the line (and
the node and field of a value that cannot be read), so the validator and its callers never see
a ``UnicodeDecodeError``, a raw ``yaml.YAMLError``, a constructor's ``ValueError`` or a
``RecursionError``. Before PyYAML builds anything, one pass over the parse events enforces the
``ParseLimits``: nesting depth, and the expanded size of aliases (so a 500-byte alias bomb is
refused in milliseconds instead of expanding to billions of values downstream).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from typing import Any

import yaml

from autoglm.errors import WorkflowError, WorkflowProblem
from autoglm.workflow.limits import ParseLimits
from autoglm.yamlsafe import InvalidScalar, LocatedDict, LocatedList, load_located_lenient

_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "UTF-32 (little-endian)"),
    (codecs.BOM_UTF32_BE, "UTF-32 (big-endian)"),
    (codecs.BOM_UTF16_LE, "UTF-16 (little-endian)"),
    (codecs.BOM_UTF16_BE, "UTF-16 (big-endian)"),
)


def _fail(message: str, path: str | None, line: int | None = None) -> WorkflowError:
    return WorkflowError([WorkflowProblem(message, file=path, line=line)])


def decode_workflow(data: bytes, path: str | None, limits: ParseLimits) -> str:
    """The text of a workflow file's bytes: UTF-8 (a UTF-8 byte-order mark is dropped).
    Anything else is refused with what it looks like, so the user knows how to fix it."""
    if len(data) > limits.max_bytes:
        raise _fail(_too_big(len(data), limits), path)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise _fail(f"the file is {name} text; save it as UTF-8", path, 1)
    if b"\x00" in data[:4096]:
        even, odd = data[0:4096:2].count(0), data[1:4096:2].count(0)
        half = max(1, min(len(data), 4096) // 2)
        if even > 0.9 * half or odd > 0.9 * half:  # every other byte NUL: UTF-16 text
            kind = "UTF-16 or UTF-32 text without a byte-order mark"
        else:
            kind = "a binary file"
        line = data.count(b"\n", 0, data.index(b"\x00")) + 1
        raise _fail(f"not a text workflow: NUL bytes found, it looks like {kind}", path, line)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _fail(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} cannot be decoded"
            " (latin-1 or Windows-1252?); save the file as UTF-8",
            path,
            line,
        ) from None


def _code(character: object) -> int:
    """The code point of the character a ``ReaderError`` names (libyaml gives an int)."""
    return ord(character) if isinstance(character, str) and len(character) == 1 else int(character)  # type: ignore[call-overload]


def _too_big(size: int, limits: ParseLimits) -> str:
    return (
        f"the workflow is {size:,} bytes; the limit is {limits.max_bytes:,} "
        "(raise it with $AUTOGLM_WORKFLOW_MAX_BYTES)"
    )


def parse_yaml(text: str, path: str | None, limits: ParseLimits | None = None) -> Any:
    """Parse ``text`` safely into located containers within ``limits``; raises
    ``WorkflowError`` and nothing else."""
    limits = limits or ParseLimits.from_env()
    _check_size(text, path, limits)
    try:
        check_limits(text, path, limits)
        data, invalid = load_located_lenient(text)
    except WorkflowError:
        raise
    except yaml.reader.ReaderError as exc:  # a character YAML refuses: no mark, a position
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise _fail(
            f"invalid YAML: character U+{_code(exc.character):04X} at column {column} is not "
            "allowed (control characters other than tab and newline cannot appear in YAML)",
            path,
            line,
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise _fail(f"invalid YAML: {problem}", path, line) from None
    except (RecursionError, MemoryError) as exc:
        raise _fail(
            f"the YAML is too deeply nested or too large ({type(exc).__name__})", path
        ) from None
    if invalid:
        raise WorkflowError([_invalid_problem(data, marker, path) for marker in invalid[:20]])
    return data


def _check_size(text: str, path: str | None, limits: ParseLimits) -> None:
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:  # a lone surrogate, from JSON "\ud800" for example
        line = text.count("\n", 0, exc.start) + 1
        raise _fail("the text contains an unpaired surrogate character", path, line) from None
    if size > limits.max_bytes:
        raise _fail(_too_big(size, limits), path)


def enforce_limits(text: str, path: str | None, limits: ParseLimits) -> None:
    """Refuse, in one cheap pass, a text over ``limits`` (size, depth, aliases) before anything
    builds it; raises ``WorkflowError``. A syntax error is left for ``parse_yaml`` to report
    with its location. The service calls this on inline YAML in the API process."""
    _check_size(text, path, limits)
    try:
        check_limits(text, path, limits)
    except yaml.YAMLError:
        return


class _Frame:
    """An open list or mapping during the event scan: its anchor, expanded size and height,
    and where the scan is inside it (the current key, or the current item's index)."""

    __slots__ = ("anchor", "height", "key", "key_next", "mapping", "position", "size")

    def __init__(self, anchor: str | None, mapping: bool) -> None:
        self.anchor, self.mapping = anchor, mapping
        self.size, self.height = 1, 0
        self.key_next = True  # in a mapping: the next child is a key
        self.key: Any = None
        self.position: Any = -1  # the current key or item index


class _Scan:
    """One pass over the parse events, enforcing ``ParseLimits``: see ``check_limits``."""

    def __init__(self, path: str | None, limits: ParseLimits) -> None:
        self.path, self.limits = path, limits
        self.stack: list[_Frame] = []
        self.sizes: dict[str, tuple[int, int]] = {}  # anchor -> (expanded size, height)
        self.open_anchors: set[str] = set()
        self.node_ids: dict[int, str] = {}  # nodes[i] -> its id, once seen
        self.expanded = self.aliases = self.values = 0

    def fail(self, message: str, event: yaml.Event) -> WorkflowError:
        """A problem at ``event``, with the node and field the scan is in."""
        where = [frame.position for frame in self.stack]
        node: str | None = None
        if len(where) >= 2 and where[0] == "nodes" and isinstance(where[1], int):
            node = self.node_ids.get(where[1], f"nodes[{where[1]}]")
            where = where[2:]
        field = ".".join(str(part) for part in where) or None
        line = event.start_mark.line + 1
        return WorkflowError(
            [WorkflowProblem(message, file=self.path, line=line, node=node, field=field)]
        )

    def enter(self, event: yaml.Event) -> None:
        """Note where a new child of the innermost collection sits."""
        if not self.stack:
            return
        top = self.stack[-1]
        if not top.mapping:
            top.position += 1
        elif top.key_next:
            top.key_next = False
            top.key = event.value if isinstance(event, yaml.ScalarEvent) else "?"
        else:
            top.key_next = True
            top.position = top.key
            if (
                len(self.stack) == 3
                and top.key == "id"
                and isinstance(event, yaml.ScalarEvent)
                and self.stack[0].position == "nodes"
                and isinstance(self.stack[1].position, int)
            ):
                self.node_ids[self.stack[1].position] = event.value

    def add(self, size: int, height: int) -> None:
        if self.stack:
            top = self.stack[-1]
            top.size = min(top.size + size, self.limits.max_alias_nodes + 1)  # capped
            top.height = max(top.height, height)

    def run(self, text: str) -> None:
        limits = self.limits
        for event in yaml.parse(text, Loader=_EVENT_LOADER):
            if isinstance(event, yaml.ScalarEvent):
                self.enter(event)
                self.values += 1
                if event.anchor:
                    self.sizes[event.anchor] = (1, 0)
                self.add(1, 0)
            elif isinstance(event, yaml.AliasEvent):
                self.enter(event)
                self.alias(event)
            elif isinstance(event, yaml.CollectionStartEvent):
                self.enter(event)
                self.values += 1
                self.stack.append(_Frame(event.anchor, isinstance(event, yaml.MappingStartEvent)))
                if event.anchor:
                    self.open_anchors.add(event.anchor)
                if len(self.stack) > limits.max_depth:
                    raise self.fail(f"nested deeper than {limits.max_depth} levels", event)
            elif isinstance(event, yaml.CollectionEndEvent):
                frame = self.stack.pop()
                if frame.anchor:
                    self.open_anchors.discard(frame.anchor)
                    self.sizes[frame.anchor] = (frame.size, frame.height + 1)
                self.add(frame.size, frame.height + 1)
            if self.values > limits.max_values:
                raise self.fail(
                    f"the workflow holds more than {limits.max_values:,} values "
                    "(scalars, lists and mappings, with aliases expanded)",
                    event,
                )

    def alias(self, event: yaml.AliasEvent) -> None:
        limits, name = self.limits, event.anchor
        self.aliases += 1
        if limits.max_aliases is not None and self.aliases > limits.max_aliases:
            raise self.fail(f"more than {limits.max_aliases} YAML aliases; expand them", event)
        if name in self.open_anchors:
            raise self.fail(
                f"alias *{name} is inside the value it names (a recursive structure)", event
            )
        size, height = self.sizes.get(name, (1, 0))  # undefined: the loader reports it
        self.expanded += size
        self.values += size
        if self.expanded > limits.max_alias_nodes:
            raise self.fail(
                f"YAML aliases expand to more than {limits.max_alias_nodes:,} values (at *{name}); "
                "an alias repeats everything its anchor holds, so nested aliases multiply",
                event,
            )
        if len(self.stack) + height > limits.max_depth:
            raise self.fail(
                f"nested deeper than {limits.max_depth} levels (through *{name})", event
            )
        self.add(size, height)


def check_limits(text: str, path: str | None, limits: ParseLimits) -> None:
    """One pass over the parse events: refuse nesting deeper than ``max_depth``, aliases that
    expand to more than ``max_alias_nodes`` values and documents of more than ``max_values``,
    naming the node and field where the limit was crossed. Costs a fifth of building the data,
    and builds nothing. Raises ``WorkflowError``, or ``yaml.YAMLError`` for a syntax error."""
    _Scan(path, limits).run(text)


def _invalid_problem(data: Any, marker: InvalidScalar, path: str | None) -> WorkflowProblem:
    node, field = _locate(data, marker)
    return WorkflowProblem(
        f"cannot read {marker.tag.rsplit(':', 1)[-1]} value {marker.text[:60]!r}: {marker.reason}",
        file=path,
        line=marker.line,
        node=node,
        field=field,
    )


def _walk(data: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, value) below ``data``, keys included, each shared container once; iterative
    so depth costs no stack."""
    seen: set[int] = set()
    pending: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while pending:
        path, value = pending.pop()
        yield path, value
        if isinstance(value, LocatedDict | LocatedList | dict | list):
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, dict):
                for key, child in value.items():
                    pending.append(((*path, key), key))
                    pending.append(((*path, key), child))
            else:
                pending.extend(((*path, i), child) for i, child in enumerate(value))


def _locate(data: Any, marker: InvalidScalar) -> tuple[str | None, str | None]:
    """(node id, dotted field) of where ``marker`` sits in a workflow's data."""
    for path, value in _walk(data):
        if value is marker:
            return _node_and_field(data, path)
    return None, None


def _node_and_field(data: Any, path: tuple[Any, ...]) -> tuple[str | None, str | None]:
    if not path:
        return None, None
    if path[0] == "nodes" and len(path) >= 2 and isinstance(data.get("nodes"), list):
        raw = data["nodes"][path[1]]
        node_id = raw.get("id") if isinstance(raw, dict) else None
        node = node_id if isinstance(node_id, str) else f"nodes[{path[1]}]"
        return node, ".".join(str(p) for p in path[2:]) or None
    return None, ".".join(str(p) for p in path)
