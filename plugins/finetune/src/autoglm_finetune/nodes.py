"""The ``finetune.*`` node types. Only pydantic models are imported here; torch, transformers,
scikit-learn and numpy load inside ``execute``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from autoglm import NodeContext, NodeType
from autoglm.exclusive import TORCH_RNG
from autoglm_finetune.config import (
    ClassifierConfig,
    DataInputs,
    LoraConfig,
    LoraOutputs,
    PredictConfig,
    PredictInputs,
    PredictOutputs,
    ProbeConfig,
    SelectConfig,
    SelectInputs,
    SelectOutputs,
    TrainOutputs,
)


class _Clock:
    """CPU (all threads of the process) and wall time since creation: the cost reported."""

    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def spent(self) -> tuple[float, float]:
        return time.process_time() - self.cpu, time.perf_counter() - self.wall


def _splits(cfg: ProbeConfig | ClassifierConfig | LoraConfig, inputs: DataInputs):
    from autoglm_finetune.data import node_splits

    return node_splits(cfg, inputs)


def _frozen_encoder(cfg: ProbeConfig | ClassifierConfig, context: NodeContext) -> Any:
    """The shared adapter with the on-disk embedding cache (tuner trials embed once)."""
    from autoglm_hf.api import from_spec

    spec = {"kind": "hf-encoder", "model": cfg.encoder, "device": cfg.device}
    spec["cache_dir"] = str(context.cache_dir("hf-embeddings"))
    return from_spec(spec)


class _CallCounter:
    """Texts the shared frozen encoder really ran, and those its on-disk cache served, since
    creation: the probes' model calls and cache hits, counted apart as finetune.select reports
    them. The encoder object is shared per process, so the count is a difference."""

    def __init__(self, encoder: Any) -> None:
        self.encoder = encoder
        self.start = getattr(encoder, "computed", 0)
        self.requested = 0

    def embed(self, texts: list[str], batch_size: int) -> Any:
        self.requested += len(texts)
        return self.encoder.embed(texts, batch_size=batch_size)

    def counts(self, also_requested: int = 0) -> tuple[int, int]:
        calls = getattr(self.encoder, "computed", 0) - self.start
        return calls, max(0, self.requested + also_requested - calls)


def _finish(
    checkpoint: str,
    splits: Any,
    classifier: Any,
    clock: _Clock,
    history: list,
    val: float,
    counter: _CallCounter | None = None,
) -> TrainOutputs:
    """Score test once with the reloaded checkpoint (so what is reported is what reloads)."""
    from autoglm_eval.api import classification_report

    test_pred: list[str] = []
    accuracy = macro = None
    if splits.test:
        test_pred = classifier.predict(splits.texts("test"))
        gold = [e["label"] for e in splits.test]
        report = classification_report(gold, test_pred, splits.labels)
        accuracy, macro = report["accuracy"], report["macro"]["f1"]
    cpu, wall = clock.spent()
    calls, hits = counter.counts(len(splits.test)) if counter else (None, None)
    return TrainOutputs(
        checkpoint=checkpoint,
        labels=splits.labels,
        val_accuracy=val,
        test_accuracy=accuracy,
        test_macro_f1=macro,
        test_predictions=test_pred,
        test_gold=[e["label"] for e in splits.test],
        n_train=len(splits.train),
        n_validation=len(splits.validation),
        cpu_seconds=round(cpu, 2),
        wall_seconds=round(wall, 2),
        history=history,
        model_calls=calls,
        cache_hits=hits,
    )


def _val_accuracy(head: Any, x: Any, targets: list[int]) -> float:
    from autoglm_finetune.ensemble import accuracy

    return accuracy(head.logits(x), targets)


class ProbeNode(NodeType):
    """A logistic or MLP head on frozen sentence embeddings (the strong simple baseline)."""

    name = "finetune.probe"
    exclusive = TORCH_RNG  # seeds torch's default generator, then draws from it
    description = "Logistic/MLP head on frozen encoder embeddings; checkpoint, val/test scores"
    Config = ProbeConfig
    Inputs = DataInputs
    Outputs = TrainOutputs

    def execute(self, inputs: DataInputs, context: NodeContext) -> TrainOutputs:
        import numpy as np

        from autoglm_finetune.checkpoint import load_classifier, save_classifier
        from autoglm_finetune.probe import fit_centroid, fit_logistic, fit_mlp, label_name_head

        cfg = self.config
        assert isinstance(cfg, ProbeConfig)
        clock = _Clock()
        splits = _splits(cfg, inputs)
        encoder = _frozen_encoder(cfg, context)
        counter = _CallCounter(encoder)
        context.progress(0, 3, "embedding")
        x = counter.embed(splits.texts("train"), cfg.batch_size)
        xv = counter.embed(splits.texts("validation"), cfg.batch_size)
        y, yv = np.asarray(splits.targets("train")), splits.targets("validation")
        context.check_cancelled()
        history: list[dict[str, Any]] = []
        if cfg.head == "logistic":
            context.progress(1, 3, "fitting logistic regression")
            head = fit_logistic(x, y, C=cfg.C, seed=cfg.seed)
        elif cfg.head == "centroid":
            head = fit_centroid(x, y, len(splits.labels))
        elif cfg.head == "label_names":
            counter.requested += len(splits.labels)
            head = label_name_head(encoder, splits.labels)
        else:
            head, accs = fit_mlp(
                x,
                y,
                xv,
                np.asarray(yv),
                classes=len(splits.labels),
                hidden=cfg.hidden,
                lr=cfg.lr,
                weight_decay=cfg.weight_decay,
                dropout=cfg.dropout,
                epochs=cfg.epochs,
                patience=cfg.patience,
                batch_size=cfg.batch_size,
                seed=cfg.seed,
                progress=lambda done, total, msg: context.progress(done, total, msg),
            )
            history = [{"epoch": i + 1, "val": a} for i, a in enumerate(accs)]
        val = _val_accuracy(head, xv, yv)
        folder = save_classifier(
            context.artifacts_dir / "classifier",
            kind=f"probe-{cfg.head}",
            labels=splits.labels,
            head=head,
            encoder=cfg.encoder,
            extra={"val_accuracy": val},
        )
        classifier = load_classifier(
            folder, device=cfg.device, cache_dir=str(context.cache_dir("hf-embeddings"))
        )
        context.progress(3, 3, f"validation accuracy {val:.4f}")
        return _finish(folder, splits, classifier, clock, history, val, counter)


class ClassifierNode(NodeType):
    """Fine-tune the encoder itself: end to end with a linear head, or contrastively on pairs
    (SetFit-like) then a logistic head; early stopping on validation; a reloadable checkpoint."""

    name = "finetune.classifier"
    exclusive = TORCH_RNG  # seeds torch's default generator, then draws from it
    description = "Full or contrastive (SetFit-like) encoder fine-tuning with a classification head"
    Config = ClassifierConfig
    Inputs = DataInputs
    Outputs = TrainOutputs

    def execute(self, inputs: DataInputs, context: NodeContext) -> TrainOutputs:
        import numpy as np
        import torch

        from autoglm_finetune import encoder_train as et
        from autoglm_finetune.checkpoint import (
            ENCODER_DIR,
            PROBE_HEAD,
            load_classifier,
            member_files,
            save_classifier,
            save_encoder,
        )
        from autoglm_finetune.ensemble import accuracy, average, choose_weight
        from autoglm_finetune.heads import Head
        from autoglm_finetune.probe import fit_logistic
        from autoglm_hf.api import default_encoder_path

        cfg = self.config
        assert isinstance(cfg, ClassifierConfig)
        clock = _Clock()
        splits = _splits(cfg, inputs)
        path = default_encoder_path() if cfg.encoder == "default" else cfg.encoder
        model, tokenizer = et.load_trainable(path)
        settings = et.settings_of(cfg)
        texts, y = splits.texts("train"), splits.targets("train")
        val_texts, yv = splits.texts("validation"), splits.targets("validation")

        def report(done: int, total: int, message: str) -> None:
            context.progress(done, total, message)

        history: list[dict[str, Any]] = []
        extra: dict[str, Any] = {"base_encoder": cfg.encoder}
        probe, weight, validated_test, refit = None, None, None, False
        saved: list[tuple[Any, Head]] = []
        if cfg.mode == "full":
            if cfg.init_head == "probe" or cfg.ensemble == "probe":
                # The frozen embeddings go through the shared cache: free after a probe node.
                frozen = _frozen_encoder(cfg, context)
                x = frozen.embed(texts, batch_size=cfg.batch_size)
                probe = fit_logistic(x, np.asarray(y), C=cfg.C, seed=cfg.seed)
            spare = [model]  # the first member trains the copy already loaded

            def load() -> Any:
                return spare.pop() if spare else et.load_trainable(path)[0]

            cached = et.frozen_states(model, tokenizer, texts, val_texts, settings)
            members = et.finetune_members(
                load,
                tokenizer,
                (texts, y),
                (val_texts, yv),
                len(splits.labels),
                settings,
                cfg.seeds,
                init_head=probe.layers[0] if cfg.init_head == "probe" and probe else None,
                progress=report,
                check_cancelled=context.check_cancelled,
                cached=cached,
            )
            saved = [(m.model, Head([m.head])) for m in members]
            head = saved[0][1]
            history = [
                {**h, "member": i + 1} if cfg.seeds > 1 else h
                for i, m in enumerate(members)
                for h in m.history
            ]
            own = average(
                [h.probabilities(m.val_vectors) for (_, h), m in zip(saved, members, strict=True)]
            )
            val = accuracy(own, yv)
            if cfg.ensemble == "probe" and probe is not None and yv:
                xv = frozen.embed(val_texts, batch_size=cfg.batch_size)
                weight, val = choose_weight(
                    own, probe.probabilities(xv), yv, margin=cfg.blend_margin
                )
                if weight:
                    extra["blend"] = {"encoder": cfg.encoder, "weight": weight}
            if cfg.refit and yv:
                if splits.test:
                    validated_test = _validated_test_accuracy(
                        saved, tokenizer, splits, cfg, frozen if weight else None, probe, weight
                    )
                known = [i for i, t in enumerate(yv) if t >= 0]  # labels seen in training
                added = [val_texts[i] for i in known]
                every_text, every_y = texts + added, y + [yv[i] for i in known]
                if probe is not None:
                    xv = frozen.embed(added, batch_size=cfg.batch_size)
                    probe = fit_logistic(
                        np.concatenate([x, xv]), np.asarray(every_y), C=cfg.C, seed=cfg.seed
                    )
                saved.clear()  # the validated members' weights are not needed any more
                refitted = et.finetune_members(
                    lambda: et.load_trainable(path)[0],
                    tokenizer,
                    (every_text, every_y),
                    ([], []),
                    len(splits.labels),
                    settings,
                    cfg.seeds,
                    init_head=probe.layers[0] if cfg.init_head == "probe" and probe else None,
                    progress=lambda done, total, message: report(done, total, "refit " + message),
                    check_cancelled=context.check_cancelled,
                    cached=(cached[0] + [cached[1][i] for i in known], []),
                    epochs=[et.best_epoch(m.history) for m in members],
                )
                saved = [(m.model, Head([m.head])) for m in refitted]
                head, refit = saved[0][1], True
                history += [
                    {**h, "member": i + 1, "refit": True}
                    for i, m in enumerate(refitted)
                    for h in m.history
                ]
        else:
            losses = et.train_contrastive(
                model,
                tokenizer,
                texts,
                y,
                settings,
                pairs_per_example=cfg.pairs_per_example,
                progress=report,
                check_cancelled=context.check_cancelled,
            )
            history = [{"epoch": i + 1, "pair_loss": v} for i, v in enumerate(losses)]
            tuned = et.embed_all(model, tokenizer, texts, cfg.max_length)
            head = fit_logistic(tuned, np.asarray(y), C=cfg.C, seed=cfg.seed)
            with torch.no_grad():
                vectors = et.embed_all(model, tokenizer, val_texts, cfg.max_length)
            val = _val_accuracy(head, vectors, yv)
        root = Path(context.artifacts_dir / "classifier")
        # Member 0 is ``model`` (trained in place); members 1.. are written beside it.
        for index, (member_model, member_head) in enumerate(saved or [(model, head)]):
            folder_name, head_file = member_files(index)
            save_encoder(member_model, tokenizer, root / folder_name, cfg.max_length)
            if index:
                member_head.save(root / head_file)
        if len(saved) > 1:
            names = [member_files(i) for i in range(1, len(saved))]
            extra["members"] = [{"encoder": e, "head": h} for e, h in names]
        if "blend" in extra and probe is not None:
            probe.save(root / PROBE_HEAD)
        folder = save_classifier(
            root,
            kind=f"finetune-{cfg.mode}",
            labels=splits.labels,
            head=head,
            encoder=ENCODER_DIR,
            extra={"val_accuracy": val, **extra},
        )
        cache = str(context.cache_dir("hf-embeddings"))
        classifier = load_classifier(folder, device=cfg.device, cache_dir=cache)
        out = _finish(folder, splits, classifier, clock, history, val)
        return out.model_copy(
            update={
                "blend_weight": weight,
                "refit": refit,
                "test_accuracy_validated": validated_test,
            }
        )


def _validated_test_accuracy(
    saved: list[tuple[Any, Any]],
    tokenizer: Any,
    splits: Any,
    cfg: ClassifierConfig,
    frozen: Any,
    probe: Any,
    weight: float | None,
) -> float:
    """Test accuracy of the members trained without the validation rows (blended with the
    probe as chosen), before the refit replaces them: what the refit adds, reported beside
    the refitted checkpoint's own test accuracy. Predicted by the checkpoint's own
    ``Classifier`` (members averaged, then the blend), on the models still in memory."""
    from autoglm_finetune.checkpoint import Blend, Classifier, Member
    from autoglm_finetune.encoder_train import InMemoryEncoder
    from autoglm_finetune.ensemble import accuracy

    members = [Member(head, InMemoryEncoder(m, tokenizer, cfg.max_length)) for m, head in saved]
    term = Blend(probe, frozen, weight) if weight and frozen is not None and probe else None
    classifier = Classifier(
        Path(), {"labels": splits.labels}, members[0].head, members[0].encoder, term, members[1:]
    )
    return accuracy(classifier.probabilities(splits.texts("test")), splits.targets("test"))


class PredictNode(NodeType):
    """Reload a finetune checkpoint and predict a labelled file (accuracy included)."""

    name = "finetune.predict"
    description = "Reload a finetune checkpoint; predictions and accuracy on a file"
    Config = PredictConfig
    Inputs = PredictInputs
    Outputs = PredictOutputs

    def execute(self, inputs: PredictInputs, context: NodeContext) -> PredictOutputs:
        from autoglm_finetune.checkpoint import load_classifier
        from autoglm_prompt.api import load_examples

        cfg = self.config
        assert isinstance(cfg, PredictConfig)
        classifier = load_classifier(inputs.checkpoint, device=cfg.device)
        rows = load_examples(inputs.data)
        predictions = classifier.predict([r["text"] for r in rows], cfg.batch_size)
        right = sum(p == r["label"] for p, r in zip(predictions, rows, strict=True))
        return PredictOutputs(
            predictions=predictions,
            accuracy=right / len(rows) if rows else None,
            labels=classifier.labels,
        )


def _rank_completions(lm: Any, prompts: list[str], completions: list[str]) -> list[str]:
    """The completion with the highest log-likelihood after each prompt (hf.score's rule)."""
    out = []
    for prompt in prompts:
        scores = lm.score(prompt, completions)
        out.append(completions[max(range(len(scores)), key=scores.__getitem__)])
    return out


class LoraNode(NodeType):
    """Parameter-efficient fine-tuning of a causal LM with LoRA (``peft``): text -> completion
    pairs; the merged model is saved as an ordinary model folder."""

    name = "finetune.lora"
    exclusive = TORCH_RNG  # seeds torch's default generator, then draws from it
    description = "LoRA fine-tuning of a causal LM (peft); adapter and merged model folders"
    Config = LoraConfig
    Inputs = DataInputs
    Outputs = LoraOutputs

    def execute(self, inputs: DataInputs, context: NodeContext) -> LoraOutputs:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from autoglm_finetune.lora import LoraSettings, train_lora
        from autoglm_hf.api import from_pretrained, load_causal_lm, resolve_model

        cfg = self.config
        assert isinstance(cfg, LoraConfig)
        clock = _Clock()
        splits = _splits(cfg, inputs)
        prompt = lambda text: cfg.template.replace("{text}", text)  # noqa: E731
        completions = [cfg.separator + label for label in splits.labels]
        val_prompts = [prompt(t) for t in splits.texts("validation")]
        val_gold = [e["label"] for e in splits.validation]

        def accuracy(lm: Any, prompts: list[str], gold: list[str]) -> tuple[float, list[str]]:
            ranked = _rank_completions(lm, prompts, completions)
            predicted = [splits.labels[completions.index(c)] for c in ranked]
            right = sum(p == g for p, g in zip(predicted, gold, strict=True))
            return (right / len(gold) if gold else 0.0), predicted

        base = load_causal_lm(cfg.model, device="cpu", trust_remote_code=cfg.trust_remote_code)
        before, _ = accuracy(base, val_prompts, val_gold)
        path, code = resolve_model(cfg.model), cfg.trust_remote_code
        tokenizer = from_pretrained(
            AutoTokenizer.from_pretrained, path, "tokenizer", trust_remote_code=code
        )
        model = from_pretrained(
            AutoModelForCausalLM.from_pretrained,
            path,
            "causal language model",
            trust_remote_code=code,
        ).float()
        settings = LoraSettings(
            r=cfg.r,
            alpha=cfg.alpha,
            dropout=cfg.dropout,
            target_modules=cfg.target_modules,
            lr=cfg.lr,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            warmup_ratio=cfg.warmup_ratio,
            max_length=cfg.max_length,
            seed=cfg.seed,
        )
        pairs = [(prompt(e["text"]), cfg.separator + e["label"]) for e in splits.train]
        tuned, history = train_lora(
            model,
            tokenizer,
            pairs,
            settings,
            progress=lambda done, total, msg: context.progress(done, total, msg),
            check_cancelled=context.check_cancelled,
        )
        root = context.artifacts_dir / "lora"
        tuned.save_pretrained(root / "adapter")
        merged = tuned.merge_and_unload()
        merged.save_pretrained(root / "model")
        tokenizer.save_pretrained(root / "model")
        lm = load_causal_lm(str(root / "model"), device="cpu")
        val, _ = accuracy(lm, val_prompts, val_gold)
        test_accuracy, test_pred = None, []
        if splits.test:
            test_prompts = [prompt(t) for t in splits.texts("test")]
            test_accuracy, test_pred = accuracy(lm, test_prompts, [e["label"] for e in splits.test])
        cpu, _ = clock.spent()
        return LoraOutputs(
            checkpoint=str(root),
            model=str(root / "model"),
            labels=splits.labels,
            val_accuracy=val,
            val_accuracy_before=before,
            test_accuracy=test_accuracy,
            test_predictions=test_pred,
            n_train=len(splits.train),
            cpu_seconds=round(cpu, 2),
            history=history,
        )


class SelectNode(NodeType):
    """Choose among trained candidates by validation accuracy only; report every candidate's
    test accuracy and cost, with a paired test against the best simple baseline."""

    name = "finetune.select"
    description = "Select by validation; held-out score, cost and significance of every candidate"
    Config = SelectConfig
    Inputs = SelectInputs
    Outputs = SelectOutputs

    def execute(self, inputs: SelectInputs, context: NodeContext) -> SelectOutputs:
        from autoglm_finetune.select import select

        cfg = self.config
        assert isinstance(cfg, SelectConfig)
        golds = {tuple(c.get("test_gold", [])) for c in inputs.candidates.values()}
        if len(golds) != 1 or not next(iter(golds)):
            raise ValueError(
                "candidates: expected every candidate scored on the same non-empty test set "
                "(test_gold), so their predictions can be paired"
            )
        candidates = [{"name": name, **c} for name, c in inputs.candidates.items()]
        report = select(candidates, list(next(iter(golds))), baselines=tuple(cfg.baselines))
        chosen = inputs.candidates[report["chosen"]]
        row = next(r for r in report["rows"] if r["chosen"])
        return SelectOutputs(
            chosen=report["chosen"],
            chosen_checkpoint=chosen.get("checkpoint"),
            baseline=report["baseline"],
            test_accuracy=row["test_accuracy"],
            rows=report["rows"],
        )


NODE_TYPES: tuple[type[NodeType], ...] = (
    ProbeNode,
    ClassifierNode,
    PredictNode,
    LoraNode,
    SelectNode,
)
