"""``/api/v1/cases``: intake, the list with filters, one case, its history, notes, merging."""

from __future__ import annotations

from typing import Any

from flask import g, url_for
from flask.views import MethodView
from flask_smorest import abort

from engine.errors import NotFound
from workflows.calls import links as call_links
from workflows.cases import flows
from workflows.cases.confidentiality import Identity
from workflows.cases.search import CaseFilters, area_codes, search_cases
from workflows.cases.service import get_case
from workflows.departments.service import by_code
from workflows.kpi.service import COHANDLING_KPI, COUNT_KPIS
from workflows.users.models import CASE_ROLES, Role

from .. import identity
from ..cases.search import CASE_SORTS, sorted_by
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from ..pagination import COUNT_CAP, count_rows
from ..sorting import read_sort
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .etags import check_if_match, etag_of
from .idempotency import atomic
from .present import (
    case_data,
    case_detail,
    case_etag,
    cases_data,
    json_response,
    page_data,
)
from .requests import json_object

blp = ApiBlueprint(
    "api-cases",
    __name__,
    url_prefix="/api/v1/cases",
    description="Cases: intake, search, one case with its ETag, history, notes, merging.",
)
EVERYONE = CASE_ROLES
MERGERS = (Role.DISPATCHER, Role.SUPERVISOR)
#: the list's filters passed on as given (after the schema's checks)
TEXT_ARGS = (
    "number",
    "phone",
    "text",
    "case_type",
    "status",
    "urgency",
    "due_state",
    "department_role",
    "category",
    "area",
    "channel",
    "satisfaction",
)


def _visible(number: str):
    try:
        return get_case(db.session, number=number, user=g.user)
    except NotFound:
        abort(404, message=f"case {number} does not exist")


def _kpi_errors(args: dict[str, Any], filters: CaseFilters) -> dict[str, list[str]]:
    """The KPI figure's filter (as the case list page's ``kpi``/``kpi_part``) set on
    ``filters``, or the errors naming the field."""
    kpi, part = args.get("kpi", ""), args.get("kpi_part", "")
    if not kpi:
        return {"kpi_part": ["needs kpi: the figure whose part it is"]} if part else {}
    if kpi not in COUNT_KPIS and not part:
        return {"kpi_part": ["a rate's figure: its numerator (n) or denominator (d)"]}
    if kpi == COHANDLING_KPI and (
        not args.get("department") or args.get("department_role") != "co"
    ):
        return {"kpi": ["cohandling needs its unit: department, with department_role co"]}
    filters.kpi, filters.kpi_part = kpi, part if kpi not in COUNT_KPIS else ""
    return {}


