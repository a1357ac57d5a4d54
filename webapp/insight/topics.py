"""The topics and areas page: counts by category x area x week or month, the previous
period beside them, per 10,000 residents, the top words, the map, and the CSV."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import current_app, g, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from workflows.insight import topics as t
from workflows.insight.areas import area_map, area_names
from workflows.insight.models import Area
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from ..i18n import lang
from ..pagination import csv_response, wants_csv
from ..security import roles_required
from . import bp

#: the centre's roles see every case; a handler sees their own department's
READERS = (Role.SUPERVISOR, Role.LEAD, Role.ADMIN, Role.DISPATCHER, Role.HANDLER)
PARAMS = ("from", "to", "by", "category", "area", "format")


@dataclass
class Choice:
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    period: t.Period | None = None
    by: t.By = "week"


def read(args: Mapping[str, str], today: date) -> Choice:
    """The chosen period, step and filters, checked per field."""
    values = {k: (args.get(k) or "").strip() for k in ("from", "to", "by", "category", "area")}
    choice = Choice(values)
    by = values["by"] or "week"
    if by not in t.BYS:
        choice.errors["by"] = [_("Not one of the choices.")]
        by = "week"
    choice.by = by  # type: ignore[assignment]
    default = t.default_period(today, choice.by)
    days: dict[str, date] = {}
    for name, fallback in (("from", default.start), ("to", default.end)):
        try:
            days[name] = date.fromisoformat(values[name]) if values[name] else fallback
        except ValueError:
            choice.errors[name] = [_("Not a date (YYYY-MM-DD).")]
    for name in ("category", "area"):
        if len(values[name]) > (64 if name == "category" else 32):
            choice.errors[name] = [_("Too long.")]
    if len(days) == 2:
        if days["from"] > days["to"]:
            choice.errors["to"] = [_("Before the start date.")]
        elif t.check_period(days["from"], days["to"]):
            choice.errors["from"] = [_("A period of at most %(n)s days.", n=t.MAX_DAYS)]
    if not choice.errors:
        choice.period = t.Period(days["from"], days["to"])
        choice.values["from"], choice.values["to"] = (
            days["from"].isoformat(),
            days["to"].isoformat(),
        )
        choice.values["by"] = choice.by
    return choice


def cases_link(
    period: t.Period,
    *,
    category: str | None = None,
    area: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> str:
    """The case list filtered to one count."""
    args = {
        "created_from": (first or period.start).isoformat(),
        "created_to": (last or period.end).isoformat(),
    }
    if category:
        args["category"] = category
    if area:
        args["area"] = area
    return url_for("cases.index", **args)


def chart_data(report: t.Topics, names: dict[str, str]) -> dict[str, Any]:
    categories = report.categories[:12]
    return {
        "trend": {
            "labels": [b.isoformat() for b in report.buckets],
            "counts": [report.trend.get(b, 0) for b in report.buckets],
        },
        "categories": {
            "labels": [c or _("(none)") for c, _x in categories],
            "counts": [ch.count for _c, ch in categories],
            "previous": [ch.previous for _c, ch in categories],
        },
        "areas": {
            "labels": [names.get(r.code, r.code) or _("(none)") for r in report.areas],
            "counts": [r.counts.count for r in report.areas],
            "previous": [r.counts.previous for r in report.areas],
        },
        "casesLabel": _("Cases"),
        "previousLabel": _("Previous period"),
    }


def csv_rows(report: t.Topics, names: dict[str, str]):
    for cell in report.cells:
        yield [
            cell.category,
            cell.area,
            names.get(cell.area, ""),
            report.by,
            t.bucket_first(cell.bucket, report.period).isoformat(),
            t.bucket_end(cell.bucket, report.by, report.period).isoformat(),
            cell.count,
        ]


CSV_HEADER = ("category", "area", "area_name", "by", "from", "to", "cases")


@bp.get("/topics")
@roles_required(*READERS)
def topics():
    hotline = get_hotline()
    today = hotline.clock.now().astimezone(hotline.tz).date()
    unknown = sorted(set(request.args) - set(PARAMS))
    choice = read(request.args, today)
    for name in unknown:
        choice.errors[name] = [_("Unknown parameter.")]
    context: dict[str, Any] = {"choice": choice, "t": t, "cases_link": cases_link}
    if choice.errors or choice.period is None:
        return render_template("insight/topics.html", report=None, **context), 400
    tz = current_app.config["TIMEZONE"]
    category = choice.values["category"] or None
    area = choice.values["area"] or None
    session = db.session
    report = t.topics(
        session,
        user=g.user,
        period=choice.period,
        by=choice.by,
        tz=tz,
        category=category,
        area=area,
        words=not wants_csv(),
    )
    rows = list(session.scalars(select(Area).order_by(Area.code)))
    names = area_names(rows, lang())
    if wants_csv():
        return csv_response(
            f"topics-{choice.values['from']}-{choice.values['to']}.csv",
            CSV_HEADER,
            csv_rows(report, names),
        )
    counts = {r.code: r.counts.count for r in report.areas}
    shapes = [
        (a.code, names[a.code], a.geometry)
        for a in rows
        if a.geometry and (not area or a.code == area)
    ]
    cell_table: dict[tuple[str, str], dict[date, int]] = {}
    for cell in report.cells:
        cell_table.setdefault((cell.category, cell.area), {})[cell.bucket] = cell.count
    return render_template(
        "insight/topics.html",
        report=report,
        names=names,
        chart=chart_data(report, names),
        area_map=area_map(shapes, counts),
        cell_table=sorted(cell_table.items(), key=lambda kv: (-sum(kv[1].values()), kv[0])),
        handler_only=g.user.role == Role.HANDLER,
        **context,
    )
