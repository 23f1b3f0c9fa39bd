"""Dependency order of a workflow's nodes, and one cycle to show when there is no order."""

from __future__ import annotations


def _find_cycle(deps: dict[str, set[str]]) -> list[str]:
    """One cycle as a path ``a -> b -> a`` (depth-first search over dependencies)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(deps[node]):
            if state.get(dep) == 1:
                return [*stack[stack.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(deps):
        if node not in state:
            found = visit(node)
            if found:
                return list(reversed(found))
    return []
