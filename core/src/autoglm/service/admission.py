"""What a submission must pass before it is queued, besides a valid workflow: its
``Idempotency-Key`` (the same key answers the same run) and the submitting key's quota of queued
runs. Both are checked again inside the run store's transaction that stores the run
(``RunStore.create_run``), so neither a crash between commit and answer nor concurrent
submissions can get past them; the checks before parsing only answer early.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from autoglm.service.errors import ApiError
from autoglm.service.keys import ApiKey
from autoglm.service.schemas import Problem, SubmitRequest
from autoglm.service.settings import ServiceSettings
from autoglm.store import IdempotencyKey, IdempotencyMismatch, RunStore

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: Visible ASCII, as in the IETF draft's examples (UUIDs, ULIDs, hashes); no spaces or controls.
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")


def fingerprint(body: SubmitRequest) -> str:
    """Digest of the request as validated, so a retry matches whatever JSON formatting the
    client used, and a changed field does not."""
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_of(
    header: str | None, key: ApiKey, body: SubmitRequest, settings: ServiceSettings
) -> IdempotencyKey | None:
    """The ``Idempotency-Key`` of a submission, scoped to the API key that sent it (another
    key's identical header names another run); None without the header."""
    if header is None:
        return None
    if not _KEY.match(header):
        message = f"{IDEMPOTENCY_HEADER}: expected 1-255 visible ASCII characters"
        problems = [Problem(message=message, field=f"header.{IDEMPOTENCY_HEADER}")]
        raise ApiError(422, message, problems=problems)
    return IdempotencyKey(
        scope=key.id,
        key=header,
        fingerprint=fingerprint(body),
        not_before=time.time() - settings.idempotency_ttl_s,
    )


def mismatch(exc: IdempotencyMismatch) -> ApiError:
    return ApiError(
        422,
        str(exc),
        kind="idempotency_key_reused",
        problems=[Problem(message=str(exc), field=f"header.{IDEMPOTENCY_HEADER}")],
    )


def replayed_run(store: RunStore, idempotency: IdempotencyKey | None) -> str | None:
    """The run an earlier submission with this key made, if any."""
    if idempotency is None:
        return None
    try:
        return store.find_idempotent(idempotency)
    except IdempotencyMismatch as exc:
        raise mismatch(exc) from None


def queued_quota(
    store: RunStore, key: ApiKey, settings: ServiceSettings
) -> Callable[[], None] | None:
    """A check that refuses a submission when ``key`` already has its most queued runs (429
    with Retry-After); None when no quota applies (no limit set, or an admin key)."""
    limit = settings.max_queued_runs_per_key
    if limit is None or key.allows("admin"):
        return None

    def check() -> None:
        queued = store.count_by_api_key(key.id, status="queued")
        if queued >= limit:
            raise ApiError(
                429,
                f"API key {key.id!r} already has {queued} queued runs, its quota "
                f"(max_queued_runs_per_key={limit}); retry once some have started",
                kind="quota_exceeded",
                headers={"Retry-After": str(settings.quota_retry_after_s)},
            )

    return check


@dataclass
class Admission:
    """The admission of one submission, for ``Engine.submit``: its idempotency key and its
    quota check. ``created`` tells, after the submission, whether a new run was stored (the
    store calls ``admit`` only then) or an earlier one answered."""

    idempotency: IdempotencyKey | None = None
    quota: Callable[[], None] | None = None
    created: bool = False

    def admit(self) -> None:
        if self.quota is not None:
            self.quota()
        self.created = True

    def submit_options(self) -> dict[str, Any]:
        return {"idempotency": self.idempotency, "admit": self.admit}
