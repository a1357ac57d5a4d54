"""``/api/v1/kpis``: the supervisors' figures, per department, case type and period."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from workflows.calls.callbacks import call_settings
from workflows.calls.kpi import CallFigures, call_figures, cases_per_call_type
from workflows.departments.service import by_code
from workflows.kpi.service import RATE_KPIS, cohandling_on_time, compute_kpis
from workflows.users.models import Role
from workflows.users.service import by_username

from ..extensions import db
from ..hotline import get_hotline
from . import schemas as s
from .auth import roles
from .blueprint import ApiBlueprint
from .present import department_codes, json_response

blp = ApiBlueprint(
    "api-kpis",
    __name__,
    url_prefix="/api/v1/kpis",
    description="KPIs of the cases created, and of the calls arrived, in a period (supervisors, "
    "administrators).",
)
DEFAULT_DAYS = 30
BUCKET_DAYS = {"day": 1, "week": 7, "month": 28}
MAX_POINTS = 400


@blp.route("")
class Kpis(MethodView):
    @roles(Role.SUPERVISOR, Role.ADMIN)
    @blp.arguments(s.KpiArgs, location="query")
    @blp.response(200, s.KpiSchema)
    def get(self, args: dict[str, Any]):
        """Counts and rates (numerator, denominator, rate) of the cases created from
        ``start`` to ``end`` (local days, both included; default the last 30 days), grouped
        by department and/or case type, optionally per day, week or month."""
        hotline = get_hotline()
        now = hotline.clock.now()
        today = now.astimezone(hotline.tz).date()
        end = args.get("end") or today
        start = args.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        errors: dict[str, list[str]] = {}
        if start > end:
            errors["end"] = ["before start"]
        bucket = args.get("bucket")
        if bucket and ((end - start).days + 1) / BUCKET_DAYS[bucket] > MAX_POINTS:
            errors["bucket"] = [f"more than {MAX_POINTS} points: a longer bucket or period"]
        department_ids = None
        if args.get("department"):
            department = by_code(db.session, args["department"])
            if department is None:
                errors["department"] = [f"no department has the code {args['department']!r}"]
            else:
                department_ids = [department.id]
        if errors:
            abort(422, errors=errors)
        period = (
            datetime.combine(start, time(0), tzinfo=hotline.tz),
            datetime.combine(end + timedelta(days=1), time(0), tzinfo=hotline.tz),
        )
        rows = compute_kpis(
            db.session,
            start=period[0],
            end=period[1],
            as_of=now,
            group_by=tuple(dict.fromkeys(args["group_by"])),
            bucket=bucket,
            tz=current_app.config["TIMEZONE"],
            department_ids=department_ids,
            case_types=[args["case_type"]] if args.get("case_type") else None,
        )
        codes = department_codes()
        data = {
            "start": start,
            "end": end,
            "as_of": now,
            "rows": [
                {
                    "department": codes.get(r.department_id) if r.department_id else None,
                    "department_name": r.department_name,
                    "case_type": r.case_type,
                    "bucket": r.bucket,
                    "cases": r.cases,
                    "dispatched": r.dispatched,
                    "rates": {
                        name: {
                            "numerator": r.value(name).numerator,
                            "denominator": r.value(name).denominator,
                            "rate": r.value(name).rate,
                        }
                        for name in RATE_KPIS
                    },
                }
                for r in rows
            ],
        }
        data["cohandling"] = [
            {
                "department": row.department_code,
                "department_name": row.department_name,
                "on_time": {
                    "numerator": row.on_time.numerator,
                    "denominator": row.on_time.denominator,
                    "rate": row.on_time.rate,
                },
            }
            for row in cohandling_on_time(
                db.session,
                start=period[0],
                end=period[1],
                as_of=now,
                department_ids=department_ids,
            )
        ]
        return json_response(s.KpiSchema().dump(data))


def _period(args: dict[str, Any], errors: dict[str, list[str]]):
    """(start, end) local dates, both included (default: the last 30 days), and the time
    bounds ``[start, end)``; ``errors`` gets the end before the start and too many points."""
    hotline = get_hotline()
    today = hotline.clock.now().astimezone(hotline.tz).date()
    end = args.get("end") or today
    start = args.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        errors["end"] = ["before start"]
    bucket = args.get("bucket")
    if bucket and ((end - start).days + 1) / BUCKET_DAYS[bucket] > MAX_POINTS:
        errors["bucket"] = [f"more than {MAX_POINTS} points: a longer bucket or period"]
    bounds = (
        datetime.combine(start, time(0), tzinfo=hotline.tz),
        datetime.combine(end + timedelta(days=1), time(0), tzinfo=hotline.tz),
    )
    return start, end, bounds


def _ratio(numerator: int, denominator: int) -> dict[str, Any]:
    return {
        "numerator": numerator,
        "denominator": denominator,
        "rate": numerator / denominator if denominator else None,
    }


def _call_row(keys: dict[str, Any], f: CallFigures) -> dict[str, Any]:
    return {
        **keys,
        "inbound": f.inbound,
        "answered": f.answered,
        "abandoned": f.abandoned,
        "missed": f.missed,
        "transferred": f.transferred,
        "answer_rate": _ratio(f.answered, f.inbound),
        "abandon_rate": _ratio(f.abandoned, f.inbound),
        "asa_seconds": f.asa_seconds,
        "aht_seconds": f.aht_seconds,
        "talk_seconds": f.talk_seconds,
        "calls_per_case": _ratio(f.linked_calls, f.linked_cases),
    }


@blp.route("/calls")
class CallKpis(MethodView):
    @roles(Role.SUPERVISOR, Role.ADMIN)
    @blp.arguments(s.CallKpiArgs, location="query")
    @blp.response(200, s.CallKpiSchema)
    def get(self, args: dict[str, Any]):
        """Call figures of the calls that arrived from ``start`` to ``end`` (local days, both
        included; default the last 30 days), grouped by queue and/or operator (``agent``),
        optionally per day, week or month; and the distinct cases those calls link, per case
        type. Rates are numerator, denominator and rate, as in ``/api/v1/kpis``."""
        errors: dict[str, list[str]] = {}
        start, end, (since, until) = _period(args, errors)
        agent = args.get("agent")
        if agent and by_username(db.session, agent) is None:
            errors["agent"] = [f"no user is named {agent!r}"]
        if errors:
            abort(422, errors=errors)
        group_by = tuple(dict.fromkeys(args["group_by"]))
        rows = call_figures(
            db.session,
            start=since,
            end=until,
            group_by=group_by,
            bucket=args.get("bucket"),
            tz=current_app.config["TIMEZONE"],
            queue=args.get("queue"),
            agent=agent,
        )
        types = cases_per_call_type(
            db.session, start=since, end=until, queue=args.get("queue"), agent=agent
        )
        data = {
            "start": start,
            "end": end,
            "as_of": get_hotline().clock.now(),
            "answer_rate_target": float(call_settings(db.session).answer_rate_target),
            "rows": [
                _call_row({"queue": r.queue, "agent": r.agent, "bucket": r.bucket}, r.figures)
                for r in rows
            ],
            "case_types": [{"case_type": t, "cases": n} for t, n in types],
        }
        return json_response(s.CallKpiSchema().dump(data))
