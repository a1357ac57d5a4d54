"""Supervisor KPIs in SQL: hand-built cases, numerators and denominators worked out by hand."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import event

from workflows.cases.models import Case
from workflows.departments.models import Department
from workflows.kpi.rollup import live_only
from workflows.kpi.service import (
    KPI_NAMES,
    RATE_KPIS,
    KpiRow,
    Ratio,
    compute_kpis,
    count_overdue_now,
    kpi_board,
    kpi_trend,
    overdue_now,
)

H = timedelta(hours=1)
D = timedelta(days=1)
#: the main scenario's intake time: 2026-03-10 10:00 in Beijing
T = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
#: the supervisor looks at 2026-03-20 10:00 Beijing; T + 5 days is past, T + 11 days is not
AS_OF = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
#: March 2026 in Beijing
MARCH = {
    "start": datetime(2026, 2, 28, 16, 0, tzinfo=UTC),
    "end": datetime(2026, 3, 31, 16, 0, tzinfo=UTC),
}
_numbers = count(1)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_department(session, code: str, name: str) -> Department:
    department = Department(code=code, name=name, name_en=code.upper(), level="city")
    session.add(department)
    session.flush()
    return department


def add_case(session, *, created_at: datetime = T, **columns) -> Case:
    """A case taken at intake and still waiting for dispatch, unless ``columns`` say otherwise."""
    values = {
        "number": f"20260310{next(_numbers):06d}",
        "case_type": "complaint",
        "urgency": "normal",
        "status": "awaiting_dispatch",
        "intake_outcome": "dispatch",
        "created_at": created_at,
        "updated_at": created_at,
    }
    values.update(columns)
    row = Case(**values)
    session.add(row)
    session.flush()
    return row


def add_dispatched(session, department: Department, **columns) -> Case:
    """Dispatched at T+1h, due to be signed for by T+25h and replied to by T+5d."""
    values = {
        "lead_department_id": department.id,
        "dispatched_at": T + H,
        "sign_due": T + 25 * H,
        "signed_at": T + 2 * H,
        "reply_due": T + 5 * D,
        "status": "in_progress",
    }
    values.update(columns)
    return add_case(session, **values)


def figures(row: KpiRow) -> dict[str, int | tuple[int, int]]:
    """Every KPI of a row: counts as ints, rates as (numerator, denominator)."""
    return {
        name: value if isinstance(value, int) else (value.numerator, value.denominator)
        for name in KPI_NAMES
        for value in [row.value(name)]
    }


@pytest.fixture
def session(database):
    with database.session() as session:
        yield session


@pytest.fixture
def scenario(session):
    """Two units and 16 cases; the comment on each case says which KPIs it moves."""
    d1 = add_department(session, "zjj", "住房和城乡建设局")
    d2 = add_department(session, "cgj", "城市管理局")
    c = {}
    # --- d1: eight live dispatched cases and one merged duplicate --------------------------
    # c01: signed, replied and closed on time, called back, satisfied, resolved.
    c["c01"] = add_dispatched(
        session, d1, status="closed", replied_at=T + 3 * D, closed_at=T + 4 * D,
        callback_at=T + 4 * D, satisfaction="satisfied", resolved=True,
    )  # fmt: skip
    # c02: signed late (T+30h > T+25h); one extension moved reply_due to T+8d, so the reply at
    # T+7d and the closure at T+7d+1h are on time. Closed but the callback was never made.
    c["c02"] = add_dispatched(
        session, d1, status="closed", signed_at=T + 30 * H, extension_count=1,
        reply_due=T + 8 * D, replied_at=T + 7 * D, closed_at=T + 7 * D + H,
        satisfaction="basically_satisfied", resolved=False,
    )  # fmt: skip
    # c03: returned once, replied late (T+6d > T+5d), closed late, reopened once.
    c["c03"] = add_dispatched(
        session, d1, status="closed", return_count=1, replied_at=T + 6 * D,
        closed_at=T + 6 * D + 2 * H, reopen_count=1, callback_at=T + 6 * D,
        satisfaction="unsatisfied", resolved=False,
    )  # fmt: skip
    # c04: no reply and reply_due T+5d < AS_OF: overdue, and due for the closure rate.
    c["c04"] = add_dispatched(session, d1)
    # c05: signed at the very second of sign_due (on time); due T+11d, after AS_OF: undecided.
    c["c05"] = add_dispatched(session, d1, signed_at=T + 25 * H, reply_due=T + 11 * D)
    # c06: merged into another case: counts in "cases" only, whatever its other columns say.
    c["c06"] = add_dispatched(
        session, d1, status="merged", return_count=1, satisfaction="satisfied", resolved=True,
        reply_due=T + 2 * D,
    )  # fmt: skip
    # c07: suspended at T+2d, before its reply_due T+5d: its clock stopped, not overdue.
    c["c07"] = add_dispatched(session, d1, status="suspended", paused_at=T + 2 * D)
    # c08: suspended at T+6d, after its reply_due T+4d: overdue, and due for the closure rate.
    c["c08"] = add_dispatched(
        session, d1, status="suspended", paused_at=T + 6 * D, reply_due=T + 4 * D
    )
    # c09 (help): replied on time, awaiting the callback, reply_due passed: due for the
    # closure rate (not closed by then) but not overdue; open, so not in the callback rate.
    c["c09"] = add_dispatched(
        session, d1, case_type="help", status="awaiting_callback", replied_at=T + 4 * D
    )
    # --- d2: on time to the second, and closed without a reply -------------------------------
    # c10: replied and closed exactly at reply_due (on time, not overdue); no callback needed.
    c["c10"] = add_dispatched(
        session, d2, case_type="consultation", status="closed", replied_at=T + 5 * D,
        closed_at=T + 5 * D, callback_required=False, satisfaction="satisfied", resolved=True,
    )  # fmt: skip
    # c16: closed at T+2d by the centre without a reply (the caller withdrew): its closure is
    # its reply, so it is on time and not overdue though replied_at stays empty. The callback
    # was required but never made.
    c["c16"] = add_dispatched(
        session, d2, case_type="consultation", status="closed", closed_at=T + 2 * D
    )
    # --- never dispatched -------------------------------------------------------------------
    # c11: answered at intake, at the very start of the period (00:00 on 1 March in Beijing).
    c["c11"] = add_case(
        session, created_at=MARCH["start"], case_type="consultation", status="closed",
        intake_outcome="answered", closed_at=MARCH["start"], callback_required=False,
        satisfaction="satisfied", resolved=True,
    )  # fmt: skip
    # c12: not accepted (handed to 110): out of the first-contact resolution rate.
    c["c12"] = add_case(
        session, status="closed", intake_outcome="not_accepted", closed_at=T,
        callback_required=False,
    )  # fmt: skip
    # c13: still waiting for dispatch.
    c["c13"] = add_case(session)
    # --- outside March in Beijing -----------------------------------------------------------
    c["c14"] = add_case(session, created_at=MARCH["start"] - timedelta(microseconds=1))
    c["c15"] = add_dispatched(session, d1, created_at=MARCH["end"])
    session.commit()
    return {"d1": d1, "d2": d2, **c}


D1_FIGURES = {
    "cases": 9,  # c01..c09, the merged c06 included
    "dispatched": 8,  # c01..c09 but the merged c06
    "closure": (3, 8),  # c01-c03 / the 8 live ones
    "on_time_sign_for": (7, 8),  # all but c02; c05 signed at sign_due exactly
    "on_time_closure": (2, 6),  # c01, c02 / closed c01-c03 + due and open c04, c08, c09
    "first_contact_resolution": (2, 8),  # c01, c02 (c03 was reopened) / the 8 live ones
    # c01, c03 / closed and called back: c01, c03 (c02 closed without a callback step)
    "callback": (2, 2),
    "not_reached": (0, 2),
    "satisfaction": (2, 3),  # c01 satisfied, c02 basically / c01-c03 (c06 merged)
    "resolution": (1, 3),  # c01 / c01-c03
    "returned": (1, 8),  # c03 (c06 merged)
    "extended": (1, 8),  # c02
    "reopened": (1, 3),  # c03 / closed: c01-c03
    "overdue": (3, 8),  # c03 replied late, c04 no reply, c08 paused after due / 8 with reply_due
}
D2_FIGURES = {
    "cases": 2,  # c10, c16
    "dispatched": 2,
    "closure": (2, 2),
    "on_time_sign_for": (2, 2),
    "on_time_closure": (2, 2),  # c10 closed_at == reply_due is on time; c16 closed early
    "first_contact_resolution": (2, 2),
    "callback": (0, 0),  # c10 needs none; c16 closed by the centre without a callback
    "not_reached": (0, 0),
    "satisfaction": (1, 1),  # c10 (c16 not rated)
    "resolution": (1, 1),
    "returned": (0, 2),
    "extended": (0, 2),
    "reopened": (0, 2),
    "overdue": (0, 2),  # c10 replied_at == reply_due is not late; c16 closed before its due
}
UNDISPATCHED_FIGURES = {
    "cases": 3,  # c11, c12, c13
    "dispatched": 0,
    "closure": (2, 3),  # c11 answered, c12 not accepted / c11-c13
    "on_time_sign_for": (0, 0),
    "on_time_closure": (0, 0),  # closed at intake: no reply_due, not in the denominator
    "first_contact_resolution": (1, 2),  # c11 / c11, c13 (c12 not accepted)
    "callback": (0, 0),
    "not_reached": (0, 0),
    "satisfaction": (1, 1),  # c11
    "resolution": (1, 1),  # c11
    "returned": (0, 0),
    "extended": (0, 0),
    "reopened": (0, 0),
    "overdue": (0, 0),
}


def test_by_department(session, scenario):
    rows = compute_kpis(session, **MARCH, as_of=AS_OF)
    d1, d2 = scenario["d1"], scenario["d2"]
    assert [(r.department_id, r.department_name, r.department_name_en) for r in rows] == [
        (d1.id, "住房和城乡建设局", "ZJJ"),
        (d2.id, "城市管理局", "CGJ"),
        (None, None, None),  # cases never dispatched, last
    ]
    assert [(r.case_type, r.bucket) for r in rows] == [(None, None)] * 3
    assert figures(rows[0]) == D1_FIGURES
    assert figures(rows[1]) == D2_FIGURES
    assert figures(rows[2]) == UNDISPATCHED_FIGURES
    assert rows[0].on_time_closure.rate == pytest.approx(2 / 6)
    assert rows[0].callback.rate == 1.0
    assert rows[1].callback.rate is None and rows[2].callback.rate is None
    assert rows[1].on_time_sign_for.rate == 1.0


def test_totals_are_the_sums_of_the_departments(session, scenario):
    (total,) = compute_kpis(session, **MARCH, as_of=AS_OF, group_by=())
    assert total.department_id is None and total.case_type is None and total.bucket is None
    parts = [D1_FIGURES, D2_FIGURES, UNDISPATCHED_FIGURES]
    summed = {
        name: sum(p[name] for p in parts)
        if name in ("cases", "dispatched")
        else (sum(p[name][0] for p in parts), sum(p[name][1] for p in parts))
        for name in KPI_NAMES
    }
    assert figures(total) == summed
    assert summed["cases"] == 14 and summed["overdue"] == (3, 10)


def test_as_of_decides_what_is_due(session, scenario):
    # At T+3d nothing open in d1 is due (the earliest reply_due is c08's T+4d, and c08's pause
    # at T+6d has not happened yet). The columns are today's, so c03's late reply still counts.
    (d1,) = compute_kpis(session, **MARCH, as_of=T + 3 * D, department_ids=[scenario["d1"].id])
    assert figures(d1)["on_time_closure"] == (2, 3)  # only the closed c01-c03
    assert figures(d1)["overdue"] == (1, 8)  # c03
    # Ten days later, c05 (due T+11d) has become overdue too.
    (d1,) = compute_kpis(session, **MARCH, as_of=AS_OF + 10 * D, department_ids=[scenario["d1"].id])
    assert figures(d1)["on_time_closure"] == (2, 7)
    assert figures(d1)["overdue"] == (4, 8)


def test_by_department_and_case_type_with_filters(session, scenario):
    d1, d2 = scenario["d1"], scenario["d2"]
    rows = compute_kpis(session, **MARCH, as_of=AS_OF, group_by=("department", "case_type"))
    assert [(r.department_id, r.case_type, r.cases, r.dispatched) for r in rows] == [
        (d1.id, "complaint", 8, 7),
        (d1.id, "help", 1, 1),
        (d2.id, "consultation", 2, 2),
        (None, "complaint", 2, 0),
        (None, "consultation", 1, 0),
    ]
    help_row = rows[1]
    assert figures(help_row)["on_time_closure"] == (0, 1)  # c09: due, not closed

    rows = compute_kpis(
        session, **MARCH, as_of=AS_OF, group_by=("case_type",), case_types=["consultation"]
    )
    assert [(r.case_type, r.cases, figures(r)["first_contact_resolution"]) for r in rows] == [
        ("consultation", 3, (3, 3))  # c10, c16 closed, never reopened; c11 answered
    ]
    rows = compute_kpis(session, **MARCH, as_of=AS_OF, department_ids=[d2.id])
    assert [figures(r) for r in rows] == [D2_FIGURES]
    assert compute_kpis(session, **MARCH, as_of=AS_OF, department_ids=[]) == []


def test_nothing_to_count(session):
    (total,) = compute_kpis(session, **MARCH, as_of=AS_OF, group_by=())
    assert total == KpiRow.empty()
    assert all(total.value(name).rate is None for name in RATE_KPIS)
    assert compute_kpis(session, **MARCH, as_of=AS_OF) == []


@pytest.mark.parametrize("live", [True, False], ids=["live", "rollup"])
def test_one_query_per_call(session, scenario, database, live):
    """Live: one grouped query. With the rollup (workflows/kpi/rollup.py): the dirty days, then
    one statement (the rollup's sums, the open cases, the edge and dirty days), whatever the
    groups."""
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", record)
    try:
        with live_only() if live else nullcontext():
            compute_kpis(
                session, **MARCH, as_of=AS_OF, group_by=("department", "case_type"), bucket="week"
            )
    finally:
        event.remove(database.engine, "before_cursor_execute", record)
    queries = [s for s in statements if not s.startswith("BEGIN")]
    assert len(queries) == (1 if live else 2)
    assert "GROUP BY" in queries[-1]


# --- buckets -------------------------------------------------------------------------------


@pytest.fixture
def around_midnight(session):
    """Cases either side of Beijing midnights (UTC 16:00): day, week and month edges."""
    for created in [
        "2026-03-01T15:59:59",  # Sun 1 March 23:59:59 Beijing (ISO week of Mon 23 Feb)
        "2026-03-01T16:00:00",  # Mon 2 March 00:00 Beijing
        "2026-03-01T17:00:00",  # Mon 2 March 01:00 Beijing
        "2026-03-08T15:59:00",  # Sun 8 March 23:59 Beijing (week of 2 March)
        "2026-03-08T16:00:00",  # Mon 9 March 00:00 Beijing
        # Tue 31 March 23:59:59.999999 Beijing: SQLite's date() would round it to 1 April
        "2026-03-31T15:59:59.999999",
        "2026-03-31T16:00:00",  # Wed 1 April 00:00 Beijing (week of 30 March)
    ]:
        add_case(session, created_at=utc(created))
    session.commit()


SPRING = {"start": utc("2026-02-01T00:00"), "end": utc("2026-05-01T00:00")}


def buckets(rows: list[KpiRow]) -> list[tuple[date, int]]:
    return [(r.bucket, r.cases) for r in rows]


def test_day_buckets_are_beijing_days(session, around_midnight):
    rows = compute_kpis(session, **SPRING, as_of=AS_OF, group_by=(), bucket="day")
    assert buckets(rows) == [
        (date(2026, 3, 1), 1),
        (date(2026, 3, 2), 2),
        (date(2026, 3, 8), 1),
        (date(2026, 3, 9), 1),
        (date(2026, 3, 31), 1),
        (date(2026, 4, 1), 1),
    ]


def test_week_buckets_start_on_monday(session, around_midnight):
    rows = compute_kpis(session, **SPRING, as_of=AS_OF, group_by=(), bucket="week")
    assert buckets(rows) == [
        (date(2026, 2, 23), 1),
        (date(2026, 3, 2), 3),
        (date(2026, 3, 9), 1),
        (date(2026, 3, 30), 2),
    ]


def test_month_buckets(session, around_midnight):
    rows = compute_kpis(session, **SPRING, as_of=AS_OF, group_by=(), bucket="month")
    assert buckets(rows) == [(date(2026, 3, 1), 6), (date(2026, 4, 1), 1)]


def test_buckets_in_another_zone(session, around_midnight):
    rows = compute_kpis(session, **SPRING, as_of=AS_OF, group_by=(), bucket="day", tz="UTC")
    assert buckets(rows) == [(date(2026, 3, 1), 3), (date(2026, 3, 8), 2), (date(2026, 3, 31), 2)]


def test_buckets_follow_daylight_saving_changes(session):
    # New York: EST (-5) until 2026-03-08 07:00 UTC, EDT (-4) until 2026-11-01 06:00 UTC.
    for created in [
        "2026-03-08T04:30",  # Sat 7 March 23:30 EST
        "2026-03-08T06:59:59",  # Sun 8 March 01:59:59 EST
        "2026-03-08T07:00",  # Sun 8 March 03:00 EDT
        "2026-03-09T04:30",  # Mon 9 March 00:30 EDT (a fixed -5 would say 8 March)
        "2026-11-01T03:30",  # Sat 31 October 23:30 EDT
        "2026-11-02T04:30",  # Sun 1 November 23:30 EST (a fixed -4 would say 2 November)
    ]:
        add_case(session, created_at=utc(created))
    session.commit()
    rows = compute_kpis(
        session,
        start=utc("2026-03-01T00:00"),
        end=utc("2026-12-01T00:00"),
        as_of=AS_OF,
        group_by=(),
        bucket="day",
        tz="America/New_York",
    )
    assert buckets(rows) == [
        (date(2026, 3, 7), 1),
        (date(2026, 3, 8), 2),
        (date(2026, 3, 9), 1),
        (date(2026, 10, 31), 1),
        (date(2026, 11, 1), 1),
    ]


def test_buckets_by_department(session, scenario):
    d1 = scenario["d1"]
    rows = compute_kpis(session, **MARCH, as_of=AS_OF, bucket="day")
    assert [(r.bucket, r.department_id, r.cases) for r in rows] == [
        (date(2026, 3, 1), None, 1),  # c11 at 00:00 Beijing on 1 March
        (date(2026, 3, 10), d1.id, 9),
        (date(2026, 3, 10), scenario["d2"].id, 2),
        (date(2026, 3, 10), None, 2),  # c12, c13
    ]
    assert figures(rows[1]) == D1_FIGURES


def test_trend_includes_empty_buckets(session, scenario):
    rows = kpi_trend(session, **MARCH, as_of=AS_OF, bucket="week")
    # March 2026 in Beijing touches the ISO weeks of 23 Feb, 2, 9, 16, 23 and 30 March.
    assert buckets(rows) == [
        (date(2026, 2, 23), 1),  # c11 (Sunday 1 March)
        (date(2026, 3, 2), 0),
        (date(2026, 3, 9), 13),  # the other 13 March cases, all on Tuesday 10 March
        (date(2026, 3, 16), 0),
        (date(2026, 3, 23), 0),
        (date(2026, 3, 30), 0),
    ]
    assert rows[1] == KpiRow.empty(bucket=date(2026, 3, 2))
    days = kpi_trend(session, **MARCH, as_of=AS_OF)
    assert [r.bucket for r in days] == [date(2026, 3, 1) + n * D for n in range(31)]
    assert sum(r.cases for r in days) == 14


@pytest.mark.parametrize("bucket", ["day", "week", "month"])
def test_board_in_one_query_shows_what_the_four_calls_show(session, scenario, bucket):
    common = {**MARCH, "as_of": AS_OF}
    board = kpi_board(session, **common, bucket=bucket)
    assert board.totals == compute_kpis(session, **common, group_by=())[0]
    assert board.departments == compute_kpis(session, **common, group_by=("department",))
    assert board.case_types == compute_kpis(session, **common, group_by=("case_type",))
    assert board.trend == kpi_trend(session, **common, bucket=bucket)
    assert board.totals.cases == 14


def test_board_of_an_empty_period(session, scenario):
    period = {"start": T + 100 * D, "end": T + 102 * D, "as_of": AS_OF}
    board = kpi_board(session, **period)
    assert board.totals == KpiRow.empty()
    assert board.departments == [] and board.case_types == []
    # 10:00 to 10:00 two days later touches three Beijing days
    assert [r.cases for r in board.trend] == [0, 0, 0]
    assert board.trend == kpi_trend(session, **period)


# --- the overdue list ----------------------------------------------------------------------


def test_overdue_now_pages_by_reply_due(session, scenario):
    d1, d2 = scenario["d1"], scenario["d2"]
    # Open, dispatched, no reply, past reply_due: c08 (due T+4d, suspended after it), c04 (T+5d),
    # and c15 (created after March, due T+5d too, later id). Not c07 (suspended before due),
    # c09 (replied), c05 (not due), c06 (merged), nor anything closed.
    page = overdue_now(session, as_of=AS_OF, limit=10, offset=0)
    assert [row.number for row in page] == [scenario[k].number for k in ("c08", "c04", "c15")]
    assert count_overdue_now(session, as_of=AS_OF) == 3
    page = overdue_now(session, as_of=AS_OF, limit=1, offset=1)
    assert [row.number for row in page] == [scenario["c04"].number]
    assert overdue_now(session, as_of=AS_OF, department_ids=[d2.id], limit=10, offset=0) == []
    assert count_overdue_now(session, as_of=AS_OF, department_ids=[d1.id]) == 3
    # At T+4d+1h only c08 is past due.
    assert [r.number for r in overdue_now(session, as_of=T + 4 * D + H)] == [scenario["c08"].number]


# --- the API ---------------------------------------------------------------------------------


def test_kpi_names_match_the_row_fields():
    assert list(KPI_NAMES) == [f.name for f in fields(KpiRow)][5:]
    assert KPI_NAMES["on_time_closure"].zh == "按时办结率"
    assert KPI_NAMES["satisfaction"].en == "Satisfaction rate"
    assert Ratio(1, 4).rate == 0.25 and Ratio(0, 0).rate is None


@pytest.mark.parametrize(
    "arguments",
    [
        {"start": datetime(2026, 3, 1)},
        {"as_of": datetime(2026, 3, 1)},
        {"group_by": ("area",)},
        {"bucket": "year"},
        {"tz": "Asia/Nowhere"},
        {"tz": "Asia/Shanghai'; drop table cases; --"},
    ],
)
def test_bad_arguments(session, arguments):
    values = {**MARCH, "as_of": AS_OF, **arguments}
    with pytest.raises((ValueError, KeyError)):
        compute_kpis(session, **values)
