"""The public API of ``autoglm-prompt``: what other plugins may import.

``autoglm-finetune`` reads the same labelled files as ``prompt.load`` (TSV/CSV with real
quoting, JSONL, located errors) and splits them the same seeded, stratified way; these are the
names promised to stay. Importing this module is light (no numpy, no torch).
"""

from __future__ import annotations

from autoglm_prompt.data import (
    Example,
    labels_of,
    load_examples,
    read_jsonl,
    sample_examples,
    split_examples,
    write_jsonl,
)

__all__ = [
    "Example",
    "labels_of",
    "load_examples",
    "read_jsonl",
    "sample_examples",
    "split_examples",
    "write_jsonl",
]
