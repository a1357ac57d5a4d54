"""Taking in the phone system's call events (docs/calls.md, "Events").

``ingest`` is the one way an event enters: the API's ``POST /api/v1/calls/events`` and the
simulator both call it. In one transaction it

1. finds or makes the call's row and stores the event, unless one of that name is already
   stored for the call (idempotent by (call_id, event): a repeat changes nothing);
2. recomputes the call from *all* its events, so events arriving out of order give the same
   row as events in order;
3. moves the operator's state (answered: on a call; the end: after-call work), never back
   past a newer state, and raises their screen pop counter when a live call rings or is
   answered at them;
4. gives an unanswered call's caller a callback task, or takes an answered call out of one
   (``callbacks.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.db import unit_of_work

from ..calendar.service import WorkingCalendar
from ..cases.phones import canonical_phone
from ..errors import FormInvalid
from ..users.models import User
from . import agents, callbacks
from .enums import CallState, EventName, Outcome
from .models import Call, CallEvent


@dataclass(frozen=True)
class CallEventIn:
    """One event, checked for form by the caller (the API's schema); ``at`` is aware."""

    call_id: str
    event: str
    at: datetime
    caller: str = ""  # any written form (stored canonical), "" when withheld
    queue: str = ""
    agent: str = ""  # a username
    recording_url: str = ""
    ivr_path: str = ""


@dataclass
class Ingested:
    call: Call
    #: False when the (call_id, event) pair was already stored (nothing changed)
    created: bool


#: the fields a later event may fill or replace when given
_CARRIED = ("caller", "queue", "recording_url", "ivr_path")


def ingest(
    session: Session, event: CallEventIn, *, clock: Clock, calendar: WorkingCalendar
) -> Ingested:
    """Store ``event`` and bring its call, operator and callback task up to date. FormInvalid
    for an ``agent`` who is not an active user; the call is then untouched."""
    EventName(event.event)  # ValueError for a name the API let through by mistake
    event = replace(event, caller=canonical_phone(event.caller))
    for attempt in (1, 2):
        try:
            # urgent: a call event goes before the case steps waiting for SQLite's writer (the
            # operator's screen pop and the board wait on it; engine.db.WriteGate)
            with unit_of_work(session, urgent=True):
                return _ingest(session, event, clock=clock, calendar=calendar)
        except IntegrityError:
            # PostgreSQL: another request made the same call's row or stored the same event
            # between our read and our insert; the second pass finds it
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _ingest(
    session: Session, event: CallEventIn, *, clock: Clock, calendar: WorkingCalendar
) -> Ingested:
    now = clock.now()
    agent: User | None = None
    if event.agent:
        agent = session.scalars(select(User).where(User.username == event.agent)).first()
        if agent is None or not agent.active:
            raise FormInvalid({"agent": [f"no active user is named {event.agent!r}"]})
    call = session.scalars(select(Call).where(Call.call_id == event.call_id)).first()
    if call is None:
        call = Call(call_id=event.call_id, state=CallState.RINGING, arrived_at=event.at)
        call.updated_at = now
        session.add(call)
        session.flush()
        events: list[CallEvent] = []
    else:
        # the call's events, read once: the repeat check and the recount both use them
        events = list(
            session.scalars(
                select(CallEvent).where(CallEvent.call_row_id == call.id).order_by(CallEvent.at)
            )
        )
        if any(row.event == event.event for row in events):
            return Ingested(call, created=False)
    payload = {name: getattr(event, name) for name in _CARRIED if getattr(event, name)}
    row = CallEvent(
        call_row_id=call.id,
        event=event.event,
        at=event.at,
        received_at=now,
        agent=event.agent,
        payload=payload,
    )
    session.add(row)
    session.flush()
    # in time order as the query gave them (a stable sort: a tie keeps arrival order)
    events = sorted([*events, row], key=lambda r: r.at)
    before, caller_before = call.outcome, call.caller
    recompute(call, events)
    call.updated_at = now
    if agent is None and call.agent and event.event in (EventName.ENDED, EventName.TRANSFERRED):
        # the end of a call often comes without its operator: the one who answered it
        agent = session.scalars(select(User).where(User.username == call.agent)).first()
    if agent is not None:
        agents.on_call_event(session, agent=agent, call=call, event=event.event, at=event.at)
    callbacks.on_call_changed(
        session,
        call=call,
        before=before,
        calendar=calendar,
        now=now,
        caller_before=caller_before,
    )
    session.flush()
    return Ingested(call, created=True)


def recompute(call: Call, events: list[CallEvent]) -> None:
    """Set every derived field of ``call`` from its stored events (in time order)."""
    at: dict[str, datetime] = {}
    agent_of: dict[str, str] = {}
    carried: dict[str, Any] = {}
    for row in events:
        at[row.event] = row.at
        if row.agent:
            agent_of[row.event] = row.agent
        for name, value in (row.payload or {}).items():
            if value:
                carried[name] = value
    for name in _CARRIED:
        if name in carried:
            setattr(call, name, carried[name])
    call.arrived_at = min(at.values())
    call.ringing_at = at.get(EventName.RINGING)
    call.answered_at = at.get(EventName.ANSWERED)
    call.ended_at = at.get(EventName.ENDED)
    call.missed_at = at.get(EventName.MISSED)
    call.transferred_at = at.get(EventName.TRANSFERRED)
    call.agent = agent_of.get(EventName.ANSWERED) or _latest_agent(events) or call.agent
    call.outcome = _outcome(at)
    call.state = _state(at)
    answered = call.answered_at
    if call.outcome == Outcome.ANSWERED:
        call.wait_seconds = _seconds(call.arrived_at, answered)
        end = call.ended_at or call.transferred_at
        call.talk_seconds = _seconds(answered, end) if end is not None else None
    elif call.outcome:
        gave_up = call.missed_at or call.transferred_at or call.ended_at
        call.wait_seconds = _seconds(call.arrived_at, gave_up)
        call.talk_seconds = None
    else:
        call.wait_seconds = None
        call.talk_seconds = None


def _latest_agent(events: list[CallEvent]) -> str:
    named = [row.agent for row in events if row.agent]
    return named[-1] if named else ""


def _outcome(at: Mapping[str, datetime]) -> str:
    if EventName.ANSWERED in at:
        return Outcome.ANSWERED
    if EventName.TRANSFERRED in at:
        return Outcome.TRANSFERRED
    if EventName.MISSED in at:
        return Outcome.MISSED
    if EventName.ENDED in at:
        return Outcome.ABANDONED
    return ""


def _state(at: Mapping[str, datetime]) -> str:
    for name in (EventName.ENDED, EventName.MISSED, EventName.TRANSFERRED):
        if name in at:
            return CallState(name.value)
    if EventName.ANSWERED in at:
        return CallState.ANSWERED
    return CallState.RINGING


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())
