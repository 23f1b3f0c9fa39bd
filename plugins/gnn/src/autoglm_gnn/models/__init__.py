"""Build a model from any point of the search space (:class:`~autoglm_gnn.config.TrainConfig`).

One model per module, in the manner of DGL's examples; all share the forward contract
``model(data, x) -> logits`` (``data`` a :class:`~autoglm_gnn.tensors.GraphTensors`, ``x`` its
features, sparse or dense) and start with the sparse input projection of ``layers.InputLinear``:

* :mod:`.stack` – gcn, gat, sage, gin and mlp: ``num_layers`` layers of DGL modules, with
  normalisation, residuals and jumping knowledge between them;
* :mod:`.appnp` – an MLP, then ``k`` parameter-free steps: personalised PageRank (appnp) or
  Â^k (sgc);
* :mod:`.gcnii` – deep propagation with initial residual and identity mapping;
* :mod:`.gprgnn` – an MLP, then a learnt weighted sum of Â^0..Â^k (heterophily);
* :mod:`.h2gcn` – ego, 1-hop and 2-hop embeddings kept apart and concatenated (heterophily);
* :mod:`.ensemble` – ``ensemble`` copies of any of these from different seeds, averaged.
"""

from __future__ import annotations

from torch import nn

from autoglm_gnn.config import TrainConfig
from autoglm_gnn.models.appnp import Propagation
from autoglm_gnn.models.ensemble import SeedEnsemble
from autoglm_gnn.models.gcnii import GCNII
from autoglm_gnn.models.gprgnn import GPRGNN
from autoglm_gnn.models.h2gcn import H2GCN
from autoglm_gnn.models.stack import LayerStack

#: Model class of every layer type that is not a plain stack.
MODELS: dict[str, type[nn.Module]] = {
    "appnp": Propagation,
    "sgc": Propagation,
    "gcnii": GCNII,
    "gprgnn": GPRGNN,
    "h2gcn": H2GCN,
}


def build_member(cfg: TrainConfig, in_dim: int, num_classes: int) -> nn.Module:
    """One model of ``cfg``'s layer type (an ensemble's member, or the model itself)."""
    return MODELS.get(cfg.layer, LayerStack)(cfg, in_dim, num_classes)


def build_model(cfg: TrainConfig, in_dim: int, num_classes: int) -> nn.Module:
    """The model of ``cfg`` for ``in_dim`` features and ``num_classes`` classes: a
    :class:`SeedEnsemble` of ``cfg.ensemble`` members when that is above 1."""
    if cfg.ensemble > 1:
        members = [build_member(cfg, in_dim, num_classes) for _ in range(cfg.ensemble)]
        return SeedEnsemble(members)
    return build_member(cfg, in_dim, num_classes)


def parameter_groups(model: nn.Module, cfg: TrainConfig) -> list[dict]:
    """Optimiser parameter groups: one with ``weight_decay`` unless the model splits them."""
    if hasattr(model, "parameter_groups"):
        return model.parameter_groups()
    return [{"params": list(model.parameters()), "weight_decay": cfg.weight_decay}]


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
