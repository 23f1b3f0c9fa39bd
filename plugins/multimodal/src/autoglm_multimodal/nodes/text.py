"""``multimodal.text``: item texts to token ids and attention masks of a fixed length."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import InputPath, ModelSource
from autoglm_multimodal.nodes.common import (
    FeatureOutputs,
    ManifestFingerprint,
    finish,
    gather_tasks,
)


class TextConfig(NodeModel):
    field: str = Field("text", description="manifest key of each item's text")
    from_disk: bool = Field(
        False, description="each value names a UTF-8 document on disk to read, not the text itself"
    )
    tokenizer: ModelSource | Literal["words"] = Field(
        "words",
        description="'words' (a word vocabulary fitted on training items) or a local "
        "Hugging Face tokenizer folder",
    )
    max_length: int = Field(512, ge=1, le=32_768, description="tokens per item: pad or truncate")
    min_count: int = Field(1, ge=1, le=1_000_000, description="words: least training count kept")
    max_vocab: int = Field(30_000, ge=3, le=1_000_000, description="words: vocabulary size")
    on_error: Literal["skip", "fail"] = Field("skip", description="as for the other modalities")


class TextInputs(NodeModel):
    items: InputPath = Field(description="items manifest (JSON lines)")
    stats: InputPath | None = Field(
        None, description="vocabulary (vocab.json) of an earlier run, instead of fitting one"
    )


class TextNode(ManifestFingerprint, NodeType):
    """Text: tokenise, pad/truncate to max_length, attention masks."""

    name = "multimodal.text"
    version = "1"
    description = "Texts to token ids and attention masks (train-fitted words or a local tokenizer)"
    Config = TextConfig
    Inputs = TextInputs
    Outputs = FeatureOutputs

    def execute(self, inputs: TextInputs, context: NodeContext) -> FeatureOutputs:
        import numpy as np

        from autoglm_multimodal.errors import ItemProblem
        from autoglm_multimodal.items import read_items
        from autoglm_multimodal.text import Vocabulary, hf_encode

        cfg: TextConfig = self.config
        items = read_items(inputs.items)
        texts: dict[str, str] = {}
        problems: list[ItemProblem] = []
        if cfg.from_disk:
            tasks, problems = gather_tasks(context, items, inputs.items, cfg.field)
            for item_id, path in tasks:
                try:
                    texts[item_id] = Path(path).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    problems.append(ItemProblem(item_id, path, f"not a UTF-8 text file ({exc})"))
        else:
            for item in items:
                value = item.get(cfg.field)
                if isinstance(value, str):
                    texts[item["id"]] = value
                else:
                    problems.append(ItemProblem(item["id"], None, f"has no {cfg.field!r} text"))
        ordered = [texts.get(i["id"], "") for i in items]
        ok = [i["id"] in texts for i in items]
        vocab = None
        if cfg.tokenizer == "words":
            if inputs.stats is not None:
                vocab = Vocabulary.load(inputs.stats)
            else:
                train = [
                    texts[i["id"]] for i in items if i.get("split") == "train" and i["id"] in texts
                ]
                vocab = Vocabulary.fit(train, cfg.min_count, cfg.max_vocab)
            ids, mask = vocab.encode(ordered, cfg.max_length)
            size = len(vocab.tokens)
        else:
            ids, mask, size = hf_encode(str(cfg.tokenizer), ordered, cfg.max_length)
        ids[~np.asarray(ok)] = 0
        mask[~np.asarray(ok)] = 0
        rows = {item["id"]: row for row, item in enumerate(items)}
        problems.sort(key=lambda p: rows[p.item])
        meta = {"config": cfg.model_dump(), "vocab_size": size, "layout": "items x tokens"}
        out = finish(
            context,
            "text",
            items,
            {"input_ids": ids, "attention_mask": mask},
            ok,
            problems,
            cfg.on_error,
            meta,
        )
        if vocab is not None:
            path = Path(out.folder) / "vocab.json"
            vocab.save(path)
            out.stats_file, out.fitted_on = str(path), vocab.fitted_on
        return out
