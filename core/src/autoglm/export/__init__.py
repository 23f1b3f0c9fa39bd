"""Export a workflow to other engines: Kubeflow Pipelines (KFP v2 IR), Argo Workflows, and the
Dockerfile of the image their steps run in.

Every exporter reads one intermediate model (``export.model``): a step per node running
``autoglm run-node`` in the image, its upstream steps, outputs, retries, timeout, resources
and condition. A feature an engine cannot carry is an ``ExportError`` naming the node and the
feature, never a pipeline that silently behaves otherwise.
"""

from __future__ import annotations

from autoglm.export.model import ExportError, ExportModel, Step, build_model

__all__ = ["ExportError", "ExportModel", "Step", "build_model"]
