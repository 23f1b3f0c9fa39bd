"""The ``when`` conditions of workflow nodes: a tiny, safe expression language.

``when: "route.task == 'qa' and inputs.mode != 'fast'"`` is parsed with Python's ``ast`` module
and evaluated by walking a whitelist of node kinds: comparisons, ``and``/``or``/``not``,
literals, lists, and references (``node.field``, ``node.field.key``, ``inputs.name``,
``node['field']``). There are no calls, no attribute access on objects, no names other than
references, so nothing in a workflow can run code.

An expression is bounded before Python parses it (length, then depth of the parsed tree), so a
``when`` nested 5,000 deep is an error message, not a ``RecursionError``. At run time a
comparison that cannot be made (``1 in 'abc'``, ``None < 3``) raises ``ConditionError`` naming
the expression and the values it saw: the node fails instead of being silently skipped.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autoglm.shortrepr import short

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}
_CONSTANT_NAMES = {"true": True, "false": False, "null": None, "none": None}
#: defaults of ``parse_condition``'s bounds; real conditions are one line and a few levels deep
MAX_CHARS = 1_000
MAX_DEPTH = 32


class ExpressionError(ValueError):
    """The expression is not valid in the ``when`` language."""


class ConditionError(ExpressionError):
    """A valid expression could not be evaluated on the values of this run."""


@dataclass(frozen=True)
class Reference:
    """``root.path[0].path[1]...``; ``root`` is a node id or ``inputs``."""

    root: str
    path: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join((self.root, *self.path))


@dataclass(frozen=True)
class Condition:
    """A parsed ``when`` expression and the references it reads."""

    source: str
    tree: ast.Expression
    references: tuple[Reference, ...]

    def evaluate(self, resolve: Callable[[Reference], Any]) -> bool:
        """True or false on the values ``resolve`` gives; raises ``ConditionError`` when a
        comparison cannot be made or the result has no truth value."""
        try:
            return bool(_evaluate(self.tree.body, resolve))
        except ConditionError as exc:
            raise ConditionError(f"when {self.source!r}: {exc}") from None
        except Exception as exc:  # a value whose __bool__ or __eq__ raises, for example
            raise ConditionError(
                f"when {self.source!r} raised {type(exc).__name__}: {exc}"
            ) from None


def parse_condition(
    source: str, *, max_chars: int = MAX_CHARS, max_depth: int = MAX_DEPTH
) -> Condition:
    """Parse and check ``source``; raises ``ExpressionError`` naming what is not allowed."""
    if len(source) > max_chars:
        raise ExpressionError(
            f"the expression is {len(source):,} characters long; at most {max_chars:,} are allowed"
        )
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {_quote(source)}: {exc.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(
            f"the expression is nested too deeply (at most {max_depth} levels)"
        ) from None
    depth = _depth(tree.body)
    if depth > max_depth:
        raise ExpressionError(
            f"the expression is nested {depth} levels deep; at most {max_depth} are allowed"
        )
    references: list[Reference] = []
    _check(tree.body, references)
    return Condition(source=source, tree=tree, references=tuple(references))


def _depth(root: ast.AST) -> int:
    """Depth of an expression tree, without recursion (the tree may be thousands deep)."""
    deepest = 0
    pending = [(root, 1)]
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        pending.extend(
            (child, level + 1)
            for child in ast.iter_child_nodes(node)
            if not isinstance(child, ast.expr_context)  # Load/Store leaves are no level
        )
    return deepest


def _quote(source: str) -> str:
    return repr(source) if len(source) <= 80 else repr(source[:77] + "...")


def _reference(node: ast.expr) -> Reference | None:
    """Turn ``a.b.c`` / ``a['b']`` chains into a Reference; None if not a plain chain."""
    path: list[str] = []
    while True:
        if isinstance(node, ast.Attribute):
            path.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
            path.append(str(node.slice.value))
            node = node.value
        elif isinstance(node, ast.Name):
            return Reference(node.id, tuple(reversed(path)))
        else:
            return None


def _check(node: ast.expr, references: list[Reference]) -> None:
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, references)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        _check(node.operand, references)
    elif isinstance(node, ast.Compare):
        if not all(type(op) in _COMPARE for op in node.ops):
            raise ExpressionError("unsupported comparison operator")
        _check(node.left, references)
        for comparator in node.comparators:
            _check(comparator, references)
    elif isinstance(node, ast.Constant):
        return
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        for element in node.elts:
            _check(element, references)
    elif isinstance(node, ast.Name) and node.id.lower() in _CONSTANT_NAMES:
        return
    elif isinstance(node, ast.Name | ast.Attribute | ast.Subscript):
        ref = _reference(node)
        if ref is None:
            raise ExpressionError(f"unsupported reference {ast.unparse(node)!r}")
        references.append(ref)
    else:
        raise ExpressionError(
            f"{type(node).__name__} is not allowed in a condition "
            "(only comparisons, and/or/not, literals and references)"
        )


_SYMBOLS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}


def _evaluate(node: ast.expr, resolve: Callable[[Reference], Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_evaluate(v, resolve) for v in node.values)
        return any(_evaluate(v, resolve) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, resolve)
        if isinstance(node.op, ast.Not):
            return not value
        try:
            return -value
        except TypeError as exc:
            raise ConditionError(f"cannot negate {short(value)}: {exc}") from None
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, resolve)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, resolve)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError as exc:
                symbol = _SYMBOLS.get(type(op), type(op).__name__)
                raise ConditionError(
                    f"cannot compare {short(left)} {symbol} {short(right)}: {exc}"
                ) from None
            left = right
        return True
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [_evaluate(e, resolve) for e in node.elts]
    if isinstance(node, ast.Name) and node.id.lower() in _CONSTANT_NAMES:
        return _CONSTANT_NAMES[node.id.lower()]
    ref = _reference(node)
    if ref is None:  # pragma: no cover - rejected by _check
        raise ExpressionError(f"unsupported expression {ast.unparse(node)!r}")
    return resolve(ref)