@blp.route("")
class Cases(MethodView):
    @blp.arguments(s.CaseArgs, location="query")
    @blp.response(200, s.CasePageSchema)
    def get(self, args: dict[str, Any]):
        """The cases you may see, newest first (handlers: their department's only). The
        count stops after 500 matches: then ``total`` is 500 and ``total_capped`` true."""
        hotline = get_hotline()
        filters = CaseFilters(
            **{k: args.get(k, "") for k in TEXT_ARGS},
            overdue=args.get("overdue"),
            reopened=args.get("reopened"),
            created_from=args.get("created_from"),
            created_to=args.get("created_to"),
            closed_from=args.get("closed_from"),
            closed_to=args.get("closed_to"),
            called_from=args.get("called_from"),
            called_to=args.get("called_to"),
            as_of=hotline.clock.now(),
        )
        errors: dict[str, list[str]] = {}
        if args.get("department"):
            department = by_code(db.session, args["department"])
            if department is None:
                errors["department"] = [f"no department has the code {args['department']!r}"]
            else:
                filters.department_id = department.id
        elif args.get("department_role"):
            errors["department_role"] = ["needs department: the department whose role it is"]
        if args.get("area") and args["area"] not in area_codes(db.session):
            errors["area"] = [f"no area has the code {args['area']!r}"]
        for start, end in (
            ("created_from", "created_to"),
            ("closed_from", "closed_to"),
            ("called_from", "called_to"),
        ):
            first, last = getattr(filters, start), getattr(filters, end)
            if first and last and first > last:
                errors[end] = [f"before {start}"]
        filters.dispatched = args.get("dispatched")
        errors.update(_kpi_errors(args, filters))
        sorting = read_sort(args, CASE_SORTS)
        if "sort" in sorting.errors:
            errors["sort"] = [f"unknown column {args['sort']!r}: one of {', '.join(CASE_SORTS)}"]
        if args.get("dir") and not args.get("sort"):
            errors["dir"] = ["needs sort: the column to sort by"]
        if errors:
            abort(422, errors=errors)
        stmt = sorted_by(search_cases(db.session, g.user, filters, tz=hotline.tz), sorting)
        # capped as the case list page is: counting a common word's 65,000 cases of a million
        # took a second, the page itself milliseconds
        total, capped = count_rows(db.session, stmt, cap=COUNT_CAP)
        page, per_page = args["page"], args["per_page"]
        rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).all()
        identity.record(rows, "api_list")
        return json_response(page_data(cases_data(rows), page, per_page, total, capped))

    @roles(Role.OPERATOR)
    @blp.arguments(s.IdempotencyHeaders, location="headers")
    @blp.doc(
        requestBody={
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Intake"}}},
        }
    )
    @blp.response(201, s.CaseDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
    @atomic()
    def post(self, _headers):
        """Intake: record a call as a case (operators). The fields are the intake form's;
        errors name the field. A retry with the same ``Idempotency-Key`` gets the first case."""
        data = json_object()
        hotline = get_hotline()
        # the call the case is recorded from: checked first, linked in the same transaction
        call_id = data.pop("call_id", None)
        if call_id is not None and not isinstance(call_id, str):
            abort(422, errors={"call_id": ["a string: the phone system's id of the call"]})
        if call_id:
            call_links.check_call(db.session, call_id=call_id, user=g.user)
        details = data.pop("details", None)
        if details is not None and not isinstance(details, dict):
            abort(422, errors={"details": ["an object: the case type's own fields"]})
        case = flows.open_case(
            db.session,
            hotline,
            data=data,
            details=details,
            actor=g.user.username,
            lang=lang(),
        )
        if call_id:
            call_links.link_case(
                db.session, call_id=call_id, case=case, user=g.user, now=hotline.clock.now()
            )
        return json_response(
            case_detail(case, hotline.clock.now()),
            201,
            etag=case_etag(case),
            location=url_for("api-cases.Case", number=case.number),
        )


@blp.route("/<number>")
class Case(MethodView):
    @blp.response(200, s.CaseDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
    def get(self, number: str):
        """One case, with its ETag (send it back as If-Match when you change the case), and
        its co-handling: the parts the co-handling units sent, the units still to answer."""
        case = _visible(number)
        identity.record([case], "api")
        # the ETag is the case's own representation's, as If-Match checks it
        return json_response(case_detail(case, get_hotline().clock.now()), etag=case_etag(case))


@blp.route("/<number>/history")
class History(MethodView):
    @blp.response(200, s.HistorySchema)
    def get(self, number: str):
        """Everything that happened to the case, oldest first: who, when, what, and why."""
        case = _visible(number)
        caller = identity.shown(case)
        events = []
        if case.instance_id is not None:
            for event in get_hotline().runtime.events(db.session, case.instance_id):
                events.append(
                    {
                        "id": event.id,
                        "at": event.at,
                        "actor": event.actor,
                        "kind": event.kind,
                        "element_id": event.element_id,
                        "data": _with_caller(event.payload or {}, caller),
                    }
                )
        if events:
            identity.record([case], "api")
        return json_response(s.HistorySchema().dump({"number": case.number, "events": events}))


def _with_caller(payload: dict[str, Any], caller: Identity) -> dict[str, Any]:
    """An event's payload with the caller as the reader may see them (the intake's data
    holds the caller's name and phone)."""
    data = payload.get("data")
    if not isinstance(data, dict) or not ({"caller_name", "caller_phone"} & data.keys()):
        return payload
    shown = {**data}
    for key, value in (("caller_name", caller.name), ("caller_phone", caller.phone)):
        if key in shown:
            shown[key] = value
    return {**payload, "data": shown}


@blp.route("/<number>/interim-replies")
class InterimReplies(MethodView):
    @blp.response(200, s.InterimRepliesSchema)
    def get(self, number: str):
        """The interim replies (阶段性答复) the handling units sent the citizen, oldest first."""
        case = _visible(number)
        notes = flows.interim_replies(db.session, case=case)
        return json_response(s.InterimRepliesSchema().dump({"number": number, "items": notes}))


@blp.route("/<number>/notes")
class Notes(MethodView):
    @blp.arguments(s.NoteArgs)
    @blp.arguments(s.IfMatchHeaders, location="headers")
    @blp.response(201, s.NoteSchema)
    @atomic()
    def post(self, args: dict[str, Any], _headers, number: str):
        """A note on the case by anyone who may see it (If-Match: the case's ETag)."""
        case = _visible(number)
        check_if_match(lambda: case_etag(case), f"case {number}")
        if not args["body"].strip():
            abort(422, errors={"body": ["write the note first"]})
        note = flows.add_note(
            db.session, get_hotline(), number=number, user=g.user, body=args["body"]
        )
        return json_response(s.NoteSchema().dump(note), 201)


@blp.route("/<number>/merge")
class Merge(MethodView):
    @roles(*MERGERS)
    @blp.arguments(s.MergeArgs)
    @blp.arguments(s.IfMatchHeaders, location="headers")
    @blp.response(200, s.CaseSchema, headers={"ETag": {"schema": {"type": "string"}}})
    @atomic()
    def post(self, args: dict[str, Any], _headers, number: str):
        """Merge this duplicate into a master case (dispatchers, supervisors; If-Match: the
        duplicate's ETag). The duplicate's workflow stops; it closes with the master."""
        case = _visible(number)
        check_if_match(lambda: case_etag(case), f"case {number}")
        master = args["master"].strip()
        if master == number:
            abort(422, errors={"master": ["a case cannot be merged into itself"]})
        try:
            get_case(db.session, number=master, user=g.user)
        except NotFound:
            abort(422, errors={"master": [f"there is no case numbered {master}"]})
        flows.merge_case(
            db.session,
            get_hotline(),
            duplicate_number=number,
            master_number=master,
            user=g.user,
            reason=args["reason"],
        )
        db.session.flush()  # the case mirror's changes, before reading them back
        db.session.expire_all()
        case = _visible(number)
        data = case_data(case)
        return json_response(data, etag=etag_of(data))
