"""Missed-call callback tasks (未接来电回拨; docs/calls.md, "Missed calls").

Every missed or abandoned call with a caller number belongs to an open task for that number:
a new one, or the open one whose last missed call is within the repeat window. The task is
due ``callback_value`` ``callback_unit`` (working hours by default) after its first missed
call. A call that turns out answered (its events arrived out of order) leaves its task, which
is cancelled when no call is left in it and nobody has tried it yet; a later answered call
from the same number closes the open task as "got through".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..calendar.service import WorkingCalendar
from .enums import UNANSWERED, CallbackOutcome, CallbackState, Outcome
from .models import Call, CallCallback, CallSettings

#: the values of a centre that never edited its call settings
DEFAULTS = {
    "callback_value": 2,
    "callback_unit": "workhours",
    "repeat_window_minutes": 1440,
    "callback_attempts": 3,
    "stale_minutes": 60,
    "answer_rate_target": 0.95,
}


def call_settings(session: Session) -> CallSettings:
    """The centre's call settings (row 1), or the defaults (not stored) when none is."""
    row = session.get(CallSettings, 1)
    if row is None:
        row = CallSettings(id=1, updated_by="", **DEFAULTS)
    return row


def on_call_changed(
    session: Session, *, call: Call, before: str, calendar: WorkingCalendar, now: datetime
) -> None:
    """Bring the callback tasks up to date after ``call`` was recomputed (``before`` is the
    outcome it had)."""
    if call.outcome in UNANSWERED and call.callback_id is None and call.caller:
        _add_missed(session, call, calendar=calendar, now=now)
    elif call.outcome == Outcome.ANSWERED:
        if call.callback_id is not None:
            _take_out(session, call, now=now)
        if call.caller and call.answered_at is not None:
            _got_through(session, call, now=now)


def _add_missed(session: Session, call: Call, *, calendar: WorkingCalendar, now: datetime) -> None:
    settings = call_settings(session)
    missed_at = call.missed_at or call.ended_at or call.transferred_at or call.arrived_at
    window = timedelta(minutes=settings.repeat_window_minutes)
    task = session.scalars(
        select(CallCallback)
        .where(
            CallCallback.caller == call.caller,
            CallCallback.state == CallbackState.OPEN,
            CallCallback.last_missed_at >= missed_at - window,
            CallCallback.first_missed_at <= missed_at + window,
        )
        .order_by(CallCallback.first_missed_at)
    ).first()
    if task is None:
        task = CallCallback(
            caller=call.caller,
            queue=call.queue,
            state=CallbackState.OPEN,
            first_missed_at=missed_at,
            last_missed_at=missed_at,
            missed_count=0,
            due_at=calendar.after(missed_at, settings.callback_value, settings.callback_unit),
            created_at=now,
            claimed_by="",
            attempts=0,
            closed_by="",
            outcome="",
            note="",
        )
        session.add(task)
        session.flush()
    task.missed_count = (task.missed_count or 0) + 1
    if missed_at < task.first_missed_at:
        task.first_missed_at = missed_at
        task.due_at = calendar.after(missed_at, settings.callback_value, settings.callback_unit)
    task.last_missed_at = max(task.last_missed_at, missed_at)
    call.callback_id = task.id


def _take_out(session: Session, call: Call, *, now: datetime) -> None:
    task = session.get(CallCallback, call.callback_id)
    call.callback_id = None
    if task is None or task.state != CallbackState.OPEN:
        return
    session.flush()
    left = session.scalar(select(func.count()).select_from(Call).where(Call.callback_id == task.id))
    task.missed_count = left or 0
    if not left and not task.attempts:
        _close(task, CallbackState.CANCELLED, CallbackOutcome.CANCELLED, now=now, by="")


def _got_through(session: Session, call: Call, *, now: datetime) -> None:
    for task in session.scalars(
        select(CallCallback).where(
            CallCallback.caller == call.caller,
            CallCallback.state == CallbackState.OPEN,
            CallCallback.last_missed_at <= call.answered_at,
        )
    ):
        _close(task, CallbackState.DONE, CallbackOutcome.GOT_THROUGH, now=now, by="")
        task.note = call.call_id


def _close(task: CallCallback, state: str, outcome: str, *, now: datetime, by: str) -> None:
    task.state = state
    task.outcome = outcome
    task.closed_at = now
    task.closed_by = by
    task.claimed_by = ""


def case_recorded(
    session: Session, *, callback_id: int, case_id: int, by: str, now: datetime
) -> CallCallback | None:
    """The operator who called a missed caller back recorded case ``case_id`` from that call:
    the task remembers the case and, if still open, is done (reached). None for no such task."""
    task = session.get(CallCallback, callback_id)
    if task is None:
        return None
    task.case_id = case_id
    if task.state == CallbackState.OPEN:
        _close(task, CallbackState.DONE, CallbackOutcome.REACHED, now=now, by=by)
    return task
