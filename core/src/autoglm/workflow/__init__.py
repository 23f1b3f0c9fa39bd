"""Workflow files: parsing, the workflow model, and validation before anything runs.

``load_workflow(path, host)`` returns a validated ``Workflow`` or raises ``WorkflowError`` with
*every* problem found, each naming the file, line, node id and field, what was expected and what
was found: unknown node types, unknown keys, bad configs, dangling references, missing required
inputs, type mismatches between connected outputs and inputs, invalid conditions and cycles.

The package is split by job so each is easy to find: ``model`` (what a validated workflow is),
``parser`` (YAML text to located data, within ``limits``), ``validator`` (located data to a
``Workflow`` or every problem), ``graph`` (order and cycles), ``typecheck`` (output/input type
compatibility), and ``load`` (the two entry points).
Everything is re-exported here.
"""

from __future__ import annotations

from autoglm.workflow.graph import _find_cycle
from autoglm.workflow.limits import MAX_BYTES_ENV, ParseLimits
from autoglm.workflow.load import load_workflow, parse_workflow
from autoglm.workflow.model import (
    INPUT_TYPES,
    NODE_ID,
    NODE_KEYS,
    REF,
    RESERVED_ROOTS,
    RUN_INPUTS,
    SETTING_KEYS,
    TOP_KEYS,
    WORKFLOW_FIELDS,
    WORKFLOW_REF,
    InputRef,
    InputStruct,
    NodeResources,
    NodeSettings,
    RetryPolicy,
    RunInput,
    Workflow,
    WorkflowNode,
    input_refs,
)
from autoglm.workflow.parser import check_limits, decode_workflow, enforce_limits, parse_yaml
from autoglm.workflow.typecheck import types_compatible
from autoglm.workflow.validator import _Validator

__all__ = [
    "INPUT_TYPES",
    "MAX_BYTES_ENV",
    "NODE_ID",
    "NODE_KEYS",
    "REF",
    "RESERVED_ROOTS",
    "RUN_INPUTS",
    "SETTING_KEYS",
    "TOP_KEYS",
    "WORKFLOW_FIELDS",
    "WORKFLOW_REF",
    "InputRef",
    "InputStruct",
    "NodeResources",
    "NodeSettings",
    "ParseLimits",
    "RetryPolicy",
    "RunInput",
    "Workflow",
    "WorkflowNode",
    "_Validator",
    "_find_cycle",
    "check_limits",
    "decode_workflow",
    "enforce_limits",
    "input_refs",
    "load_workflow",
    "parse_workflow",
    "parse_yaml",
    "types_compatible",
]
