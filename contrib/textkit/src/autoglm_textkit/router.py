"""``textkit.keyword_router``: decide a text's task type from keyword rules.

The first rule with a matching keyword wins (rules are checked in the order written), so a
workflow can route with ``when: "route.task == 'qa'"``. Matching is on whole words, case-
insensitive; a keyword that is not a word (``?``) matches as a substring.
"""

from __future__ import annotations

import re

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType

DEFAULT_RULES = {
    "summary": ["summarize", "summarise", "summary", "tl;dr", "overview", "condense"],
    "qa": ["?", "what", "how", "why", "when", "who", "which", "where", "explain"],
}


class RouterConfig(NodeModel):
    rules: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_RULES.items()},
        description="Task type -> keywords; checked in order, first match wins.",
    )
    default: str = Field("qa", description="Task type when no rule matches.")


class RouterInputs(NodeModel):
    text: str


class RouterOutputs(NodeModel):
    task: str
    matched: str | None = None


def _pattern(keyword: str) -> re.Pattern[str]:
    if re.fullmatch(r"[\w\s'-]+", keyword):
        return re.compile(rf"\b{re.escape(keyword)}\b", re.IGNORECASE)
    return re.compile(re.escape(keyword), re.IGNORECASE)


def route(text: str, rules: dict[str, list[str]], default: str) -> tuple[str, str | None]:
    """The task type of ``text`` and the keyword that decided it (None for the default)."""
    for task, keywords in rules.items():
        for keyword in keywords:
            if _pattern(keyword).search(text):
                return task, keyword
    return default, None


class KeywordRouterNode(NodeType):
    """Recognise the task type of a text (qa, summary, ...) from keyword rules."""

    name = "textkit.keyword_router"
    Config = RouterConfig
    Inputs = RouterInputs
    Outputs = RouterOutputs

    def execute(self, inputs: RouterInputs, context: NodeContext) -> RouterOutputs:
        config = self.config
        assert isinstance(config, RouterConfig)
        task, matched = route(inputs.text, config.rules, config.default)
        return RouterOutputs(task=task, matched=matched)
