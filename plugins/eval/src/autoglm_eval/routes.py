"""``POST /v1/feedback``, contributed to ``autoglm serve`` through the ``register_routes`` hook:
labels for served predictions, written to the feedback store (``FeedbackStore``; the
service's ``feedback_path`` setting, default ``<home>/feedback.sqlite``, the file the eval nodes
read by default). Request and answer are the service's wire schemas, which the SDK's
``Client.send_feedback`` speaks."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request

from autoglm.service.auth import require
from autoglm.service.errors import ApiError, error_responses
from autoglm.service.keys import ApiKey
from autoglm.service.schemas import FeedbackRequest, FeedbackResponse
from autoglm_eval.feedback import FeedbackStore, UnknownPrediction


def feedback_router() -> APIRouter:
    router = APIRouter(tags=["feedback"])

    @router.post(
        "/v1/feedback",
        status_code=201,
        response_model=FeedbackResponse,
        responses=error_responses(400, 401, 403, 404, 413, 422),
    )
    def send_feedback(
        body: FeedbackRequest, request: Request, key: ApiKey = require("submit")
    ) -> FeedbackResponse:
        """Attach a label to a stored prediction (404 if the prediction id is unknown)."""
        state = request.app.state.service
        path = Path(state.settings.feedback_path or state.home / "feedback.sqlite")
        store = state.resource("feedback", lambda: FeedbackStore(path)).get()
        try:
            stored = store.record_feedback(
                body.prediction_id,
                body.label,
                body.source or key.name,
                comment=body.comment,
                metadata=body.metadata,
            )
        except UnknownPrediction:
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
