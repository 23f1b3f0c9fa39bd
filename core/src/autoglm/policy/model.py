"""``TrustPolicy``: the places, hosts, secrets and code a run's nodes may use.

A policy is plain data, stored with each run (``options["policy"]`` in the run store), so
whatever process executes the run (the service's worker, a supervised child, ``autoglm
resume``) applies the same rules. Every rule is a list of what is allowed; ``None`` means
"anything" (the unrestricted policy of trusted use: the CLI by default, admin keys).

The restricted defaults (``TrustPolicy()``) allow a run to write into its own artefact folder
(``<home>/artifacts/<run id>``, where nodes put what they make) and to read the home's
``artifacts`` and ``cache`` folders, and nothing else: no other folders, no URLs, no secrets,
no code loading, no unpickling, no hub downloads, no private plugins. The run store and key
databases beside them stay out of reach.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TrustPolicy(BaseModel):
    """What the nodes of a run may touch. ``None`` in a list field allows anything."""

    model_config = ConfigDict(extra="forbid")

    input_roots: list[str] | None = Field(
        default_factory=list,
        description="Folders whose files nodes may read, besides the run's home artefacts "
        "and caches and the output roots. None: any path.",
    )
    output_roots: list[str] | None = Field(
        default_factory=list,
        description="Folders nodes may write into, besides the run's own "
        "<home>/artifacts/<run id>. None: any path.",
    )
    allowed_urls: list[str] | None = Field(
        default_factory=list,
        description="URLs nodes may contact: 'scheme://host[:port]' allows that origin, an "
        "entry with a path allows URLs under that path. None: any URL.",
    )
    allowed_secrets: list[str] | None = Field(
        default_factory=list,
        description="Environment variables nodes may read secrets from. None: any.",
    )
    allow_code_loading: bool = Field(
        default=False, description="Allow fields that make a node run code it loads."
    )
    unpickle_roots: list[str] | None = Field(
        default_factory=list,
        description="Folders whose files nodes may unpickle (pickle runs code). None: any.",
    )
    allow_hub_models: bool = Field(
        default=False,
        description="Allow model names that are not local folders (a hub download, or the "
        "model name of an OpenAI-compatible server). Without it such names pass only when "
        "the process is offline (HF_HUB_OFFLINE=1): they then download nothing.",
    )
    allow_private_plugins: bool = Field(
        default=False, description="Allow plugin folders and plugin modules in a request."
    )
    allowed_executors: list[str] | None = Field(
        default_factory=list,
        description="Executors a workflow's 'executor:' may name, without options, besides "
        "'local' (an option such as a scheduler address chooses where a run's work and its "
        "results go). None: any executor with any options.",
    )

    @classmethod
    def unrestricted(cls) -> TrustPolicy:
        """Everything allowed: trusted use (the CLI without ``--sandbox``, admin keys)."""
        return cls(
            input_roots=None,
            output_roots=None,
            allowed_urls=None,
            allowed_secrets=None,
            allow_code_loading=True,
            unpickle_roots=None,
            allow_hub_models=True,
            allow_private_plugins=True,
            allowed_executors=None,
        )

    @property
    def is_unrestricted(self) -> bool:
        return self == TrustPolicy.unrestricted()

    def to_options(self) -> dict[str, Any]:
        """The JSON stored with a run (absolute roots, so any process reads them alike)."""
        data = self.model_dump(mode="json")
        for name in ("input_roots", "output_roots", "unpickle_roots"):
            if data[name] is not None:
                data[name] = [str(Path(p).expanduser().resolve()) for p in data[name]]
        return data


def load_policy_file(path: str | Path) -> TrustPolicy:
    """A policy from a YAML file of ``TrustPolicy`` fields (``autoglm run --policy FILE``).

    Relative roots are taken relative to the file's folder, so a policy file kept beside its
    data means the same thing from any working directory."""
    import yaml

    from autoglm.errors import AutoGLMError

    file = Path(path)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AutoGLMError(f"{path}: cannot read the policy file: {exc}") from None
    if not isinstance(data, dict):
        raise AutoGLMError(f"{path}: expected a mapping of policy fields")
    from pydantic import ValidationError

    try:
        policy = TrustPolicy.model_validate(data)
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise AutoGLMError(f"{path}: invalid policy:\n  " + "\n  ".join(lines)) from None
    base = file.resolve().parent
    updates = {
        name: [str((base / Path(p).expanduser()).resolve()) for p in roots]
        for name in ("input_roots", "output_roots", "unpickle_roots")
        if (roots := getattr(policy, name)) is not None
    }
    return policy.model_copy(update=updates)


#: The key of a run's options under which its policy is stored.
OPTIONS_KEY = "policy"


def policy_options(policy: TrustPolicy | None) -> dict[str, Any]:
    """What a run's ``options`` carry for ``policy``: nothing for trusted (unrestricted) use,
    so runs without a policy stay as they were."""
    if policy is None or policy.is_unrestricted:
        return {}
    return {OPTIONS_KEY: policy.to_options()}


def run_policy(options: dict[str, Any] | None, default: TrustPolicy | None) -> TrustPolicy | None:
    """The policy a run executes under: the one stored with it, else ``default`` (the
    executing engine's). A stored policy always wins, so resuming a sandboxed run from a
    trusted command does not lift its restrictions."""
    stored = (options or {}).get(OPTIONS_KEY)
    if stored is not None:
        return TrustPolicy.model_validate(stored)
    return default
