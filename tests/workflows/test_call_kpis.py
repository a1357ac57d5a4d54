"""Call KPIs (``workflows/calls/kpi.py``) against a hand-counted fortnight: per day, week and
month, per queue, per operator, calls per case, cases per call type, empty periods, and a call
at 23:59 and one at 00:01 local falling on their own days (and weeks).

The calls (Beijing time), sent through ``ingest`` as the phone system would:

| call | arrived | queue | operator | outcome | wait | talk | after-call | case |
|---|---|---|---|---|---|---|---|---|
| a1 | Sun 8 Mar 10:00 | 12345 | op1 | answered | 10 | 120 | 30 | C1 complaint |
| a2 | Sun 8 Mar 11:00 | 12345 | op2 | answered | 30 | 300 | - | C1 |
| a3 | Sun 8 Mar 12:00 | 12345 | - | abandoned | 45 | - | - | - |
| a4 | Sun 8 Mar 23:59 | english | op2 | answered | 20 | 240 | 60 | C2 consultation |
| b1 | Mon 9 Mar 00:01 | english | - | missed | 30 | - | - | - |
| b2 | Mon 9 Mar 09:00 | 12345 | op1 | answered, then transferred | 40 | 60 | - | C3 complaint |
| b3 | Mon 9 Mar 09:10 | 12345 | - | transferred | 15 | - | - | - |
| b4 | Mon 9 Mar 09:20 | 12345 | op1 | answered, still talking | 5 | - | - | C3 |
| b5 | Mon 9 Mar 09:30 | 12345 | - | live (ringing) | - | - | - | - |
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from workflows.calls.kpi import (
    CALL_KPI_NAMES,
    call_figures,
    call_kpis,
    call_trend,
    cases_per_call_type,
    figures,
)
from workflows.calls.models import Call
from workflows.calls.service import CallEventIn, ingest
from workflows.kpi.buckets import bucket_starts, zone_named

from .conftest import TZ

SUNDAY = datetime(2026, 3, 8, tzinfo=TZ)
MONDAY = datetime(2026, 3, 9, tzinfo=TZ)
#: the fortnight's two local days
START, END = SUNDAY, MONDAY + timedelta(days=1)


@pytest.fixture
def mode() -> str:
    return "straight"  # no workflow is stepped here


def send(city, call_id: str, event: str, at: datetime, **fields) -> None:
    ingest(
        city.session,
        CallEventIn(call_id=call_id, event=event, at=at, **fields),
        clock=city.clock,
        calendar=city.hotline.calendar.get(),
    )


def at(day: datetime, hh: int, mm: int, ss: int = 0) -> datetime:
    return day.replace(hour=hh, minute=mm, second=ss)


@pytest.fixture
def calls(city):
    s = SUNDAY
    m = MONDAY
    send(city, "a1", "ringing", at(s, 10, 0), caller="13800138001", queue="12345")
    send(city, "a1", "answered", at(s, 10, 0, 10), agent="op1")
    send(city, "a1", "ended", at(s, 10, 2, 10))
    send(city, "a2", "ringing", at(s, 11, 0), caller="13800138002", queue="12345")
    send(city, "a2", "answered", at(s, 11, 0, 30), agent="op2")
    send(city, "a2", "ended", at(s, 11, 5, 30))
    send(city, "a3", "ringing", at(s, 12, 0), caller="13800138003", queue="12345")
    send(city, "a3", "ended", at(s, 12, 0, 45))
    send(city, "a4", "ringing", at(s, 23, 59), caller="13800138004", queue="english", agent="op2")
    send(city, "a4", "answered", at(s, 23, 59, 20), agent="op2")
    send(city, "a4", "ended", at(m, 0, 3, 20))
    send(city, "b1", "ringing", at(m, 0, 1), caller="13800138005", queue="english")
    send(city, "b1", "missed", at(m, 0, 1, 30))
    send(city, "b2", "ringing", at(m, 9, 0), caller="13800138006", queue="12345")
    send(city, "b2", "answered", at(m, 9, 0, 40), agent="op1")
    send(city, "b2", "transferred", at(m, 9, 1, 40))
    send(city, "b3", "ringing", at(m, 9, 10), caller="13800138007", queue="12345")
    send(city, "b3", "transferred", at(m, 9, 10, 15))
    send(city, "b4", "ringing", at(m, 9, 20), caller="13800138008", queue="12345")
    send(city, "b4", "answered", at(m, 9, 20, 5), agent="op1")
    send(city, "b5", "ringing", at(m, 9, 30), caller="13800138009", queue="12345")
    c1 = city.intake()
    c2 = city.intake(case_type="consultation", intake_outcome="answered", answer="营业时间")
    c3 = city.intake()
    links = {"a1": c1.id, "a2": c1.id, "a4": c2.id, "b2": c3.id, "b4": c3.id}
    for call_id, case_id in links.items():
        city.session.execute(update(Call).where(Call.call_id == call_id).values(case_id=case_id))
    for call_id, wrap in {"a1": 30, "a4": 60}.items():
        city.session.execute(update(Call).where(Call.call_id == call_id).values(wrap_seconds=wrap))
    city.session.commit()
    return city


def counts(f) -> tuple[int, int, int, int, int]:
    return (f.inbound, f.answered, f.abandoned, f.missed, f.transferred)


def test_totals_of_the_two_days(calls):
    got = figures(calls.session, start=START, end=END)
    assert counts(got) == (9, 5, 1, 1, 1)  # b5, still ringing, counts in inbound only
    assert got.answer_rate == pytest.approx(5 / 9)
    assert got.abandon_rate == pytest.approx(1 / 9)
    assert got.asa_seconds == pytest.approx((10 + 30 + 20 + 40 + 5) / 5)
    # b4 is still talking: its talk is not known, so it is out of AHT and talk
    assert got.aht_seconds == pytest.approx((150 + 300 + 300 + 60) / 4)
    assert got.talk_seconds == pytest.approx((120 + 300 + 240 + 60) / 4)
    assert (got.linked_calls, got.linked_cases) == (5, 3)
    assert got.calls_per_case == pytest.approx(5 / 3)


def test_by_day_splits_at_local_midnight(calls):
    sunday, monday = call_figures(calls.session, start=START, end=END, bucket="day", tz=TZ.key)
    # a4 arrived at 23:59 (15:59 UTC), b1 at 00:01 (16:01 UTC of Sunday)
    assert sunday.bucket == SUNDAY.date() and monday.bucket == MONDAY.date()
    assert counts(sunday.figures) == (4, 3, 1, 0, 0)
    assert counts(monday.figures) == (5, 2, 0, 1, 1)
    assert sunday.figures.asa_seconds == pytest.approx(20)
    assert sunday.figures.aht_seconds == pytest.approx(250)
    assert sunday.figures.talk_seconds == pytest.approx(220)
    assert sunday.figures.calls_per_case == pytest.approx(1.5)
    assert monday.figures.asa_seconds == pytest.approx(22.5)
    assert (monday.figures.aht_seconds, monday.figures.talk_seconds) == (60, 60)
    assert (monday.figures.linked_calls, monday.figures.linked_cases) == (2, 1)
    assert monday.figures.answer_rate == pytest.approx(2 / 5)
    assert sunday.figures.abandon_rate == pytest.approx(1 / 4)


def test_by_week_splits_sunday_from_monday(calls):
    rows = call_figures(calls.session, start=START, end=END, bucket="week", tz=TZ.key)
    assert [(r.bucket.isoformat(), counts(r.figures)) for r in rows] == [
        ("2026-03-02", (4, 3, 1, 0, 0)),
        ("2026-03-09", (5, 2, 0, 1, 1)),
    ]


def test_by_month_is_one_bucket(calls):
    march = (datetime(2026, 3, 1, tzinfo=TZ), datetime(2026, 4, 1, tzinfo=TZ))
    (row,) = call_figures(calls.session, start=march[0], end=march[1], bucket="month", tz=TZ.key)
    assert row.bucket.isoformat() == "2026-03-01"
    assert counts(row.figures) == (9, 5, 1, 1, 1)
    assert row.figures.aht_seconds == pytest.approx(202.5)


def test_by_queue(calls):
    main, english = call_figures(calls.session, start=START, end=END, group_by=("queue",))
    assert (main.queue, english.queue) == ("12345", "english")
    assert counts(main.figures) == (7, 4, 1, 0, 1)
    assert main.figures.asa_seconds == pytest.approx((10 + 30 + 40 + 5) / 4)
    assert main.figures.aht_seconds == pytest.approx((150 + 300 + 60) / 3)
    assert main.figures.talk_seconds == pytest.approx((120 + 300 + 60) / 3)
    assert (main.figures.linked_calls, main.figures.linked_cases) == (4, 2)
    assert counts(english.figures) == (2, 1, 0, 1, 0)
    assert english.figures.answer_rate == pytest.approx(1 / 2)
    assert (english.figures.asa_seconds, english.figures.aht_seconds) == (20, 300)
    assert english.figures.calls_per_case == 1


def test_by_operator(calls):
    nobody, op1, op2 = call_figures(calls.session, start=START, end=END, group_by=("agent",))
    assert (nobody.agent, op1.agent, op2.agent) == ("", "op1", "op2")
    # the calls no operator touched: abandoned, missed, transferred in the queue, live
    assert counts(nobody.figures) == (4, 0, 1, 1, 1)
    assert nobody.figures.asa_seconds is None and nobody.figures.answer_rate == 0
    assert nobody.figures.calls_per_case is None
    assert counts(op1.figures) == (3, 3, 0, 0, 0)
    assert op1.figures.asa_seconds == pytest.approx((10 + 40 + 5) / 3)
    assert op1.figures.aht_seconds == pytest.approx((150 + 60) / 2)
    assert op1.figures.talk_seconds == pytest.approx(90)
    assert op1.figures.calls_per_case == pytest.approx(3 / 2)
    assert counts(op2.figures) == (2, 2, 0, 0, 0)
    assert (op2.figures.asa_seconds, op2.figures.aht_seconds, op2.figures.talk_seconds) == (
        25,
        300,
        270,
    )
    assert op2.figures.calls_per_case == 1


def test_by_day_and_queue_and_operator_with_filters(calls):
    rows = call_figures(
        calls.session,
        start=START,
        end=END,
        group_by=("queue", "agent"),
        bucket="day",
        tz=TZ.key,
        queue="12345",
    )
    assert [(r.bucket.isoformat(), r.queue, r.agent, r.figures.inbound) for r in rows] == [
        ("2026-03-08", "12345", "", 1),
        ("2026-03-08", "12345", "op1", 1),
        ("2026-03-08", "12345", "op2", 1),
        ("2026-03-09", "12345", "", 2),
        ("2026-03-09", "12345", "op1", 2),
    ]
    (op2,) = call_figures(calls.session, start=START, end=END, agent="op2")
    assert counts(op2.figures) == (2, 2, 0, 0, 0)


def test_cases_per_call_type(calls):
    assert cases_per_call_type(calls.session, start=START, end=END) == [
        ("complaint", 2),
        ("consultation", 1),
    ]
    # Monday's calls link C3 only (twice)
    assert cases_per_call_type(calls.session, start=MONDAY, end=END) == [("complaint", 1)]
    assert cases_per_call_type(calls.session, start=START, end=END, queue="english") == [
        ("consultation", 1)
    ]


def test_the_trend_keeps_empty_days(calls):
    saturday, tuesday_end = SUNDAY - timedelta(days=1), END + timedelta(days=1)
    rows = call_trend(calls.session, start=saturday, end=tuesday_end, bucket="day", tz=TZ.key)
    assert [(r.bucket.isoformat(), r.figures.inbound) for r in rows] == [
        ("2026-03-07", 0),
        ("2026-03-08", 4),
        ("2026-03-09", 5),
        ("2026-03-10", 0),
    ]
    empty = rows[0].figures
    assert empty.answer_rate is None and empty.abandon_rate is None
    assert (empty.asa_seconds, empty.aht_seconds, empty.calls_per_case) == (None, None, None)


def test_an_empty_period(calls):
    later = (END + timedelta(days=7), END + timedelta(days=8))
    got = figures(calls.session, start=later[0], end=later[1])
    assert counts(got) == (0, 0, 0, 0, 0)
    assert got.answer_rate is None and got.asa_seconds is None and got.calls_per_case is None
    assert call_figures(calls.session, start=later[0], end=later[1], group_by=("queue",)) == []
    assert cases_per_call_type(calls.session, start=later[0], end=later[1]) == []
    board = call_kpis(calls.session, start=later[0], end=later[1], tz=TZ.key)
    assert (board.queues, board.agents, board.case_types) == ([], [], [])
    assert [r.figures.inbound for r in board.trend] == [0]


def test_the_board_of_the_page(calls):
    board = call_kpis(calls.session, start=START, end=END, bucket="week", tz=TZ.key)
    assert board.totals.inbound == 9
    assert [r.figures.inbound for r in board.trend] == [4, 5]
    assert [r.queue for r in board.queues] == ["12345", "english"]
    assert [r.agent for r in board.agents] == ["", "op1", "op2"]
    assert board.case_types == [("complaint", 2), ("consultation", 1)]


def test_every_figure_has_both_names_and_a_definition():
    for label in CALL_KPI_NAMES.values():
        assert label.zh and label.en and label.definition_zh and label.definition_en


def test_bad_grouping_is_refused(city):
    with pytest.raises(ValueError):
        call_figures(city.session, start=START, end=END, group_by=("department",))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        call_figures(city.session, start=START, end=END, bucket="year")  # type: ignore[arg-type]


def test_bucket_starts_of_the_fortnight():
    zone = zone_named(TZ.key)
    assert [d.isoformat() for d in bucket_starts("week", zone, START, END)] == [
        "2026-03-02",
        "2026-03-09",
    ]


def test_the_docs_state_each_figure_in_the_legends_words():
    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    for name, label in CALL_KPI_NAMES.items():
        for text in (label.zh, label.en, label.definition_zh):
            assert text in doc, (name, text)
        assert doc.count(label.definition_en) == 1, name  # stated once
