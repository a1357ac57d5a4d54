"""``/api/v1/evaluation``: the departments' monthly scorecards and rankings, and the published
monthly bulletins (通报) with their Excel and PDF downloads.

The rules are the pages' own (``webapp/evaluation/views.py``, ``docs/evaluation-scorecards.md``):
the centre (supervisors, centre leads, administrators) sees every unit; a handler sees its own
unit's scorecard (with the number of units ranked in its level) and 404 for another unit, and
of a published bulletin the rankings and only its own unit's overdue and reopened cases. The
API reads published bulletins only (a draft is the centre's, on its page). A bad ``month`` or
``level`` answers 422 naming it; a month in the path that is not one is 404, as for the
calendar's days."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

import marshmallow as ma
from flask import Response, current_app, g
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import fields, validate

from workflows.evaluation import bulletins as service
from workflows.evaluation.documents import bulletin_pdf, bulletin_xlsx
from workflows.evaluation.scorecards import LEVELS, Scorecard, add_months, month_board
from workflows.evaluation.settings import PENALTIES, WEIGHTED
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .present import department_codes, json_response, page_data

blp = ApiBlueprint(
    "api-evaluation",
    __name__,
    url_prefix="/api/v1/evaluation",
    description="Evaluation (考核): the departments' monthly scores and rankings per level, and "
    "the published monthly bulletins (通报) with their Excel and PDF downloads.",
)
CENTRE = (Role.SUPERVISOR, Role.LEAD, Role.ADMIN)
READERS = (Role.HANDLER, *CENTRE)
#: the rates scored (numerator, denominator, rate); returns and overdue: lower is better
RATES = (*WEIGHTED, "reopened")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _a_month(text: str) -> None:
    try:
        first = date.fromisoformat(f"{text}-01") if len(text) == 7 else None
    except ValueError:
        first = None
    if first is None or not s.EARLIEST <= first <= s.LATEST.replace(day=1, month=11):
        raise ma.ValidationError(
            f"a month such as 2026-03, from {s.EARLIEST.year}-01 to {s.LATEST.year}-11"
        )


class ScorecardArgs(s.InputSchema):
    month = fields.String(
        validate=_a_month, metadata={"description": "YYYY-MM; default the month before this one"}
    )
    level = fields.String(
        validate=validate.OneOf(list(LEVELS)),
        metadata={"description": "city (市直部门), district (区) or street (街道（镇）)"},
    )


class ScorecardSchema(ma.Schema):
    department = fields.String(required=True, metadata={"description": "the unit's code"})
    name = fields.String(required=True)
    name_en = fields.String(required=True)
    level = fields.String(required=True)
    score = s.Nullable(fields.Float, required=True,
                       metadata={"description": "none when no rate has figures"})  # fmt: skip
    ranked = fields.Boolean(
        required=True,
        metadata={"description": "false: below the scheme's minimum of dispatched cases, or "
                  "no score (listed, not ranked)"},
    )  # fmt: skip
    rank = s.Nullable(fields.Integer, required=True,
                      metadata={"description": "within the level; equal scores share a rank"})  # fmt: skip
    formula_zh = fields.String(required=True)
    formula_en = fields.String(required=True)
    rates = fields.Dict(
        keys=fields.String(validate=validate.OneOf(RATES)),
        values=fields.Nested(s.RatioSchema),
        required=True,
        metadata={"description": "the figures scored; returned and overdue are the raw rates "
                  "(the score counts 1 − rate); reopened is the reopen rate (penalised per "
                  "case)"},
    )  # fmt: skip
    dispatched = fields.Integer(required=True, metadata={"description": "the sample"})
    supervision_orders = fields.Integer(required=True)
    bonus = fields.Float(required=True, metadata={"description": "before the scheme's cap"})
    previous_score = s.Nullable(fields.Float, required=True,
                                metadata={"description": "the month before's"})  # fmt: skip
    previous_rank = s.Nullable(fields.Integer, required=True)
    score_change = s.Nullable(fields.Float, required=True)
    rank_change = s.Nullable(
        fields.Integer, required=True, metadata={"description": "places gained (negative: lost)"}
    )
    revised = fields.Boolean(
        required=True, metadata={"description": "revised by an upheld appeal (bulletins)"}
    )


class LevelSchema(ma.Schema):
    level = fields.String(required=True)
    ranked_units = fields.Integer(
        required=True, metadata={"description": "units ranked in the level (all of them)"}
    )
    units = fields.List(fields.Nested(ScorecardSchema), required=True)


class PenaltySchema(ma.Schema):
    points = fields.Float(required=True)
    cap = fields.Float(required=True)


class SchemeSchema(ma.Schema):
    effective_from = s.Nullable(fields.String, required=True,
                                metadata={"description": "none: the defaults"})  # fmt: skip
    weights = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)
    penalties = fields.Dict(
        keys=fields.String(validate=validate.OneOf(list(PENALTIES))),
        values=fields.Nested(PenaltySchema),
        required=True,
    )
    bonus_cap = fields.Float(required=True)
    min_cases = fields.Integer(required=True)


class ScoreboardSchema(ma.Schema):
    month = fields.String(required=True)
    as_of = s.LocalDateTime(required=True)
    scheme = fields.Nested(SchemeSchema, required=True)
    levels = fields.List(fields.Nested(LevelSchema), required=True)


class BulletinItemSchema(ma.Schema):
    month = fields.String(required=True)
    published_at = s.LocalDateTime(required=True)
    published_by = fields.String(required=True)
    revised_at = s.Nullable(s.LocalDateTime, required=True)
    revisions = fields.Integer(required=True, metadata={"description": "upheld appeals since"})


class BulletinPageSchema(s.PageSchema):
    items = fields.List(fields.Nested(BulletinItemSchema), required=True)


class ListedCaseSchema(ma.Schema):
    case = fields.String(required=True, metadata={"description": "the case number"})
    department = fields.String(required=True)
    created_at = fields.String(required=True, metadata={"description": "local, YYYY-MM-DD HH:MM"})
    reply_due = fields.String(required=True)
    reopens = fields.Integer(required=True)


class TrendSchema(ma.Schema):
    month = fields.String(required=True)
    ranked = fields.Integer(required=True)
    average = s.Nullable(fields.Float, required=True,
                         metadata={"description": "of the ranked units' scores"})  # fmt: skip
    dispatched = fields.Integer(required=True)
    rates = fields.Dict(keys=fields.String(), values=fields.Nested(s.RatioSchema), required=True)


class RevisionSchema(ma.Schema):
    at = s.LocalDateTime(required=True)
    case = fields.String(required=True)
    department = fields.String(required=True)
    score_before = s.Nullable(fields.Float, required=True)
    score_after = s.Nullable(fields.Float, required=True)


class BulletinSchema(BulletinItemSchema):
    as_of = s.LocalDateTime(required=True, metadata={"description": "the figures' clock"})
    scheme = fields.Nested(SchemeSchema, required=True)
    levels = fields.List(fields.Nested(LevelSchema), required=True)
    best = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                       metadata={"description": "level -> the codes ranked first"})  # fmt: skip
    worst = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                        metadata={"description": "level -> the codes ranked last"})  # fmt: skip
    overdue_cases = fields.List(fields.Nested(ListedCaseSchema), required=True)
    reopened_cases = fields.List(fields.Nested(ListedCaseSchema), required=True)
    trend = fields.List(fields.Nested(TrendSchema), required=True)
    revision_items = fields.List(fields.Nested(RevisionSchema), required=True)


# --- presenting --------------------------------------------------------------------------------


def _ratio(pair: list[int]) -> dict[str, Any]:
    numerator, denominator = pair
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": numerator / denominator if denominator else None,
    }


def _card(card: Scorecard) -> dict[str, Any]:
    return {
        "department": card.code,
        "name": card.name,
        "name_en": card.name_en or "",
        "level": card.level,
        "score": card.score,
        "ranked": card.ranked,
        "rank": card.rank,
        "formula_zh": card.formula_zh,
        "formula_en": card.formula_en,
        "rates": {k: _ratio(card.figures[k]) for k in RATES},
        "dispatched": card.figures["dispatched"][0],
        "supervision_orders": card.figures["supervision"][0],
        "bonus": card.bonus,
        "previous_score": card.prev_score,
        "previous_rank": card.prev_rank,
        "score_change": card.score_change,
        "rank_change": card.rank_change,
        "revised": card.revised,
    }


def _own() -> int | None:
    """A handler's unit; None for the centre, who sees every unit."""
    return g.user.department_id if g.user.role == Role.HANDLER else None


