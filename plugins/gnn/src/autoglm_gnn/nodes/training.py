"""Training nodes: ``gnn.train`` (the objective a tuner optimises), ``gnn.evaluate`` (retrain
the chosen config over seeds and report test accuracy) and ``gnn.predict`` (reload a
checkpoint and predict)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from autoglm import NodeContext, NodeModel, NodeType
from autoglm.exclusive import TORCH_RNG
from autoglm.policy import InputPath
from autoglm_gnn.config import LAYERS, TrainConfig, ignored_fields

CHECKPOINT_FILE = "model.pt"


class GraphInput(NodeModel):
    graph: InputPath = Field(description="graph file written by a gnn loader")


class TrainOutputs(NodeModel):
    val_acc: float = Field(description="validation accuracy of the selected epoch")
    train_acc: float
    test_acc: float | None = Field(
        None, description="test accuracy of the selected model, only with report_test"
    )
    best_epoch: int = Field(description="epoch selected by validation accuracy (1-based)")
    epochs: int = Field(description="epochs run before early stopping or max_epochs")
    seconds: float = Field(description="wall time of the run")
    checkpoint: str | None = Field(None, description="checkpoint file, with save_checkpoint")
    params: int = Field(description="trainable parameters")


def epoch_reporter(context: NodeContext, total: int):
    """An epoch callback that honours cancellation and reports progress every 10 epochs."""

    def report(epoch: int, val_acc: float, best: float) -> None:
        context.check_cancelled()
        if epoch % 10 == 0 or epoch == total:
            context.progress(epoch, total, f"val_acc {val_acc:.4f} (best {best:.4f})")

    return report


class TrainNode(NodeType):
    """Train one GNN configuration, full batch, early stopping on validation accuracy."""

    name = "gnn.train"
    exclusive = TORCH_RNG  # seeds torch's default generator, then draws from it
    description = "Train a GNN configuration (the objective a tuner optimises)"
    Config = TrainConfig
    Inputs = GraphInput
    Outputs = TrainOutputs

    @classmethod
    def effective_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Every field but the layer-specific ones this layer ignores, defaults filled in, so
        a tuner sees two GCNs that differ only in ``k`` as the same model."""
        try:
            cfg = TrainConfig.model_validate(config)
        except ValueError:
            return dict(config)
        ignored = ignored_fields(cfg.layer)
        return {k: v for k, v in cfg.model_dump().items() if k not in ignored}

    def init(self, config: TrainConfig, context: NodeContext) -> None:
        super().init(config, context)
        from autoglm_gnn.trainer import train_config

        self._train = train_config

    def execute(self, inputs: GraphInput, context: NodeContext) -> TrainOutputs:
        cfg: TrainConfig = self.config
        result = self._train(
            inputs.graph,
            cfg,
            checkpoint_path=context.artifacts_dir / CHECKPOINT_FILE,
            callback=epoch_reporter(context, cfg.max_epochs),
        )
        return TrainOutputs(**result.outputs())


class EvaluateConfig(NodeModel):
    seeds: int = Field(5, ge=1, le=100, description="number of seeds to retrain on")
    first_seed: int = Field(
        100,
        description="seeds are first_seed .. first_seed + seeds - 1; the default keeps them "
        "apart from the seeds a search and gnn.select chose on (0-3, 50+), so the validation "
        "mean is not biased by the selection",
    )
    max_epochs: int | None = Field(
        None,
        ge=1,
        le=100_000,
        description="override the config's max_epochs (full fidelity after a search)",
    )
    patience: int | None = Field(
        None, ge=1, le=100_000, description="override the config's patience"
    )
    ensemble: int | None = Field(
        None,
        ge=1,
        le=32,
        description="override the config's ensemble: each seed trains this many members "
        "(from derived seeds) and predicts their mean probabilities",
    )


class EvaluateInputs(NodeModel):
    graph: InputPath = Field(description="graph file written by a gnn loader")
    extra_graphs: list[InputPath] = Field(
        default_factory=list,
        max_length=20,
        description="more graph files trained and scored alongside (other splits of the "
        "same graph, e.g. Actor's 10): every seed runs on every graph",
    )
    config: dict[str, Any] = Field(description="a gnn.train config, e.g. a search's best")


class EvaluateOutputs(NodeModel):
    test_mean: float = Field(description="mean test accuracy over seeds")
    test_std: float = Field(description="population standard deviation of test accuracy")
    val_mean: float
    val_std: float
    test_accs: list[float]
    val_accs: list[float]
    seeds: list[int]
    graph_indices: list[int] = Field(
        description="per run, its graph: 0 = graph, i = extra_graphs[i - 1]"
    )
    best_seed: int = Field(description="seed with the best validation accuracy")
    checkpoint: str = Field(description="checkpoint of the best-validation seed")
    seconds: float
    config: dict[str, Any] = Field(description="the full config trained (seed aside)")


