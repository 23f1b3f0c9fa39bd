"""Bounded ``repr`` of values found in a workflow, for error messages.

A message quotes what it found, but what it found may be a 1 MB string, a structure that
aliases expand to 100,000 items, or an integer whose ``repr`` Python refuses (over 4,300
digits): a message must stay short and building it must never raise.
"""

from __future__ import annotations

import reprlib
from typing import Any

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxdict = 6
_REPR.maxlong = 40


def short(value: Any) -> str:
    """``repr(value)`` cut to about 80 characters; never raises."""
    if isinstance(value, int) and value.bit_length() > 128:
        return f"<an integer of about {int(value.bit_length() * 0.30103) + 1} digits>"
    try:
        return _REPR.repr(value)
    except Exception:  # a value whose repr fails is still named, by its type
        return f"<{type(value).__name__}>"
