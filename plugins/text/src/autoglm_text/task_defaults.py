"""Default rules and labelled examples of ``text.task_type`` (qa vs summary).

Rules catch the explicit cases cheaply and predictably ("summarise ...", a trailing question
mark); the labelled examples cover phrasing no rule anticipated ("give me the gist of this").
Both are plain data so a workflow can replace them with its own task types.
"""

from __future__ import annotations

#: Task type -> regular expressions (case-insensitive), checked in order; first match wins.
#: Summary comes first: "Can you summarise this?" is a request, not a question to answer.
DEFAULT_RULES: dict[str, list[str]] = {
    "summary": [
        r"\bsummari[sz](e|ing)\b",
        r"\bsummary\b",
        r"\btl;?dr\b",
        r"\b(condense|shorten)\b",
    ],
    "qa": [
        r"\?\s*$",
        r"^\s*(what|how|why|who|when|where|which|is|are|does|do|can)\b",
    ],
}

#: Task type -> example requests, for the nearest-neighbour fallback.
DEFAULT_EXAMPLES: dict[str, list[str]] = {
    "qa": [
        "Tell me how plugins are discovered",
        "Explain what a node type is",
        "I would like to know which search strategies the tuner offers",
        "Define the run store",
        "Name the retry options of a workflow node",
    ],
    "summary": [
        "Give me the gist of the following text",
        "Boil this report down to a few sentences",
        "Key points of this article please",
        "Write a short abstract for the passage below",
        "Make this long document brief",
    ],
}
