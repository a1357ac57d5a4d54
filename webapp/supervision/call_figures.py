"""The KPI page's calls section (docs/calls.md, "KPIs"): the period's call figures by bucket,
queue and operator, coloured against the answer-rate target, and their CSV table, all from
``workflows.calls.kpi``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from workflows.calls.callbacks import call_settings
from workflows.calls.kpi import (
    CALL_KPI_NAMES,
    COUNT_NAMES,
    RATE_NAMES,
    SECONDS_NAMES,
    CallFigures,
    CallKpiRow,
    CallKpis,
    call_kpis,
)

from ..calls.records import records_url as call_records_url
from ..cases.labels import Labels
from .dashboard import PeriodForm, bucket_end

NONE = "–"
#: the columns of the tables and of the CSV, in order
COLUMNS = (*COUNT_NAMES, *RATE_NAMES, *SECONDS_NAMES, "calls_per_case")


@dataclass
class CallSection:
    kpis: CallKpis
    #: the answer rate the centre is held to (call settings), 0..1
    target: float


def build(session: Session, *, start: datetime, end: datetime, bucket: str, tz: str) -> CallSection:
    kpis = call_kpis(session, start=start, end=end, bucket=bucket, tz=tz)  # type: ignore[arg-type]
    return CallSection(kpis, float(call_settings(session).answer_rate_target))


def label(name: str, lang: str) -> str:
    return CALL_KPI_NAMES[name].name(lang)


def definition(name: str, lang: str) -> str:
    return CALL_KPI_NAMES[name].definition(lang)


def value(figures: CallFigures, name: str) -> Any:
    """A figure as the tables show it: a count, a rate, seconds (one decimal), or –."""
    if name in COUNT_NAMES:
        return getattr(figures, name)
    if name in RATE_NAMES:
        rate = getattr(figures, name)
        return NONE if rate is None else f"{rate * 100:.1f}%"
    number = figures.calls_per_case if name == "calls_per_case" else figures.seconds(name)
    return NONE if number is None else f"{number:.1f}"


def below_target(figures: CallFigures, target: float) -> bool | None:
    """Whether the answer rate misses the target; None when no call came in."""
    rate = figures.answer_rate
    return None if rate is None else rate < target


def records_url(form: PeriodForm, row: CallKpiRow, group: str, name: str) -> str | None:
    """The call records behind one count of the calls section (``inbound``: every call; the
    others: the calls of that outcome), with the period's dates, the trend bucket's, or the
    row's queue or operator; None for a figure that is no count (a rate, seconds)."""
    if name not in COUNT_NAMES:
        return None
    assert form.start is not None and form.end is not None
    first, last = form.start, form.end
    if group == "trend" and row.bucket is not None:
        first, last = max(first, row.bucket), min(last, bucket_end(form.bucket, row.bucket))
    return call_records_url(
        start=first,
        end=last,
        queue=row.queue if group == "queue" else None,
        agent=row.agent if group == "agent" else None,
        outcome="" if name == "inbound" else name,
    )


def total_rows(section: CallSection) -> list[CallKpiRow]:
    return [CallKpiRow(None, None, None, section.kpis.totals)]


def total_label(row: CallKpiRow) -> str:
    return _("All calls")


def bucket_label(row: CallKpiRow) -> str:
    return row.bucket.isoformat() if row.bucket else ""


def agent_label(row: CallKpiRow) -> str:
    return row.agent or _("No operator")


def queue_label(row: CallKpiRow) -> str:
    return row.queue or _("No queue")


def csv_table(section: CallSection, labels: Labels) -> tuple[list[str], list[list[Any]]]:
    """(header, rows): totals, the trend, queues, operators (each figure in its own column,
    calls per case with its numerator and denominator beside), then the cases per call type
    (in the linked cases' column)."""
    lang = labels.lang
    header = [
        _("Table"),
        _("Group"),
        *(label(n, lang) for n in COLUMNS),
        _("Calls linked to a case"),
        _("Linked cases"),
    ]

    def row(table: str, group: str, figures: CallFigures) -> list[Any]:
        out: list[Any] = [table, group]
        for name in COLUMNS:
            shown = value(figures, name)
            out.append("" if shown == NONE else shown)
        return [*out, figures.linked_calls, figures.linked_cases]

    k = section.kpis
    rows = [row(_("Total"), _("All calls"), k.totals)]
    rows += [row(_("Trend"), r.bucket.isoformat() if r.bucket else "", r.figures) for r in k.trend]
    rows += [row(_("Queue"), queue_label(r), r.figures) for r in k.queues]
    rows += [row(_("Operator"), agent_label(r), r.figures) for r in k.agents]
    by_type = label("cases_by_type", lang)
    blank = [""] * (len(COLUMNS) + 1)
    rows += [[by_type, labels.case_type(t), *blank, n] for t, n in k.case_types]
    return header, rows
