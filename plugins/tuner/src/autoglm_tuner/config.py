"""Config, inputs and outputs of ``tuner.search``.

Kept in a module of their own that imports only pydantic and autoglm, so that listing plugins
(and validating workflows) never pulls in nevergrad, numpy or matplotlib.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from autoglm import NodeModel


class FidelityConfig(NodeModel):
    """Multi-fidelity schedule: every configuration is first evaluated with ``field = min``;
    the best ones are promoted through geometric rungs up to ``field = max``."""

    field: str = Field(
        ..., description="the objective's config field that sets the cost (e.g. max_epochs)"
    )
    min: int = Field(..., ge=1, le=100_000, description="fidelity of the first (cheapest) rung")
    max: int = Field(
        ..., ge=1, le=100_000, description="full fidelity; the best config is chosen here"
    )
    eta: float = Field(3.0, gt=1.0, description="growth factor between rungs")
    top_fraction: float | None = Field(
        0.3,
        gt=0.0,
        le=1.0,
        description="share of configurations that reach full fidelity (None: 1/eta per rung)",
    )
    schedule: Literal["sha", "asha"] = Field(
        "sha", description="successive halving (exact top fraction) or asynchronous ASHA"
    )

    @model_validator(mode="after")
    def _ordered(self) -> FidelityConfig:
        if self.min > self.max:
            raise ValueError(f"fidelity.min ({self.min}) must not exceed fidelity.max ({self.max})")
        return self


class SearchConfig(NodeModel):
    objective: str = Field(..., description="node type whose config is searched, e.g. gnn.train")
    base_config: dict[str, Any] = Field(
        default_factory=dict, description="fixed objective config values"
    )
    space: dict[str, dict[str, Any]] | None = Field(
        None, description="YAML-form dimensions that override or narrow the declared space"
    )
    space_only: bool = Field(
        False, description="search only the fields named in 'space'; the rest keep defaults"
    )
    metric: str = Field("val_acc", description="objective output field to optimise")
    mode: Literal["max", "min"] = "max"
    optimizer: str = Field(
        "TPE",
        description="'random', 'grid', 'TPE' (Optuna multivariate), 'GP' (Optuna GP + EI) or a "
        "Nevergrad registry name; the default is measured (docs/tuner.md)",
    )
    budget: int = Field(
        20,
        ge=1,
        le=10_000,
        description="number of configurations (trials) to evaluate (at most 10,000: searches "
        "on Cora converge within a few hundred)",
    )
    fidelity: FidelityConfig | None = None
    workers: int = Field(2, ge=1, le=64, description="worker processes running trials in parallel")
    trial_timeout: float | None = Field(
        None,
        gt=0,
        le=7 * 86_400,
        description="seconds one evaluation may take before its worker is killed",
    )
    seed: int = 0
    per_choice: str | None = Field(
        None,
        description="an unordered choice of the space (e.g. layer): search each option with "
        "its own optimiser over the fields that option uses, and share the budget between "
        "options by successive halving (see docs/tuner.md)",
    )
    initial_design: Literal["none", "default", "star"] = Field(
        "default",
        description="first trials, around the objective's defaults (base_config applied): "
        "'default' = the defaults; 'star' = also each field alone at its other options or "
        "range ends, then the changes that helped combined; 'none' = no design",
    )
    screen: float | None = Field(
        None,
        gt=0,
        le=1,
        description="on every second trial, train only this share of the optimiser's proposals "
        "(e.g. 0.3): the ones the performance predictor, fitted on the trials and profiles of "
        "past searches of the same objective and metric, ranks best, while its ranks agree with "
        "the trials trained; needs the profile input (docs/tuner.md)",
    )
    warm_start: bool = True
    warm_start_configs: int = Field(
        3, ge=0, le=100, description="at most this many earlier best configs are tried first"
    )
    warm_start_max_distance: float = Field(
        0.25, ge=0, description="largest profile distance (0-1) of a search to learn from"
    )
    prior: Literal["auto", "off"] = Field(
        "auto",
        description="'auto': with a profile, learn a prior over the space from the best 30% of "
        "the trials of close past searches (warm_start_max_distance), ask its seeds after the "
        "start point, told to the optimiser only when they win (and "
        "draw prior_share of proposals from it); 'off': never (docs/tuner.md)",
    )
    prior_seeds: float = Field(
        0.1, ge=0, le=0.5, description="share of the budget asked as the prior's seeds"
    )
    prior_share: float = Field(
        0.0,
        ge=0,
        le=0.9,
        description="share of proposals drawn from the prior at first; it decays to 0 while "
        "prior points do no better than the optimiser's own (0: the seeds only)",
    )
    kl_threshold: float | None = Field(
        0.7,
        gt=0,
        le=1,
        description="KL guard (with a prior): widen the search when the last 20 points have "
        "lost this share of their entropy (per field KL to uniform over that of a collapsed "
        "window, mean over fields, 0-1) and the best has stalled for kl_patience trials; "
        "None: no guard",
    )
    kl_patience: int = Field(
        20, ge=1, le=10_000, description="trials without improvement before the KL guard acts"
    )
    grid_points: int = Field(3, ge=1, le=100, description="grid values per numeric dimension")
    final_top_k: int = Field(
        0,
        ge=0,
        le=100,
        description="re-evaluate the best k full-fidelity configurations on extra seeds and "
        "select by their mean score (0: off, select the single best evaluation)",
    )
    final_seeds: int = Field(
        2, ge=1, le=100, description="extra seeds per configuration in the final re-evaluation"
    )
    seed_field: str = Field(
        "seed", description="objective config field that the final re-evaluation varies"
    )
    noise_outputs: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="objective outputs that differ between runs of the same model (timings, "
        "paths); left out when the final stage skips finalists whose outputs are identical",
    )
    show_top: int = Field(10, ge=1, le=10_000, description="rows of the text leaderboard")


class SearchInputs(NodeModel):
    objective_inputs: dict[str, Any] = Field(
        default_factory=dict, description="inputs given to every trial, e.g. {graph: path}"
    )
    profile: dict[str, Any] | None = Field(
        None, description="task description (graph statistics) used for warm starts"
    )

    def trial_inputs(self) -> dict[str, Any]:
        """What every trial's Inputs receive; refuses references the engine left unresolved."""
        values = dict(self.objective_inputs)
        for name, value in values.items():
            if isinstance(value, str) and value.startswith("$"):
                raise ValueError(
                    f"tuner.search input 'objective_inputs.{name}' is the unresolved reference "
                    f"{value!r}: the engine resolves references inside input mappings when it "
                    "runs a workflow; outside one, pass the value itself"
                )
        return values


