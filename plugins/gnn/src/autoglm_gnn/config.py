"""The declared search space of ``gnn.train``: one pydantic model, light to import.

Searchable fields carry ``autoglm.space`` markers so any tuner reads the space without
importing torch. Fields that a layer type does not use (``heads`` for GCN, ``k`` for GAT) are
accepted and ignored, which keeps the space a flat product a black-box optimiser can sample;
:func:`effective_config` says which fields matter for a layer (for leaderboards and dedup).
The defaults are a sensible 2-layer GCN; a few fields default differently for the layer type
that needs it (:data:`LAYER_DEFAULTS`: GCNII is a deep model).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from autoglm import Choice, FloatRange, NodeModel

#: Every layer type the builder knows. Message-passing stacks: gcn, gat, sage, gin; an MLP
#: baseline; propagation models: appnp (personalised PageRank), sgc (simplified GCN, Â^k),
#: gcnii (deep propagation with initial residual and identity mapping); for heterophilous
#: graphs, where neighbours mostly have other labels: gprgnn (learnt, possibly negative,
#: weights per propagation step) and h2gcn (ego and neighbour embeddings kept apart).
LAYERS = ["gcn", "gat", "sage", "gin", "appnp", "sgc", "gcnii", "mlp", "gprgnn", "h2gcn"]
PROPAGATION_LAYERS = {"appnp", "sgc", "gcnii", "gprgnn"}

#: Fields each layer type reads beyond the common ones (lr, weight_decay, dropout, ...).
LAYER_FIELDS: dict[str, set[str]] = {
    "gcn": {"num_layers", "hidden", "activation", "residual", "norm", "jk"},
    "gat": {
        "num_layers",
        "hidden",
        "heads",
        "attn_dropout",
        "activation",
        "residual",
        "norm",
        "jk",
    },
    "sage": {"num_layers", "hidden", "aggregator", "activation", "residual", "norm", "jk"},
    "gin": {"num_layers", "hidden", "activation", "residual", "norm", "jk"},
    "mlp": {"num_layers", "hidden", "activation", "residual", "norm"},
    "appnp": {"num_layers", "hidden", "activation", "residual", "norm", "k", "alpha"},
    "sgc": {"num_layers", "hidden", "activation", "residual", "norm", "k"},
    "gcnii": {"hidden", "activation", "k", "alpha", "theta", "norm", "conv_weight_decay"},
    "gprgnn": {"num_layers", "hidden", "activation", "residual", "norm", "k", "alpha"},
    "h2gcn": {"num_layers", "hidden", "activation"},
}
#: H2GCN rounds at most (its representation is hidden * (2^(rounds+1) - 1) wide).
MAX_H2GCN_ROUNDS = 3
COMMON_FIELDS = {"layer", "dropout", "input_dropout", "lr", "weight_decay"}

#: Defaults that depend on the layer type, filled in only where a config leaves the field out
#: (a search always sets them; an untuned ``{"layer": "gcnii"}`` gets them). GCNII exists to go
#: deep: its paper used 16-64 layers, dropout 0.6 and up to 1,500 epochs. At the shared
#: defaults (10 layers, dropout 0.5, 200 epochs) it tested 83.7 on Cora; at 32 layers,
#: dropout 0.6 and up to 1,000 epochs (early stopping ends most runs by epoch 500) 84.9, and
#: 1.5-2.1 points higher at CSBM homophily 0.5 and 0.7, for about 7x the CPU (docs/gnn.md).
LAYER_DEFAULTS: dict[str, dict[str, Any]] = {
    "gcnii": {"k": 32, "dropout": 0.6, "max_epochs": 1000},
}


class TrainConfig(NodeModel):
    """Configuration of one full-batch node-classification training run."""

    layer: Annotated[str, Choice(LAYERS)] = Field(
        "gcn", description="layer type: " + ", ".join(LAYERS)
    )
    num_layers: Annotated[int, Choice([1, 2, 3], ordered=True)] = Field(
        2,
        ge=1,
        le=16,
        description="message-passing layers (MLP layers for appnp/sgc/gprgnn/mlp; h2gcn rounds)",
    )
    hidden: Annotated[int, Choice([16, 32, 64, 128, 256], ordered=True)] = Field(
        64,
        ge=1,
        le=4096,
        description="hidden width (for gat: total over heads, hidden // heads each)",
    )
    heads: Annotated[int, Choice([1, 2, 4, 8], ordered=True)] = Field(
        1, ge=1, le=64, description="attention heads of the hidden gat layers"
    )
    aggregator: Annotated[str, Choice(["mean", "pool", "gcn"])] = Field(
        "mean", description="GraphSAGE neighbourhood aggregator"
    )
    activation: Annotated[str, Choice(["relu", "elu", "leaky_relu"])] = "relu"
    dropout: Annotated[float, FloatRange(0.0, 0.8)] = Field(
        0.5, ge=0.0, lt=1.0, description="dropout before every layer after the first"
    )
    input_dropout: Annotated[float, FloatRange(0.0, 0.9)] = Field(
        0.5, ge=0.0, lt=1.0, description="dropout on the input features (before the first layer)"
    )
    attn_dropout: Annotated[float, FloatRange(0.0, 0.8)] = Field(
        0.0, ge=0.0, lt=1.0, description="dropout on gat attention coefficients"
    )
    residual: Annotated[bool, Choice([False, True])] = Field(
        False, description="skip connection around every hidden layer (projected if widths differ)"
    )
    norm: Annotated[str, Choice(["none", "batch", "layer"])] = Field(
        "none", description="normalisation after every hidden layer"
    )
    jk: Annotated[str, Choice(["none", "cat", "max"])] = Field(
        "none",
        description="jumping knowledge (gcn, gat, sage, gin): classify from every layer's "
        "output, concatenated or max-pooled, instead of the last one's",
    )
    k: Annotated[int, Choice([2, 4, 8, 10, 16, 32, 64], ordered=True)] = Field(
        10, ge=1, le=256, description="propagation steps of appnp/sgc/gprgnn, depth of gcnii"
    )
    alpha: Annotated[float, FloatRange(0.05, 0.5)] = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="teleport (appnp, gprgnn initial weights) / initial-residual (gcnii) weight",
    )
    theta: Annotated[float, FloatRange(0.1, 1.5)] = Field(
        0.5, gt=0.0, description="gcnii identity-mapping strength: beta_l = log(theta / l + 1)"
    )
    conv_weight_decay: Annotated[float, FloatRange(1e-4, 5e-2, log=True)] = Field(
        0.01, ge=0.0, description="gcnii: weight decay of the per-layer weights W_l"
    )
    lr: Annotated[float, FloatRange(1e-3, 5e-2, log=True)] = Field(0.01, gt=0.0)
    weight_decay: Annotated[float, FloatRange(1e-5, 1e-2, log=True)] = Field(5e-4, ge=0.0)

    # Not searchable. max_epochs is the fidelity a tuner lowers for cheap trials.
    ensemble: int = Field(
        1,
        ge=1,
        le=32,
        description="train this many copies from different seeds and average their class "
        "probabilities (a seed ensemble: steadier, ensemble times the cost)",
    )
    max_epochs: int = Field(
        200, ge=1, le=100_000, description="training epochs at most (the fidelity)"
    )
    patience: int = Field(
        100,
        ge=1,
        le=100_000,
        description="stop after this many epochs without a better validation accuracy",
    )
    seed: int = Field(0, description="seed of torch, numpy, dgl and python's random")
    device: str = Field("auto", description="'auto' (cuda when usable, else cpu), 'cpu', 'cuda'")
    threads: int = Field(1, ge=1, le=256, description="torch CPU threads")
    save_checkpoint: bool = Field(False, description="write the selected model to a checkpoint")
    report_test: bool = Field(
        False, description="also compute test accuracy of the selected model (never used to select)"
    )
    kernels: Literal["csr", "dgl"] = Field(
        "csr",
        description="fixed propagations (gcn, appnp, sgc, gcnii, gprgnn, h2gcn): torch CSR "
        "products (measured faster on CPU) or DGL's modules (GraphConv, APPNPConv, GCN2Conv)",
    )
    sparse_features: Literal["auto", "on", "off"] = Field(
        "auto",
        description="multiply the first layer with sparse features: auto = when <= 10% non-zero",
    )

    @field_validator("layer", "aggregator", "activation", "norm", "jk")
    @classmethod
    def _known_choice(cls, value: str, info) -> str:
        """Categorical fields must name a known option; say which ones exist."""
        allowed = search_space_values(info.field_name)
        if value not in allowed:
            raise ValueError(f"unknown {info.field_name} {value!r}; expected one of {allowed}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _layer_defaults(cls, data: Any) -> Any:
        """Fill :data:`LAYER_DEFAULTS` for the config's layer where the field is not given."""
        if not isinstance(data, dict):
            return data
        missing = {
            name: value
            for name, value in LAYER_DEFAULTS.get(data.get("layer", "gcn"), {}).items()
            if name not in data
        }
        return {**data, **missing} if missing else data

    @model_validator(mode="after")
    def _h2gcn_rounds(self) -> TrainConfig:
        """H2GCN doubles its width every round (ego | 1-hop | 2-hop): bound the rounds."""
        if self.layer == "h2gcn" and self.num_layers > MAX_H2GCN_ROUNDS:
            raise ValueError(
                f"h2gcn runs num_layers rounds and doubles its width each one; at most "
                f"{MAX_H2GCN_ROUNDS}, found {self.num_layers}"
            )
        return self


def search_space_values(field: str) -> list[Any]:
    """The values of a ``Choice`` field of :class:`TrainConfig`."""
    for meta in TrainConfig.model_fields[field].metadata:
        if isinstance(meta, Choice):
            return list(meta.values)
    raise KeyError(field)


def effective_config(config: TrainConfig | dict[str, Any]) -> dict[str, Any]:
    """The searchable fields that actually influence ``config.layer``'s model."""
    cfg = config if isinstance(config, TrainConfig) else TrainConfig.model_validate(config)
    used = COMMON_FIELDS | LAYER_FIELDS[cfg.layer]
    return {k: v for k, v in cfg.model_dump().items() if k in used}


def ignored_fields(layer: str) -> set[str]:
    """Layer-specific fields that ``layer`` does not read (``k`` and ``alpha`` for a GCN)."""
    every = set().union(*LAYER_FIELDS.values())
    return every - LAYER_FIELDS[layer]
