"""Seeded fuzzing of the workflow validator: adversarial files and mutations of real ones.

The validator reads files written by people who make mistakes and, through the service, by
people who attack it. Its contract is that every input, however broken, ends in a ``Workflow``
or a ``WorkflowError`` whose problems each name the file and a line, node or field, quickly.
``fuzz_cases`` yields the adversarial cases that once broke it (see issue 10, finding 6, and
issue 11's alias bomb) and then seeded mutations of the given seed workflows; ``check_case``
runs one case and classifies the outcome. The suite's fuzz test and ``bench/fuzz_workflows.py``
share both, so the benchmark measures exactly what the test asserts.
"""

from __future__ import annotations

import random
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from autoglm.errors import WorkflowError, WorkflowProblem
from autoglm.plugins import Host
from autoglm.workflow import load_workflow


class CaseTimeout(BaseException):
    """Raised by a caller's timer (``signal.alarm``) to stop a case that hangs; passes through
    ``check_case`` so the caller can count the hang."""


#: Problems of the whole file, which have no line, node or field to give.
WHOLE_FILE = ("the workflow is ", "cannot read workflow")
INTERNAL = "internal validator error"

_BASE = """\
name: fuzz
nodes:
  - id: a
    type: core.const
    config: {value: 1}
  - id: b
    type: core.noop
    inputs: {value: $a.value}
outputs:
  out: $b.value
"""

#: Values that broke or fooled the validator, written where a scalar goes.
SCALARS = (
    "!!float 'x'",
    "!!bool maybe",
    "!!int 'ten'",
    "!!timestamp 2024-13-45",
    "!!binary 'not base64!'",
    "!!python/object/apply:os.system ['true']",
    "!!set {a, b}",
    "9" * 5000,
    "-" + "9" * 30,
    "0x" + "f" * 5000,
    "0o" + "7" * 300,
    "1e400",
    ".nan",
    "-.inf",
    "-1",
    "0",
    "[]",
    "{}",
    "''",
    "~",
    "*undefined",
    "$nosuch.value",
    "$inputs.nosuch",
    "$workflow.nosuch",
    "$a.nosuch.deeper",
    "{first_of: []}",
    "{first_of: [1, [2]]}",
    "'" + "x" * 5000 + "'",
    "[" * 80 + "]" * 80,
    '"\\ud800"',
    "{1: a, b: c}",
    "[[1, 2], {a: b}]",
    "&anchor 5",
)

#: Lines that broke or fooled the validator, inserted among a node's keys.
NODE_LINES = (
    "    timeout: -1",
    "    timeout: 0",
    "    timeout: .nan",
    "    timeout: 0x" + "f" * 5000,
    "    retry: 0x" + "f" * 5000,
    "    retry: {attempts: 1000000, backoff: .inf}",
    "    when: 5",
    "    when: []",
    "    when: true",
    "    when: \"1 in 'abc'\"",
    '    when: "' + "not " * 5000 + 'true"',
    '    when: "' + "not " * 200 + 'true"',
    '    when: "' + "(" * 300 + "1" + ")" * 300 + '"',
    "    when: \"__import__('os').system('true')\"",
    "    config: []",
    "    inputs: []",
    "    inputs: {value: $b.value}",
    "    isolation: sideways",
    "    cache: maybe",
    "    nosuchkey: 1",
    "    type: [core.const]",
    "    id: inputs",
)


def alias_bomb(levels: int, indent: str = "") -> str:
    """YAML of ``levels`` nested anchors, each 9 aliases of the one before: 9**levels values
    from a text of about 60 bytes per level."""
    lines = [f"{indent}x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [
        f"{indent}x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)
    ]
    return "\n".join(lines) + "\n"


def adversarial_cases() -> dict[str, bytes]:
    """The named cases of the findings: encodings, numbers, tags, graph size, expressions,
    aliases, size and depth, and settings that cannot work."""
    cases: dict[str, bytes] = {
        "utf16": _BASE.encode("utf-16"),
        "utf16-no-bom": _BASE.encode("utf-16-le"),
        "utf32": _BASE.encode("utf-32"),
        "latin1": (_BASE + "description: caf\xe9\n").encode("latin-1"),
        "binary": bytes(range(256)) * 8,
        "empty": b"",
        "scalar-document": b"just a string\n",
        "two-documents": (_BASE + "---\n" + _BASE).encode(),
        "cycle-3000": _chain(3000, cyclic=True).encode(),
        "chain-3000": _chain(3000, cyclic=False).encode(),
        "big-file": (_BASE + "description: '" + "x" * 1_100_000 + "'\n").encode(),
        "deep-nesting": _BASE.replace("{value: 1}", "[" * 5000 + "]" * 5000).encode(),
        "recursive-alias": (_BASE + "description: &loop [a, *loop]\n").encode(),
    }
    for where in ("config", "inputs", "outputs"):
        for levels in (8, 9):
            cases[f"alias-bomb-{where}-{levels}"] = _bomb_in(where, levels).encode()
    for index, line in enumerate(NODE_LINES):
        cases[f"node-line-{index}"] = _insert_node_line(_BASE, line).encode()
    for index, scalar in enumerate(SCALARS):
        cases[f"scalar-{index}"] = _BASE.replace("{value: 1}", f"{{value: {scalar}}}").encode()
    return cases