def _levels(levels: dict[str, list[Scorecard]], level: str | None = None) -> list[dict]:
    own = _own()
    out = []
    for name, cards in levels.items():
        if level and name != level:
            continue
        shown = [c for c in cards if own is None or c.department_id == own]
        if own is not None and not shown:
            continue
        out.append({"level": name, "ranked_units": sum(1 for c in cards if c.ranked),
                    "units": [_card(c) for c in shown]})  # fmt: skip
    return out


def _scheme(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in ("effective_from", "weights", "penalties", "bonus_cap",
                                 "min_cases")}  # fmt: skip


def _month_arg(args: dict[str, Any]) -> date:
    if args.get("month"):
        return date.fromisoformat(args["month"] + "-01")
    hotline = get_hotline()
    today = hotline.clock.now().astimezone(hotline.tz).date()
    return add_months(today.replace(day=1), -1)


def _board(args: dict[str, Any]):
    return month_board(
        db.session, month=_month_arg(args), as_of=get_hotline().clock.now(),
        tz=current_app.config["TIMEZONE"],
    )  # fmt: skip


def _path_month(text: str) -> date:
    try:
        _a_month(text)
    except ma.ValidationError:
        abort(404, message=f"{text!r} is not a month (YYYY-MM)")
    return date.fromisoformat(text + "-01")


