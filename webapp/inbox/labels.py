"""Labels for the codes stored on cases and tasks, in the page's language, for the pages and
CSV exports of the intake and inbox areas."""

from __future__ import annotations

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from workflows.cases.steps import STEP_LABELS
from workflows.departments.models import Department

STATUS_LABELS = {
    "awaiting_dispatch": _l("Awaiting dispatch"),
    "awaiting_redispatch": _l("Awaiting re-dispatch"),
    "dispatched": _l("Dispatched"),
    "return_requested": _l("Return requested"),
    "in_progress": _l("In progress"),
    "extension_requested": _l("Extension requested"),
    "suspension_requested": _l("Suspension requested"),
    "suspended": _l("Suspended"),
    "replied": _l("Replied"),
    "awaiting_callback": _l("Awaiting callback"),
    "closed": _l("Closed"),
    "merged": _l("Merged"),
}
TYPE_LABELS = {
    "complaint": _l("Complaint"),
    "report": _l("Report"),
    "consultation": _l("Consultation"),
    "help": _l("Help request"),
    "suggestion": _l("Suggestion"),
    "praise": _l("Praise"),
}
URGENCY_LABELS = {"normal": _l("Normal"), "urgent": _l("Urgent"), "critical": _l("Critical")}
DUE_LABELS = {"normal": _l("On time"), "yellow": _l("Deadline near"), "red": _l("Overdue")}


def department_name(department: Department | None) -> str:
    if department is None:
        return ""
    return (
        department.name_en
        if str(get_locale() or "zh") == "en" and department.name_en
        else department.name
    )


def step_labels() -> dict[str, str]:
    """Every step's label in the page's language, in the order a case meets them."""
    lang = str(get_locale() or "zh")
    return {str(step): label.in_language(lang) for step, label in STEP_LABELS.items()}


def task_label(task: Any) -> str:
    """What a task is, by its step (the diagram's name for a task that names none)."""
    label = STEP_LABELS.get(task.kind)
    return label.in_language(str(get_locale() or "zh")) if label else task.name


def labels() -> dict[str, Any]:
    """Template helpers: labels for codes, department names, the shared macros."""

    def label(table: dict, code: str | None, fallback: str | None = None) -> str:
        return str(table.get(code, fallback or code or ""))

    return {
        "status_label": lambda code: label(STATUS_LABELS, code),
        "type_label": lambda code: label(TYPE_LABELS, code),
        "urgency_label": lambda code: label(URGENCY_LABELS, code),
        "due_label": lambda code: label(DUE_LABELS, code),
        "task_label": task_label,
        "department_name": department_name,
        "deadline": lambda task, case: task.due_at or case.reply_due,
    }
