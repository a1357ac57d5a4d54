"""``/api/v1/calls``: the phone system's call events in, and the calls with their timelines out.

Events go through ``workflows.calls.service.ingest`` (the one code path, the simulator's too),
which is idempotent by (call_id, event): a repeated event answers the call as it is, with
``duplicate`` true, and changes nothing. So the endpoint needs no ``Idempotency-Key`` (it
keeps no record of its answers, which would be one more copy of callers' numbers).
"""

from __future__ import annotations

import functools
from typing import Any

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy import Select, select

from engine.db import real_session
from workflows.calls.models import Call, CallEvent
from workflows.calls.service import CallEventIn, ingest
from workflows.cases.models import Case
from workflows.cases.phones import canonical_phone
from workflows.users.models import Role

from ..calls.records import CALL_SORTS
from ..extensions import db
from ..hotline import get_hotline
from ..pagination import COUNT_CAP, count_rows
from ..sorting import read_sort
from . import call_schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .errors import ErrorSchema
from .present import json_response, page_data, present_call, present_calls
from .requests import json_object

blp = ApiBlueprint(
    "api-calls",
    __name__,
    url_prefix="/api/v1/calls",
    description="Calls: the phone system's events (telephony role), the calls and timelines.",
)
#: who may read calls; operators only the calls they answered or that rang at them
READERS = (Role.TELEPHONY, Role.OPERATOR, Role.SUPERVISOR, Role.LEAD, Role.ADMIN)


def json_body(view):
    """415 unless the body is JSON, 400 unless it is a JSON object, before the schema reads
    it (webargs would take a body it cannot read as an empty one: 422 for every field)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        json_object()
        return view(*args, **kwargs)

    return wrapped


def _readable() -> Select:
    stmt = select(Call)
    if g.user.role == Role.OPERATOR:
        stmt = stmt.where(Call.agent == g.user.username)
    return stmt


@blp.route("/events")
class Events(MethodView):
    @roles(Role.TELEPHONY)
    @json_body
    @blp.arguments(s.CallEventArgs)
    @blp.response(201, s.CallPostedSchema)
    @blp.alt_response(200, schema=s.CallPostedSchema, description="a repeat: nothing changed")
    @blp.alt_response(400, schema=ErrorSchema, description="the body is not a JSON object")
    @blp.alt_response(415, schema=ErrorSchema, description="the body is not application/json")
    def post(self, args: dict[str, Any]):
        """One event from the phone system (the ``telephony`` role's token): ringing,
        answered, ended, missed or transferred. 201 with the call as all its events make it;
        the same (call_id, event) again answers 200 with ``duplicate`` true and changes
        nothing, whatever else it carries. Events may come in any order. An ``agent`` who is
        not an active user: 422 naming ``agent``."""
        hotline = get_hotline()
        # the answer shows the call as this transaction wrote it: kept, not read again after
        # the commit (two statements fewer on the phone system's busiest path)
        session = real_session(db.session)
        keep, session.expire_on_commit = session.expire_on_commit, False
        try:
            ingested = ingest(
                session,
                CallEventIn(**args),
                clock=hotline.clock,
                calendar=hotline.calendar.get(),
            )
        finally:
            session.expire_on_commit = keep
        call = ingested.call
        return json_response(
            present_call(call, duplicate=not ingested.created),
            201 if ingested.created else 200,
            location=url_for("api-calls.OneCall", call_id=call.call_id),
        )


@blp.route("")
class Calls(MethodView):
    @roles(*READERS)
    @blp.arguments(s.CallArgs, location="query")
    @blp.response(200, s.CallPageSchema)
    def get(self, args: dict[str, Any]):
        """Calls, newest first (by arrival) or by ``sort``: telephony, supervisors, leads and administrators
        read every call, operators the calls they answered or that last rang at them. The
        count stops after 500 matches (``total_capped``)."""
        stmt = _filtered(_readable(), args)
        total, capped = count_rows(db.session, stmt, cap=COUNT_CAP)
        page, per_page = args["page"], args["per_page"]
        if args.get("dir") and not args.get("sort"):
            abort(422, errors={"dir": ["needs sort: the column to sort by"]})
        order = read_sort(args, CALL_SORTS).order_by((Call.id,)) or [
            Call.arrived_at.desc(),
            Call.id.desc(),
        ]
        rows = db.session.scalars(
            stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)
        ).all()
        return json_response(page_data(present_calls(rows), page, per_page, total, capped))


def _filtered(stmt: Select, args: dict[str, Any]) -> Select:
    since, until = args.get("since"), args.get("until")
    if since and until and since >= until:
        abort(422, errors={"until": ["after since"]})
    if since:
        stmt = stmt.where(Call.arrived_at >= since)
    if until:
        stmt = stmt.where(Call.arrived_at < until)
    for name in ("queue", "agent", "state"):
        if args.get(name):
            stmt = stmt.where(getattr(Call, name) == args[name])
    if args.get("outcome"):
        stmt = stmt.where(Call.outcome == ("" if args["outcome"] == "live" else args["outcome"]))
    if "caller" in args:
        stmt = stmt.where(Call.caller == canonical_phone(args["caller"]))
    if args.get("case"):
        stmt = stmt.where(
            Call.case_id.in_(select(Case.id).where(Case.number == args["case"].strip()))
        )
    return stmt


@blp.route("/<call_id>")
class OneCall(MethodView):
    @roles(*READERS)
    @blp.response(200, s.CallDetailSchema)
    def get(self, call_id: str):
        """One call with its timeline (every stored event, in time order: event, at,
        received_at, agent, payload), its case, its callback task and why it made no case."""
        call = db.session.scalars(_readable().where(Call.call_id == call_id)).first()
        if call is None:
            abort(404, message=f"call {call_id} does not exist")
        events = db.session.scalars(
            select(CallEvent)
            .where(CallEvent.call_row_id == call.id)
            .order_by(CallEvent.at, CallEvent.id)
        ).all()
        return json_response(present_call(call, timeline=events))
