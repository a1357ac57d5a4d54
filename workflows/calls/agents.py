"""Operators' states on the floor and their screen pop (docs/calls.md, "Operators").

A call event moves its operator: answered puts them on the call; the end (or transfer) of
that call puts them in after-call work. An event older than the operator's current state
(events arrive out of order) changes nothing. Operators set available, away and offline
themselves; recording the call's outcome ends after-call work (``end_wrap_up``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..users.models import User
from .enums import AgentStatus, CallState, EventName
from .models import AgentState, Call


def state_row(session: Session, user: User, *, now: datetime) -> AgentState:
    """The operator's row, made (offline) if they have none."""
    row = session.get(AgentState, user.id)
    if row is None:
        row = AgentState(
            user_id=user.id, state=AgentStatus.OFFLINE, since=now, set_by="self", pop_seq=0
        )
        row.call_id = ""
        row.pop_call_id = ""
        session.add(row)
        session.flush()
    return row


def on_call_event(session: Session, *, agent: User, call: Call, event: str, at: datetime) -> None:
    """Move ``agent`` to where ``call`` (recomputed from all its events) leaves them, unless
    their state is newer; and pop the call up on their page if it rang or was answered there
    while still live."""
    row = session.get(AgentState, agent.id)
    if row is None:
        row = state_row(session, agent, now=call.arrived_at)
    live = not call.outcome or call.state == CallState.ANSWERED
    if event in (EventName.RINGING, EventName.ANSWERED) and live:
        row.pop_seq = (row.pop_seq or 0) + 1
        row.pop_call_id = call.call_id
    if call.state == CallState.ANSWERED and call.answered_at is not None:
        target, since = AgentStatus.ON_CALL, call.answered_at
    elif call.answered_at is not None and call.state in (CallState.ENDED, CallState.TRANSFERRED):
        target, since = AgentStatus.AFTER_CALL_WORK, call.ended_at or call.transferred_at
        if call.settled_at is not None:
            # the operator recorded the call's outcome while still talking: no work is left
            # after it, so they are free at once and the call had no after-call work
            target = AgentStatus.AVAILABLE
            if call.wrap_seconds is None:
                call.wrap_seconds = 0.0
    else:
        return
    if since is None or since < row.since:
        return  # the operator's state is newer than this call's news
    if row.state == target and row.call_id == call.call_id:
        return
    _move(row, target, since, call_id=call.call_id, by="call")


def set_state(session: Session, *, user: User, state: str, now: datetime) -> AgentState:
    """The operator sets their own state (available, away, offline); leaving after-call work
    records its length on the call."""
    status = AgentStatus(state)
    row = state_row(session, user, now=now)
    if row.state == AgentStatus.AFTER_CALL_WORK:
        end_wrap_up(session, row=row, now=now)
    _move(row, status, now, call_id="", by="self")
    return row


def end_wrap_up(session: Session, *, row: AgentState, now: datetime) -> None:
    """After-call work ends now: its length goes on the call (once), the operator is available."""
    if row.state != AgentStatus.AFTER_CALL_WORK:
        return
    call = session.scalars(select(Call).where(Call.call_id == row.call_id)).first()
    end = (call.ended_at or call.transferred_at) if call is not None else None
    if call is not None and call.wrap_seconds is None and end is not None:
        call.wrap_seconds = max(0.0, (now - end).total_seconds())
    _move(row, AgentStatus.AVAILABLE, now, call_id="", by="self")


def _move(row: AgentState, state: str, at: datetime, *, call_id: str, by: str) -> None:
    row.state = state
    row.since = at
    row.call_id = call_id
    row.set_by = by


def signed_in(session: Session, *, user: User, now: datetime) -> None:
    """An operator who signs in while offline is available (a call may have put them on it
    before they signed in: that state stays)."""
    row = state_row(session, user, now=now)
    if row.state == AgentStatus.OFFLINE:
        _move(row, AgentStatus.AVAILABLE, now, call_id="", by="sign-in")


def signed_out(session: Session, *, user: User, now: datetime) -> None:
    """An operator who signs out is offline, unless still on a call (its end moves them)."""
    row = state_row(session, user, now=now)
    if row.state not in (AgentStatus.ON_CALL, AgentStatus.OFFLINE):
        if row.state == AgentStatus.AFTER_CALL_WORK:
            end_wrap_up(session, row=row, now=now)
        _move(row, AgentStatus.OFFLINE, now, call_id="", by="sign-out")
