"""Check a node's validated Config and Inputs against a ``TrustPolicy``.

``check_node`` finds the trust-marked values (``autoglm.policy.walk``) and checks each by its
kind. Paths are resolved before they are compared with a root: relative ones against a stated
base (the folder the node will open them from), then ``..`` and symbolic links are followed
(``os.path.realpath``), so ``root/../etc`` and a link inside a root pointing out of it are both
outside. A relative path that does not exist under the base but does under the shared data
folder is checked there, since loaders fall back to it (``sst2/dev.tsv``); a node that does not
fall back then opens a missing file, never one outside the roots. Each violation names the
node, the field's dotted path, the rule and the kind of the offending value; messages never
say anything of a file's content.

The check runs twice: when a run is submitted (config, literal inputs and run inputs are known
then) and in the engine right before a node executes (values from other nodes are known only
then, and a link could have been swapped since submission).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel

from autoglm.errors import AutoGLMError
from autoglm.policy.fields import KIND_DESCRIPTIONS
from autoglm.policy.model import TrustPolicy
from autoglm.policy.walk import MarkedValue, has_marks, marked_values

#: Rule names, as they appear in violations (and in docs/security.md).
RULES = {
    "input_outside_roots": "reads only inside the input roots, the run's artefacts and caches",
    "output_outside_roots": "writes only inside its own artefact folder and the output roots",
    "url_not_allowed": "connects only to the allowed URLs",
    "secret_not_allowed": "reads only the allowed secret environment variables",
    "code_loading_refused": "loads no code",
    "unpickling_refused": "unpickles only inside the unpickle roots",
    "hub_model_refused": "loads only local model folders (or, offline, the hub cache)",
    "glob_escapes_folder": "file patterns stay inside their folder",
    "invalid_value": "trust-marked values have the expected form",
    "private_plugins_refused": "requests name no plugin folders or plugin modules",
    "executor_not_allowed": "runs where the operator chose: the local executor, or an allowed "
    "one without options",
}

#: What each kind of refused value is, in messages (the field kinds and the executor choice).
_WHAT = {**KIND_DESCRIPTIONS, "executor": "the executor that runs the workflow's nodes"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SHOWN = 200


@dataclass(frozen=True)
class Violation:
    """One refused value: where it is, which rule it broke, what kind of value it was."""

    node: str
    field: str
    rule: str
    kind: str
    value: str

    @property
    def message(self) -> str:
        shown = self.value if len(self.value) <= _SHOWN else self.value[:_SHOWN] + "..."
        what = _WHAT.get(self.kind, self.kind)
        return (
            f"node {self.node!r} field {self.field!r} ({what} {shown!r}): refused by trust "
            f"policy rule {self.rule!r}: a run {RULES[self.rule]}"
        )


class PolicyViolation(AutoGLMError):
    """A node's config or inputs break the run's trust policy."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations
        first = violations[0].message
        more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
        super().__init__(first + more)


