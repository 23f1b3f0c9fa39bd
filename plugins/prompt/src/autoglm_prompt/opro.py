"""New instructions proposed by a generative model from the best and worst so far (OPRO).

Following Yang et al. 2023 ("Large Language Models as Optimizers"), the meta-prompt lists
scored instructions in ascending order of score, so the model sees what works and what does
not, shows a few task examples, and asks for a new instruction different from all of them.
Proposals are parsed from ``<INS>...</INS>`` tags, or the first non-empty line when the model
ignores the tags; blanks, duplicates and over-long texts are dropped.
"""

from __future__ import annotations

import re
from typing import Any

from autoglm_prompt.budget import CallBudget

MAX_INSTRUCTION_CHARS = 300


def meta_prompt(
    scored: list[tuple[str, float]],
    examples: list[dict[str, str]],
    verbalizers: dict[str, str],
    *,
    top: int = 4,
    bottom: int = 2,
) -> str:
    """The meta-prompt: worst and best instructions (ascending score) and a few examples."""
    ranked = sorted(scored, key=lambda item: item[1])
    shown = ranked[:bottom] + [s for s in ranked[-top:] if s not in ranked[:bottom]]
    lines = [
        "Your task is to write an instruction for classifying texts. Below are earlier "
        "instructions with their accuracy, from worst to best.",
        "",
    ]
    for instruction, score in shown:
        lines += [f"<INS>{instruction or '(empty)'}</INS>", f"accuracy: {100 * score:.1f}", ""]
    lines.append("Examples of the task (text -> answer):")
    for example in examples:
        lines.append(f"{example['text']} -> {verbalizers[example['label']]}")
    lines += [
        "",
        "Write a new instruction that is different from all the instructions above and has a "
        "higher accuracy. Put it between <INS> and </INS>.",
    ]
    return "\n".join(lines)


def parse_instructions(answer: str) -> list[str]:
    """Instructions found in a model answer (tagged ones, else its first non-empty line)."""
    found = re.findall(r"<INS>(.*?)</INS>", answer, flags=re.DOTALL | re.IGNORECASE)
    if not found:
        first = next((line for line in answer.splitlines() if line.strip()), "")
        found = [re.sub(r"^\s*(<INS>|instruction:)\s*", "", first, flags=re.IGNORECASE)]
    cleaned = [" ".join(text.split()) for text in found]
    return [t for t in cleaned if t and t != "(empty)" and len(t) <= MAX_INSTRUCTION_CHARS]


def propose(
    model: Any,
    scored: list[tuple[str, float]],
    examples: list[dict[str, str]],
    verbalizers: dict[str, str],
    *,
    n: int,
    budget: CallBudget,
    seed: int = 0,
    temperature: float = 1.0,
) -> list[str]:
    """Up to ``n`` new instructions (one sampled completion each), none already in ``scored``."""
    budget.charge(n)
    prompt = meta_prompt(scored, examples, verbalizers)
    answers = model.generate(
        [prompt] * n, max_new_tokens=64, temperature=temperature, top_p=0.95, seed=seed
    )
    known = {instruction for instruction, _ in scored}
    out: list[str] = []
    for answer in answers:
        for instruction in parse_instructions(answer):
            if instruction not in known and instruction not in out:
                out.append(instruction)
    return out[:n]
