"""Calls from the centre's phone system (docs/calls.md): one row per call with the events that
made it, the operators' states, the missed-call callback tasks (未接来电回拨) and the one row of
call settings administrators edit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId, JSONType


class Call(Base):
    """One call as the events so far describe it; recomputed from all its events whenever one
    arrives, so events arriving out of order or twice give the same row."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_arrived", "arrived_at"),
        Index("ix_calls_caller_arrived", "caller", "arrived_at"),
        Index("ix_calls_agent_arrived", "agent", "arrived_at"),
        Index("ix_calls_queue_arrived", "queue", "arrived_at"),
        # calls waiting (ringing, no outcome yet; an answered call has its outcome at once):
        # the board's queue, a handful of rows
        Index(
            "ix_calls_live",
            "state",
            "arrived_at",
            postgresql_where=text("outcome = ''"),
            sqlite_where=text("outcome = ''"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: the phone system's id of the call
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    #: the caller's number in canonical form ("" when withheld)
    caller: Mapped[str] = mapped_column(String(32), default="")
    queue: Mapped[str] = mapped_column(String(32), default="")
    #: the username of the operator who answered it (else who it last rang at)
    agent: Mapped[str] = mapped_column(String(64), default="")
    #: ringing (waiting), answered (talking), ended, missed, transferred (``CallState``)
    state: Mapped[str] = mapped_column(String(16))
    #: "" while live; then answered, abandoned, missed or transferred (``Outcome``)
    outcome: Mapped[str] = mapped_column(String(16), default="")
    #: the earliest event's time: when the caller started waiting
    arrived_at: Mapped[datetime]
    ringing_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]
    transferred_at: Mapped[datetime | None]
    #: from arrival to answer (answered) or to giving up (abandoned, missed, transferred)
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    #: from answer to end (or transfer)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    #: after-call work: from the end to when the operator recorded the call's outcome (a case,
    #: a link to a case, or a reason for none) or set their state, if before their next call
    wrap_seconds: Mapped[float | None] = mapped_column(Float)
    recording_url: Mapped[str] = mapped_column(String(500), default="")
    ivr_path: Mapped[str] = mapped_column(String(200), default="")
    #: the case this call recorded or was about
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    #: why the call made no case (``NoCaseReason``), with a note
    no_case_reason: Mapped[str] = mapped_column(String(24), default="")
    no_case_note: Mapped[str] = mapped_column(Text, default="")
    #: who recorded the call's outcome (case or reason), and when
    settled_by: Mapped[str] = mapped_column(String(64), default="")
    settled_at: Mapped[datetime | None]
    #: the missed-call callback task this call is part of
    callback_id: Mapped[int | None] = mapped_column(
        ForeignKey("call_callbacks.id", ondelete="SET NULL"), index=True
    )
    updated_at: Mapped[datetime]


class CallEvent(Base):
    """One event as the phone system sent it; at most one per (call, event)."""

    __tablename__ = "call_events"
    __table_args__ = (UniqueConstraint("call_row_id", "event"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    call_row_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    #: ringing, answered, ended, missed, transferred (``EventName``)
    event: Mapped[str] = mapped_column(String(16))
    #: when it happened, by the phone system's clock
    at: Mapped[datetime]
    #: when the hotline received it
    received_at: Mapped[datetime]
    agent: Mapped[str] = mapped_column(String(64), default="")
    #: the fields as received (caller, queue, recording_url, ivr_path)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class AgentState(Base):
    """An operator's state on the floor, set by themselves and by call events; and the screen
    pop counter their intake page polls."""

    __tablename__ = "agent_states"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: available, away, on_call, after_call_work, offline (``AgentStatus``)
    state: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime]
    #: the call the state is about (on a call, after-call work)
    call_id: Mapped[str] = mapped_column(String(64), default="")
    #: "self" (the operator), "call" (a call event), "sign-in"/"sign-out"
    set_by: Mapped[str] = mapped_column(String(16), default="self")
    #: raised by each call that rings or is answered at this operator: the intake page shows
    #: ``pop_call_id`` when it sees a higher number than it has shown
    pop_seq: Mapped[int] = mapped_column(Integer, default=0)
    pop_call_id: Mapped[str] = mapped_column(String(64), default="")


class CallCallback(Base):
    """A callback task (未接来电回拨): one caller's missed or abandoned calls within the window,
    to be called back by an operator by ``due_at``."""

    __tablename__ = "call_callbacks"
    __table_args__ = (
        # the operators' list: open tasks by wait (the first missed call first)
        Index("ix_call_callbacks_state_first", "state", "first_missed_at"),
        Index("ix_call_callbacks_caller_state", "caller", "state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    caller: Mapped[str] = mapped_column(String(32))
    queue: Mapped[str] = mapped_column(String(32), default="")
    #: open, done, unreachable, cancelled (``CallbackState``)
    state: Mapped[str] = mapped_column(String(16))
    first_missed_at: Mapped[datetime]
    last_missed_at: Mapped[datetime]
    #: how many missed or abandoned calls it stands for
    missed_count: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    #: the operator working on it now ("" nobody)
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str] = mapped_column(String(64), default="")
    #: how it ended (``CallbackOutcome``)
    outcome: Mapped[str] = mapped_column(String(24), default="")
    #: the case recorded or found when the caller was reached
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    note: Mapped[str] = mapped_column(Text, default="")


class CallCallbackAttempt(Base):
    """One call back to a missed caller, as case callbacks record theirs."""

    __tablename__ = "call_callback_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("call_callbacks.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime]
    user: Mapped[str] = mapped_column(String(64))
    #: reached or not_reached
    result: Mapped[str] = mapped_column(String(16))
    #: no_answer, busy, wrong_number when not reached
    reason: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class CallSettings(Base):
    """The centre's call rules, one row (id 1), edited by administrators."""

    __tablename__ = "call_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: a missed call's callback deadline, counted from the first missed call
    callback_value: Mapped[int] = mapped_column(Integer, default=2)
    callback_unit: Mapped[str] = mapped_column(String(16), default="workhours")
    #: missed calls from one number within this many minutes of the last are one task
    repeat_window_minutes: Mapped[int] = mapped_column(Integer, default=1440)
    #: unanswered attempts after which the task closes as "not reached"
    callback_attempts: Mapped[int] = mapped_column(Integer, default=3)
    #: a call ringing longer than this with no further event is no longer shown as waiting
    stale_minutes: Mapped[int] = mapped_column(Integer, default=60)
    #: the answer rate the board and KPIs hold the centre to (national standard 95%)
    answer_rate_target: Mapped[float] = mapped_column(Float, default=0.95)
    updated_at: Mapped[datetime | None]
    updated_by: Mapped[str] = mapped_column(String(64), default="")
