"""Dependency order of a workflow's nodes, and one cycle to show when there is no order.

Both are iterative: a workflow of thousands of nodes in one chain or one cycle must not hit
Python's recursion limit (a 3,000-node cycle did, with a ``RecursionError``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator

#: a cycle longer than this is shown by its ends, not every node
_SHOWN = 12


def topological_order(deps: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """``(order, cycle)``: Kahn's order of the nodes that have one (ties in ``deps`` order),
    and one cycle ``a -> b -> a`` if some nodes have none (else ``[]``)."""
    indegree = {node: len(parents) for node, parents in deps.items()}
    children: dict[str, list[str]] = {node: [] for node in deps}
    for node, parents in deps.items():
        for parent in parents:
            children[parent].append(node)
    ready = deque(node for node, count in indegree.items() if count == 0)
    order: list[str] = []
    while ready:
        current = ready.popleft()
        order.append(current)
        for child in children[current]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    return order, (_find_cycle(deps) if len(order) < len(deps) else [])


def _find_cycle(deps: dict[str, set[str]]) -> list[str]:
    """One cycle as a path ``a -> b -> a`` (depth-first search over dependencies, with an
    explicit stack)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(deps):
        if start in state:
            continue
        path: list[str] = [start]
        position: dict[str, int] = {start: 0}
        iterators: list[Iterator[str]] = [iter(sorted(deps[start]))]
        state[start] = 1
        while iterators:
            dep = next(iterators[-1], None)
            if dep is None:
                done = path.pop()
                del position[done]
                iterators.pop()
                state[done] = 2
            elif state.get(dep) == 1:
                return list(reversed([*path[position[dep] :], dep]))
            elif dep not in state:
                state[dep] = 1
                position[dep] = len(path)
                path.append(dep)
                iterators.append(iter(sorted(deps.get(dep, ()))))
    return []


def describe_cycle(cycle: list[str]) -> str:
    """``a -> b -> a``, or its first and last nodes for a long one."""
    if len(cycle) <= _SHOWN:
        return " -> ".join(cycle)
    head, tail = cycle[: _SHOWN // 2], cycle[-_SHOWN // 2 :]
    hidden = len(cycle) - len(head) - len(tail)
    return f"{' -> '.join(head)} -> ({hidden} more) -> {' -> '.join(tail)}"