class EvaluateNode(NodeType):
    """Retrain a config over seeds; report test and validation mean/std and the best checkpoint.

    Each finished seed is journaled, so a killed evaluation resumes at the next seed."""

    name = "gnn.evaluate"
    exclusive = TORCH_RNG  # seeds torch's default generator, then draws from it
    description = "Retrain a config over seeds: test/val mean and std, best-validation checkpoint"
    Config = EvaluateConfig
    Inputs = EvaluateInputs
    Outputs = EvaluateOutputs

    def init(self, config: EvaluateConfig, context: NodeContext) -> None:
        super().init(config, context)
        from autoglm_gnn.evaluation import evaluate_config

        self._evaluate = evaluate_config

    def execute(self, inputs: EvaluateInputs, context: NodeContext) -> EvaluateOutputs:
        cfg: EvaluateConfig = self.config
        overrides = {
            key: value
            for key in ("max_epochs", "patience", "ensemble")
            if (value := getattr(cfg, key)) is not None
        }
        seeds = list(range(cfg.first_seed, cfg.first_seed + cfg.seeds))
        graphs = [inputs.graph, *inputs.extra_graphs]
        signature = {"graph": inputs.graph, "config": inputs.config, "overrides": overrides}
        if inputs.extra_graphs:
            signature["extra_graphs"] = inputs.extra_graphs
        done = {
            (entry["record"].get("graph_index", 0), entry["record"]["seed"]): entry["record"]
            for entry in context.journal_read("seed")
            if entry.get("signature") == signature
        }
        total = len(seeds) * len(graphs)

        def on_seed(record: dict[str, Any]) -> None:
            context.journal_append("seed", {"signature": signature, "record": record})
            done[(record["graph_index"], record["seed"])] = record
            context.log.info(
                "evaluation run",
                graph=record["graph_index"],
                seed=record["seed"],
                val_acc=record["val_acc"],
            )
            context.progress(
                len(done), total, f"graph {record['graph_index']} seed {record['seed']}"
            )
            context.check_cancelled()

        summary = self._evaluate(
            inputs.graph,
            inputs.config,
            seeds,
            context.artifacts_dir,
            overrides=overrides,
            done=dict(done),
            on_seed=on_seed,
            extra_graphs=inputs.extra_graphs,
        )
        return EvaluateOutputs(**summary)


class SelectConfig(NodeModel):
    top: int = Field(
        5, ge=0, le=50, description="rows of the ranking input (a search's finalists) to retrain"
    )
    defaults: list[str] = Field(
        default_factory=lambda: ["gcn", "appnp", "mlp", "gcnii"],
        max_length=len(LAYERS),
        description="layer types trained at gnn.train's defaults as extra candidates (gcnii: "
        "its deep layer defaults, 32 layers)",
    )
    seeds: int = Field(5, ge=1, le=100, description="seeds per candidate and graph")
    first_seed: int = Field(
        50, description="seeds first_seed.. (apart from the search's 0-3 and evaluate's 100+)"
    )
    guard_z: float = Field(
        2.0,
        ge=0.0,
        le=10.0,
        description="a search candidate replaces the best default only when its validation "
        "lead, node by node, exceeds this many standard errors; 0: best mean validation wins",
    )
    resplits: int = Field(
        0,
        ge=0,
        le=20,
        description="judge on this many re-drawn splits of the graph's labelled nodes instead "
        "of its own split: per class the same number of training nodes, drawn afresh from its "
        "training and validation nodes, the rest validating (test nodes untouched), so the "
        "candidates are scored on validation nodes the search never saw; extra_graphs are "
        "scored as given; 0: the graph's own split",
    )

    @field_validator("defaults")
    @classmethod
    def _known_layers(cls, value: list[str]) -> list[str]:
        unknown = [layer for layer in value if layer not in LAYERS]
        if unknown:
            raise ValueError(f"unknown layer types {unknown}; expected some of {LAYERS}")
        return value


class SelectInputs(NodeModel):
    graph: InputPath = Field(description="graph file written by a gnn loader")
    extra_graphs: list[InputPath] = Field(
        default_factory=list,
        max_length=20,
        description="more graph files scored alongside (other splits of the same graph)",
    )
    best_config: dict[str, Any] = Field(
        default_factory=dict, description="a search's best config (the first candidate)"
    )
    ranking: list[dict[str, Any]] = Field(
        default_factory=list,
        description="a search's finalists or leaderboard rows; each row's params are applied "
        "over best_config",
    )


class SelectOutputs(NodeModel):
    best_config: dict[str, Any] = Field(description="the selected config (feed gnn.evaluate)")
    val_mean: float = Field(description="its mean validation accuracy over seeds and graphs")
    chose_default: bool = Field(description="the selected candidate is an untuned default")
    guard_kept_default: bool = Field(
        False,
        description="a search candidate ranked above the selected default by mean validation, "
        "but its lead was not significant node by node (guard_z)",
    )
    ranking: list[dict[str, Any]] = Field(
        description="every candidate: config, val_accs, val_mean, val_std; best first"
    )
    runs: int = Field(description="training runs made (resumed ones included)")


