"""Working the missed-call callback tasks (``workflows/calls/callbacks.py``): one operator at a
time, attempts like case callbacks, closing as reached (a case, or none needed) or as
unreachable (after the settings' number of failures, or a wrong number at once), the list by
wait, and deadlines in working hours (the demo calendar works 9-17 Monday to Friday)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.errors import NotFound
from workflows.calls import callbacks
from workflows.calls.callbacks import CallbackConflict
from workflows.calls.models import CallCallback
from workflows.calls.service import CallEventIn, ingest
from workflows.errors import FormInvalid

from .conftest import TZ

#: a Wednesday, 10:00 (inside working hours)
WED = datetime(2026, 3, 4, 10, 0, tzinfo=TZ)


@pytest.fixture
def mode() -> str:
    return "straight"  # no workflow is stepped here


def missed(city, call_id: str, at: datetime, caller: str = "13800138000") -> CallCallback:
    """A call missed at ``at``; its task."""
    ingest(
        city.session,
        CallEventIn(call_id=call_id, event="missed", at=at, caller=caller, queue="12345"),
        clock=city.clock,
        calendar=city.hotline.calendar.get(),
    )
    city.session.expire_all()
    return city.session.get(
        CallCallback,
        city.session.scalar(select(CallCallback.id).where(CallCallback.caller == caller)),
    )


def run(city, fn, **kwargs):
    with unit_of_work(city.session):
        result = fn(city.session, **kwargs)
    city.session.expire_all()
    return result


def attempt(city, task, user="op1", result="not_reached", reason="no_answer", note=""):
    return run(
        city,
        callbacks.record_attempt,
        callback_id=task.id,
        user=user,
        result=result,
        reason=reason,
        note=note,
        now=city.clock.now(),
    )


def task_of(city, task) -> CallCallback:
    city.session.expire_all()
    return city.session.get(CallCallback, task.id)


def test_one_operator_works_a_task_at_a_time(city):
    task = missed(city, "c1", WED)
    run(city, callbacks.claim, callback_id=task.id, user="op1")
    run(city, callbacks.claim, callback_id=task.id, user="op1")  # again: nothing changes
    assert task_of(city, task).claimed_by == "op1"
    with pytest.raises(CallbackConflict, match="claimed by op1"):
        run(city, callbacks.claim, callback_id=task.id, user="op2")
    with pytest.raises(CallbackConflict):
        run(city, callbacks.release, callback_id=task.id, user="op2")
    with pytest.raises(CallbackConflict):
        attempt(city, task, user="op2")
    assert task_of(city, task).claimed_by == "op1" and task_of(city, task).attempts == 0
    run(city, callbacks.release, callback_id=task.id, user="op1")
    run(city, callbacks.claim, callback_id=task.id, user="op2")
    # a supervisor frees a task its operator left
    run(city, callbacks.release, callback_id=task.id, user="sup1", anyone=True)
    assert task_of(city, task).claimed_by == ""
    with pytest.raises(NotFound):
        run(city, callbacks.claim, callback_id=task.id + 100, user="op1")


def test_not_reached_stays_open_until_the_set_number_of_failures(city):
    task = missed(city, "c1", WED)
    attempt(city, task, reason="no_answer", note="rang 10 times")
    attempt(city, task, user="op2", reason="busy")
    row = task_of(city, task)
    # back on the list for the next try, nobody holds it
    assert (row.state, row.attempts, row.claimed_by) == ("open", 2, "")
    city.advance(hours=1)
    attempt(city, task, reason="no_answer")
    row = task_of(city, task)
    assert (row.state, row.outcome, row.closed_by) == ("unreachable", "not_reached", "op1")
    assert row.closed_at == city.clock.now()
    got = [
        (a.user, a.result, a.reason, a.note)
        for a in callbacks.attempts_of(city.session, callback_id=task.id)
    ]
    assert got == [
        ("op1", "not_reached", "no_answer", "rang 10 times"),
        ("op2", "not_reached", "busy", ""),
        ("op1", "not_reached", "no_answer", ""),
    ]
    with pytest.raises(CallbackConflict, match="closed"):
        attempt(city, task)


def test_the_call_settings_say_how_many_failures_close_a_task(city):
    run(
        city,
        callbacks.save_settings,
        values={"callback_attempts": 1},
        by="admin",
        now=city.clock.now(),
    )
    task = missed(city, "c1", WED)
    attempt(city, task, reason="busy")
    assert task_of(city, task).state == "unreachable"


def test_a_wrong_number_closes_at_once(city):
    task = missed(city, "c1", WED)
    attempt(city, task, reason="wrong_number", note="a shop, not the caller")
    row = task_of(city, task)
    assert (row.state, row.outcome, row.attempts) == ("unreachable", "not_reached", 1)


def test_reached_with_no_case_needed(city):
    task = missed(city, "c1", WED)
    with pytest.raises(CallbackConflict, match="no reached attempt"):
        run(city, callbacks.close_reached, callback_id=task.id, user="op1", note="x", now=WED)
    attempt(city, task, result="reached", reason="busy", note="asked about bus times")
    row = task_of(city, task)
    # still open, held by the operator who reached the caller (a case or a close comes next)
    assert (row.state, row.claimed_by) == ("open", "op1")
    (only,) = callbacks.attempts_of(city.session, callback_id=task.id)
    assert (only.result, only.reason) == ("reached", None)
    with pytest.raises(FormInvalid) as error:
        run(city, callbacks.close_reached, callback_id=task.id, user="op1", note="  ", now=WED)
    assert "note" in error.value.errors
    with pytest.raises(CallbackConflict):
        run(city, callbacks.close_reached, callback_id=task.id, user="op2", note="x", now=WED)
    run(
        city,
        callbacks.close_reached,
        callback_id=task.id,
        user="op1",
        note="bus times given, no case needed",
        now=city.clock.now(),
    )
    row = task_of(city, task)
    assert (row.state, row.outcome, row.closed_by, row.note, row.claimed_by) == (
        "done",
        "reached",
        "op1",
        "bus times given, no case needed",
        "",
    )


def test_reached_and_a_case_recorded(city):
    task = missed(city, "c1", WED)
    attempt(city, task, result="reached")
    case = city.intake()
    run(city, callbacks.case_recorded, callback_id=task.id, case_id=case.id, by="op1", now=WED)
    row = task_of(city, task)
    assert (row.state, row.outcome, row.case_id, row.closed_by) == (
        "done",
        "reached",
        case.id,
        "op1",
    )


def test_bad_attempts_name_their_field_and_change_nothing(city):
    task = missed(city, "c1", WED)
    for fields, name in (
        ({"result": "maybe"}, "result"),
        ({"result": "not_reached", "reason": None}, "reason"),
        ({"result": "not_reached", "reason": "asleep"}, "reason"),
        ({"note": "x" * 501}, "note"),
    ):
        with pytest.raises(FormInvalid) as error:
            attempt(city, task, **fields)
        assert list(error.value.errors) == [name]
    row = task_of(city, task)
    assert (row.attempts, row.claimed_by, row.state) == (0, "", "open")


def test_the_list_is_ordered_by_wait(city):
    # made in this order, but c3's caller has waited longest
    missed(city, "c1", WED, caller="13800000001")
    missed(city, "c2", WED - timedelta(hours=1), caller="13800000002")
    missed(city, "c3", WED - timedelta(hours=20), caller="13800000003")
    closed = missed(city, "c4", WED - timedelta(hours=30), caller="13800000004")
    attempt(city, closed, reason="wrong_number")
    rows = city.session.scalars(callbacks.tasks(state="open")).all()
    assert [r.caller for r in rows] == ["13800000003", "13800000002", "13800000001"]
    assert [r.caller for r in city.session.scalars(callbacks.tasks(state="closed"))] == [
        "13800000004"
    ]
    assert callbacks.open_count(city.session) == 3
    before = callbacks.version(city.session)
    missed(city, "c5", WED, caller="13800000005")
    assert callbacks.version(city.session) != before


@pytest.mark.parametrize(
    ("at", "due"),
    [
        # Wednesday 10:00: two working hours later, the same morning
        (WED, datetime(2026, 3, 4, 12, 0, tzinfo=TZ)),
        # a night call (Wednesday 20:00): by 11:00 the next working morning
        (datetime(2026, 3, 4, 20, 0, tzinfo=TZ), datetime(2026, 3, 5, 11, 0, tzinfo=TZ)),
        # Friday 16:30: half an hour on Friday, an hour and a half on Monday
        (datetime(2026, 3, 6, 16, 30, tzinfo=TZ), datetime(2026, 3, 9, 10, 30, tzinfo=TZ)),
        # a weekend call (Saturday 10:00): Monday 11:00
        (datetime(2026, 3, 7, 10, 0, tzinfo=TZ), datetime(2026, 3, 9, 11, 0, tzinfo=TZ)),
    ],
)
def test_deadlines_count_working_hours(city, at, due):
    assert missed(city, "c1", at).due_at == due


def test_deadlines_in_other_units(city):
    run(
        city,
        callbacks.save_settings,
        values={"callback_value": 4, "callback_unit": "hours"},
        by="admin",
        now=city.clock.now(),
    )
    saturday = datetime(2026, 3, 7, 10, 0, tzinfo=TZ)
    assert missed(city, "c1", saturday).due_at == datetime(2026, 3, 7, 14, 0, tzinfo=TZ)
    row = callbacks.call_settings(city.session)
    assert (row.id, row.callback_value, row.callback_unit, row.updated_by) == (
        1,
        4,
        "hours",
        "admin",
    )


def test_yellow_at_80_percent_of_the_working_time_red_when_overdue(city):
    night = missed(city, "c1", datetime(2026, 3, 3, 22, 0, tzinfo=TZ))  # Tuesday night
    assert night.due_at == datetime(2026, 3, 4, 11, 0, tzinfo=TZ)
    settings = callbacks.call_settings(city.session)
    calendar = city.hotline.calendar.get()

    def state(hour: int, minute: int) -> str:
        now = datetime(2026, 3, 4, hour, minute, tzinfo=TZ)
        return callbacks.due_state(night, settings=settings, calendar=calendar, now=now)

    # two working hours (9:00-11:00); 80% of them is 96 minutes: 10:36
    assert [state(9, 0), state(10, 35), state(10, 36), state(10, 59), state(11, 0)] == [
        "normal",
        "normal",
        "yellow",
        "yellow",
        "red",
    ]
