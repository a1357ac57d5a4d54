"""Missed-call callback tasks (未接来电回拨; docs/calls.md, "Missed calls").

Every missed or abandoned call with a caller number belongs to an open task for that number:
a new one, or the open one whose last missed call is within the repeat window. The task is
due ``callback_value`` ``callback_unit`` (working hours by default) after its first missed
call. A call that turns out answered (its events arrived out of order) leaves its task, which
is cancelled when no call is left in it and nobody has tried it yet; a later answered call
from the same number closes the open task as "got through".

Operators work the open tasks, first missed first: one holds a task at a time (``claim``),
records each call back (``record_attempt``), and closes it as reached (a case recorded from
the call, ``case_recorded``, or none needed, ``close_reached``); failed attempts close it as
unreachable at the settings' number, a wrong number at once. Each function runs in the
caller's unit of work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engine.errors import ConflictError, NotFound

from ..calendar.service import WorkingCalendar
from ..errors import FormInvalid
from .enums import UNANSWERED, CallbackOutcome, CallbackState, Outcome
from .models import Call, CallCallback, CallCallbackAttempt, CallSettings

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


# -- working a task: claim, attempts, closing ----------------------------------------------

#: what one call back came to, and why not when not reached (as case callbacks record theirs)
RESULTS = ("reached", "not_reached")
REASONS = ("no_answer", "busy", "wrong_number")
#: a number that is not the caller's: no point trying again
WRONG_NUMBER = "wrong_number"
NOTE_MAX = 500


class CallbackConflict(ConflictError):
    """Another operator holds the task (``claimed_by``), or it is closed (``state``)."""

    def __init__(self, task: CallCallback, message: str) -> None:
        self.task = task
        super().__init__(message)


def _open_task(session: Session, callback_id: int) -> CallCallback:
    task = session.get(CallCallback, callback_id, with_for_update=True)
    if task is None:
        raise NotFound(f"callback task {callback_id} does not exist")
    if task.state != CallbackState.OPEN:
        raise CallbackConflict(task, f"callback task {callback_id} is closed ({task.state})")
    return task


def _held_by(task: CallCallback, user: str) -> None:
    if task.claimed_by and task.claimed_by != user:
        raise CallbackConflict(task, f"callback task {task.id} is claimed by {task.claimed_by}")


def claim(session: Session, *, callback_id: int, user: str) -> CallCallback:
    """``user`` works the open task now (a claim of their own again changes nothing).
    NotFound; CallbackConflict when it is closed or another operator holds it."""
    task = _open_task(session, callback_id)
    _held_by(task, user)
    task.claimed_by = user
    session.flush()
    return task


def release(session: Session, *, callback_id: int, user: str, anyone: bool = False) -> CallCallback:
    """The task goes back to the list. Only its holder releases it, unless ``anyone`` (a
    supervisor freeing a task its operator left); CallbackConflict otherwise."""
    task = _open_task(session, callback_id)
    if not anyone:
        _held_by(task, user)
    task.claimed_by = ""
    session.flush()
    return task


def record_attempt(
    session: Session,
    *,
    callback_id: int,
    user: str,
    result: str,
    reason: str | None,
    note: str,
    now: datetime,
) -> CallCallbackAttempt:
    """One call back by ``user`` (who holds the task, or takes it now). Reached: the task
    stays open and held until the operator records a case (``case_recorded``) or closes it
    (``close_reached``). Not reached: the task goes back to the list, and closes as
    unreachable at the call settings' number of failed attempts, or at once for a wrong
    number. FormInvalid naming the field for a bad result, reason or note."""
    errors = attempt_errors(result=result, reason=reason, note=note)
    if errors:
        raise FormInvalid(errors)
    task = _open_task(session, callback_id)
    _held_by(task, user)
    attempt = CallCallbackAttempt(
        callback_id=task.id,
        at=now,
        user=user,
        result=result,
        reason=reason if result == "not_reached" else None,
        note=note.strip(),
    )
    session.add(attempt)
    task.attempts = (task.attempts or 0) + 1
    if result == "reached":
        task.claimed_by = user
    else:
        session.flush()
        failed = session.scalar(
            select(func.count())
            .select_from(CallCallbackAttempt)
            .where(
                CallCallbackAttempt.callback_id == task.id,
                CallCallbackAttempt.result == "not_reached",
            )
        )
        limit = call_settings(session).callback_attempts
        if reason == WRONG_NUMBER or (failed or 0) >= limit:
            _close(task, CallbackState.UNREACHABLE, CallbackOutcome.NOT_REACHED, now=now, by=user)
        else:
            task.claimed_by = ""
    session.flush()
    return attempt


def attempt_errors(*, result: str, reason: str | None, note: str) -> dict[str, list[str]]:
    """What is wrong with an attempt's fields (field -> messages; English, for the API and
    the log: the pages check with their own words first)."""
    errors: dict[str, list[str]] = {}
    if result not in RESULTS:
        errors["result"] = [f"one of {', '.join(RESULTS)}"]
    elif result == "not_reached" and reason not in REASONS:
        errors["reason"] = [f"one of {', '.join(REASONS)} when not reached"]
    if len(note.strip()) > NOTE_MAX:
        errors["note"] = [f"at most {NOTE_MAX} characters"]
    return errors


def close_reached(
    session: Session, *, callback_id: int, user: str, note: str, now: datetime
) -> CallCallback:
    """The caller was reached and needs no case: the task is done with ``note`` (required:
    what the call was about). Only after a reached attempt, by the task's holder."""
    note = note.strip()
    if not note or len(note) > NOTE_MAX:
        raise FormInvalid({"note": [f"required, at most {NOTE_MAX} characters"]})
    task = _open_task(session, callback_id)
    _held_by(task, user)
    if not reached(session, callback_id=task.id):
        raise CallbackConflict(task, f"callback task {task.id} has no reached attempt")
    _close(task, CallbackState.DONE, CallbackOutcome.REACHED, now=now, by=user)
    task.note = note
    session.flush()
    return task


