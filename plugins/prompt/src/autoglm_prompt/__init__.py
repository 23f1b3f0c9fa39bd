"""Prompt optimisation for autoglm: instructions, verbalizers and few-shot examples searched
with Nevergrad, scored by any model adapter."""