def _chain(n: int, *, cyclic: bool) -> str:
    first = (
        f"  - {{id: n0, type: core.noop, inputs: {{value: $n{n - 1}.value}}}}\n"
        if cyclic
        else "  - {id: n0, type: core.const, config: {value: 1}}\n"
    )
    return (
        "nodes:\n"
        + first
        + "".join(
            f"  - {{id: n{i}, type: core.noop, inputs: {{value: $n{i - 1}.value}}}}\n"
            for i in range(1, n)
        )
    )


def _bomb_in(where: str, levels: int) -> str:
    if where == "outputs":
        return _BASE + "  bomb:\n" + alias_bomb(levels, "    ")
    kind, key = ("core.const", "config") if where == "config" else ("core.noop", "inputs")
    return f"nodes:\n  - id: a\n    type: {kind}\n    {key}:\n      value:\n" + alias_bomb(
        levels, "        "
    )


def _insert_node_line(text: str, line: str) -> str:
    lines = text.splitlines()
    return "\n".join([*lines[:3], line, *lines[3:]]) + "\n"


# ---------------------------------------------------------------- mutations


def mutate(text: str, rng: random.Random) -> bytes:
    """One to three random edits of ``text``: lines deleted, duplicated, swapped, re-indented
    or truncated, values replaced by ``SCALARS``, ``NODE_LINES`` inserted, references broken,
    bytes flipped, or the whole text re-encoded."""
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        if not lines:
            lines = [""]
        op = rng.randrange(11)
        i = rng.randrange(len(lines))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2 and i + 1 < len(lines):
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
        elif op == 3 and ":" in lines[i]:
            key = lines[i].split(":", 1)[0]
            lines[i] = f"{key}: {rng.choice(SCALARS)}"
        elif op == 4:
            indent = " " * (len(lines[i]) - len(lines[i].lstrip()))
            lines.insert(i, indent + rng.choice(NODE_LINES).lstrip())
        elif op == 5:
            lines[i] = " " * rng.choice((0, 1, 2, 4, 6)) + lines[i].lstrip()
        elif op == 6:
            lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
        elif op == 7 and "$" in lines[i]:
            lines[i] = lines[i].replace("$", rng.choice(("$nosuch.", "$", "$$", "$inputs.x")), 1)
        elif op == 8:
            pos = rng.randrange(len(lines[i]) + 1)
            char = rng.choice("\t\x00\x07{}[]&*!|>%@`'\"#:-,?\u2028\ufeff\U0001f600")
            lines[i] = lines[i][:pos] + char + lines[i][pos:]
        elif op == 9:
            lines.insert(i, alias_bomb(rng.randint(2, 9), " " * rng.choice((0, 2, 4, 6))))
        else:
            lines.append(rng.choice(("description: &d [a, b]", "version: *d", "<<: {}", "? [a]")))
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    roll = rng.random()
    if roll < 0.03:
        return "\n".join(lines).encode("utf-16", "surrogatepass")
    if roll < 0.06:
        return "\n".join(lines).encode("latin-1", "replace")
    if roll < 0.10 and data:
        flipped = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return bytes(flipped)
    return data


def fuzz_cases(seeds: dict[str, str], count: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """``count`` cases: every adversarial case once, then seeded mutations of ``seeds``
    (name to YAML text) and of a small built-in workflow."""
    rng = random.Random(seed)
    produced = 0
    for name, data in adversarial_cases().items():
        if produced >= count:
            return
        produced += 1
        yield name, data
    pool = sorted({**seeds, "builtin": _BASE}.items())
    while produced < count:
        name, text = rng.choice(pool)
        produced += 1
        yield f"{name}~{produced}", mutate(text, rng)


# ---------------------------------------------------------------- outcomes


@dataclass
class Outcome:
    """How one case ended: ``kind`` is valid, invalid (every problem located), unlocated,
    internal (the validator's safety net caught a bug) or traceback. ``seconds`` is wall time;
    ``cpu_seconds`` is this process's CPU time, the cost of the case even on shared cores."""

    name: str
    kind: str
    seconds: float
    detail: str = ""
    cpu_seconds: float = 0.0
    problems: list[WorkflowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.kind in {"valid", "invalid"}


def located(problem: WorkflowProblem, path: str) -> bool:
    """A problem names the file and a line, node or field (or is about the whole file)."""
    if problem.file != path:
        return False
    if problem.line is not None or problem.node or problem.field:
        return True
    return problem.message.startswith(WHOLE_FILE)


def check_case(name: str, data: bytes, host: Host, folder: Path) -> Outcome:
    """Write ``data`` to a file in ``folder``, load it, and classify what happened."""
    path = folder / "case.yaml"
    path.write_bytes(data)
    started, cpu = time.perf_counter(), time.process_time()
    kind, detail, problems = "valid", "", []
    try:
        load_workflow(path, host)
    except WorkflowError as exc:
        problems = exc.problems
        internal = [p for p in problems if p.message.startswith(INTERNAL)]
        loose = [p for p in problems if not located(p, str(path))]
        kind = "internal" if internal else "unlocated" if loose else "invalid"
        detail = str((internal or loose or [""])[0])
    except BaseException as exc:  # what the fuzzing looks for: any escape is a bug
        if isinstance(exc, KeyboardInterrupt | CaseTimeout):
            raise
        kind, detail = "traceback", "".join(traceback.format_exception(exc))
    seconds = time.perf_counter() - started
    return Outcome(name, kind, seconds, detail, time.process_time() - cpu, problems)
