"""Labels for the codes stored on cases and tasks, in the page's language, for the pages and
CSV exports of the intake and inbox areas."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from workflows.departments.models import Department

from ..cases.labels import STATUS_LABELS
from ..cases.labels import department_name as case_department_name
from ..hotline import get_hotline
from ..i18n import lang

URGENCY_LABELS = {"normal": _l("Normal"), "urgent": _l("Urgent"), "critical": _l("Critical")}
DUE_LABELS = {"normal": _l("On time"), "yellow": _l("Deadline near"), "red": _l("Overdue")}
#: the task elements of the bundled diagrams, in the order a case meets them
ELEMENT_LABELS = {
    "dispatch": _l("Dispatch"),
    "redispatch": _l("Re-dispatch"),
    "sign_for": _l("Sign for"),
    "review_return": _l("Review return"),
    "handle": _l("Handle and reply"),
    "review_extension": _l("Review extension"),
    "review_suspension": _l("Review suspension"),
    "resume": _l("Resume"),
    "review_reply": _l("Review reply"),
    "callback": _l("Call back"),
    "supervise": _l("Supervise"),
}


def department_name(department: Department | None) -> str:
    if department is None:
        return ""
    return case_department_name(department, lang())


def type_label(code: str | None) -> str:
    """A case type's label from its declaration, in the page's language."""
    return get_hotline().case_types.label(code or "", lang())


def labels() -> dict[str, Any]:
    """Template helpers: labels for codes, department names, the shared macros."""

    def label(table: dict, code: str | None, fallback: str | None = None) -> str:
        return str(table.get(code, fallback or code or ""))

    return {
        "status_label": lambda code: label(STATUS_LABELS, code),
        "type_label": type_label,
        "urgency_label": lambda code: label(URGENCY_LABELS, code),
        "due_label": lambda code: label(DUE_LABELS, code),
        "task_label": lambda task: label(ELEMENT_LABELS, task.element_id, task.name),
        "department_name": department_name,
        "deadline": lambda task, case: task.due_at or case.reply_due,
    }
