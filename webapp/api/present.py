"""Rows as the API shows them (the schemas in ``schemas.py`` dump these dicts)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from flask import Response, g
from sqlalchemy import bindparam, select

from engine.models import HumanTask
from workflows.calls.models import Call, CallEvent
from workflows.cases.models import Case, CaseDepartment
from workflows.cases.reads import instance_version
from workflows.cases.service import callback_attempts, can_act
from workflows.cases.task_due import due_states
from workflows.cohandling.service import cohandling_of
from workflows.departments.models import Department

from .. import identity
from ..extensions import db
from ..hotline import get_hotline
from .call_schemas import CallSchema, TimelineEventSchema
from .etags import etag_of
from .schemas import CaseSchema, CohandlingSchema, TaskSchema

CASE_FIELDS = (
    "number",
    "case_type",
    "details",
    "urgency",
    "channel",
    "category",
    "status",
    "caller_name",
    "caller_phone",
    "address",
    "area",
    "lat",
    "lon",
    "description",
    "intake_outcome",
    "answer",
    "not_accepted_reason",
    "created_by",
    "created_at",
    "updated_at",
    "dispatched_at",
    "sign_due",
    "signed_at",
    "return_due",
    "reply_due",
    "warn_at",
    "replied_at",
    "closed_at",
    "paused_at",
    "callback_at",
    "due_state",
    "sign_escalated",
    "escalated",
    "return_count",
    "extension_count",
    "reopen_count",
    "reply_text",
    "outcome",
    "satisfaction",
    "resolved",
    "callback_required",
    "first_contact_resolution",
    "confidential",
)
_case_schema = CaseSchema()
_task_schema = TaskSchema()
_cohandling_schema = CohandlingSchema()
_call_schema = CallSchema()
_timeline_schema = TimelineEventSchema()


def department_codes() -> dict[int, str]:
    return dict(db.session.execute(select(Department.id, Department.code)).all())


#: the cases' departments with their codes (one query; the codes of departments that are no
#: case's link, such as a lead without a link row, are read only when there are such)
_LINKS = (
    select(
        CaseDepartment.case_id, CaseDepartment.department_id, Department.code, CaseDepartment.role
    )
    .outerjoin(Department, Department.id == CaseDepartment.department_id)
    .where(CaseDepartment.case_id.in_(bindparam("ids", expanding=True)))
    .order_by(CaseDepartment.case_id, CaseDepartment.role.desc(), CaseDepartment.id)
)
_CODES = select(Department.id, Department.code).where(
    Department.id.in_(bindparam("ids", expanding=True))
)
_NUMBERS = select(Case.id, Case.number).where(Case.id.in_(bindparam("ids", expanding=True)))


def cases_data(cases: Iterable[Case]) -> list[dict[str, Any]]:
    """The cases' representations (departments in one query, master numbers in another when
    a case was merged)."""
    cases = list(cases)
    if not cases:
        return []
    codes: dict[int, str] = {}
    links: dict[int, list[tuple[int, str]]] = {}
    for case_id, department_id, code, role in db.session.execute(
        _LINKS, {"ids": [c.id for c in cases]}
    ):
        if code is not None:
            codes[department_id] = code
        links.setdefault(case_id, []).append((department_id, role))
    leads = {c.lead_department_id for c in cases if c.lead_department_id} - codes.keys()
    if leads:
        codes.update(db.session.execute(_CODES, {"ids": list(leads)}).all())
    masters = {c.merged_into_id for c in cases if c.merged_into_id}
    numbers = dict(db.session.execute(_NUMBERS, {"ids": list(masters)}).all()) if masters else {}
    # only a case that reached its callback step has attempts (each sets callback_at)
    called = [c.id for c in cases if c.callback_at is not None]
    attempts = callback_attempts(db.session, case_ids=called) if called else {}
    out = []
    for case in cases:
        data = {name: getattr(case, name) for name in CASE_FIELDS}
        caller = identity.shown(case)  # masked by role and surface (docs/privacy.md)
        data["caller_name"], data["caller_phone"] = caller.name, caller.phone
        data["address"] = caller.address
        data["description"] = caller.text(case.description, case)
        data["lead_department"] = codes.get(case.lead_department_id or -1)
        data["departments"] = [
            {"code": codes.get(department_id, ""), "role": role}
            for department_id, role in links.get(case.id, [])
        ]
        data["merged_into"] = numbers.get(case.merged_into_id or -1)
        data["callback_attempts"] = [
            {"at": a.at, "user": a.user, "result": a.result, "reason": a.reason, "note": a.note}
            for a in attempts.get(case.id, [])
        ]
        out.append(_case_schema.dump(data))
    return out


def case_data(case: Case) -> dict[str, Any]:
    return cases_data([case])[0]


def cohandling_data(case: Case, now: Any) -> dict[str, Any]:
    """The co-handling units' parts and the units still to answer (the case detail)."""
    found = cohandling_of(db.session, case=case, now=now)
    return _cohandling_schema.dump(
        {
            "parts": [
                {
                    "department": p.department_code,
                    "text": p.text,
                    "author": p.author,
                    "answered_at": p.answered_at,
                    "due_at": p.due_at,
                    "on_time": p.on_time,
                }
                for p in found.parts
            ],
            "pending": [
                {"department": p.department_code, "due_at": p.due_at, "overdue": p.overdue}
                for p in found.pending
            ],
        }
    )