class SearchOutputs(NodeModel):
    best_config: dict[str, Any] = Field(
        ..., description="full objective config: base_config, best values, full fidelity"
    )
    best_params: dict[str, Any] = Field(..., description="the searched values of the best trial")
    best_score: float | None
    leaderboard: list[dict[str, Any]]
    leaderboard_text: str
    trials: int = Field(..., description="configurations evaluated")
    failed_trials: int = Field(..., description="configurations whose last evaluation failed")
    evaluations: int = Field(..., description="objective runs, promotions included")
    optimizer_used: str = Field(
        ...,
        description="what proposed the selected point: 'initial design', 'warm start', "
        "'random fill' or the optimiser (NGOpt's pick named)",
    )
    strategy: str = Field(..., description="the optimiser that ran, and what else proposed")
    proposals: dict[str, int] = Field(
        default_factory=dict, description="distinct points proposed, per source"
    )
    stop_reason: str = Field(
        ..., description="why the search stopped: the budget spent, or the space exhausted"
    )
    screened_out: int = Field(
        0, description="proposals the performance predictor kept from training (screen)"
    )
    screening: dict[str, Any] = Field(
        default_factory=dict,
        description="with screen: the predictor's self-check (trials checked, Spearman of its "
        "predicted ranks against their losses, whether it still screens, the result at which it "
        "first stopped screening)",
    )
    start_filled: list[str] = Field(
        default_factory=list,
        description="searched fields whose default is missing or outside the space: the "
        "start point takes the middle of their range",
    )
    rank_correlation: float | None = Field(
        None, description="Spearman rank correlation of first-rung and full-fidelity scores"
    )
    warm_started_from: list[str] = Field(default_factory=list)
    prior: dict[str, Any] = Field(
        default_factory=lambda: {"used": False},
        description="the space prior: used or not, its past searches (run ids, distances), "
        "seeds asked, prior points, the final prior share and the KL guard's events",
    )
    final_ranking: list[dict[str, Any]] = Field(
        default_factory=list,
        description="final re-evaluation (final_top_k): per configuration its scores over "
        "seeds and their mean, best mean first; best_score is that mean",
    )
    choice_rounds: list[dict[str, Any]] = Field(
        default_factory=list,
        description="with per_choice: each round's option scores (mean of the best three "
        "losses) and the options kept for the next round",
    )
    plot_path: str
    report_path: str
