"""A case's history as the task page shows it: completed tasks (with what was entered,
labelled by the form each task used), fired deadlines and notes, from the event log."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from engine.events import EventKind
from workflows.cases.models import Case
from workflows.cases.reads import forms_and_steps_of_elements
from workflows.events import CaseEventKind

from ..cases.labels import bilingual
from ..extensions import db
from ..hotline import get_hotline
from .labels import step_labels

#: the events of a case's history shown on the task page
STEP_EVENTS = (
    EventKind.TASK_COMPLETED,
    EventKind.TASK_REJECTED,
    EventKind.TIMER_FIRED,
    CaseEventKind.NOTE,
    CaseEventKind.MERGED_IN,
    CaseEventKind.INTERIM_REPLY,
    # supervision sent from outside the diagram: chase notices and supervision orders
    CaseEventKind.CHASED,
    EventKind.SIGNAL_RECEIVED,
)


def case_steps(case: Case, context: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The steps of the case so far, oldest first, in the page's language."""
    if case.instance_id is None:
        return []
    hotline = get_hotline()
    reached = forms_and_steps_of_elements(db.session, case.instance_id)
    form_of = {element: form for element, (form, _step) in reached.items()}
    step_of = {element: step for element, (_form, step) in reached.items()}
    step_names = step_labels()
    described: dict[str, dict[str, Any]] = {}
    steps = []
    for event in hotline.runtime.events(db.session, case.instance_id):
        if event.kind not in STEP_EVENTS:
            continue
        data = (event.payload or {}).get("data") or {}
        key = form_of.get(event.element_id)
        if key and key not in described and hotline.forms.exists(key):
            form = hotline.forms.for_instance(db.session, instance_id=case.instance_id, key=key)
            described[key] = {
                f["key"]: f for f in form.describe(lang, context=context).get("fields", [])
            }
        fields = described.get(key, {})
        items = [
            (fields[k]["label"] if k in fields else k, shown_value(fields.get(k), v))
            for k, v in data.items()
            if not _blank(v) and (not fields or k in fields)
        ]
        name = bilingual((event.payload or {}).get("name"), lang) or step_names.get(
            step_of.get(event.element_id) or "", event.element_id or ""
        )
        if event.kind == CaseEventKind.NOTE:
            name, items = _("Note"), [(_("Note"), (event.payload or {}).get("body", ""))]
        elif event.kind == EventKind.TASK_REJECTED:
            items.append((_("Not saved because"), (event.payload or {}).get("reason", "")))
        elif event.kind == CaseEventKind.INTERIM_REPLY:
            body = (event.payload or {}).get("body", "")
            name, items = _("Interim reply"), [(_("Interim reply"), body)]
        elif event.kind == CaseEventKind.CHASED:
            name, items = (
                _("Chase notice"),
                [(_("Instructions"), (event.payload or {}).get("note", ""))],
            )
        elif event.kind == EventKind.SIGNAL_RECEIVED:
            if (event.payload or {}).get("signal") != "supervision_order":
                continue
            name = _("Supervision order")
            items = [(_("Instructions"), (event.payload or {}).get("note", ""))]
        elif event.kind == CaseEventKind.MERGED_IN:
            name, items = _("Merged in"), [(_("Case"), (event.payload or {}).get("duplicate", ""))]
        steps.append(
            {
                "id": event.id,
                "at": event.at,
                "actor": event.actor,
                "kind": event.kind,
                "name": name,
                "items": items,
                "reply": data.get("reply_text") if event.kind == EventKind.TASK_COMPLETED else None,
                "result": shown_value(fields.get("result"), data.get("result")),
            }
        )
    return steps


def shown_value(field: dict[str, Any] | None, value: Any) -> str:
    """A submitted value as the form showed it (option labels, yes/no)."""
    if value is None:
        return ""
    options = {str(o["value"]): o["label"] for o in (field or {}).get("options") or []}
    if isinstance(value, list):
        return ", ".join(options.get(str(v), str(v)) for v in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return options.get(str(value), str(value))


def _blank(value: Any) -> bool:
    return value is None or value is False or value == "" or value == []