def case_detail(case: Case, now: Any) -> dict[str, Any]:
    """One case as its own page in the API shows it: its representation and its
    co-handling (the ETag stays the representation's: :func:`case_etag`)."""
    return {**case_data(case), "cohandling": cohandling_data(case, now)}


def case_etag(case: Case) -> str:
    return etag_of(case_data(case))


def task_data(task: HumanTask, case: Case, due_state: str | None = None) -> dict[str, Any]:
    """A task as the API shows it; ``due_state`` is its own deadline state, read when not
    given (lists read them for a whole page at once, :func:`task_states`)."""
    if due_state is None:
        due_state = task_states([(task, case)])[task.task_id]
    data = {
        name: getattr(task, name)
        for name in (
            "task_id",
            "element_id",
            "name",
            "lane",
            "candidate_group",
            "assignee",
            "form_key",
            "state",
            "created_at",
            "due_at",
            "completed_at",
            "completed_by",
        )
    }
    data["step"] = task.kind
    data["due_state"] = due_state
    data["actionable"] = can_act(g.user, task, g.department)
    data["case"] = {
        name: getattr(case, name)
        for name in (
            "number",
            "case_type",
            "urgency",
            "status",
            "category",
            "address",
            "reply_due",
            "due_state",
        )
    }
    data["case"]["address"] = identity.shown(case).address  # masked in lists (privacy.md)
    return _task_schema.dump(data)


def task_states(rows: Iterable[tuple[HumanTask, Case]]) -> dict[str, str]:
    """task id -> the task's own deadline state, now, of (task, case) rows."""
    return due_states(db.session, list(rows), now=get_hotline().clock.now())


def task_etag(task: HumanTask, version: int | None = None) -> str:
    """The task's ETag; ``version`` is its instance's, when the caller has read it already."""
    if version is None:
        version = instance_version(db.session, task.instance_id)
    return etag_of([task.task_id, task.state, task.assignee, version])


def json_response(
    data: Any, status: int = 200, *, etag: str | None = None, location: str | None = None
) -> Response:
    """An already dumped representation as the answer (views return Responses, so that
    ETags and idempotency records see exactly what was sent)."""
    response = Response(
        json.dumps(data, ensure_ascii=False), status=status, mimetype="application/json"
    )
    if etag:
        response.headers["ETag"] = etag
    if location:
        response.headers["Location"] = location
    return response


def page_data(
    items: list[Any], page: int, per_page: int, total: int, capped: bool = False
) -> dict[str, Any]:
    return {
        "items": items,
        "page": page,
        "per_page": per_page,
        "total": total,
        "total_capped": capped,
        "pages": max(1, -(-total // per_page)),
    }


# -- calls ----------------------------------------------------------------------------------

CALL_FIELDS = (
    "call_id",
    "caller",
    "queue",
    "agent",
    "state",
    "outcome",
    "arrived_at",
    "ringing_at",
    "answered_at",
    "ended_at",
    "missed_at",
    "transferred_at",
    "wait_seconds",
    "talk_seconds",
    "wrap_seconds",
    "recording_url",
    "ivr_path",
    "no_case_reason",
    "no_case_note",
    "callback_id",
    "updated_at",
)


def present_calls(calls: Iterable[Call]) -> list[dict[str, Any]]:
    """Calls as the API shows them (their cases' numbers in one query)."""
    calls = list(calls)
    linked = {c.case_id for c in calls if c.case_id}
    numbers = dict(db.session.execute(_NUMBERS, {"ids": list(linked)}).all()) if linked else {}
    out = []
    for call in calls:
        data = {name: getattr(call, name) for name in CALL_FIELDS}
        data["case"] = numbers.get(call.case_id or -1)
        out.append(_call_schema.dump(data))
    return out


def present_call(
    call: Call, *, timeline: Iterable[CallEvent] | None = None, duplicate: bool | None = None
) -> dict[str, Any]:
    """One call as the API shows it; with its stored events (``timeline``) as
    ``GET /api/v1/calls/{call_id}`` does, or with ``duplicate`` as the events' answer does."""
    data = present_calls([call])[0]
    if timeline is not None:
        data["timeline"] = [
            _timeline_schema.dump(
                {
                    "event": e.event,
                    "at": e.at,
                    "received_at": e.received_at,
                    "agent": e.agent,
                    "payload": e.payload or {},
                }
            )
            for e in timeline
        ]
    if duplicate is not None:
        data["duplicate"] = duplicate
    return data
