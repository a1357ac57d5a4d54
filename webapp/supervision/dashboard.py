"""The KPI dashboard's period form, its tables (totals, per department, per case type), the
trend, the chart data and the CSV table, all from ``workflows.kpi.service``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.departments.models import Department
from workflows.kpi.service import (
    COHANDLING_KPI,
    COUNT_KPIS,
    KPI_NAMES,
    RATE_KPIS,
    KpiRow,
    Ratio,
    kpi_board,
)

from ..cases.labels import Labels

DEFAULT_DAYS = 30
BUCKET_DAYS = {"day": 1, "week": 7, "month": 28}
MAX_POINTS = 400
DEFAULT_KPI = "on_time_closure"
NONE = "–"


@dataclass
class PeriodForm:
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)
    start: date | None = None
    end: date | None = None
    bucket: str = "day"
    kpi: str = DEFAULT_KPI


def read(args: Mapping[str, str], now: datetime, tz: ZoneInfo) -> PeriodForm:
    """The period (local dates, both included), trend bucket and charted KPI, checked."""
    today = now.astimezone(tz).date()
    values = {
        "start": (args.get("start") or "").strip()
        or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "end": (args.get("end") or "").strip() or today.isoformat(),
        "bucket": (args.get("bucket") or "").strip() or "day",
        "kpi": (args.get("kpi") or "").strip() or DEFAULT_KPI,
    }
    form = PeriodForm(values)
    for name in ("start", "end"):
        try:
            setattr(form, name, date.fromisoformat(values[name]))
        except ValueError:
            form.errors[name] = [_("Not a date (YYYY-MM-DD).")]
    if values["bucket"] not in BUCKET_DAYS:
        form.errors["bucket"] = [_("Not one of the choices.")]
    else:
        form.bucket = values["bucket"]
    if values["kpi"] not in RATE_KPIS:
        form.errors["kpi"] = [_("Not one of the choices.")]
    else:
        form.kpi = values["kpi"]
    if form.start and form.end:
        if form.start > form.end:
            form.errors["end"] = [_("Before the start date.")]
        elif "bucket" not in form.errors:
            points = ((form.end - form.start).days + 1) / BUCKET_DAYS[form.bucket]
            if points > MAX_POINTS:
                form.errors["bucket"] = [
                    _("Too many points for this period: choose a longer step or a shorter period.")
                ]
    return form


@dataclass
class Board:
    start: datetime
    end: datetime
    totals: KpiRow
    departments: list[KpiRow]
    case_types: list[KpiRow]
    trend: list[KpiRow]
    chart: dict[str, Any]
    #: department id -> code (the figures' links filter the case list by code)
    department_codes: dict[int, str] = field(default_factory=dict)


def period(form: PeriodForm, tz: str) -> tuple[datetime, datetime]:
    """The form's local dates (both included) as ``[start, end)``."""
    assert form.start is not None and form.end is not None
    zone = ZoneInfo(tz)
    start = datetime.combine(form.start, time(0), tzinfo=zone)
    return start, datetime.combine(form.end + timedelta(days=1), time(0), tzinfo=zone)


def build(session: Session, form: PeriodForm, labels: Labels, *, now: datetime, tz: str) -> Board:
    start, end = period(form, tz)
    # one query for the four tables: a pass over the period's cases instead of four
    kpis = kpi_board(session, start=start, end=end, as_of=now, tz=tz, bucket=form.bucket)  # type: ignore[arg-type]
    board = Board(start, end, kpis.totals, kpis.departments, kpis.case_types, kpis.trend, {})
    board.chart = chart_data(board, labels, form.kpi)
    board.chart["trend"]["periods"] = trend_periods(board, form)
    board.chart["casesUrl"] = url_for("cases.index")
    board.department_codes = dict(session.execute(select(Department.id, Department.code)).all())
    return board


def bucket_end(bucket: str, first: date) -> date:
    """The last local day of the trend bucket starting ``first``."""
    if bucket == "day":
        return first
    if bucket == "week":
        return first + timedelta(days=6)
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def trend_periods(board: Board, form: PeriodForm) -> list[list[str]]:
    """Each trend point's created dates ([first, last], cut to the form's), for kpi.js: a
    click on a point opens its cases (the rate's denominator; the bar: every case)."""
    assert form.start is not None and form.end is not None
    periods = []
    for row in board.trend:
        first = max(form.start, row.bucket) if row.bucket else form.start
        last = min(form.end, bucket_end(form.bucket, row.bucket)) if row.bucket else form.end
        periods.append([first.isoformat(), last.isoformat()])
    return periods


