"""Call events into calls (``workflows/calls/service.py``): in order, out of order, twice;
the operator's state; missed and abandoned calls into callback tasks, repeats merged, a
call that turns out answered taken out, a caller who got through."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from workflows.calls import agents
from workflows.calls.models import AgentState, Call, CallCallback, CallEvent
from workflows.calls.service import CallEventIn, ingest
from workflows.errors import FormInvalid

from .conftest import TZ

#: a Wednesday, inside working hours (the demo calendar works 9-17 Mon-Fri)
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=TZ)


@pytest.fixture
def mode() -> str:
    return "straight"  # no workflow is stepped here


def send(city, call_id: str, event: str, seconds: float, **fields):
    return ingest(
        city.session,
        CallEventIn(call_id=call_id, event=event, at=T0 + timedelta(seconds=seconds), **fields),
        clock=city.clock,
        calendar=city.hotline.calendar.get(),
    )


def call(city, call_id: str) -> Call:
    city.session.expire_all()
    return city.session.scalars(select(Call).where(Call.call_id == call_id)).one()


def state_of(city, username: str) -> str:
    city.session.expire_all()
    row = city.session.get(AgentState, city.user(username).id)
    return row.state if row else "offline"


def open_tasks(city) -> list[CallCallback]:
    city.session.expire_all()
    return list(
        city.session.scalars(
            select(CallCallback).where(CallCallback.state == "open").order_by(CallCallback.id)
        )
    )


def test_answered_call_in_order(city):
    send(city, "c1", "ringing", 0, caller="138-0013-8000", queue="12345", agent="op1")
    send(city, "c1", "answered", 12, agent="op1")
    assert state_of(city, "op1") == "on_call"
    send(city, "c1", "ended", 192, recording_url="https://pbx.example/rec/c1.wav")
    row = call(city, "c1")
    assert (row.outcome, row.state, row.caller, row.queue, row.agent) == (
        "answered",
        "ended",
        "13800138000",
        "12345",
        "op1",
    )
    assert (row.wait_seconds, row.talk_seconds) == (12, 180)
    assert row.recording_url == "https://pbx.example/rec/c1.wav"
    assert state_of(city, "op1") == "after_call_work"
    assert open_tasks(city) == []


def test_out_of_order_gives_the_same_call(city):
    send(city, "c2", "ended", 192, agent="op1")
    send(city, "c2", "answered", 12, agent="op1")
    send(city, "c2", "ringing", 0, caller="13800138000", queue="12345")
    row = call(city, "c2")
    assert (row.outcome, row.state, row.wait_seconds, row.talk_seconds) == (
        "answered",
        "ended",
        12,
        180,
    )
    # the late "answered" did not put op1 back on the call that had ended
    assert state_of(city, "op1") == "after_call_work"
    # the abandoned task the early "ended" made was cancelled when the answer arrived
    assert open_tasks(city) == []


def test_a_repeated_event_changes_nothing(city):
    first = send(city, "c3", "ringing", 0, caller="13800138000")
    again = send(city, "c3", "ringing", 30, caller="13900000000")
    assert first.created and not again.created
    assert call(city, "c3").caller == "13800138000"
    assert len(list(city.session.scalars(select(CallEvent)))) == 1


def test_missed_and_abandoned_calls_make_one_task_per_number(city):
    send(city, "m1", "ringing", 0, caller="13800138000")
    send(city, "m1", "missed", 60)
    send(city, "m2", "ringing", 600, caller="13800138000")
    send(city, "m2", "ended", 640)  # abandoned, 10 minutes later: the same task
    send(city, "m3", "ringing", 0, caller="13700137000")
    send(city, "m3", "ended", 20)
    tasks = open_tasks(city)
    assert [(t.caller, t.missed_count) for t in tasks] == [
        ("13800138000", 2),
        ("13700137000", 1),
    ]
    # due two working hours after the first missed call
    assert tasks[0].due_at == T0 + timedelta(seconds=60, hours=2)
    assert call(city, "m1").outcome == "missed" and call(city, "m2").outcome == "abandoned"


def test_a_missed_call_after_the_window_is_a_new_task(city):
    send(city, "w1", "missed", 0, caller="13800138000")
    send(city, "w2", "missed", 25 * 3600, caller="13800138000")
    assert [t.missed_count for t in open_tasks(city)] == [1, 1]


def test_a_missed_call_at_night_is_due_next_working_morning(city):
    night = -12 * 3600  # 22:00 on Tuesday
    send(city, "n1", "missed", night, caller="13800138000")
    (task,) = open_tasks(city)
    assert task.due_at == datetime(2026, 3, 4, 11, 0, tzinfo=TZ)


def test_a_withheld_number_makes_no_task(city):
    send(city, "x1", "missed", 0)
    assert call(city, "x1").outcome == "missed"
    assert open_tasks(city) == []


def test_a_caller_who_gets_through_closes_their_task(city):
    send(city, "g1", "missed", 0, caller="13800138000")
    send(city, "g2", "ringing", 300, caller="13800138000")
    send(city, "g2", "answered", 310, agent="op2")
    assert open_tasks(city) == []
    city.session.expire_all()
    task = city.session.scalars(select(CallCallback)).one()
    assert (task.state, task.outcome) == ("done", "got_through")


def test_a_caller_whose_number_comes_with_the_end_closes_their_task_then(city):
    send(city, "k1", "missed", 0, caller="13800138000")
    send(city, "k2", "answered", 310, agent="op2")  # the number withheld until the end
    assert len(open_tasks(city)) == 1
    send(city, "k2", "ended", 400, caller="13800138000")
    assert open_tasks(city) == []


def test_an_unknown_agent_is_refused_and_nothing_is_stored(city):
    with pytest.raises(FormInvalid) as error:
        send(city, "u1", "answered", 0, agent="nobody")
    assert "agent" in error.value.errors
    assert city.session.scalars(select(Call)).first() is None


def test_ringing_at_an_operator_pops_their_screen(city):
    send(city, "p1", "ringing", 0, caller="13800138000", agent="op1")
    city.session.expire_all()
    row = city.session.get(AgentState, city.user("op1").id)
    assert (row.pop_seq, row.pop_call_id) == (1, "p1")
    send(city, "p1", "answered", 5, agent="op1")
    city.session.expire_all()
    assert city.session.get(AgentState, city.user("op1").id).pop_seq == 2


def test_wrap_up_ends_when_the_operator_is_available_again(city):
    send(city, "a1", "answered", 0, agent="op1")
    send(city, "a1", "ended", 100, agent="op1")
    city.clock.set(T0 + timedelta(seconds=130))
    from engine.db import unit_of_work

    with unit_of_work(city.session):
        agents.set_state(
            city.session, user=city.user("op1"), state="available", now=city.clock.now()
        )
    assert state_of(city, "op1") == "available"
    assert call(city, "a1").wrap_seconds == 30


def test_figures_of_a_period(city):
    from workflows.calls.kpi import figures

    send(city, "k1", "ringing", 0, caller="13800138000")
    send(city, "k1", "answered", 10, agent="op1")
    send(city, "k1", "ended", 70)  # waited 10, talked 60
    send(city, "k2", "ringing", 100, caller="13700137000")
    send(city, "k2", "answered", 130, agent="op2")
    send(city, "k2", "ended", 250)  # waited 30, talked 120
    send(city, "k3", "ringing", 200, caller="13600136000")
    send(city, "k3", "ended", 215)  # abandoned
    send(city, "k4", "missed", 300, caller="13500135000")
    send(city, "k5", "ringing", 400)  # still waiting
    got = figures(city.session, start=T0, end=T0 + timedelta(hours=1))
    assert (got.inbound, got.answered, got.abandoned, got.missed) == (5, 2, 1, 1)
    assert got.answer_rate == 2 / 5 and got.abandon_rate == 1 / 5
    assert (got.asa_seconds, got.aht_seconds, got.talk_seconds) == (20, 90, 90)
    assert (
        figures(city.session, start=T0 + timedelta(hours=1), end=T0 + timedelta(hours=2)).inbound
        == 0
    )


def test_a_call_settled_while_talking_leaves_no_after_call_work(city):
    send(city, "s1", "answered", 0, agent="op1", caller="13800138000")
    call_row = call(city, "s1")
    call_row.settled_at = T0 + timedelta(seconds=50)  # the case recorded during the call
    call_row.settled_by = "op1"
    city.session.commit()
    send(city, "s1", "ended", 60)
    assert state_of(city, "op1") == "available"
    assert call(city, "s1").wrap_seconds == 0
