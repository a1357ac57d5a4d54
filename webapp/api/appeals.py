"""``/api/v1/appeals``: departments' appeals (申诉) about their cases, the centre's review,
and the appeal figures per month and department.

The rules are the pages' own (``workflows.appeals.service``): a bad field is 422 naming it
(the schema's checks, then the service's: a ground that does not apply, a window passed, a
pending appeal on the ground, a department that is not the case's lead, a decided appeal); a
case or appeal the user may not see is 404; a role that may not is 403. Handlers file (their
department's cases) and see their own department's appeals and figures; supervisors and
centre leads review; administrators read."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import marshmallow as ma
from flask import g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields, validate

from engine.errors import NotFound
from workflows.appeals import service as appeals
from workflows.appeals.models import Appeal, AppealStatus, Ground
from workflows.cases.models import Case
from workflows.departments.service import by_code
from workflows.users.models import Role

from ..appeals.views import APPEAL_SORTS
from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from ..sorting import DIRECTIONS, read_sort
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .idempotency import atomic
from .present import department_codes, json_response, page_data

blp = ApiBlueprint(
    "api-appeals",
    __name__,
    url_prefix="/api/v1",
    description="Appeals (申诉): a department contests a rating, an overdue mark or a reopen "
    "of its case; the centre upholds or rejects it.",
)
READERS = (Role.HANDLER, *sorted(appeals.CENTRE))
REVIEWERS = tuple(sorted(appeals.REVIEWERS))
GROUNDS = [gr.value for gr in Ground]
STATUSES = [st.value for st in AppealStatus]
MONTH = validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="a month such as 2026-03")


class FileArgs(s.InputSchema):
    ground = fields.String(
        required=True, validate=validate.OneOf(GROUNDS),
        metadata={"description": "rating (unsatisfied or unresolved), overdue (a late reply, "
                  "unreplied past the deadline, or a late sign-for), reopen"},
    )  # fmt: skip
    reason = fields.String(required=True, validate=validate.Length(1, appeals.MAX_REASON))


class ReviewArgs(s.InputSchema):
    decision = fields.String(required=True, validate=validate.OneOf(["upheld", "rejected"]))
    reason = fields.String(required=True, validate=validate.Length(1, appeals.MAX_REASON))


class AppealListArgs(s.PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    ground = fields.String(validate=validate.OneOf(GROUNDS))
    department = fields.String(validate=validate.Length(1, 32))
    month = fields.String(validate=MONTH, metadata={"description": "filed in this local month"})
    sort = fields.String(
        validate=validate.OneOf(list(APPEAL_SORTS)),
        metadata={
            "description": "the column to sort by (docs/lists.md); without it pending first, "
            "oldest first"
        },
    )
    dir = fields.String(
        validate=validate.OneOf(list(DIRECTIONS)),
        metadata={"description": "with sort: asc or desc (each column has its own default)"},
    )


class AppealSchema(ma.Schema):
    id = fields.Integer(required=True)
    case = fields.String(required=True, metadata={"description": "the case number"})
    department = fields.String(required=True, metadata={"description": "the department's code"})
    ground = fields.String(required=True, validate=validate.OneOf(GROUNDS))
    reason = fields.String(required=True)
    filed_by = fields.String(required=True)
    filed_at = s.LocalDateTime(required=True)
    occurred_at = s.LocalDateTime(
        required=True, metadata={"description": "when the thing appealed happened"}
    )
    window_ends_at = s.LocalDateTime(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    decided_by = fields.String(required=True, allow_none=True)
    decided_at = s.LocalDateTime(required=True, allow_none=True)
    decision_reason = fields.String(required=True)


class AppealPageSchema(s.PageSchema):
    items = fields.List(fields.Nested(AppealSchema), required=True)


class AppealKpiArgs(s.InputSchema):
    start = fields.String(data_key="from", validate=MONTH)
    end = fields.String(data_key="to", validate=MONTH)
    department = fields.String(validate=validate.Length(1, 32))


class AppealKpiRowSchema(ma.Schema):
    month = fields.String(required=True)
    department = fields.String(required=True)
    filed = fields.Integer(required=True)
    upheld = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    pending = fields.Integer(required=True)
    upheld_share = fields.Nested(s.RatioSchema, required=True,
                                 metadata={"description": "upheld / decided"})  # fmt: skip


class AppealKpiSchema(ma.Schema):
    rows = fields.List(fields.Nested(AppealKpiRowSchema), required=True)


def _present(items: list[Appeal]) -> list[dict[str, Any]]:
    codes = department_codes()
    ids = {a.case_id for a in items}
    numbers = (
        dict(db.session.execute(db.select(Case.id, Case.number).where(Case.id.in_(ids))).all())
        if ids
        else {}
    )
    return AppealSchema(many=True).dump(
        [
            {
                **{k: getattr(a, k) for k in AppealSchema._declared_fields if hasattr(a, k)},
                "case": numbers.get(a.case_id, ""),
                "department": codes.get(a.department_id, ""),
            }
            for a in items
        ]
    )


def _month(text: str) -> date:
    return datetime.strptime(text, "%Y-%m").date()


def _after(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _department_id(code: str | None, field: str = "department") -> int | None:
    if not code:
        return None
    department = by_code(db.session, code)
    if department is None:
        abort(422, errors={field: [f"no department has the code {code!r}"]})
    return department.id


@blp.route("/appeals")
class Appeals(MethodView):
    @roles(*READERS)
    @blp.arguments(AppealListArgs, location="query")
    @blp.response(200, AppealPageSchema)
    def get(self, args: dict[str, Any]):
        """Appeals, pending first and oldest first (the centre's review queue); a handler
        sees their department's own."""
        tz = get_hotline().tz
        span: tuple[datetime | None, datetime | None] = (None, None)
        if args.get("month"):
            month = _month(args["month"])
            span = (
                datetime.combine(month, time(0), tzinfo=tz),
                datetime.combine(_after(month), time(0), tzinfo=tz),
            )
        stmt = appeals.appeal_list(
            g.user, status=args.get("status"), ground=args.get("ground"),
            department_id=_department_id(args.get("department")),
            filed_from=span[0], filed_to=span[1],
        )  # fmt: skip
        if args.get("dir") and not args.get("sort"):
            abort(422, errors={"dir": ["needs sort: the column to sort by"]})
        order = read_sort(args, APPEAL_SORTS).order_by((Appeal.id,))
        if order:
            stmt = stmt.order_by(None).order_by(*order)
        total = db.session.scalar(db.select(db.func.count()).select_from(stmt.subquery())) or 0
        page, per_page = args["page"], args["per_page"]
        items = list(db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
        return json_response(page_data(_present(items), page, per_page, total))


@blp.route("/appeals/<int:appeal_id>")
class OneAppeal(MethodView):
    @roles(*READERS)
    @blp.response(200, AppealSchema)
    def get(self, appeal_id: int):
        """One appeal (404 for another department's)."""
        appeal = db.session.scalars(
            appeals.visible_appeals(g.user).where(Appeal.id == appeal_id)
        ).first()
        if appeal is None:
            abort(404, message=f"appeal {appeal_id} does not exist")
        return json_response(_present([appeal])[0])


@blp.route("/cases/<number>/appeals")
class CaseAppeals(MethodView):
    @roles(Role.HANDLER)
    @blp.arguments(FileArgs)
    @blp.arguments(s.IdempotencyHeaders, location="headers")
    @blp.response(201, AppealSchema)
    @atomic()
    def post(self, args: dict[str, Any], _headers, number: str):
        """File an appeal about one of your department's cases (its lead department's
        handlers), within the window of working days after the thing appealed."""
        try:
            appeal = appeals.file_appeal(
                db.session, get_hotline(), number=number, user=g.user, lang=lang(), **args
            )
        except NotFound:
            abort(404, message=f"case {number} does not exist")
        return json_response(_present([appeal])[0], 201)


@blp.route("/appeals/<int:appeal_id>/review")
class Review(MethodView):
    @roles(*REVIEWERS)
    @blp.arguments(ReviewArgs)
    @blp.arguments(s.IdempotencyHeaders, location="headers")
    @blp.response(200, AppealSchema)
    @atomic()
    def post(self, args: dict[str, Any], _headers, appeal_id: int):
        """Uphold or reject a pending appeal with a reason (supervisors, centre leads). An
        upheld appeal takes the case out of the department's rates."""
        try:
            appeal = appeals.review_appeal(
                db.session, get_hotline(), appeal_id=appeal_id, user=g.user, lang=lang(), **args
            )
        except NotFound:
            abort(404, message=f"appeal {appeal_id} does not exist")
        return json_response(_present([appeal])[0])


@blp.route("/appeals/kpis")
class AppealKpis(MethodView):
    @roles(*READERS)
    @blp.arguments(AppealKpiArgs, location="query")
    @blp.response(200, AppealKpiSchema)
    def get(self, args: dict[str, Any]):
        """Appeals filed per local month and department, by their status now (from and to
        are months, both included; default this year to this month). A handler gets their
        own department's figures only."""
        hotline = get_hotline()
        today = hotline.clock.now().astimezone(hotline.tz).date()
        first = _month(args["start"]) if args.get("start") else date(today.year, 1, 1)
        last = _month(args["end"]) if args.get("end") else date(today.year, today.month, 1)
        if first > last:
            abort(422, errors={"to": ["before from"]})
        ids = None
        if args.get("department"):
            ids = [_department_id(args["department"])]
        if g.user.role == Role.HANDLER:
            ids = [g.user.department_id] if ids in (None, [g.user.department_id]) else []
        rows = appeals.appeal_kpis(
            db.session,
            start=datetime.combine(first, time(0), tzinfo=hotline.tz),
            end=datetime.combine(_after(last), time(0), tzinfo=hotline.tz),
            tz=hotline.tz,
            department_ids=ids,
        )
        codes = department_codes()
        data = [
            {
                "month": r.month.strftime("%Y-%m"),
                "department": codes.get(r.department_id, ""),
                "filed": r.filed,
                "upheld": r.upheld,
                "rejected": r.rejected,
                "pending": r.pending,
                "upheld_share": {
                    "numerator": r.upheld_share.numerator,
                    "denominator": r.upheld_share.denominator,
                    "rate": r.upheld_share.rate,
                },
            }
            for r in rows
        ]
        return json_response(AppealKpiSchema().dump({"rows": data}))
