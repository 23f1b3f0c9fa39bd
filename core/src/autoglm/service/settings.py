"""Service settings: a YAML file (``autoglm serve --config service.yaml``), then flags on top.

Every field has a safe default: the service binds to loopback, takes workflows from
``configs/``, allows every installed plugin, and runs a few workflows at a time. Unknown or
ill-typed fields are refused with the file and field named, never ignored.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autoglm.errors import AutoGLMError
from autoglm.policy import TrustPolicy
from autoglm.service.limits import RunLimits


class SettingsError(AutoGLMError):
    """The service configuration is invalid."""


class ServiceSettings(BaseModel):
    """How the service starts. ``PUT /v1/config`` may change the runtime subset later."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(default="127.0.0.1", description="Interface to bind (loopback).")
    port: int = Field(default=8080, ge=0, le=65535)
    home: str | None = Field(
        default=None, description="Run store and keys folder (default $AUTOGLM_HOME, ./.autoglm)."
    )
    workflows_dir: str = Field(default="configs", description="Folder of named workflows.")
    plugins: list[str] | None = Field(
        default=None, description="Plugins the service loads and allows (default: all)."
    )
    block: list[str] = Field(default_factory=list, description="Plugins never loaded.")
    plugin_dirs: list[str] = Field(
        default_factory=list, description="Folders of private plugin files (operator only)."
    )
    max_concurrent_runs: int = Field(default=2, ge=0, le=256)
    node_workers: int | None = Field(
        default=None, ge=1, le=64, description="Parallel nodes inside one run."
    )
    executor: dict[str, Any] | None = Field(
        default=None,
        description="Where node attempts of runs run, {name, options} as the workflow's "
        "executor: (e.g. {name: dask, options: {address: 'tcp://scheduler:8786'}}); None: "
        "the workflow's, else local (docs/scale-out.md). Operator only: requests cannot set it.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    json_logs: bool = False
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=256 * 1_048_576)
    chat_model: dict[str, Any] | None = Field(
        default=None,
        description="Model adapter spec for /v1/chat/completions, e.g. "
        "{kind: hf-causal, model: ./my-model} (needs autoglm-hf).",
    )
    chat_model_name: str | None = Field(
        default=None, description="Model name reported by the chat API (default: the spec's)."
    )
    feedback_path: str | None = Field(
        default=None, description="Feedback store file (default <home>/feedback.sqlite)."
    )
    api_threads: int = Field(
        default=8,
        ge=1,
        le=256,
        description="Threads serving API calls; more only adds GIL contention, since calls "
        "share one SQLite connection.",
    )
    shutdown_grace_s: float = Field(default=10.0, ge=0.0, le=3600.0)
    policy: TrustPolicy = Field(
        default_factory=TrustPolicy,
        description="What runs of non-admin keys may read, write, contact and load "
        "(docs/security.md). The default allows only the run's artefacts: no other folders, "
        "URLs, secrets, code loading or unpickling. Admin keys' runs are unrestricted.",
    )
    limits: RunLimits = Field(
        default_factory=RunLimits,
        description="Per-run limits (memory, CPU, wall clock, output and store bytes); each "
        "run executes in a run process of its own that is stopped when it passes one.",
    )
    max_queued_runs_per_key: int | None = Field(
        default=100,
        ge=0,
        le=1_000_000,
        description="Queued runs one API key may have; a submission over it answers 429 with "
        "Retry-After. Admin keys are exempt. None: no limit.",
    )
    max_running_runs_per_key: int | None = Field(
        default=2,
        ge=1,
        le=256,
        description="Runs of one API key executed at the same time; its other runs wait in "
        "the queue while other keys' runs go first (admin keys included). None: no limit.",
    )
    quota_retry_after_s: int = Field(
        default=5, ge=1, le=3600, description="The Retry-After of a 429 over a quota."
    )
    idempotency_ttl_s: float = Field(
        default=86_400.0,
        ge=60.0,
        le=30 * 86_400.0,
        description="How long an Idempotency-Key of POST /v1/runs keeps answering its run.",
    )

    def home_path(self) -> Path:
        """The home folder, resolved at call time (``$AUTOGLM_HOME`` may be set by then)."""
        if self.home:
            return Path(self.home).expanduser().resolve()
        return Path(os.environ.get("AUTOGLM_HOME") or ".autoglm").resolve()


def load_settings(path: str | Path | None, overrides: dict[str, Any]) -> ServiceSettings:
    """Settings from the YAML file at ``path`` (if any) with ``overrides`` (flags, not None)
    applied on top. Raises ``SettingsError`` naming the file and each bad field."""
    data: dict[str, Any] = {}
    source = str(path) if path else "command line"
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise SettingsError(f"{path}: cannot read service config: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise SettingsError(
                f"{path}: expected a mapping of settings, found {type(loaded).__name__}"
            )
        data.update(loaded or {})
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return ServiceSettings.model_validate(data)
    except ValidationError as exc:
        lines = [
            f"{source}: field {'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
            f" (found {e.get('input')!r})"
            for e in exc.errors()
        ]
        raise SettingsError("invalid service config:\n  " + "\n  ".join(lines)) from None
