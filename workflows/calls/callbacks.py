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

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from engine.errors import ConflictError, NotFound

from ..calendar.service import WorkingCalendar
from ..errors import FormInvalid
from ..users.models import User
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


def save_settings(session: Session, *, values: dict, by: str, now: datetime) -> CallSettings:
    """Write the centre's call settings (row 1, made when absent); ``values`` are checked by
    the caller and hold the keys of ``DEFAULTS``. Existing tasks keep their due times."""
    row = session.get(CallSettings, 1)
    if row is None:
        row = CallSettings(id=1, **DEFAULTS)
        session.add(row)
    for key in DEFAULTS:
        setattr(row, key, values[key])
    row.updated_at = now
    row.updated_by = by
    session.flush()
    return row


def on_call_changed(
    session: Session,
    *,
    call: Call,
    before: str,
    calendar: WorkingCalendar,
    now: datetime,
    caller_before: str | None = None,
) -> None:
    """Bring the callback tasks up to date after ``call`` was recomputed (``before`` is the
    outcome it had, ``caller_before`` its caller's number)."""
    if call.outcome in UNANSWERED and call.callback_id is None and call.caller:
        _add_missed(session, call, calendar=calendar, now=now)
    elif call.outcome == Outcome.ANSWERED:
        if call.callback_id is not None:
            _take_out(session, call, now=now)
        # when the call becomes answered or its caller becomes known (its end alone changes
        # nothing for the caller's tasks)
        news = before != Outcome.ANSWERED or call.caller != caller_before
        if call.caller and call.answered_at is not None and news:
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


# -- the operators' work on a task -----------------------------------------------------------

#: what a call back came to, and why it did not reach the caller (as case callbacks record)
RESULTS = ("reached", "not_reached")
REASONS = ("no_answer", "busy", "wrong_number")
#: the longest note an attempt keeps
NOTE_MAX = 2000


def get_task(session: Session, *, callback_id: int) -> CallCallback:
    """The task, or NotFound."""
    task = session.get(CallCallback, callback_id)
    if task is None:
        raise NotFound(f"callback task {callback_id} does not exist")
    return task


def _open_task(session: Session, callback_id: int) -> CallCallback:
    task = get_task(session, callback_id=callback_id)
    if task.state != CallbackState.OPEN:
        raise ConflictError(
            f"callback task {callback_id} is closed ({task.state})",
            what_happened=f"closed ({task.state})",
        )
    return task


