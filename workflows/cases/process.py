"""Which diagram runs each case type, and how to read element properties from a workflow."""

from __future__ import annotations

from typing import Any

from .enums import CaseType

#: case type -> process key (the id of the executable process in bpmn/); praise shares the
#: suggestion diagram.
PROCESS_FOR_TYPE: dict[str, str] = {
    CaseType.COMPLAINT: "complaint",
    CaseType.REPORT: "report",
    CaseType.CONSULTATION: "consultation",
    CaseType.HELP: "help_request",
    CaseType.SUGGESTION: "suggestion",
    CaseType.PRAISE: "suggestion",
}


def element_properties(workflow: Any, element_id: str) -> dict[str, str]:
    """The ``spiffworkflow:properties`` of an element of the workflow's spec (or {})."""
    specs = [workflow.spec, *getattr(workflow, "subprocess_specs", {}).values()]
    for spec in specs:
        task_spec = spec.task_specs.get(element_id)
        if task_spec is not None:
            return (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    return {}