def cases_url(
    board: Board,
    form: PeriodForm,
    name: str,
    part: str = "",
    row: KpiRow | None = None,
    group: str = "",
) -> str | None:
    """The case list filtered to the cases behind one figure (the KPI's own condition:
    ``kpi``/``kpi_part``; the period's or the trend bucket's created dates; the row's lead
    department, ``dispatched=no`` for the cases never dispatched, or the case type), so that
    the list counts what the figure counts; None for a department no longer known."""
    assert form.start is not None and form.end is not None
    args: dict[str, str] = {"kpi": name}
    if name not in COUNT_KPIS:
        args["kpi_part"] = part
    first, last = form.start, form.end
    if row is not None and group == "trend" and row.bucket is not None:
        first = max(first, row.bucket)
        last = min(last, bucket_end(form.bucket, row.bucket))
    args["created_from"], args["created_to"] = first.isoformat(), last.isoformat()
    if row is not None and group == "department":
        if row.department_id is None:  # the cases never dispatched: no lead department
            args["dispatched"] = "no"
        elif row.department_id in board.department_codes:
            args["department"] = board.department_codes[row.department_id]
            args["department_role"] = "lead"
        else:
            return None
    if row is not None and group == "case_type" and row.case_type:
        args["case_type"] = row.case_type
    return url_for("cases.index", **args)


def cohandling_url(form: PeriodForm, department_code: str, part: str) -> str:
    """The case list filtered to the cases behind one co-handling unit's figure: the unit's
    co-handling tasks on time (``n``) or decided (``d``), the period's created dates."""
    assert form.start is not None and form.end is not None
    return url_for(
        "cases.index",
        kpi=COHANDLING_KPI,
        kpi_part=part,
        department=department_code,
        department_role="co",
        created_from=form.start.isoformat(),
        created_to=form.end.isoformat(),
    )


def bucket_label(row: KpiRow) -> str:
    """A trend row's period: its first local day."""
    return row.bucket.isoformat() if row.bucket else ""


def kpi_label(name: str, lang: str) -> str:
    return KPI_NAMES[name].name(lang)


def kpi_definition(name: str, lang: str) -> str:
    """What the KPI counts, as docs/kpis.md states it, for the page's legend."""
    return KPI_NAMES[name].definition(lang)


def department_label(row: KpiRow, lang: str) -> str:
    if row.department_id is None:
        return _("Not dispatched")
    if lang == "en" and row.department_name_en:
        return row.department_name_en
    return row.department_name or str(row.department_id)


def percent(ratio: Ratio) -> str:
    return NONE if ratio.rate is None else f"{ratio.rate * 100:.1f}%"


def _rate(ratio: Ratio) -> float | None:
    return None if ratio.rate is None else round(ratio.rate * 100, 1)


def chart_data(board: Board, labels: Labels, kpi: str) -> dict[str, Any]:
    """What kpi.js draws: the rates per department and case type, and the trend."""
    lang = labels.lang

    def series(rows: list[KpiRow], names: list[str]) -> dict[str, Any]:
        return {
            "labels": names,
            "rates": {name: [_rate(r.value(name)) for r in rows] for name in RATE_KPIS},
            "cases": [r.cases for r in rows],
        }

    return {
        "kpi": kpi,
        "kpiLabels": {name: kpi_label(name, lang) for name in KPI_NAMES},
        "casesLabel": kpi_label("cases", lang),
        "departments": series(
            board.departments, [department_label(r, lang) for r in board.departments]
        ),
        "caseTypes": series(
            board.case_types, [labels.case_type(r.case_type or "") for r in board.case_types]
        ),
        "trend": series(
            board.trend, [r.bucket.isoformat() if r.bucket else "" for r in board.trend]
        ),
    }


def csv_table(board: Board, labels: Labels) -> tuple[list[str], list[list[Any]]]:
    """(header, rows): totals, departments, case types and the trend, numerators and
    denominators beside each rate."""
    lang = labels.lang
    header = [_("Table"), _("Group"), *(kpi_label(n, lang) for n in COUNT_KPIS)]
    for name in RATE_KPIS:
        label = kpi_label(name, lang)
        header += [
            label,
            _("%(kpi)s numerator", kpi=label),
            _("%(kpi)s denominator", kpi=label),
        ]

    def row(table: str, group: str, kpis: KpiRow) -> list[Any]:
        out: list[Any] = [table, group, *(kpis.value(n) for n in COUNT_KPIS)]
        for name in RATE_KPIS:
            ratio = kpis.value(name)
            assert isinstance(ratio, Ratio)
            rate = _rate(ratio)
            out += ["" if rate is None else f"{rate:.1f}%", ratio.numerator, ratio.denominator]
        return out

    rows = [row(_("Total"), _("All cases"), board.totals)]
    rows += [row(_("Department"), department_label(r, lang), r) for r in board.departments]
    rows += [row(_("Case type"), labels.case_type(r.case_type or ""), r) for r in board.case_types]
    rows += [row(_("Trend"), r.bucket.isoformat() if r.bucket else "", r) for r in board.trend]
    return header, rows
