"""Config, input and output models of the ``finetune.*`` nodes (pydantic only: light).

Hyperparameters carry their search space (``Choice``, ``IntRange``, ``FloatRange``), so
``tuner.search`` reads and tunes them without importing torch, as it does ``gnn.train``'s.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from autoglm import Choice, FloatRange, IntRange, NodeModel
from autoglm.policy import InputPath, LoadsCode, ModelSource

Device = Literal["cpu", "cuda", "auto"]


class DataInputs(NodeModel):
    train: InputPath = Field(
        description="Labelled .tsv/.csv/.jsonl (text, label); relative paths also resolve in "
        "the shared data folder"
    )
    validation: InputPath | None = Field(
        None, description="Validation file; default: validation_fraction of train (seeded)"
    )
    test: InputPath | None = Field(
        None, description="Held-out file, scored once at the end (never used for selection)"
    )


class CommonConfig(NodeModel):
    encoder: ModelSource = Field(
        "default", description="Encoder folder or hub id; 'default' = all-MiniLM-L6-v2"
    )
    device: Device = "cpu"
    validation_fraction: float = Field(
        0.1,
        gt=0,
        lt=1,
        description="Share of the training rows held out for validation when none is given",
    )
    limit: int | None = Field(
        None, ge=1, le=10_000_000, description="Read at most this many training rows"
    )
    seed: int = Field(0, ge=0, le=2**31 - 1)


class ProbeConfig(CommonConfig):
    head: Annotated[
        Literal["logistic", "mlp", "centroid", "label_names"], Choice(["logistic", "mlp"])
    ] = Field(
        "logistic",
        description="Logistic regression, an MLP with one hidden layer; baselines (not "
        "searched): the nearest class centroid, or zero-shot label names (each text goes to "
        "the label whose name, underscores as spaces, it is most similar to; no training)",
    )
    C: Annotated[float, FloatRange(0.01, 100.0, log=True)] = Field(
        1.0, gt=0, le=1e6, description="Inverse L2 strength of the logistic head"
    )
    hidden: Annotated[int, Choice([128, 256, 512, 1024], ordered=True)] = Field(
        512, ge=1, le=8192, description="MLP hidden units"
    )
    lr: Annotated[float, FloatRange(1e-4, 1e-2, log=True)] = Field(1e-3, gt=0, le=1.0)
    weight_decay: Annotated[float, FloatRange(0.0, 0.1)] = Field(0.01, ge=0, le=1.0)
    dropout: Annotated[float, FloatRange(0.0, 0.5)] = Field(0.1, ge=0, lt=1)
    epochs: Annotated[int, IntRange(5, 200, log=True)] = Field(100, ge=1, le=10_000)
    patience: int = Field(10, ge=1, le=1000, description="MLP: epochs without improvement")
    batch_size: int = Field(64, ge=1, le=4096)


class ClassifierConfig(CommonConfig):
    mode: Annotated[Literal["full", "contrastive"], Choice(["full", "contrastive"])] = Field(
        "full",
        description="full: encoder + linear head trained end to end; contrastive: SetFit-like "
        "pair training of the encoder, then a logistic head",
    )
    lr: Annotated[float, FloatRange(1e-5, 2e-4, log=True)] = Field(
        1e-4, gt=0, le=1.0, description="Encoder learning rate (AdamW), of the top layer"
    )
    head_lr: Annotated[float, FloatRange(1e-4, 1e-2, log=True)] = Field(
        2e-3, gt=0, le=1.0, description="Head learning rate (full mode)"
    )
    epochs: Annotated[int, IntRange(1, 10)] = Field(3, ge=1, le=100)
    batch_size: Annotated[int, Choice([16, 32, 64], ordered=True)] = Field(32, ge=1, le=1024)
    warmup_ratio: Annotated[float, FloatRange(0.0, 0.3)] = Field(
        0.1, ge=0, lt=1, description="Share of steps with linear warm-up, then linear decay"
    )
    weight_decay: Annotated[float, FloatRange(0.0, 0.1)] = Field(0.01, ge=0, le=1.0)
    patience: int = Field(2, ge=1, le=100, description="Epochs without validation gain")
    max_length: int = Field(
        128,
        ge=8,
        le=512,
        description="Tokens per text (batches are padded to their longest text only, so a "
        "generous bound costs nothing on short texts)",
    )
    frozen_layers: Annotated[int, IntRange(0, 5)] = Field(
        1,
        ge=0,
        le=64,
        description="Full mode: bottom transformer layers (and the embeddings) kept frozen; "
        "their outputs are computed once and cached, so each epoch runs only the layers above "
        "(capped at the model's layers minus one)",
    )
    layer_decay: Annotated[float, FloatRange(0.5, 1.0)] = Field(
        1.0,
        gt=0,
        le=1.0,
        description="Full mode: each trained layer's learning rate is this times the one above",
    )
    label_smoothing: Annotated[float, FloatRange(0.0, 0.2)] = Field(
        0.1, ge=0, lt=1, description="Full mode: cross-entropy label smoothing"
    )
    contrastive_weight: Annotated[float, FloatRange(0.0, 1.0)] = Field(
        0.3,
        ge=0,
        le=10,
        description="Full mode: weight of a supervised contrastive term (same-label texts of "
        "a batch pulled together, temperature 0.1) added to the cross-entropy; batches are "
        "then built of same-label pairs so that every text has a partner; 0: off (random "
        "length batches). At 0.3 against 0, three member pairs on HWU64 and SST-2: test "
        "+0.65, +0.09, +0.92 points, validation -0.20, -0.10, +0.46 (docs/finetune.md)",
    )
    consistency_weight: Annotated[float, FloatRange(0.0, 2.0)] = Field(
        0.0,
        ge=0,
        le=10,
        description="Full mode: R-Drop (Liang et al. 2021): each batch runs twice through the "
        "trained layers with different dropout, and this weight times the symmetric KL "
        "divergence of the two predictions joins their mean cross-entropy; 0: off (one pass)",
    )
    seeds: Annotated[int, IntRange(1, 4)] = Field(
        2,
        ge=1,
        le=16,
        description="Full mode: fine-tunes with seeds seed, seed+1, ... whose probabilities are "
        "averaged (they share the frozen layers' cached states; each costs its own training)",
    )
    ensemble: Annotated[Literal["none", "probe"], Choice(["none", "probe"])] = Field(
        "probe",
        description="Full mode: blend the fine-tune's probabilities with the logistic probe's "
        "(weight chosen on validation; kept only when it wins there by blend_margin)",
    )
    blend_margin: float = Field(
        0.01,
        ge=0,
        le=1,
        description="Full mode, ensemble probe: the validation accuracy a blend must add over "
        "the fine-tune alone to be kept (0.01: one point; smaller gains are noise)",
    )
    refit: bool = Field(
        False,
        description="Full mode: once validation has chosen each member's epochs (and the "
        "blend), train the members again on train + validation with those epochs and keep "
        "these; val_accuracy stays the validated members' (the refitted ones have seen "
        "validation). Doubles the training cost; off by default: measured -0.2 points on "
        "HWU64, +0.7 on SST-2 (docs/finetune.md)",
    )
    init_head: Annotated[Literal["probe", "random"], Choice(["probe", "random"])] = Field(
        "probe",
        description="Full mode: start the head from a logistic probe on the frozen encoder "
        "(LP-FT) or at random",
    )
    C: Annotated[float, FloatRange(0.01, 100.0, log=True)] = Field(
        10.0,
        gt=0,
        le=1e6,
        description="Logistic head (probe init and blend, contrastive head); 10 validated "
        "better than 1 on HWU64 and SST-2 alike",
    )
    pairs_per_example: Annotated[int, IntRange(1, 20)] = Field(
        4, ge=1, le=1000, description="Contrastive: positive and negative partners per text"
    )


class TrainOutputs(NodeModel):
    checkpoint: str = Field(description="Checkpoint folder (finetune.predict reloads it)")
    labels: list[str]
    val_accuracy: float = Field(description="Accuracy on validation (what selection may use)")
    test_accuracy: float | None = Field(None, description="Accuracy on test, if given")
    test_macro_f1: float | None = None
    test_predictions: list[str] = Field(default_factory=list)
    test_gold: list[str] = Field(default_factory=list)
    n_train: int
    n_validation: int
    cpu_seconds: float = Field(description="Process CPU time of the node (all threads)")
    wall_seconds: float
    history: list[dict[str, Any]] = Field(default_factory=list)
    model_calls: int | None = Field(
        None,
        description="finetune.probe: texts its frozen encoder really ran (train, validation, "
        "test, label names); None for fine-tunes, whose cost is their CPU seconds",
    )
    cache_hits: int | None = Field(
        None, description="finetune.probe: texts served by the on-disk embedding cache instead"
    )
    refit: bool = Field(
        False, description="finetune.classifier: the checkpoint was refitted on train + validation"
    )
    test_accuracy_validated: float | None = Field(
        None,
        description="finetune.classifier with refit: test accuracy of the members trained "
        "without the validation rows (what the refit added is test_accuracy minus this)",
    )
    blend_weight: float | None = Field(
        None,
        description="finetune.classifier with ensemble: probe: the probe's weight chosen on "
        "validation (0: the fine-tune alone)",
    )


class SelectInputs(NodeModel):
    candidates: dict[str, dict[str, Any]] = Field(
        description="Name -> outputs of a finetune training node (val_accuracy, "
        "test_predictions, test_gold, cpu_seconds)"
    )


class SelectConfig(NodeModel):
    baselines: list[str] = Field(
        default_factory=lambda: ["centroid", "probe"],
        description="Names of the simple baselines; the best on validation is the reference",
    )


class SelectOutputs(NodeModel):
    chosen: str = Field(description="The candidate with the best validation accuracy")
    chosen_checkpoint: str | None
    baseline: str | None
    test_accuracy: float
    rows: list[dict[str, Any]] = Field(
        description="Every candidate: validation and test accuracy, CPU seconds, model calls, "
        "difference, CI and McNemar p against the baseline"
    )


class PredictInputs(NodeModel):
    checkpoint: InputPath = Field(description="Checkpoint folder of a finetune.* node")
    data: InputPath = Field(description="Labelled file (.tsv/.csv/.jsonl) to predict and score")


class PredictConfig(NodeModel):
    device: Device = "cpu"
    batch_size: int = Field(64, ge=1, le=4096)


class PredictOutputs(NodeModel):
    predictions: list[str]
    accuracy: float | None
    labels: list[str]


class LoraConfig(NodeModel):
    model: ModelSource = Field(description="Causal LM folder or hub id (the base model)")
    trust_remote_code: LoadsCode = Field(False, description="Allow the model's own code")
    template: str = Field(
        "{text}",
        max_length=10_000,
        description="Prompt of each pair; {text} is the input text, the completion follows",
    )
    separator: str = Field(" ", max_length=100, description="Between prompt and completion")
    r: Annotated[int, Choice([4, 8, 16, 32], ordered=True)] = Field(8, ge=1, le=1024)
    alpha: Annotated[int, Choice([8, 16, 32, 64], ordered=True)] = Field(16, ge=1, le=4096)
    dropout: Annotated[float, FloatRange(0.0, 0.2)] = Field(0.05, ge=0, lt=1)
    target_modules: list[str] | None = Field(
        None, description="Module names to adapt; none: peft's default for the architecture"
    )
    lr: Annotated[float, FloatRange(1e-5, 1e-2, log=True)] = Field(2e-4, gt=0, le=1.0)
    epochs: Annotated[int, IntRange(1, 20)] = Field(3, ge=1, le=1000)
    batch_size: Annotated[int, Choice([4, 8, 16], ordered=True)] = Field(8, ge=1, le=1024)
    warmup_ratio: Annotated[float, FloatRange(0.0, 0.3)] = Field(0.1, ge=0, lt=1)
    max_length: int = Field(128, ge=8, le=8192, description="Tokens per pair")
    validation_fraction: float = Field(
        0.1, gt=0, lt=1, description="Share of the training rows held out for validation"
    )
    limit: int | None = Field(None, ge=1, le=10_000_000)
    seed: int = Field(0, ge=0, le=2**31 - 1)


class LoraOutputs(NodeModel):
    checkpoint: str = Field(description="Folder: adapter/ (LoRA only) and model/ (merged)")
    model: str = Field(description="The merged model folder: load it as any causal LM")
    labels: list[str] = Field(description="Distinct completions of the training rows")
    val_accuracy: float = Field(description="Completions ranked by log-likelihood, validation")
    val_accuracy_before: float = Field(description="The same with the base model")
    test_accuracy: float | None = None
    test_predictions: list[str] = Field(default_factory=list)
    n_train: int
    cpu_seconds: float
    history: list[float] = Field(default_factory=list, description="Mean loss per epoch")
