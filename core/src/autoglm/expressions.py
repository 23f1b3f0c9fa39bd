"""The ``when`` conditions of workflow nodes: a tiny, safe expression language.

``when: "route.task == 'qa' and inputs.mode != 'fast'"`` is parsed with Python's ``ast`` module
and evaluated by walking a whitelist of node kinds: comparisons, ``and``/``or``/``not``,
literals, lists, and references (``node.field``, ``node.field.key``, ``inputs.name``,
``node['field']``). There are no calls, no attribute access on objects, no names other than
references, so nothing in a workflow can run code.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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


class ExpressionError(ValueError):
    """The expression is not valid in the ``when`` language."""


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
        return bool(_evaluate(self.tree.body, resolve))


def parse_condition(source: str) -> Condition:
    """Parse and check ``source``; raises ``ExpressionError`` naming what is not allowed."""
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {source!r}: {exc.msg}") from exc
    references: list[Reference] = []
    _check(tree.body, references)
    return Condition(source=source, tree=tree, references=tuple(references))


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


def _evaluate(node: ast.expr, resolve: Callable[[Reference], Any]) -> Any:
    if isinstance(node, ast.BoolOp):
        if isinstance(node.op, ast.And):
            return all(_evaluate(v, resolve) for v in node.values)
        return any(_evaluate(v, resolve) for v in node.values)
    if isinstance(node, ast.UnaryOp):
        value = _evaluate(node.operand, resolve)
        return (not value) if isinstance(node.op, ast.Not) else -value
    if isinstance(node, ast.Compare):
        left = _evaluate(node.left, resolve)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _evaluate(comparator, resolve)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError:
                return False
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
