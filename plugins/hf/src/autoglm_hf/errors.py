"""Errors of the model adapters, each with a message a user can act on without a traceback."""

from __future__ import annotations

from autoglm.errors import AutoGLMError


class AdapterError(AutoGLMError):
    """A model adapter could not be built or used."""


class ModelNotFoundError(AdapterError):
    """Weights are neither in the named folder nor (in offline mode) in the local hub cache."""


class ModelSpecError(AdapterError):
    """A model spec (``{"kind": ..., "model": ...}``) is malformed."""


class ServerError(AdapterError):
    """An OpenAI-compatible server failed, timed out or answered something unexpected."""
