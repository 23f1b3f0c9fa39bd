"""Safe prompt templates: ``{name}`` placeholders and nothing else.

``str.format`` lets a template reach attributes and items (``{x.__class__}``, ``{x[0]}``) and
pad to arbitrary widths (``{x:>999999999}``), which is too much for text that arrives from a
workflow file or a prompt optimiser. Here a placeholder is a bare identifier, without
conversion or format spec; ``{{`` and ``}}`` write literal braces. Lists are joined one item per
line, so retrieved passages drop straight into a prompt.
"""

from __future__ import annotations

import string
from typing import Any

from autoglm_hf.errors import AdapterError


class TemplateError(AdapterError, ValueError):
    """A template uses a forbidden construct or a value it needs is missing (a ValueError too,
    so pydantic validators report it as a field error)."""


def placeholders(template: str) -> list[str]:
    """The names a template needs, in order of first use; raises on forbidden constructs."""
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"template: {exc} (write literal braces as {{{{ and }}}})") from exc
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier():
            raise TemplateError(
                f"template: placeholder {{{field}}} is not allowed; expected a bare name like "
                "{question} (no attributes, indexes or positional fields)"
            )
        if spec or conversion:
            raise TemplateError(
                f"template: placeholder {{{field}}} has a conversion or format spec; "
                "expected a bare name"
            )
        if field not in names:
            names.append(field)
    return names


def _as_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "\n".join(_as_text(v) for v in value)
    return "" if value is None else str(value)


def render(template: str, values: dict[str, Any]) -> str:
    """Fill ``template``'s placeholders from ``values`` (extra values are ignored)."""
    needed = placeholders(template)
    missing = [name for name in needed if name not in values]
    if missing:
        raise TemplateError(f"template needs {missing} but only {sorted(values)} were given")
    return template.format_map({name: _as_text(values[name]) for name in needed})
