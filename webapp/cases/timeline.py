"""A case's timeline, read from its instance's event log: who, when, what and why.

Each event kind is turned into a title and a few details; the data a task was completed with
is summarised through the task's form, so fields and choices read as the form's labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.events import EventKind
from engine.models import InstanceEvent
from workflows.cases.flows import INTAKE_FORM
from workflows.events import CaseEventKind
from workflows.forms import FormNotFound
from workflows.users.models import User

from ..hotline import get_hotline
from ..i18n import local_time
from .labels import Labels, bilingual, yes_no

_CONNECTOR_KINDS = (
    EventKind.CONNECTOR_QUEUED,
    EventKind.CONNECTOR_DONE,
    EventKind.CONNECTOR_FAILED,
    EventKind.CONNECTOR_INCIDENT,
)
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: intake fields worth repeating in the "case recorded" entry (the rest is on the page)
INTAKE_SUMMARY = ("case_type", "urgency", "channel", "category", "intake_outcome")
MAX_VALUE = 500


@dataclass
class Entry:
    at: datetime
    actor: str
    actor_name: str
    kind: str
    title: str
    details: list[tuple[str, str]] = field(default_factory=list)
    reason: str = ""
    css: str = ""


class Timeline:
    """Builds entries for one case; forms are described once per page."""

    def __init__(
        self,
        session: Session,
        labels: Labels,
        user_tasks: dict[str, Any],
        form_versions: dict[str, int] | None = None,
    ) -> None:
        self.session = session
        self.labels = labels
        self.lang = labels.lang
        self.user_tasks = user_tasks
        #: the form versions the case's definition pinned (its tasks were shown with these)
        self.form_versions = form_versions or {}
        self._forms: dict[str, dict[str, dict[str, Any]] | None] = {}
        departments = [
            {"value": d.code, "label": labels.department(d.id)} for d in labels.departments.values()
        ]
        self.context = {
            "departments": departments,
            "areas": departments,
            "sub_departments": departments,
            "case_types": get_hotline().case_types.options(self.lang),
        }

    def entries(self, events: list[InstanceEvent]) -> list[Entry]:
        actors = {e.actor for e in events if e.actor}
        names = (
            dict(
                self.session.execute(
                    select(User.username, User.display_name).where(User.username.in_(actors))
                ).all()
            )
            if actors
            else {}
        )
        out = []
        for event in events:
            entry = self.entry(event)
            entry.actor_name = names.get(event.actor or "", "")
            out.append(entry)
        return out

    def entry(self, event: InstanceEvent) -> Entry:
        payload = event.payload or {}
        entry = Entry(event.at, event.actor or "", "", event.kind, event.kind)
        kind = event.kind
        element = event.element_id or ""
        if kind == EventKind.INSTANCE_STARTED:
            entry.title = _("Case recorded, workflow started")
            data = payload.get("data") or {}
            entry.details = self.summary(INTAKE_FORM, {k: data.get(k) for k in INTAKE_SUMMARY})
        elif kind == EventKind.TASK_COMPLETED:
            name = self.task_name(element, payload.get("name"))
            entry.title = _("Completed: %(task)s", task=name)
            entry.details = self.summary(self.form_key(element), payload.get("data") or {})
            entry.css = "done"
        elif kind == EventKind.TASK_REJECTED:
            entry.title = _("Not accepted: %(task)s", task=self.task_name(element, None))
            entry.reason = str(payload.get("reason") or "")
            entry.details = self.summary(self.form_key(element), payload.get("data") or {})
            entry.css = "warning"
        elif kind == EventKind.TIMER_FIRED:
            name = bilingual(payload.get("name"), self.lang) or element
            entry.title = _("Deadline timer fired: %(name)s", name=name)
            entry.css = "warning"
        elif kind == EventKind.INSTANCE_COMPLETED:
            entry.title = _("Workflow completed")
        elif kind == EventKind.INSTANCE_CANCELLED:
            entry.title = _("Workflow stopped")
            entry.reason = str(payload.get("reason") or "")
        elif kind == CaseEventKind.STATUS:
            entry.title = _(
                "Status: %(old)s → %(new)s",
                old=self.labels.status(payload.get("from")) or "–",
                new=self.labels.status(payload.get("to")),
            )
            if payload.get("master"):
                entry.details = [(_("Master case"), str(payload["master"]))]
            if payload.get("outcome"):
                entry.details = [(_("Outcome"), self.labels.outcome(payload["outcome"]))]
        elif kind == CaseEventKind.NOTE:
            entry.title = _("Note")
            entry.reason = str(payload.get("body") or "")
        elif kind == CaseEventKind.INTERIM_REPLY:
            entry.title = _("Interim reply to the citizen")
            entry.reason = str(payload.get("body") or "")
        elif kind == CaseEventKind.SIGN_OVERDUE:
            entry.title = _("Not signed for in time: escalated")
            entry.css = "red"
        elif kind == CaseEventKind.OVERDUE:
            entry.title = _("Reply deadline passed: red card, sent to supervision")
            entry.css = "red"
        elif kind == CaseEventKind.WARNING:
            entry.title = _("Yellow warning: the reply deadline is near")
            entry.css = "yellow"
        elif kind == CaseEventKind.MERGED_IN:
            entry.title = _(
                "Duplicate case %(number)s merged into this case", number=payload.get("duplicate")
            )
        elif kind == CaseEventKind.RECLASSIFIED:
            entry.title = _("Corrected at dispatch")
            names = {"category": _("Category"), "urgency": _("Urgency")}
            shown = {"urgency": self.labels.urgency}
            entry.details = [
                (
                    names.get(key, key),
                    _(
                        "%(old)s → %(new)s",
                        old=shown.get(key, str)(old) or "–",
                        new=shown.get(key, str)(new),
                    ),
                )
                for key, (old, new) in (payload.get("changes") or {}).items()
            ]
            entry.css = "warning"
        elif kind == CaseEventKind.CHASED:
            entry.title = _("Chase notice to the department")
            entry.reason = str(payload.get("note") or "")
            entry.css = "warning"
        elif kind == EventKind.SIGNAL_RECEIVED and payload.get("signal") == "supervision_order":
            entry.title = _("Supervision order: the department must answer in writing")
            entry.reason = str(payload.get("note") or "")
            entry.css = "warning"
        elif kind in (CaseEventKind.APPEAL_FILED, CaseEventKind.APPEAL_DECIDED):
            from ..appeals.labels import appeal_entry

            appeal_entry(entry, kind, payload)
        elif kind in _CONNECTOR_KINDS:
            self.connector_entry(entry, kind, payload)
        elif kind == CaseEventKind.CLOSED_WITH_MASTER:
            entry.title = _("Closed with master case %(number)s", number=payload.get("master"))
        else:
            entry.details = [(k, _short(v)) for k, v in payload.items() if k != "case"]
        return entry

    def connector_entry(self, entry: Entry, kind: str, payload: dict[str, Any]) -> None:
        """A service task's connector: queued, done, failed (retried) or given up on."""
        name = str(payload.get("connector") or "")
        connector = get_hotline().connectors.get(name)
        if connector is not None:
            name = connector.label_zh if self.lang == "zh" else connector.label_en
        if kind == EventKind.CONNECTOR_QUEUED:
            entry.title = _("Waiting for a background call: %(name)s", name=name)
        elif kind == EventKind.CONNECTOR_DONE:
            entry.title = _("Background call done: %(name)s", name=name)
            entry.css = "done"
        elif kind == EventKind.CONNECTOR_FAILED:
            entry.title = _("Background call failed, to be retried: %(name)s", name=name)
            entry.reason = str(payload.get("error") or "")
            entry.css = "warning"
        else:
            entry.title = _(
                "Background call given up on: the case waits until an administrator retries "
                "it (%(name)s)",
                name=name,
            )
            entry.reason = str(payload.get("error") or "")
            entry.css = "red"

    def task_name(self, element: str, name: str | None) -> str:
        info = self.user_tasks.get(element) or {}
        return bilingual(name or info.get("name"), self.lang) or element

    def form_key(self, element: str) -> str | None:
        return (self.user_tasks.get(element) or {}).get("form_key")

    def fields(self, form_key: str | None) -> dict[str, dict[str, Any]] | None:
        if not form_key:
            return None
        if form_key not in self._forms:
            try:
                form = get_hotline().forms.get(
                    form_key, self.form_versions.get(form_key), session=self.session
                )
            except FormNotFound:
                self._forms[form_key] = None
            else:
                described = form.describe(self.lang, context=self.context)
                self._forms[form_key] = {f["key"]: f for f in described["fields"]}
        return self._forms[form_key]

    def summary(self, form_key: str | None, data: dict[str, Any]) -> list[tuple[str, str]]:
        """(label, value) of each filled-in field, in the form's order."""
        fields = self.fields(form_key)
        if fields is None:
            return [(k, _short(v)) for k, v in data.items() if _filled(v)]
        out = []
        for key, spec in fields.items():
            value = data.get(key)
            if not _filled(value):
                continue
            options = {str(o["value"]): str(o["label"]) for o in spec.get("options") or []}
            out.append((spec["label"] or key, self.value(value, options)))
        return out

    def value(self, value: Any, options: dict[str, str]) -> str:
        if isinstance(value, bool):
            return yes_no(value)
        if isinstance(value, list):
            return "、".join(options.get(str(v), str(v)) for v in value)
        if isinstance(value, str) and _ISO.match(value):
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return value
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=get_hotline().tz)
            return local_time(moment)
        return _short(options.get(str(value), value))


def _filled(value: Any) -> bool:
    return value is not None and value != "" and value != [] and not isinstance(value, dict)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"