def reached(session: Session, *, callback_id: int) -> bool:
    """Whether a call back reached the caller (the task then waits for a case or a close)."""
    return (
        session.scalar(
            select(CallCallbackAttempt.id)
            .where(
                CallCallbackAttempt.callback_id == callback_id,
                CallCallbackAttempt.result == "reached",
            )
            .limit(1)
        )
        is not None
    )


# -- reading -------------------------------------------------------------------------------


def tasks(*, state: str = "open") -> Select[tuple[CallCallback]]:
    """The operators' list: open tasks by wait (the first missed call first); closed ones
    (done, unreachable, cancelled) the latest closed first."""
    stmt = select(CallCallback)
    if state == "open":
        return stmt.where(CallCallback.state == CallbackState.OPEN).order_by(
            CallCallback.first_missed_at, CallCallback.id
        )
    return stmt.where(CallCallback.state != CallbackState.OPEN).order_by(
        CallCallback.closed_at.desc(), CallCallback.id.desc()
    )


def open_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(CallCallback)
            .where(CallCallback.state == CallbackState.OPEN)
        )
        or 0
    )


def version(session: Session) -> str:
    """The live token of the list: how many tasks are open and the newest task's id (the
    index ``ix_call_callbacks_state_first`` answers the count)."""
    count = open_count(session)
    newest = session.scalar(select(func.max(CallCallback.id)))
    return f"{newest or 0}.{count}"


def calls_of(session: Session, *, callback_id: int) -> list[Call]:
    return list(
        session.scalars(
            select(Call).where(Call.callback_id == callback_id).order_by(Call.arrived_at, Call.id)
        )
    )


def attempts_of(session: Session, *, callback_id: int) -> list[CallCallbackAttempt]:
    return list(
        session.scalars(
            select(CallCallbackAttempt)
            .where(CallCallbackAttempt.callback_id == callback_id)
            .order_by(CallCallbackAttempt.at, CallCallbackAttempt.id)
        )
    )


#: the share of the time to the deadline after which a task is marked yellow (as the inbox)
WARN_SHARE = 0.8


def due_state(
    task: CallCallback, *, settings: CallSettings, calendar: WorkingCalendar, now: datetime
) -> str:
    """normal, yellow (80% of the time to the deadline used, counted in the deadline's own
    unit: working time for working units) or red (overdue); normal once closed."""
    if task.state != CallbackState.OPEN:
        return "normal"
    if now >= task.due_at:
        return "red"
    warn = calendar.warn_time(task.first_missed_at, task.due_at, WARN_SHARE, settings.callback_unit)
    return "yellow" if now >= warn else "normal"


def save_settings(
    session: Session, *, values: dict[str, Any], by: str, now: datetime
) -> CallSettings:
    """Write the call settings (row 1, made when absent) from checked ``values``."""
    row = session.get(CallSettings, 1, with_for_update=True)
    if row is None:
        row = CallSettings(id=1, **DEFAULTS)
        session.add(row)
    for name in DEFAULTS:
        if name in values:
            setattr(row, name, values[name])
    row.updated_at = now
    row.updated_by = by
    session.flush()
    return row
