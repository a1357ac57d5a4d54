"""Labels for the codes stored on cases and tasks, in the page's language, for the pages and
CSV exports of the intake and inbox areas."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from workflows.cases.steps import STEP_LABELS
from workflows.departments.models import Department

from ..cases.labels import STATUS_LABELS
from ..cases.labels import department_name as case_department_name
from ..hotline import get_hotline
from ..i18n import lang

URGENCY_LABELS = {"normal": _l("Normal"), "urgent": _l("Urgent"), "critical": _l("Critical")}
DUE_LABELS = {"normal": _l("On time"), "yellow": _l("Deadline near"), "red": _l("Overdue")}


def department_name(department: Department | None) -> str:
    if department is None:
        return ""
    return case_department_name(department, lang())


def type_label(code: str | None) -> str:
    """A case type's label from its declaration, in the page's language."""
    return get_hotline().case_types.label(code or "", lang())


def step_labels() -> dict[str, str]:
    """Every step's label in the page's language, in the order a case meets them."""
    language = lang()
    return {str(step): label.in_language(language) for step, label in STEP_LABELS.items()}


#: the steps each role's lane holds in the bundled diagrams (tests/webapp/test_lists.py reads
#: them from bpmn/): the inbox's task filter offers a user only these
ROLE_STEPS: dict[str, tuple[str, ...]] = {
    "dispatcher": (
        "dispatch",
        "redispatch",
        "review_return",
        "review_extension",
        "review_suspension",
        "review_reply",
    ),
    "handler": ("sign_for", "handle", "resume", "cohandle", "answer_supervision"),
    "supervisor": ("supervise",),
    "callback": ("callback",),
    "lead": ("lead_supervise",),
}


def step_labels_for(role: str) -> dict[str, str]:
    """The steps a role's tasks can be, labelled, in the order a case meets them (every step
    for a role the table does not know)."""
    every = step_labels()
    mine = ROLE_STEPS.get(role)
    return {k: v for k, v in every.items() if mine is None or k in mine}


def task_label(task: Any) -> str:
    """What a task is, by its step (the diagram's name for a task that names none)."""
    label = STEP_LABELS.get(task.kind)
    return label.in_language(lang()) if label else task.name


def deadline(task: Any, case: Any) -> Any:
    """The deadline a task row shows: the task's own (its boundary timer's), or the case's
    reply deadline for a task that has no timer; :func:`deadline_label` says which."""
    return task.due_at or case.reply_due


def deadline_label(task: Any, case: Any) -> str:
    """Which deadline :func:`deadline` is, so a sign-for deadline today is not taken for
    the reply deadline two weeks away."""
    if task.due_at is None:
        return str(_l("Reply by")) if case.reply_due else ""
    if task.kind == "sign_for":
        return str(_l("Sign-for by"))
    return str(_l("Task due"))


def labels() -> dict[str, Any]:
    """Template helpers: labels for codes, department names, the shared macros."""

    def label(table: dict, code: str | None, fallback: str | None = None) -> str:
        return str(table.get(code, fallback or code or ""))

    return {
        "status_label": lambda code: label(STATUS_LABELS, code),
        "type_label": type_label,
        "urgency_label": lambda code: label(URGENCY_LABELS, code),
        "due_label": lambda code: label(DUE_LABELS, code),
        "task_label": task_label,
        "department_name": department_name,
        "deadline": deadline,
        "deadline_label": deadline_label,
    }