class Places:
    """The resolved folders a policy allows for one run. Each is resolved on first use (a
    workflow with no path fields costs no ``realpath``), then kept for the run."""

    def __init__(
        self,
        policy: TrustPolicy,
        home: Path | None,
        base: Path | None = None,
        run_id: str | None = None,
    ) -> None:
        self._policy = policy
        self._home = home
        self._base = base
        self._run_id = run_id

    @classmethod
    def of(
        cls,
        policy: TrustPolicy,
        home: Path | None,
        base: Path | None = None,
        *,
        run_id: str | None = None,
    ) -> Places:
        """The places of ``policy`` for a run whose home is ``home``; relative values are
        resolved against ``base`` (default: the current directory, where nodes open them).
        With ``run_id`` a run writes only into its own ``<home>/artifacts/<run_id>`` (not into
        another run's reports); without it (at submission, before the run has an id) into
        ``<home>/artifacts``, and the engine's check narrows it when the node runs."""
        return cls(policy, home, base, run_id)

    def readable(self, path: str | Path) -> bool:
        """Whether the policy lets a node read ``path`` (for files named inside data, such as
        a manifest's list, which no field declares)."""
        return _path_rule(str(path), self.reads, self, "input_outside_roots") is None

    @cached_property
    def _home_real(self) -> Path | None:
        return None if self._home is None else _real(Path(self._home))

    @cached_property
    def writes(self) -> tuple[Path, ...] | None:
        if self._policy.output_roots is None:
            return None
        own: tuple[Path, ...] = ()
        if self._home_real is not None:
            artifacts = self._home_real / "artifacts"
            mine = self._run_id and self._run_id not in (".", "..") and "/" not in self._run_id
            own = (artifacts / self._run_id if mine else artifacts,)
        return (*own, *_reals(self._policy.output_roots))

    @cached_property
    def reads(self) -> tuple[Path, ...] | None:
        if self._policy.input_roots is None:
            return None
        home = self._home_real
        own = () if home is None else (home / "artifacts", home / "cache")
        return (*own, *_reals(self._policy.input_roots), *(self.writes or ()))

    @cached_property
    def unpickles(self) -> tuple[Path, ...] | None:
        roots = self._policy.unpickle_roots
        return None if roots is None else _reals(roots)

    @cached_property
    def base(self) -> Path:
        return _real(self._base or Path.cwd())

    @cached_property
    def fallback(self) -> Path | None:
        from autoglm.paths import data_dir

        return _real(data_dir())


def check_node(
    node_id: str,
    config: BaseModel | None,
    inputs: BaseModel | None,
    policy: TrustPolicy,
    places: Places,
) -> list[Violation]:
    """The violations of ``policy`` by one node's validated config and inputs."""
    found: list[Violation] = []
    for prefix, model in (("config.", config), ("inputs.", inputs)):
        if model is None or not has_marks(type(model)):
            continue
        for marked in marked_values(model, prefix):
            violation = violation_of(node_id, marked, policy, places)
            if violation is not None:
                found.append(violation)
    return found


def executor_violation(choice: Mapping[str, Any] | None, policy: TrustPolicy) -> Violation | None:
    """The violation of a workflow's ``executor:`` choice (``{"name", "options"}``), or None.
    An executor decides where attempts run and whose results are read back (a Dask scheduler
    address a request chose would receive the run's work and send back pickles), so a request
    may name only ``local`` or an allowed executor, and give options only to ``local``."""
    if not choice or policy.allowed_executors is None:
        return None
    name = str(choice.get("name") or "")
    options = dict(choice.get("options") or {})
    if not name or name == "local" or (name in policy.allowed_executors and not options):
        return None
    shown = name + (f" with options {', '.join(sorted(map(str, options)))}" if options else "")
    return Violation("(workflow)", "executor", "executor_not_allowed", "executor", shown)


def violation_of(
    node_id: str, marked: MarkedValue, policy: TrustPolicy, places: Places
) -> Violation | None:
    """The violation of ``policy`` by one marked value of node ``node_id``, or None."""
    rule = _rule_broken(marked, policy, places)
    if rule is None:
        return None
    return Violation(node_id, marked.path, rule, marked.kind, str(marked.value))


def enforce(
    node_id: str,
    config: BaseModel | None,
    inputs: BaseModel | None,
    policy: TrustPolicy | None,
    places: Places | None,
) -> None:
    """Raise ``PolicyViolation`` if the node breaks ``policy`` (no-op without a policy)."""
    if policy is None or places is None or policy.is_unrestricted:
        return
    violations = check_node(node_id, config, inputs, policy, places)
    if violations:
        raise PolicyViolation(violations)


# ------------------------------------------------------------------ rules


