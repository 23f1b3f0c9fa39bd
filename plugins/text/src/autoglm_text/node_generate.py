"""``text.generate``: the answer step of text workflows, generative or extractive.

``model: extractive`` (the default) needs no chat model: it answers with the passages' best
sentences (see ``autoglm_text.extractive``), so workflows run offline. Any other ``model`` is a
causal LM (folder or hub id, or a served model with ``base_url``) given the rendered prompt,
through the shared ``autoglm_hf`` adapters. The model may also arrive as an input, so a
workflow can expose it as a run input (``-i model=./my-qwen``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.policy import ModelSource
from autoglm_hf.api import EncoderFields, GenerationFields, ModelFields, as_chat, causal_spec
from autoglm_text.extractive import extract

EXTRACTIVE = "extractive"

#: ``extractive`` names this node's offline mode, not a model folder or hub id: typed as its own
#: literal so that the trust policy does not take it for a model download.
GeneratorModel = Literal["extractive"] | ModelSource


class TextGenerateConfig(ModelFields, GenerationFields, EncoderFields):
    model: GeneratorModel = Field(
        EXTRACTIVE, description="'extractive' (offline, encoder only) or a causal LM."
    )
    chat: bool = Field(True, description="Send the prompt through the chat template.")
    system: str | None = Field(None, description="System message for chat models.")
    sentences: int = Field(
        2,
        ge=1,
        le=100,
        description="Extractive mode: most sentences in an answer (a further sentence joins only "
        "when it covers another part of the question); sentences of a summary.",
    )
    abstain_below: float | None = Field(
        None,
        ge=-1,
        le=2,
        description="Answer 'not in the knowledge base' when the best passage sentence scores "
        "below this (cosine + lexical overlap, see autoglm_text.extractive); calibrate it on "
        "questions with known answers. None: always answer.",
    )
    abstain_answer: str = Field(
        "Not in the knowledge base: none of its passages answers this question.",
        max_length=1000,
        description="The answer given when abstaining.",
    )


class TextGenerateInputs(NodeModel):
    prompt: str | None = Field(None, description="Rendered prompt (generative mode).")
    passages: list[str] = Field(default_factory=list, description="Extractive mode: sources.")
    question: str | None = Field(None, description="Extractive mode: rank sentences by it.")
    task: str | None = Field(None, description="'summary' makes extractive mode summarise.")
    model: GeneratorModel | None = Field(None, description="Overrides config.model when given.")


class TextGenerateOutputs(NodeModel):
    text: str
    mode: Literal["extractive", "generative"]
    model: str
    evidence: list[str] = Field(default_factory=list, description="Extractive: chosen sentences.")
    abstained: bool = Field(False, description="True when the answer is abstain_answer.")
    score: float | None = Field(
        None, description="Best sentence's score against the question (questions only)."
    )


class TextGenerateNode(NodeType):
    """Produce the answer: a causal LM on the prompt, or extractive sentences offline."""

    name = "text.generate"
    Config = TextGenerateConfig
    Inputs = TextGenerateInputs
    Outputs = TextGenerateOutputs

    def execute(self, inputs: TextGenerateInputs, context: NodeContext) -> TextGenerateOutputs:
        from autoglm_hf.api import from_spec

        config = self.config
        assert isinstance(config, TextGenerateConfig)
        model = inputs.model or config.model
        question = None if inputs.task == "summary" else inputs.question
        evidence: tuple[str, list[str], float | None] = ("", [], None)
        if model == EXTRACTIVE or (config.abstain_below is not None and question):
            if not inputs.passages:
                raise ValueError("inputs.passages: extractive mode needs passages, got none")
            encoder = from_spec(config.encoder_spec(context))
            evidence = extract(encoder, inputs.passages, question, config.sentences)
        text, chosen, score = evidence
        mode = "extractive" if model == EXTRACTIVE else "generative"
        if score is not None and config.abstain_below is not None and score < config.abstain_below:
            # Too weak a match to answer from: a generative model would make something up.
            return TextGenerateOutputs(
                text=config.abstain_answer, mode=mode, model=model, abstained=True, score=score
            )
        if model == EXTRACTIVE:
            return TextGenerateOutputs(
                text=text, mode=mode, model=encoder.model_id, evidence=chosen, score=score
            )
        if not inputs.prompt:
            raise ValueError(f"inputs.prompt: model {model!r} needs a prompt, got none")
        lm = from_spec(causal_spec(config.model_copy(update={"model": model})))
        prompt = as_chat(inputs.prompt, config.system) if config.chat else inputs.prompt
        [text] = lm.generate([prompt], **config.generation_kwargs())
        return TextGenerateOutputs(text=text, mode=mode, model=model, score=score)
