"""``POST /v1/feedback``: labels for served predictions, written to the evaluator's feedback
store (``autoglm_eval.feedback.FeedbackStore``, default ``<home>/feedback.sqlite``, the file
the eval nodes read). The plugin is imported on first use; without it the endpoint answers 501.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request

from autoglm.service.auth import require
from autoglm.service.errors import ApiError, error_responses
from autoglm.service.keys import ApiKey
from autoglm.service.schemas import FeedbackRequest, FeedbackResponse


def open_feedback_store(path: Path) -> Any:
    try:
        from autoglm_eval.feedback import FeedbackStore
    except ImportError:
        raise ApiError(
            501, "feedback needs the autoglm-eval plugin (pip install autoglm-eval)"
        ) from None
    return FeedbackStore(path)


def feedback_router() -> APIRouter:
    router = APIRouter(tags=["feedback"])

    @router.post(
        "/v1/feedback",
        status_code=201,
        response_model=FeedbackResponse,
        responses=error_responses(400, 401, 403, 404, 413, 422, 501),
    )
    def send_feedback(
        body: FeedbackRequest, request: Request, key: ApiKey = require("submit")
    ) -> FeedbackResponse:
        """Attach a label to a stored prediction (404 if the prediction id is unknown)."""
        state = request.app.state.service
        path = Path(state.settings.feedback_path or state.home / "feedback.sqlite")
        store = state.resource("feedback", lambda: open_feedback_store(path)).get()
        try:
            stored = store.record_feedback(
                body.prediction_id,
                body.label,
                body.source or key.name,
                comment=body.comment,
                metadata=body.metadata,
            )
        except KeyError:
            raise ApiError(
                404, f"no prediction {body.prediction_id!r} in the feedback store"
            ) from None
        except (TypeError, ValueError) as exc:
            raise ApiError(422, str(exc)) from None
        return FeedbackResponse(
            id=stored.id,
            prediction_id=stored.prediction_id,
            source=stored.source,
            created_at=stored.created_at,
        )

    return router
