"""``/api/v1/kpis``: the supervisors' figures, per department, case type and period."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import abort

from workflows.departments.service import by_code
from workflows.kpi.service import RATE_KPIS, cohandling_on_time, compute_kpis
from workflows.users.models import Role

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
    description="KPIs of the cases created in a period (supervisors, administrators).",
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
