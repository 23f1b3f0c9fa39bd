"""Tiny causal language models built on the spot, for tests and offline demos.

No chat model can be downloaded in CI, yet the adapters, the OpenAI-compatible server and every
workflow that generates text must be exercised with a *real* transformers model. These helpers
build a word-level tokenizer (with a ChatML-style chat template) and a Qwen2 or GLM-4 model a
few hundred kilobytes large, train it for a few seconds to memorise a handful of sentences (so
greedy output and log-likelihoods are predictable enough to assert on), and ``save_pretrained``
both to a folder that ``load_causal_lm`` then loads like any downloaded checkpoint.

Other plugins' tests use them too (prompt optimisation, evaluation), so they live in the
package rather than in this plugin's ``tests/``.
"""

from __future__ import annotations

from pathlib import Path

#: The chat template of the tiny models: ChatML, as used by Qwen2 (GLM-4 uses a similar one).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "<|im_start|> {{ message['role'] }} {{ message['content'] }} <|im_end|> "
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|> assistant {% endif %}"
)

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "[UNK]"]

#: What the tiny models memorise unless told otherwise: facts to complete, label words to
#: score, and a chat exchange to exercise the chat template.
DEFAULT_SENTENCES = [
    "the capital of france is paris .",
    "the capital of italy is rome .",
    "review : a wonderful and moving film . sentiment : positive",
    "review : a dull and boring mess . sentiment : negative",
    "review : great acting and a lovely story . sentiment : positive",
    "review : terrible plot and awful pacing . sentiment : negative",
    "<|im_start|> user what is autoglm ? <|im_end|> "
    "<|im_start|> assistant autoglm is a workflow engine . <|im_end|>",
]

FAMILIES = ("qwen2", "glm4")


def build_tokenizer(sentences: list[str], extra_words: list[str] = ()):
    """A word-level ``PreTrainedTokenizerFast`` over the words of ``sentences``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words: dict[str, int] = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    splitter = pre_tokenizers.Whitespace()
    for text in [*sentences, *extra_words]:
        for word, _ in splitter.pre_tokenize_str(text):
            words.setdefault(word, len(words))
    core = Tokenizer(models.WordLevel(vocab=words, unk_token="[UNK]"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    core.decoder = decoders.WordPiece(prefix="##", cleanup=False)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        unk_token="[UNK]",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
        model_input_names=["input_ids", "attention_mask"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def _config(family: str, vocab_size: int, eos_ids: list[int], pad_id: int, hidden: int):
    from transformers import Glm4Config, Qwen2Config

    common = dict(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        eos_token_id=eos_ids,
        pad_token_id=pad_id,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    if family == "qwen2":
        return Qwen2Config(**common)
    if family == "glm4":
        return Glm4Config(head_dim=hidden // 4, **common)
    raise ValueError(f"family: expected one of {FAMILIES}, got {family!r}")


def build_tiny_causal_lm(
    folder: str | Path,
    *,
    family: str = "qwen2",
    sentences: list[str] | None = None,
    extra_words: list[str] = (),
    hidden: int = 64,
    train_steps: int = 150,
    seed: int = 0,
) -> str:
    """Build, train briefly and save a tiny causal LM with its tokenizer; return the folder.

    ``train_steps=0`` leaves the weights random (still a valid model for plumbing tests).
    """
    import torch
    from transformers import AutoModelForCausalLM

    sentences = list(sentences or DEFAULT_SENTENCES)
    tokenizer = build_tokenizer(sentences, list(extra_words))
    eos = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|im_end|>"])
    torch.manual_seed(seed)
    config = _config(family, len(tokenizer), eos, tokenizer.pad_token_id, hidden)
    model = AutoModelForCausalLM.from_config(config)
    if train_steps:
        _memorise(model, tokenizer, sentences, train_steps)
    model.generation_config.eos_token_id = eos
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    folder = Path(folder)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def _memorise(model, tokenizer, sentences: list[str], steps: int) -> None:
    """Full-batch next-token training on ``sentences`` (each ended by the eos token)."""
    import torch

    batch = tokenizer([s + " <|endoftext|>" for s in sentences], padding=True, return_tensors="pt")
    labels = batch["input_ids"].clone()
    labels[batch["attention_mask"] == 0] = -100
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        loss = model(**batch, labels=labels).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