def _published(text: str):
    row = service.published(db.session, month=_path_month(text))
    if row is None:
        abort(404, message=f"the bulletin of {text} is not published")
    return row


def _for_reader(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A handler reads the rankings, and of the case lists only its own unit's cases."""
    own = _own()
    if own is None:
        return snapshot
    shown = copy.deepcopy(snapshot)
    for key in ("overdue_cases", "reopened_cases"):
        shown[key] = [c for c in shown[key] if c["department_id"] == own]
    return shown


def _item(row) -> dict[str, Any]:
    return {
        "month": row.month.strftime("%Y-%m"),
        "published_at": row.published_at,
        "published_by": row.published_by,
        "revised_at": row.revised_at,
        "revisions": len((row.revisions or {}).get("items", [])),
    }


def _bulletin(row) -> dict[str, Any]:
    snapshot = row.snapshot
    codes = department_codes()
    levels = service.bulletin_cards(snapshot)
    own = _own()

    def listed(cases: list[dict]) -> list[dict]:
        return [{"case": c["number"], "department": codes.get(c["department_id"], ""),
                 "created_at": c["created_at"], "reply_due": c["reply_due"],
                 "reopens": c["reopens"]} for c in cases if own is None or
                c["department_id"] == own]  # fmt: skip

    def named(by_level: dict[str, list[int]]) -> dict[str, list[str]]:
        return {lvl: [codes.get(i, "") for i in ids] for lvl, ids in by_level.items()}

    revisions = (row.revisions or {}).get("items", [])
    return {
        **_item(row),
        "as_of": datetime.fromisoformat(snapshot["as_of"]),
        "scheme": _scheme(snapshot["scheme"]),
        # a handler reads every unit's published ranking, as on the bulletin's page
        "levels": [{"level": lvl, "ranked_units": sum(1 for c in cards if c.ranked),
                    "units": [_card(c) for c in cards]} for lvl, cards in levels.items()],
        "best": named(snapshot.get("best", {})),
        "worst": named(snapshot.get("worst", {})),
        "overdue_cases": listed(snapshot["overdue_cases"]),
        "reopened_cases": listed(snapshot["reopened_cases"]),
        "trend": [{"month": p["month"], "ranked": p["ranked"], "average": p["average"],
                   "dispatched": p["dispatched"],
                   "rates": {k: _ratio(v) for k, v in p.items() if isinstance(v, list)}}
                  for p in snapshot["trend"]],
        "revision_items": [{"at": datetime.fromisoformat(r["at"]), "case": r["case_number"],
                            "department": codes.get(r["department_id"], ""),
                            "score_before": r["before"], "score_after": r["after"]}
                           for r in revisions],
    }  # fmt: skip


# --- routes ------------------------------------------------------------------------------------


@blp.route("/scorecards")
class Scorecards(MethodView):
    @roles(*READERS)
    @blp.arguments(ScorecardArgs, location="query")
    @blp.response(200, ScoreboardSchema)
    def get(self, args: dict[str, Any]):
        """Every unit's score in a month (default last month), per level, ranked units first:
        the formula, the rates with numerator and denominator, the month before's score and
        rank and the change. A handler gets its own unit only, with the number of units ranked
        in its level."""
        board = _board(args)
        data = {
            "month": board.month.strftime("%Y-%m"),
            "as_of": get_hotline().clock.now(),
            "scheme": _scheme(board.scheme.as_dict()),
            "levels": _levels(board.levels, args.get("level")),
        }
        return json_response(ScoreboardSchema().dump(data))


class MonthArgs(s.InputSchema):
    month = fields.String(
        validate=_a_month, metadata={"description": "YYYY-MM; default the month before this one"}
    )


@blp.route("/scorecards/<code>")
class UnitScorecard(MethodView):
    @roles(*READERS)
    @blp.arguments(MonthArgs, location="query")
    @blp.response(200, LevelSchema)
    def get(self, args: dict[str, Any], code: str):
        """One unit's scorecard in a month (default last month), in its level (404 for another
        department's unit, for a handler)."""
        board = _board(args)
        card = next((c for cards in board.levels.values() for c in cards if c.code == code),
                    None)  # fmt: skip
        own = _own()
        if card is None or (own is not None and card.department_id != own):
            abort(404, message=f"no unit has the code {code!r}")
        cards = board.levels[card.level]
        data = {"level": card.level, "ranked_units": sum(1 for c in cards if c.ranked),
                "units": [_card(card)]}  # fmt: skip
        return json_response(LevelSchema().dump(data))


@blp.route("/bulletins")
class Bulletins(MethodView):
    @roles(*READERS)
    @blp.arguments(s.PageArgs, location="query")
    @blp.response(200, BulletinPageSchema)
    def get(self, args: dict[str, Any]):
        """The published bulletins, the newest month first."""
        rows = service.published_bulletins(db.session)
        page, per_page = args["page"], args["per_page"]
        shown = rows[(page - 1) * per_page : page * per_page]
        items = BulletinItemSchema(many=True).dump([_item(r) for r in shown])
        return json_response(page_data(items, page, per_page, len(rows)))


@blp.route("/bulletins/<month>")
class OneBulletin(MethodView):
    @roles(*READERS)
    @blp.response(200, BulletinSchema)
    def get(self, month: str):
        """A published bulletin as frozen (404 when the month's is not published): rankings
        per level, best and worst units, overdue and reopened cases (a handler: its own
        unit's), the trend, and the revisions made by upheld appeals since."""
        return json_response(BulletinSchema().dump(_bulletin(_published(month))))


def _download(month: str, kind: str) -> Response:
    row = _published(month)
    snapshot = _for_reader(row.snapshot)
    make, mimetype = (bulletin_xlsx, XLSX) if kind == "xlsx" else (bulletin_pdf, "application/pdf")
    body = make(snapshot, lang(), draft=False, revisions=row.revisions)
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="bulletin-{month}.{kind}"'})  # fmt: skip


@blp.route("/bulletins/<month>/xlsx")
class BulletinXlsx(MethodView):
    @roles(*READERS)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type=XLSX,
                  description="the bulletin as an Excel workbook")  # fmt: skip
    def get(self, month: str):
        """A published bulletin as Excel (sheets 排名, 最好与最差单位, 超期工单, 重办工单, 趋势;
        in English with Accept-Language: en)."""
        return _download(month, "xlsx")


@blp.route("/bulletins/<month>/pdf")
class BulletinPdf(MethodView):
    @roles(*READERS)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
                  description="the bulletin as a PDF")  # fmt: skip
    def get(self, month: str):
        """A published bulletin as PDF (Chinese fonts: reportlab's built-in STSong-Light)."""
        return _download(month, "pdf")