def claim(session: Session, *, callback_id: int, user: User, now: datetime) -> CallCallback:
    """``user`` says "I am calling them back": one operator at a time. Claiming one's own
    claim again changes nothing; another's claim is a ConflictError naming who holds it."""
    task = _open_task(session, callback_id)
    if task.claimed_by == user.username:
        return task
    done = session.execute(
        update(CallCallback)
        .where(
            CallCallback.id == task.id,
            CallCallback.state == CallbackState.OPEN,
            CallCallback.claimed_by == "",
        )
        .values(claimed_by=user.username)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(task)
    if not done:
        raise _claimed_by_other(task)
    return task


def release(
    session: Session, *, callback_id: int, user: User, now: datetime, anyone: bool = False
) -> CallCallback:
    """Give a claimed task back to the group: only the one who claimed it may, unless
    ``anyone`` (the on-duty lead freeing a task an operator left claimed at the end of a
    shift, which would otherwise stay out of everyone's reach)."""
    task = _open_task(session, callback_id)
    if task.claimed_by and task.claimed_by != user.username and not anyone:
        raise _claimed_by_other(task)
    task.claimed_by = ""
    return task


def _claimed_by_other(task: CallCallback) -> ConflictError:
    return ConflictError(
        f"callback task {task.id} is claimed by {task.claimed_by}",
        what_happened=f"claimed by {task.claimed_by}",
    )


def record_attempt(
    session: Session,
    *,
    callback_id: int,
    user: User,
    result: str,
    reason: str | None,
    note: str,
    now: datetime,
    recording_case: bool = False,
) -> CallCallbackAttempt:
    """One call back to the missed caller.

    Not reached: the task stays open (and goes back to the group) until ``callback_attempts``
    attempts failed, then closes unreachable; a wrong number closes it unreachable at once.
    Reached: the task is done (reached) with the note (why no case was needed), unless
    ``recording_case``: then it stays open, claimed by ``user``, until the case recorded from
    the call closes it (``case_recorded``). FormInvalid names the field at fault;
    ConflictError when the task is closed or claimed by someone else.
    """
    note = (note or "").strip()
    reason = (reason or "").strip() or None
    errors = _attempt_errors(result, reason, note, recording_case)
    if errors:
        raise FormInvalid(errors)
    task = _open_task(session, callback_id)
    if task.claimed_by and task.claimed_by != user.username:
        raise _claimed_by_other(task)
    attempt = CallCallbackAttempt(
        callback_id=task.id,
        at=now,
        user=user.username,
        result=result,
        reason=reason if result == "not_reached" else None,
        note=note,
    )
    session.add(attempt)
    task.attempts = (task.attempts or 0) + 1
    if result == "reached":
        if recording_case:
            task.claimed_by = user.username
        else:
            task.note = note
            _close(task, CallbackState.DONE, CallbackOutcome.REACHED, now=now, by=user.username)
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
        if reason == "wrong_number" or (failed or 0) >= limit:
            task.note = note
            _close(
                task, CallbackState.UNREACHABLE, CallbackOutcome.NOT_REACHED, now=now,
                by=user.username,
            )  # fmt: skip
        else:
            task.claimed_by = ""
    session.flush()
    return attempt


def _attempt_errors(
    result: str, reason: str | None, note: str, recording_case: bool
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if result not in RESULTS:
        errors["result"] = ["choose reached or not_reached"]
    elif result == "not_reached" and reason not in REASONS:
        errors["reason"] = ["choose no_answer, busy or wrong_number"]
    elif result == "reached" and reason:
        errors["reason"] = ["only a call that did not reach the caller has a reason"]
    elif result == "reached" and not recording_case and not note:
        errors["note"] = ["say why no case was needed"]
    if len(note) > NOTE_MAX:
        errors["note"] = [f"at most {NOTE_MAX} characters"]
    return errors


def attempts_of(session: Session, *, callback_id: int) -> list[CallCallbackAttempt]:
    """A task's attempts, oldest first."""
    return list(
        session.scalars(
            select(CallCallbackAttempt)
            .where(CallCallbackAttempt.callback_id == callback_id)
            .order_by(CallCallbackAttempt.at, CallCallbackAttempt.id)
        )
    )


def calls_of(session: Session, *, callback_id: int) -> list[Call]:
    """The missed and abandoned calls a task stands for, oldest first."""
    return list(
        session.scalars(
            select(Call).where(Call.callback_id == callback_id).order_by(Call.arrived_at, Call.id)
        )
    )


# -- the operators' list ---------------------------------------------------------------------


def tasks_stmt(*, closed: bool = False) -> Select:
    """Open tasks by wait (the first missed call first); or the closed ones, newest first."""
    if closed:
        return (
            select(CallCallback)
            .where(CallCallback.state != CallbackState.OPEN)
            .order_by(CallCallback.closed_at.desc(), CallCallback.id.desc())
        )
    return (
        select(CallCallback)
        .where(CallCallback.state == CallbackState.OPEN)
        .order_by(CallCallback.first_missed_at, CallCallback.id)
    )


#: a task is marked yellow past this share of the time from its first missed call to its due
YELLOW_SHARE = 0.8


def due_mark(
    task: CallCallback,
    *,
    now: datetime,
    calendar: WorkingCalendar | None = None,
    unit: str = "hours",
) -> str:
    """ "red" (overdue), "yellow" (past 80% of the time to its due) or "" for an open task.
    With the calendar and a working unit (the settings' ``callback_unit``), 80% of the
    *working* time, as the inbox's marks: a task missed at night turns yellow next morning,
    not at 3 a.m."""
    if task.state != CallbackState.OPEN:
        return ""
    if now >= task.due_at:
        return "red"
    if calendar is not None:
        warn = calendar.warn_time(task.first_missed_at, task.due_at, YELLOW_SHARE, unit)
    else:
        warn = task.first_missed_at + (task.due_at - task.first_missed_at) * YELLOW_SHARE
    return "yellow" if now >= warn else ""


def open_count(session: Session) -> int:
    """How many tasks are open (the operator's landing page)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(CallCallback)
            .where(CallCallback.state == CallbackState.OPEN)
        )
        or 0
    )


def version(session: Session) -> str:
    """The live token of the list: one query over the open tasks (few rows, the state index);
    a new task, a repeat call merged in, a claim, an attempt or a closed task moves it."""
    row = session.execute(
        select(
            func.count(),
            func.max(CallCallback.id),
            func.sum(CallCallback.missed_count),
            func.sum(CallCallback.attempts),
            func.count(func.nullif(CallCallback.claimed_by, "")),
        ).where(CallCallback.state == CallbackState.OPEN)
    ).one()
    return ".".join(str(v or 0) for v in row)