class SelectNode(NodeType):
    """Retrain a search's finalists and the untuned defaults on fresh seeds; pick by mean
    validation accuracy, and keep the best default unless a search candidate leads it
    significantly node by node, so the result is rarely a default's loss to validation noise."""

    name = "gnn.select"
    exclusive = TORCH_RNG  # seeds torch's default generator, then draws from it
    description = "Final selection: a search's finalists plus untuned defaults, on fresh seeds"
    Config = SelectConfig
    Inputs = SelectInputs
    Outputs = SelectOutputs

    def init(self, config: SelectConfig, context: NodeContext) -> None:
        super().init(config, context)
        from autoglm_gnn import selection

        self._selection = selection

    def execute(self, inputs: SelectInputs, context: NodeContext) -> SelectOutputs:
        cfg: SelectConfig = self.config
        candidates, defaults = self._selection.search_candidates(
            inputs.best_config, inputs.ranking, cfg.top, cfg.defaults
        )
        graphs = [inputs.graph, *inputs.extra_graphs]
        if cfg.resplits:
            from autoglm_gnn.graphs import resplit_files

            folder = context.cache_dir("gnn-resplits")
            graphs = [*resplit_files(inputs.graph, cfg.resplits, folder), *inputs.extra_graphs]
        seeds = list(range(cfg.first_seed, cfg.first_seed + cfg.seeds))
        signature = {"graphs": graphs, "candidates": candidates, "seeds": seeds}
        done = {
            tuple(entry["key"]): (entry["val_acc"], entry["correct"])
            for entry in context.journal_read("run")
            if entry.get("signature") == signature and "correct" in entry
        }
        total = len(candidates) * len(graphs) * len(seeds)

        def on_run(index: int, g_index: int, seed: int, score: tuple[float, str]) -> None:
            key = [index, g_index, seed]
            val_acc, correct = score
            entry = {"signature": signature, "key": key, "val_acc": val_acc, "correct": correct}
            context.journal_append("run", entry)
            done[tuple(key)] = score
            layer = candidates[index].get("layer", "gcn")
            context.log.info(
                "selection run", candidate=index, layer=layer, seed=seed, val_acc=val_acc
            )
            context.progress(len(done), total, f"candidate {index} ({layer}) seed {seed}")
            context.check_cancelled()

        ranking = self._selection.select(graphs, candidates, seeds, done=dict(done), on_run=on_run)
        best = self._selection.guarded_choice(ranking, defaults, cfg.guard_z)
        context.log.info(
            "selected",
            config=best["config"],
            val_mean=best["val_mean"],
            candidates=len(ranking),
            kept_default_over=None if best is ranking[0] else ranking[0]["config"],
        )
        rows = [{k: v for k, v in row.items() if k != "node_scores"} for row in ranking]
        return SelectOutputs(
            best_config=best["config"],
            val_mean=best["val_mean"],
            chose_default=best["index"] < defaults,
            guard_kept_default=best is not ranking[0],
            ranking=rows,
            runs=total,
        )


class PredictConfig(NodeModel):
    mask: Literal["train", "val", "test", "all"] = Field(
        "test", description="nodes the accuracy is computed on"
    )
    device: str = Field("auto", description="'auto', 'cpu' or 'cuda'")


class PredictInputs(NodeModel):
    checkpoint: InputPath = Field(
        description="checkpoint written by gnn.train or gnn.evaluate (tensors only: loaded "
        "with weights_only, never unpickled)"
    )
    graph: InputPath = Field(description="graph file with the same feature dimension")


class PredictOutputs(NodeModel):
    predictions: str = Field(description="CSV file: node, prediction, label, in_mask")
    accuracy: float | None = Field(description="accuracy on the mask (None if it is empty)")
    count: int = Field(description="nodes in the mask")
    class_counts: list[int] = Field(description="predicted nodes per class, over all nodes")


class PredictNode(NodeType):
    """Reload a checkpoint, predict every node of a graph, score on a mask."""

    name = "gnn.predict"
    description = "Predict node classes with a checkpoint; accuracy on a mask"
    Config = PredictConfig
    Inputs = PredictInputs
    Outputs = PredictOutputs

    def init(self, config: PredictConfig, context: NodeContext) -> None:
        super().init(config, context)
        from autoglm_gnn.predict import predict_file

        self._predict = predict_file

    def execute(self, inputs: PredictInputs, context: NodeContext) -> PredictOutputs:
        import numpy as np

        result = self._predict(
            inputs.checkpoint, inputs.graph, self.config.mask, self.config.device
        )
        path = context.artifacts_dir / "predictions.csv"
        rows = np.stack(
            [np.arange(result.predictions.size), result.predictions, result.labels, result.mask],
            axis=1,
        ).astype(np.int64)
        np.savetxt(
            path, rows, fmt="%d", delimiter=",", header="node,prediction,label,in_mask", comments=""
        )
        counts = np.bincount(result.predictions, minlength=int(result.labels.max()) + 1)
        return PredictOutputs(
            predictions=str(path),
            accuracy=result.accuracy,
            count=int(result.mask.sum()),
            class_counts=counts.tolist(),
        )
