"""Working a missed-call callback task (``workflows/calls/callbacks.py``): claiming it (one
operator at a time), attempts that do not reach the caller until the task closes
unreachable, a wrong number, a caller reached with no case needed or a case to record, the
list by wait, and deadlines counted in working hours (the demo calendar: 9-17 Mon-Fri,
Asia/Shanghai)."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.errors import ConflictError
from workflows.calls import callbacks
from workflows.calls.models import CallCallback
from workflows.calls.service import CallEventIn, ingest
from workflows.errors import FormInvalid

from .conftest import TZ

#: a Wednesday, inside working hours
T0 = datetime(2026, 3, 4, 10, 0, tzinfo=TZ)


@pytest.fixture
def mode() -> str:
    return "straight"  # no workflow is stepped here


def missed(city, call_id: str, at: datetime, caller: str = "13800138000") -> CallCallback:
    ingest(
        city.session,
        CallEventIn(call_id=call_id, event="missed", at=at, caller=caller),
        clock=city.clock,
        calendar=city.hotline.calendar.get(),
    )
    city.session.expire_all()
    return city.session.scalars(
        select(CallCallback).where(CallCallback.caller == caller).order_by(CallCallback.id.desc())
    ).first()


def task(city, callback_id: int) -> CallCallback:
    city.session.expire_all()
    return city.session.get(CallCallback, callback_id)


def attempt(city, callback_id: int, username: str, result: str, reason=None, note="", **kw):
    with unit_of_work(city.session):
        return callbacks.record_attempt(
            city.session,
            callback_id=callback_id,
            user=city.user(username),
            result=result,
            reason=reason,
            note=note,
            now=T0 + timedelta(hours=1),
            **kw,
        )


def claim(city, callback_id: int, username: str) -> CallCallback:
    with unit_of_work(city.session):
        return callbacks.claim(
            city.session, callback_id=callback_id, user=city.user(username), now=T0
        )


def test_one_operator_claims_and_another_is_told_who(city):
    t = missed(city, "c1", T0)
    claim(city, t.id, "op1")
    claim(city, t.id, "op1")  # again: nothing changes
    with pytest.raises(ConflictError) as error:
        claim(city, t.id, "op2")
    assert "claimed by op1" in str(error.value)
    with pytest.raises(ConflictError), unit_of_work(city.session):
        callbacks.release(city.session, callback_id=t.id, user=city.user("op2"), now=T0)
    with pytest.raises(ConflictError):
        attempt(city, t.id, "op2", "not_reached", "busy")
    assert task(city, t.id).claimed_by == "op1"
    with unit_of_work(city.session):
        callbacks.release(city.session, callback_id=t.id, user=city.user("op1"), now=T0)
    claim(city, t.id, "op2")
    assert task(city, t.id).claimed_by == "op2"


def test_unreachable_after_the_set_number_of_failed_attempts(city):
    t = missed(city, "a1", T0)
    assert callbacks.call_settings(city.session).callback_attempts == 3
    claim(city, t.id, "op1")
    attempt(city, t.id, "op1", "not_reached", "no_answer")
    row = task(city, t.id)
    assert (row.state, row.attempts, row.claimed_by) == ("open", 1, "")  # back to the group
    attempt(city, t.id, "op2", "not_reached", "busy")
    assert task(city, t.id).state == "open"
    attempt(city, t.id, "op1", "not_reached", "no_answer", note="关机")
    row = task(city, t.id)
    assert (row.state, row.outcome, row.attempts, row.closed_by) == (
        "unreachable",
        "not_reached",
        3,
        "op1",
    )
    assert [a.reason for a in callbacks.attempts_of(city.session, callback_id=t.id)] == [
        "no_answer",
        "busy",
        "no_answer",
    ]
    with pytest.raises(ConflictError):
        attempt(city, t.id, "op1", "not_reached", "busy")


def test_a_wrong_number_closes_at_once(city):
    t = missed(city, "w1", T0)
    attempt(city, t.id, "op1", "not_reached", "wrong_number", note="空号")
    row = task(city, t.id)
    assert (row.state, row.outcome, row.attempts, row.note) == (
        "unreachable",
        "not_reached",
        1,
        "空号",
    )


def test_reached_with_no_case_needed(city):
    t = missed(city, "r1", T0)
    attempt(city, t.id, "op1", "reached", note="问公交线路，已答复，无需立案")
    row = task(city, t.id)
    assert (row.state, row.outcome, row.closed_by, row.note, row.case_id) == (
        "done",
        "reached",
        "op1",
        "问公交线路，已答复，无需立案",
        None,
    )


def test_reached_and_a_case_to_record_keeps_it_open_for_the_case(city):
    t = missed(city, "r2", T0)
    attempt(city, t.id, "op1", "reached", recording_case=True)
    row = task(city, t.id)
    assert (row.state, row.claimed_by, row.attempts) == ("open", "op1", 1)
    case = city.intake()
    with unit_of_work(city.session):
        callbacks.case_recorded(city.session, callback_id=t.id, case_id=case.id, by="op1", now=T0)
    row = task(city, t.id)
    assert (row.state, row.outcome, row.case_id) == ("done", "reached", case.id)


def test_bad_attempts_name_their_field_and_change_nothing(city):
    t = missed(city, "b1", T0)
    for result, reason, note, field in (
        ("maybe", None, "", "result"),
        ("not_reached", None, "", "reason"),
        ("not_reached", "asleep", "", "reason"),
        ("reached", "busy", "x", "reason"),
        ("reached", None, "", "note"),
        ("reached", None, "x" * 2001, "note"),
    ):
        with pytest.raises(FormInvalid) as error:
            attempt(city, t.id, "op1", result, reason, note)
        assert field in error.value.errors, (result, reason)
    row = task(city, t.id)
    assert (row.state, row.attempts) == ("open", 0)


def test_the_list_is_ordered_by_wait(city):
    later = missed(city, "o1", T0 + timedelta(minutes=30), caller="13700137000")
    first = missed(city, "o2", T0, caller="13600136000")
    middle = missed(city, "o3", T0 + timedelta(minutes=5), caller="13500135000")
    listed = city.session.scalars(callbacks.tasks_stmt()).all()
    assert [t.id for t in listed] == [first.id, middle.id, later.id]
    attempt(city, middle.id, "op1", "not_reached", "wrong_number")
    assert [t.id for t in city.session.scalars(callbacks.tasks_stmt()).all()] == [
        first.id,
        later.id,
    ]
    assert [t.id for t in city.session.scalars(callbacks.tasks_stmt(closed=True))] == [middle.id]


def test_a_night_call_is_due_two_working_hours_into_the_next_morning(city):
    t = missed(city, "n1", datetime(2026, 3, 4, 23, 30, tzinfo=TZ))  # Wednesday night
    assert t.due_at == datetime(2026, 3, 5, 11, 0, tzinfo=TZ)  # Thursday 9:00 + 2 hours


def test_a_late_afternoon_call_runs_over_into_the_next_day(city):
    t = missed(city, "l1", datetime(2026, 3, 4, 16, 15, tzinfo=TZ))  # 45 minutes left today
    assert t.due_at == datetime(2026, 3, 5, 10, 15, tzinfo=TZ)


def test_a_weekend_call_is_due_on_monday(city):
    t = missed(city, "s1", datetime(2026, 3, 7, 14, 0, tzinfo=TZ))  # Saturday afternoon
    assert t.due_at == datetime(2026, 3, 9, 11, 0, tzinfo=TZ)  # Monday 9:00 + 2 hours


def test_yellow_and_red_marks(city):
    t = missed(city, "d1", T0)  # due at 12:00, two hours later
    assert callbacks.due_mark(t, now=T0 + timedelta(minutes=95)) == ""
    assert callbacks.due_mark(t, now=T0 + timedelta(minutes=96)) == "yellow"  # 80% of 120
    assert callbacks.due_mark(t, now=T0 + timedelta(hours=2)) == "red"


def test_settings_are_saved_in_row_one_and_used_for_new_tasks(city):
    values = {**callbacks.DEFAULTS, "callback_value": 1, "callback_unit": "workdays"}
    with unit_of_work(city.session):
        callbacks.save_settings(city.session, values=values, by="admin", now=T0)
    t = missed(city, "k1", T0)
    # one working day: to the end of the next one (Thursday), as case deadlines count
    assert t.due_at == datetime(2026, 3, 5, 23, 59, 59, tzinfo=TZ)
    assert callbacks.call_settings(city.session).updated_by == "admin"


def test_the_live_token_moves_with_claims_and_attempts(city):
    t = missed(city, "v1", T0)
    tokens = [callbacks.version(city.session)]
    claim(city, t.id, "op1")
    tokens.append(callbacks.version(city.session))
    attempt(city, t.id, "op1", "not_reached", "busy")
    tokens.append(callbacks.version(city.session))
    missed(city, "v2", T0 + timedelta(minutes=1))  # merged into the same task
    tokens.append(callbacks.version(city.session))
    assert len(set(tokens)) == 4


def test_a_night_call_turns_yellow_in_working_hours(city):
    """Missed at 23:30 on a Wednesday, due 11:00 Thursday (two working hours from 9:00): yellow
    at 80% of the working time (10:36), not of the night's wall-clock hours."""
    calendar = city.hotline.calendar.get()
    t = CallCallback(
        caller="13800138000",
        state="open",
        first_missed_at=datetime(2026, 3, 4, 23, 30, tzinfo=TZ),
        last_missed_at=datetime(2026, 3, 4, 23, 30, tzinfo=TZ),
        due_at=datetime(2026, 3, 5, 11, 0, tzinfo=TZ),
        created_at=datetime(2026, 3, 4, 23, 30, tzinfo=TZ),
    )
    mark = functools.partial(callbacks.due_mark, calendar=calendar, unit="workhours")
    assert mark(t, now=datetime(2026, 3, 5, 9, 30, tzinfo=TZ)) == ""
    assert mark(t, now=datetime(2026, 3, 5, 10, 35, tzinfo=TZ)) == ""
    assert mark(t, now=datetime(2026, 3, 5, 10, 36, tzinfo=TZ)) == "yellow"
    # on the wall clock it would have been yellow since 7:00
    assert callbacks.due_mark(t, now=datetime(2026, 3, 5, 9, 30, tzinfo=TZ)) == "yellow"


def test_the_lead_frees_a_task_left_claimed(city):
    t = missed(city, "c1", T0)
    claim(city, t.id, "op1")
    with unit_of_work(city.session):
        callbacks.release(
            city.session, callback_id=t.id, user=city.user("lead1"), now=T0, anyone=True
        )
    assert task(city, t.id).claimed_by == ""
    claim(city, t.id, "op2")
    assert task(city, t.id).claimed_by == "op2"
