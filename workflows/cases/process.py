"""How to read element properties from a workflow (which diagram runs each case type is
part of the case type's declaration, ``types.py``)."""

from __future__ import annotations

from typing import Any


def element_properties(workflow: Any, element_id: str) -> dict[str, str]:
    """The ``spiffworkflow:properties`` of an element of the workflow's spec (or {})."""
    specs = [workflow.spec, *getattr(workflow, "subprocess_specs", {}).values()]
    for spec in specs:
        task_spec = spec.task_specs.get(element_id)
        if task_spec is not None:
            return (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    return {}
