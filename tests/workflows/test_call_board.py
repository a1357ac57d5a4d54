"""The on-duty lead's board (``workflows/calls/board.py``) from hand-made call events: calls
waiting and the longest wait (stale ones left out), calls in progress, operators by state,
today's rates in the centre's time zone, the missed-call backlog, and the live token."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.db import unit_of_work
from workflows.calls import agents
from workflows.calls.board import board, version
from workflows.calls.models import CallSettings
from workflows.calls.service import CallEventIn, ingest

from .conftest import TZ

#: the city's clock: Monday 2 March 2026, 09:00 in Beijing
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)


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


def ago(**kwargs) -> datetime:
    return NOW - timedelta(**kwargs)


def now_board(city):
    city.session.expire_all()
    return board(city.session, now=city.clock.now(), tz=TZ)


def test_the_clock_is_monday_nine(city):
    assert city.clock.now() == NOW


def test_calls_waiting_and_the_longest_wait(city):
    send(city, "w1", "ringing", ago(seconds=90), caller="13800138000", queue="12345")
    send(city, "w2", "ringing", ago(seconds=30), caller="", queue="12345", agent="op2")
    send(city, "t1", "ringing", ago(seconds=200), caller="13700137000")
    send(city, "t1", "answered", ago(seconds=100), agent="op1")
    send(city, "gone", "ringing", ago(seconds=300), caller="13600136000")
    send(city, "gone", "ended", ago(seconds=250))  # abandoned: no longer waiting
    # rang 61 minutes ago and nothing since: its end never came (stale after 60 minutes)
    send(city, "stale", "ringing", ago(minutes=61), caller="13500135000")

    got = now_board(city)
    assert got.waiting_count == 2
    assert [(c.call_id, c.seconds) for c in got.waiting] == [("w1", 90), ("w2", 30)]
    assert got.waiting[1].agent == "op2"  # it rings at op2
    assert got.longest_wait_seconds == 90
    assert got.talking_count == 1
    assert [(c.call_id, c.agent, c.seconds) for c in got.talking] == [("t1", "op1", 100)]

    send(city, "w1", "answered", NOW, agent="op2")
    got = now_board(city)
    assert [c.call_id for c in got.waiting] == ["w2"]
    assert got.longest_wait_seconds == 30
    assert got.talking_count == 2


def test_the_stale_limit_is_the_call_settings(city):
    send(city, "s1", "ringing", ago(minutes=6), caller="13800138000")
    send(city, "s2", "ringing", ago(minutes=4), caller="13700137000")
    assert now_board(city).waiting_count == 2
    with unit_of_work(city.session):
        city.session.add(CallSettings(id=1, stale_minutes=5, updated_at=NOW, updated_by="admin"))
    got = now_board(city)
    assert [c.call_id for c in got.waiting] == ["s2"]
    assert got.longest_wait_seconds == 240
    assert got.stale_minutes == 5


def test_no_call_waiting(city):
    got = now_board(city)
    assert (got.waiting, got.waiting_count, got.longest_wait_seconds) == ([], 0, None)
    assert got.today.inbound == 0 and got.today.answer_rate is None
    assert got.below_target is False  # nothing to count is not below target


def test_operators_by_state(city):
    send(city, "c1", "ringing", ago(minutes=5), caller="13800138000", agent="op1")
    send(city, "c1", "answered", ago(minutes=4), agent="op1")
    got = now_board(city)
    assert [(o.username, o.state, o.call_id, o.seconds) for o in got.operators] == [
        ("op1", "on_call", "c1", 240),
        ("op2", "offline", "", None),  # never set a state: offline
    ]
    assert got.operators[0].display_name == "接线员 李娜 Li Na"

    with unit_of_work(city.session):
        agents.set_state(city.session, user=city.user("op2"), state="away", now=ago(minutes=1))
    send(city, "c1", "ended", NOW)
    got = now_board(city)
    assert [(o.username, o.state, o.seconds) for o in got.operators] == [
        ("op1", "after_call_work", 0),
        ("op2", "away", 60),
    ]
    assert got.by_state == {
        "on_call": 0,
        "after_call_work": 1,
        "available": 0,
        "away": 1,
        "offline": 0,
    }

    # only active operators: op2 leaves
    with unit_of_work(city.session):
        city.user("op2").active = False
    assert [o.username for o in now_board(city).operators] == ["op1"]


def test_todays_rates_in_the_centres_time_zone(city):
    # yesterday evening in Beijing: not today
    send(city, "y1", "ringing", datetime(2026, 3, 1, 23, 30, tzinfo=TZ), caller="13800138000")
    send(city, "y1", "missed", datetime(2026, 3, 1, 23, 31, tzinfo=TZ))
    # 01:00 in Beijing is still 1 March in UTC: today here
    send(city, "a1", "ringing", datetime(2026, 3, 2, 1, 0, tzinfo=TZ), caller="13700137000")
    send(city, "a1", "answered", datetime(2026, 3, 2, 1, 0, 10, tzinfo=TZ), agent="op1")
    send(city, "a1", "ended", datetime(2026, 3, 2, 1, 5, tzinfo=TZ))
    send(city, "a2", "ringing", ago(minutes=10), caller="13600136000")
    send(city, "a2", "answered", ago(minutes=10) + timedelta(seconds=20), agent="op2")
    send(city, "a3", "ringing", ago(minutes=8), caller="13500135000")
    send(city, "a3", "ended", ago(minutes=7))  # abandoned
    send(city, "a4", "missed", ago(minutes=6), caller="13400134000")

    got = now_board(city)
    assert (got.today.inbound, got.today.answered, got.today.abandoned, got.today.missed) == (
        4,
        2,
        1,
        1,
    )
    assert got.today.answer_rate == 0.5 and got.today.abandon_rate == 0.25
    assert got.today.asa_seconds == 15  # waits of 10 and 20 seconds
    assert got.answer_rate_target == 0.95 and got.below_target is True

    with unit_of_work(city.session):
        city.session.add(CallSettings(id=1, answer_rate_target=0.5, updated_at=NOW))
    assert now_board(city).below_target is False  # at the target is not below it


def test_the_missed_call_backlog(city):
    # before working hours: due two working hours after 09:00, at 11:00
    send(city, "m1", "missed", datetime(2026, 3, 2, 8, 0, tzinfo=TZ), caller="13800138000")
    # due 11:30
    send(city, "m2", "ringing", datetime(2026, 3, 2, 9, 29, tzinfo=TZ), caller="13700137000")
    send(city, "m2", "ended", datetime(2026, 3, 2, 9, 30, tzinfo=TZ))
    send(city, "m3", "missed", datetime(2026, 3, 2, 9, 40, tzinfo=TZ), caller="13800138000")
    send(city, "m4", "missed", datetime(2026, 3, 2, 9, 45, tzinfo=TZ))  # withheld: no task
    city.clock.advance(timedelta(hours=2, minutes=15))  # 11:15

    got = now_board(city)
    assert (got.backlog.open, got.backlog.overdue) == (2, 1)
    assert got.backlog.oldest_missed_at == datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
    assert got.backlog.oldest_seconds == 3 * 3600 + 15 * 60

    # the first caller gets through: their task is done
    send(city, "m5", "ringing", datetime(2026, 3, 2, 11, 10, tzinfo=TZ), caller="13800138000")
    send(city, "m5", "answered", datetime(2026, 3, 2, 11, 11, tzinfo=TZ), agent="op1")
    got = now_board(city)
    assert (got.backlog.open, got.backlog.overdue) == (1, 0)
    assert got.backlog.oldest_seconds == 3600 + 45 * 60


def test_the_token_moves_with_the_board(city):
    def token() -> str:
        city.session.expire_all()
        return version(city.session, now=city.clock.now(), tz=TZ)

    first = token()
    assert token() == first  # nothing happened
    send(city, "v1", "ringing", ago(seconds=10), caller="13800138000")
    rang = token()
    assert rang != first
    city.clock.advance(timedelta(minutes=30))
    assert token() == rang  # waiting longer is counted by the page itself
    city.clock.advance(timedelta(minutes=31))
    stale = token()
    assert stale != rang  # the call went stale: it left the board
    with unit_of_work(city.session):
        agents.set_state(city.session, user=city.user("op1"), state="away", now=city.clock.now())
    away = token()
    assert away != stale
    with unit_of_work(city.session):
        agents.set_state(
            city.session, user=city.user("op1"), state="available", now=city.clock.now()
        )
    assert token() not in (away, stale)  # the same instant, another state
    before_midnight = token()
    city.clock.advance(timedelta(hours=15))  # Tuesday: today's figures start again
    assert token() != before_midnight
