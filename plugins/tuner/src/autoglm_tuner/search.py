"""The search loop: ask a batch, evaluate it on the worker pool, tell, promote, repeat.

Batches are synchronous on purpose: the optimiser is told the results of a batch in ask order
before the next batch is asked, and promotions are decided between batches. Nothing then
depends on which worker happens to finish first, so a seeded search is reproducible (for a
given seed and worker count), and a resumed search can *replay* its journal: it re-asks the
same points, finds their results recorded, tells them without running anything, and continues
with the first evaluation that is not in the journal.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from autoglm.context import NodeContext
from autoglm.nodes import NodeType
from autoglm.space import Dimension, dimension_to_dict
from autoglm_tuner import report
from autoglm_tuner.arms import Arm, ChoiceArms
from autoglm_tuner.config import SearchConfig, SearchInputs, SearchOutputs
from autoglm_tuner.design import make_design
from autoglm_tuner.executor_pool import make_pool
from autoglm_tuner.fidelity import Scheduler, promotion_fraction, rungs, spearman
from autoglm_tuner.pool import WorkerPool
from autoglm_tuner.predictor import PastSearch, Predictor
from autoglm_tuner.prior import PriorGuided, find_prior, seed_count
from autoglm_tuner.proposer import WARM, Proposer
from autoglm_tuner.report import loss_of
from autoglm_tuner.spaces import default_point
from autoglm_tuner.strategies import WAIT, Candidate, GridStrategy, Strategy, make_strategy
from autoglm_tuner.warmstart import SUMMARY_KIND, WARM_START_KIND, WarmStart, find_warm_start

TRIAL_KIND = "trial"
#: Journal kind of the past searches the performance predictor was fitted on.
PREDICTOR_KIND = "predictor"
#: First-rung trials a search summary keeps for later searches' predictors.
SUMMARY_TRIALS = 2000
#: Journal kind of the final re-evaluation's runs (one record per configuration and seed).
FINAL_KIND = "final"
#: Journal kind of the past searches the space prior was built from (prior.py).
PRIOR_KIND = "space_prior"
#: Journal kind of the KL guard's events (prior.py).
KL_GUARD_KIND = "kl_guard"
Record = dict[str, Any]


class SearchFailed(RuntimeError):
    """Every trial failed: there is no best configuration to hand on."""


@dataclass
class Best:
    """The best successful evaluation so far, kept as results arrive (a higher rung beats a
    lower one: scores from different fidelities are not comparable). Why not rebuild the
    leaderboard: that made every trial cost time proportional to all trials before it."""

    mode: str
    record: Record | None = None

    def update(self, record: Record) -> None:
        if record["status"] != "ok" or record["score"] is None:
            return
        if self.record is None or self._rank(record) < self._rank(self.record):
            self.record = record

    def _rank(self, record: Record) -> tuple[int, float]:
        return (-record["rung"], loss_of(record["score"], self.mode))


@dataclass
class Search:
    config: SearchConfig
    objective: type[NodeType]
    space: dict[str, Dimension]
    inputs: SearchInputs
    context: NodeContext
    records: list[Record] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.levels = rungs(self.config.fidelity)
        fraction = promotion_fraction(self.config.fidelity, len(self.levels))
        fidelity = self.config.fidelity
        synchronous = fidelity is None or fidelity.schedule == "sha"
        self.asha = Scheduler(len(self.levels), fraction, synchronous)
        self.recorded = {(r["trial"], r["rung"]): r for r in self.context.journal_read(TRIAL_KIND)}
        self.offset = max((r.get("elapsed") or 0.0 for r in self.recorded.values()), default=0.0)
        self.candidates: dict[int, Candidate] = {}
        self.trial_inputs = self.inputs.trial_inputs()
        self.worst_loss: float | None = None
        self.asked_all = False
        self.arms: ChoiceArms | None = None
        self.best = Best(self.config.mode)
        self.guided: PriorGuided | None = None
        extra = sum(fraction**k for k in range(1, len(self.levels)))
        self.expected_evaluations = math.ceil(self.config.budget * (1 + extra))

    # ------------------------------------------------------------ main loop

    def run(self) -> SearchOutputs:
        cfg = self.config
        warm = self._warm_start()
        start, self.start_filled = default_point(self.objective.Config, self.space, cfg.base_config)
        grid = cfg.optimizer == "grid"  # a fixed design: no warm start, no initial design
        design = make_design(cfg.initial_design, start, self.space, cfg.per_choice)
        strategy = self._strategy(start, cfg.budget - len(design.points()) - len(warm.configs))
        strategy = self._with_prior(strategy, warm.configs)
        self.proposer = Proposer(
            strategy,
            self.space,
            budget=cfg.budget,
            seed=cfg.seed,
            key=self._effective_key,
            design=None if grid else design,
            screen=self._screen(),
            keep=cfg.screen or 1.0,
        )
        self.started = time.monotonic()
        # the run's executor when it is not local (a Dask cluster), else local processes
        with make_pool(cfg.workers, self.context, cfg.trial_timeout) as pool:
            while True:
                jobs = self.asha.promotions(cfg.workers, final=self.asked_all)
                jobs += self._new_trials(cfg.workers - len(jobs))
                if not jobs:
                    jobs = self.asha.promotions(cfg.workers, final=True)
                    if not jobs:
                        break
                for (trial, rung), record in zip(jobs, self._evaluate(jobs, pool), strict=True):
                    self._tell(trial, rung, record)
            final = self._final_stage(pool)
        return self._finish(warm, final)

    def _strategy(self, start: dict[str, Any], asks: int) -> Strategy:
        """The configured optimiser, or one per option of ``per_choice`` (see arms.py) with
        ``asks`` (the budget after the design and warm starts) shared between options."""
        cfg = self.config

        def make(fields: list[str], seed: int) -> Strategy:
            if not fields:  # nothing left to search: the one point, then done
                return GridStrategy({}, seed, 1, 1)
            return make_strategy(
                cfg.optimizer,
                {name: self.space[name] for name in fields},
                budget=cfg.budget,
                workers=cfg.workers,
                seed=seed,
                grid_points=cfg.grid_points,
                start={n: start[n] for n in fields},
            )

        if cfg.per_choice is None or cfg.optimizer == "grid":
            return make(list(self.space), cfg.seed)
        choice = cfg.per_choice

        def fields_of(value: Any) -> list[str]:
            used = self._effective({**start, choice: value})
            return [name for name in self.space if name != choice and name in used]

        arms = []
        for index, value in enumerate(getattr(self.space[choice], "values", [])):
            fields = fields_of(value)
            arms.append(Arm(value, make(fields, cfg.seed * 101 + index), fields))
        self.arms = ChoiceArms(choice, arms, budget=max(1, asks), fill=start)
        return self.arms

    def _new_trials(self, room: int) -> list[tuple[int, int]]:
        """Up to ``room`` new distinct points from the proposer (see proposer.py)."""
        jobs: list[tuple[int, int]] = []
        while len(jobs) < room and not self.asked_all:
            candidate = self.proposer.ask()
            if candidate is WAIT:  # the design's follow-up waits for results still running
                break
            if candidate is None:
                self.asked_all = True
                break
            trial = len(self.candidates)
            self.candidates[trial] = candidate
            jobs.append((trial, 0))
        return jobs

    def _effective_key(self, params: dict[str, Any]) -> str:
        """Points that the objective computes identically (``NodeType.effective_config``:
        a GCN under two values of APPNP's ``k``) share a key, so the second is a duplicate."""
        return _key(self._effective(params))

    def _effective(self, params: dict[str, Any]) -> dict[str, Any]:
        config = {**self.config.base_config, **params}
        try:
            return self.objective.effective_config(config)
        except Exception:  # a plugin's helper must not break the search: all raw values
            return config

    def _tell(self, trial: int, rung: int, record: Record) -> None:
        """Record a result for the scheduler; a first-rung result goes to the proposer (and
        so to the optimiser) once. A failure is told as a penalty (the worst loss so far plus
        a margin) so the optimiser moves away; before any success, nothing is told."""
        loss = None if record["status"] != "ok" else loss_of(record["score"], self.config.mode)
        self.asha.record(trial, rung, loss)
        if rung != 0:
            return  # the optimiser learns from first-rung scores, comparable across trials
        if loss is None:
            if self.worst_loss is not None:
                loss = self.worst_loss + max(1.0, abs(self.worst_loss))
        else:
            self.worst_loss = loss if self.worst_loss is None else max(self.worst_loss, loss)
        self.proposer.tell(self.candidates[trial], loss)

    # ---------------------------------------------------------- evaluation

    def _evaluate(self, jobs: list[tuple[int, int]], pool: WorkerPool) -> list[Record]:
        """Results of ``jobs`` in order: replayed from the journal when recorded for the same
        point, else run on the pool and journaled as each one finishes."""
        results: list[Record | None] = [None] * len(jobs)
        to_run: list[int] = []
        for i, (trial, rung) in enumerate(jobs):
            recorded = self.recorded.get((trial, rung))
            params = self.candidates[trial].params
            if recorded is not None and _same(recorded["params"], params):
                results[i] = recorded
                self.records.append(recorded)
                self.best.update(recorded)
            else:
                if recorded is not None:
                    self.context.log.warning(
                        "journal.mismatch", trial=trial, recorded=recorded["params"], asked=params
                    )
                to_run.append(i)

        def on_result(k: int, result: dict[str, Any]) -> None:
            i = to_run[k]
            record = self._record(*jobs[i], result)
            self.context.journal_append(TRIAL_KIND, record)
            self.records.append(record)
            self.best.update(record)
            results[i] = record
            self._progress(record)

        pool.run([self._payload(*jobs[i]) for i in to_run], on_result)
        return [r for r in results if r is not None]

    def _payload(self, trial: int, rung: int) -> dict[str, Any]:
        return {
            "objective": self.objective.name,
            "config": self._objective_config(self.candidates[trial].params, self.levels[rung]),
            "inputs": self.trial_inputs,
            "node_id": f"{self.context.node_id}.trial{trial:04d}.r{rung}",
        }

    def _objective_config(self, params: dict[str, Any], level: int | None) -> dict[str, Any]:
        config = {**self.config.base_config, **params}
        if self.config.fidelity is not None and level is not None:
            config[self.config.fidelity.field] = level
        return config

    def _record(self, trial: int, rung: int, result: dict[str, Any]) -> Record:
        status, error, score = result["status"], result.get("error"), None
        outputs = result.get("outputs") if status == "ok" else None
        if status == "ok":
            score, error = self._score((outputs or {}).get(self.config.metric))
            status = "ok" if score is not None else "failed"
        return {
            "trial": trial,
            "rung": rung,
            "fidelity": self.levels[rung],
            "params": self.candidates[trial].params,
            "status": status,
            "score": score,
            "error": error,
            "outputs": outputs,
            "seconds": round(float(result.get("seconds") or 0.0), 4),
            "cpu_seconds": round(float(result.get("cpu_seconds") or 0.0), 4),
            "elapsed": round(self.offset + time.monotonic() - self.started, 4),
            "warm": self.candidates[trial].source == WARM,
            "source": self.candidates[trial].source,
        }

    # ------------------------------------------------- final re-evaluation

    def _final_stage(self, pool: WorkerPool) -> list[dict[str, Any]]:
        """Re-train the best ``final_top_k`` full-fidelity configurations with
        ``final_seeds`` extra seeds and rank them by the mean score over all their seeds.

        Why: on a small validation set one training run's score is noisy, and the maximum of
        many noisy scores is biased upwards: the single best evaluation is often a lucky seed.
        Averaging a few seeds for a short list is cheap and selects on the same metric (never
        on test data). Every run is journaled (kind ``final``), so a resumed search replays it.
        """
        cfg = self.config
        best = self._best_rows()
        if cfg.final_top_k == 0 or not best:
            return []
        top = _distinct_outcomes(
            [row for row in best if row["rung"] == best[0]["rung"]], set(cfg.noise_outputs)
        )
        top = top[: cfg.final_top_k]
        base = self._base_seed()
        seeds = [base + i for i in range(1, cfg.final_seeds + 1)]
        recorded = {(r["trial"], r["seed"]): r for r in self.context.journal_read(FINAL_KIND)}
        jobs = [(row, s) for row in top for s in seeds]
        todo = [(row, s) for row, s in jobs if (row["trial"], s) not in recorded]
        level = self.levels[-1]

        def on_result(k: int, result: dict[str, Any]) -> None:
            row, seed = todo[k]
            record = self._final_record(row, seed, result)
            self.context.journal_append(FINAL_KIND, record)
            recorded[(row["trial"], seed)] = record
            self.context.progress(
                len(recorded), len(jobs), f"final trial {row['trial']} seed {seed}"
            )

        payloads = [
            {
                "objective": self.objective.name,
                "config": {
                    **self._objective_config(row["params"], level),
                    cfg.seed_field: seed,
                },
                "inputs": self.trial_inputs,
                "node_id": f"{self.context.node_id}.final{row['trial']:04d}.s{seed}",
            }
            for row, seed in todo
        ]
        pool.run(payloads, on_result)
        self.final_records = [recorded[(row["trial"], s)] for row, s in jobs]
        ranking = []
        for row in top:
            extra = [recorded[(row["trial"], s)] for s in seeds]
            scores = [row["score"]] + [r["score"] for r in extra if r["status"] == "ok"]
            ranking.append(
                {
                    "trial": row["trial"],
                    "params": row["params"],
                    "seeds": [base] + [r["seed"] for r in extra if r["status"] == "ok"],
                    "scores": scores,
                    "mean": sum(scores) / len(scores),
                    "search_score": row["score"],
                    "failed_seeds": sum(r["status"] != "ok" for r in extra),
                }
            )
        ranking.sort(key=lambda r: (r["failed_seeds"] > 0, loss_of(r["mean"], cfg.mode)))
        return ranking

    def _base_seed(self) -> int:
        """The seed every search trial ran with: base_config's, else the objective's default."""
        field_name = self.config.seed_field
        if field_name in self.config.base_config:
            return int(self.config.base_config[field_name])
        declared = self.objective.Config.model_fields.get(field_name)
        if declared is None:
            raise ValueError(
                f"tuner.search: final_top_k needs objective {self.objective.name!r} to have a "
                f"config field {field_name!r} (seed_field); it has none"
            )
        default = declared.default
        return int(default) if isinstance(default, int) else 0

    def _final_record(self, row: dict[str, Any], seed: int, result: dict[str, Any]) -> Record:
        status, error, score = result["status"], result.get("error"), None
        if status == "ok":
            score, error = self._score((result.get("outputs") or {}).get(self.config.metric))
            status = "ok" if score is not None else "failed"
        return {
            "trial": row["trial"],
            "seed": seed,
            "params": row["params"],
            "status": status,
            "score": score,
            "error": error,
            "outputs": result.get("outputs") if status == "ok" else None,
            "seconds": round(float(result.get("seconds") or 0.0), 4),
            "cpu_seconds": round(float(result.get("cpu_seconds") or 0.0), 4),
            "elapsed": round(self.offset + time.monotonic() - self.started, 4),
        }

    def _score(self, value: Any) -> tuple[float | None, str | None]:
        """(score, None) for a finite number, else (None, why not)."""
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return float(value), None
        return None, f"objective output {self.config.metric!r} is {value!r}, not a finite number"

    def _progress(self, record: Record) -> None:
        message = f"trial {record['trial']} {record['status']}"
        if self.best.record is not None:
            message += f"; best {self.config.metric}={self.best.record['score']:.4g}"
        self.context.progress(len(self.records), self.expected_evaluations, message)

    # ------------------------------------------------------------ predictor

    def _screen(self) -> Any:
        """The performance predictor's ranking for this task, or None (no ``screen``, no
        profile, or no past search to learn from). The past searches used are journaled, so
        a resumed search screens with the same model."""
        profile = self.inputs.profile
        if self.config.screen is None or not profile or self.config.optimizer == "grid":
            return None
        saved = self.context.journal_read(PREDICTOR_KIND)
        summaries = self._summaries()
        if saved:
            used = {tuple(source) for source in saved[-1]["sources"]}
            summaries = [s for s in summaries if (s[0], s[1]) in used]
        else:
            sources = [[run_id, node_id] for run_id, node_id, _ in summaries]
            self.context.journal_append(PREDICTOR_KIND, {"sources": sources})
        past = [
            PastSearch(summary.get("profile") or {}, [(p, loss) for p, loss in summary["trials"]])
            for _, _, summary in summaries
        ]
        predictor = Predictor(self.space, past)
        if not predictor.size:
            return None
        return lambda points: predictor.rank(points, profile)

    def _closeness(self) -> dict[str, Any]:
        """What makes a past search close enough to transfer from, the same for the warm start
        and the space prior: its objective and metric, the profile distance limit and this
        search's profile and space."""
        return {
            "objective": self.objective.name,
            "metric": self.config.metric,
            "profile": self.inputs.profile,
            "space": self.space,
            "max_distance": self.config.warm_start_max_distance,
        }

    def _summaries(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Finished searches of the same objective and metric that journaled their trials."""
        cfg = self.config
        return [
            (run_id, node_id, summary)
            for run_id, node_id, summary in self.context.journal_search(SUMMARY_KIND)
            if isinstance(summary, dict)
            and summary.get("objective") == self.objective.name
            and summary.get("metric") == cfg.metric
            and summary.get("trials")
            and (run_id, node_id) != (self.context.run_id, self.context.node_id)
        ]

    # ------------------------------------------------------------ space prior

    def _with_prior(self, strategy: Strategy, warm: list[dict[str, Any]]) -> Strategy:
        """``strategy`` guided by the ``warm`` start configs and a prior from close past
        searches (prior.py: both asked after the design's start point, told to the optimiser
        only when they win), or as is (neither, or a grid). The prior's seeds leave out the
        warm configs. The searches used are journaled, so a resumed search builds the same
        prior and asks the same points."""
        cfg = self.config
        if cfg.optimizer == "grid":
            return strategy
        prior = None
        if cfg.prior != "off" and self.inputs.profile:
            saved = self.context.journal_read(PRIOR_KIND)
            summaries = self._summaries()
            if saved:
                used = {tuple(source) for source in saved[-1]["sources"]}
                summaries = [s for s in summaries if (s[0], s[1]) in used]
            prior = find_prior(summaries, **self._closeness(), active=self._active)
            if not saved:
                sources = [[s["run_id"], s["node_id"]] for s in prior.sources] if prior else []
                self.context.journal_append(PRIOR_KIND, {"sources": sources})
        if prior is None and not warm:
            return strategy
        if prior is not None:
            prior.seeds = [seed for seed in prior.seeds if seed not in warm]
        self.guided = PriorGuided(
            strategy,
            prior,
            seeds=seed_count(cfg.budget, cfg.prior_seeds, prior) if prior else 0,
            share=cfg.prior_share,
            seed=cfg.seed,
            kl_threshold=cfg.kl_threshold,
            patience=cfg.kl_patience,
            active=self._active,
            warm=warm,
        )
        return self.guided

    def _active(self, params: dict[str, Any]) -> list[str]:
        """Searched fields the objective reads at ``params`` (its effective config)."""
        return [name for name in self._effective(params) if name in self.space]

    def _prior_outputs(self) -> dict[str, Any]:
        """The prior's part of the outputs; its KL guard events are journaled once each."""
        if self.guided is None or self.guided.prior is None:
            return {"used": False}
        described = self.guided.describe()
        journaled = {e["result"] for e in self.context.journal_read(KL_GUARD_KIND)}
        for event in described["kl_guard"]:
            if event["result"] not in journaled:
                self.context.journal_append(KL_GUARD_KIND, event)
        return described

    # ------------------------------------------------------------ warm start

    def _warm_start(self) -> WarmStart:
        """Chosen once per search and journaled, so a resumed search asks the same points."""
        saved = self.context.journal_read(WARM_START_KIND)
        if saved:
            return WarmStart(saved[-1]["configs"], saved[-1]["sources"])
        warm = WarmStart([], [])
        cfg = self.config
        if cfg.warm_start and self.inputs.profile and cfg.optimizer != "grid":
            warm = find_warm_start(
                self.context.journal_search(SUMMARY_KIND),
                **self._closeness(),
                limit=cfg.warm_start_configs,
                exclude=(self.context.run_id, self.context.node_id),
            )
        self.context.journal_append(WARM_START_KIND, warm.to_dict())
        return warm

    # ---------------------------------------------------------------- finish

    def _best_rows(self) -> list[dict[str, Any]]:
        rows = report.leaderboard(self.records, self.config.mode)
        return [row for row in rows if row["status"] == "ok"]

    def _finish(self, warm: WarmStart, final: list[dict[str, Any]]) -> SearchOutputs:
        cfg = self.config
        strategy = self.proposer.describe()
        stop_reason = self.proposer.stop_reason or "every point asked was evaluated"
        proposals = dict(self.proposer.sources)
        prior = self._prior_outputs()
        records = sorted(self.records, key=lambda r: r["elapsed"])
        rows = report.leaderboard(records, cfg.mode)
        best = [row for row in rows if row["status"] == "ok"]
        top_rung = best[0]["rung"] if best else 0
        correlation = self._rank_correlation(records)
        labels = [f"{cfg.fidelity.field}={lvl}" if cfg.fidelity else "full" for lvl in self.levels]
        out_dir = self.context.artifacts_dir
        plot_path = report.plot(records, cfg.mode, cfg.metric, labels, out_dir / "search.png")
        chosen = (final[0] if final else best[0]) if best else None
        best_params = chosen["params"] if chosen else {}
        source = self.candidates[chosen["trial"]].source if chosen else strategy
        best_score = (final[0]["mean"] if final else best[0]["score"]) if best else None
        best_config = self._objective_config(best_params, self.levels[-1])
        summary = {
            "objective": self.objective.name,
            "optimizer": strategy,
            "stop_reason": stop_reason,
            "proposals": proposals,
            "start_filled": self.start_filled,
            "metric": cfg.metric,
            "mode": cfg.mode,
            "budget": cfg.budget,
            "seed": cfg.seed,
            "workers": cfg.workers,
            "rungs": labels,
            "evaluations": len(records),
            "best_score": best_score,
            "best_config": best_config,
            "final_ranking": final,
            "rank_correlation": correlation,
            "warm_start": warm.sources,
            "prior": prior,
            "choice_rounds": self._choice_rounds(),
            "space": {name: dimension_to_dict(dim) for name, dim in self.space.items()},
        }
        report_path = report.html_report(summary, rows, plot_path.name, out_dir / "report.html")
        if not best:
            errors = "; ".join(sorted({str(row["error"]) for row in rows})[:3])
            raise SearchFailed(
                f"all {len(rows)} trials of {self.objective.name!r} failed ({errors}); "
                f"report: {report_path}"
            )
        self._journal_summary(best, top_rung, final)
        return SearchOutputs(
            best_config=best_config,
            best_params=best_params,
            best_score=best_score,
            leaderboard=rows,
            leaderboard_text=report.leaderboard_text(rows, cfg.metric, cfg.show_top)
            + _final_text(final, cfg.metric),
            trials=len(rows),
            failed_trials=sum(row["status"] != "ok" for row in rows),
            evaluations=len(records),
            optimizer_used=source,
            strategy=strategy,
            proposals=proposals,
            stop_reason=stop_reason,
            start_filled=self.start_filled,
            screened_out=self.proposer.screened_out,
            screening=self.proposer.check.describe() if self.proposer.screen else {},
            rank_correlation=correlation,
            warm_started_from=sorted({s["run_id"] for s in warm.sources}),
            prior=prior,
            final_ranking=final,
            choice_rounds=self._choice_rounds(),
            plot_path=str(plot_path),
            report_path=str(report_path),
        )

    def _choice_rounds(self) -> list[dict[str, Any]]:
        return self.arms.history if self.arms is not None else []

    def _rank_correlation(self, records: list[Record]) -> float | None:
        """Do first-rung scores rank trials like full-fidelity scores? (Over promoted trials
        only, so on a narrowed range: a sanity check, not a proof; see the benchmark.)"""
        if len(self.levels) < 2:
            return None
        first = {r["trial"]: r["score"] for r in records if r["rung"] == 0 and r["status"] == "ok"}
        last_rung = len(self.levels) - 1
        full = {
            r["trial"]: r["score"]
            for r in records
            if r["rung"] == last_rung and r["score"] is not None
        }
        shared = sorted(set(first) & set(full))
        value = spearman([first[t] for t in shared], [full[t] for t in shared])
        return None if value is None else round(value, 4)

    def _journal_summary(
        self, best: list[dict[str, Any]], top_rung: int, final: list[dict[str, Any]]
    ) -> None:
        """What later searches warm-start from (written once per search node)."""
        if self.context.journal_read(SUMMARY_KIND):
            return
        cfg = self.config
        self.context.journal_append(
            SUMMARY_KIND,
            {
                "objective": self.objective.name,
                "metric": cfg.metric,
                "mode": cfg.mode,
                "profile": self.inputs.profile or {},
                "top_configs": [r["params"] for r in final]
                or [row["params"] for row in best if row["rung"] == top_rung][:5],
                "best_score": final[0]["mean"] if final else best[0]["score"],
                "trials": [  # what the performance predictor of later searches learns from
                    [r["params"], loss_of(r["score"], cfg.mode)]
                    for r in self.records
                    if r["rung"] == 0 and r["status"] == "ok"
                ][:SUMMARY_TRIALS],
                "space": {name: dimension_to_dict(dim) for name, dim in self.space.items()},
            },
        )


def _distinct_outcomes(rows: list[dict[str, Any]], noise: set[str]) -> list[dict[str, Any]]:
    """``rows`` without the ones whose objective outputs repeat an earlier row's exactly,
    leaving out the outputs named in ``noise`` (run-time measurements, paths: the config's
    ``noise_outputs``, declared for the objective, never guessed).

    Why: objectives often ignore some searched fields in part of the space (gnn.train's ``k``
    and ``alpha`` for a GCN), so an optimiser that mutates such a field produces the same model
    under several configurations. Spending the final re-evaluation on copies of one model wastes
    it. Only outputs equal in every non-noise field are copies: two prompts that merely score
    the same differ in their other outputs and are both kept. Rows without outputs are kept."""
    seen: set[str] = set()
    kept = []
    for row in rows:
        outputs = row.get("outputs")
        if outputs:
            key = json.dumps(
                {k: v for k, v in outputs.items() if k not in noise}, sort_keys=True, default=str
            )
            if key in seen:
                continue
            seen.add(key)
        kept.append(row)
    return kept


def _final_text(final: list[dict[str, Any]], metric: str) -> str:
    """The final re-evaluation in one line per finalist (empty without one)."""
    if not final:
        return ""
    lines = [f"\nfinal re-evaluation (mean {metric} over seeds; the first is selected):"]
    lines += [
        f"  trial {r['trial']}: mean {r['mean']:.4g} over seeds {r['seeds']} "
        f"(scores {', '.join(f'{x:.4g}' for x in r['scores'])})"
        for r in final
    ]
    return "\n".join(lines)


def _key(params: dict[str, Any]) -> str:
    """A point as the journal keeps it (JSON), so 0.1 read back equals 0.1 asked."""
    return json.dumps(params, sort_keys=True, default=str)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _key(a) == _key(b)