def _rule_broken(marked: MarkedValue, policy: TrustPolicy, places: Places) -> str | None:
    kind, value = marked.kind, marked.value
    if kind == "loads_code":
        return None if (not value or policy.allow_code_loading) else "code_loading_refused"
    if not isinstance(value, str):
        return "invalid_value"
    if kind in ("input_path", "input_dir"):
        return _path_rule(value, places.reads, places, "input_outside_roots")
    if kind in ("output_path", "output_dir"):
        return _path_rule(value, places.writes, places, "output_outside_roots")
    if kind == "unpickle_from":
        return _path_rule(value, places.unpickles, places, "unpickling_refused")
    if kind == "url":
        return url_rule(value, policy.allowed_urls)
    if kind == "secret_name":
        allowed = policy.allowed_secrets
        return None if allowed is None or value in allowed else "secret_not_allowed"
    if kind == "model_source":
        if _looks_like_path(value, places.base):
            return _path_rule(value, places.reads, places, "input_outside_roots")
        return None if policy.allow_hub_models or hub_offline() else "hub_model_refused"
    if kind == "glob":
        return _glob_rule(value, places.reads is None)
    return "invalid_value"


def _path_rule(value: str, roots: tuple[Path, ...] | None, places: Places, rule: str) -> str | None:
    if roots is None:
        return None
    candidates = [value]
    if value.startswith("~"):
        candidates.append(os.path.expanduser(value))
    for candidate in candidates:
        try:
            resolved = _opened(candidate, places)
        except (ValueError, OSError):
            return "invalid_value"
        if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
            return rule
    return None


def _opened(value: str, places: Places) -> Path:
    """The real path a node opens for ``value``: under the base, or under the shared data
    folder when only that one exists (the loaders' fallback)."""
    first = places.base / value
    if places.fallback is not None and not os.path.isabs(value) and not first.exists():
        second = places.fallback / value
        if second.exists():
            return _real(second)
    return _real(first)


def hub_offline() -> bool:
    """Whether this process may not download from a model hub (``HF_HUB_OFFLINE`` or
    ``TRANSFORMERS_OFFLINE``): a hub id then names only a model already in the admin's cache,
    or a served model's name, and downloads nothing."""
    return any(
        os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}
        for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _looks_like_path(value: str, base: Path) -> bool:
    """A model value is a local folder when it is written as a path or names one under
    ``base``; otherwise it is a hub id (or a served model's name)."""
    if value.startswith(("/", ".", "~")) or "\\" in value or os.path.isabs(value):
        return True
    try:
        return (base / value).exists()
    except (ValueError, OSError):
        return True


def _glob_rule(value: str, unrestricted: bool) -> str | None:
    if unrestricted:
        return None
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "~")) or os.path.isabs(value) or ".." in parts:
        return "glob_escapes_folder"
    return None


def url_rule(value: str, allowed: list[str] | None) -> str | None:
    """``url_not_allowed`` unless ``value`` is under one of the ``allowed`` entries."""
    if allowed is None:
        return None
    target = _origin_and_path(value)
    if target is None:
        return "url_not_allowed"
    for entry in allowed:
        spec = _origin_and_path(entry)
        if spec is None:
            continue
        origin, path = spec
        if target[0] != origin:
            continue
        prefix = path.rstrip("/")
        if not prefix or target[1] == prefix or target[1].startswith(prefix + "/"):
            return None
    return "url_not_allowed"


def _origin_and_path(url: str) -> tuple[tuple[str, str, int], str] | None:
    """``((scheme, host, port), path)`` of an http(s) URL; None for anything else (other
    schemes, user info, a missing host, a bad port), which no entry then matches."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    # "/v1/../admin" and "/v1/%2e%2e/admin" leave "/v1/" on the server: compare what it serves
    path = posixpath.normpath(unquote(parts.path)) if parts.path else ""
    return (scheme, host, port or _DEFAULT_PORTS[scheme]), "" if path == "." else path


def _real(path: Path) -> Path:
    # realpath, not abspath first: abspath drops "link/.." lexically, while the OS follows the
    # link and then goes up from its target.
    return Path(os.path.realpath(path))


def _reals(paths: Iterable[str]) -> tuple[Path, ...]:
    return tuple(_real(Path(p).expanduser()) for p in paths)
