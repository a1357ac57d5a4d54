"""The engine's tables: definitions, instances and their projections (tasks, timers, events).

Pages and APIs read the projections; only a step that changes an instance deserializes it.
The domain (``workflows``) declares its own tables on the same :class:`Base`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (no zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
#: Auto-increment primary keys that are 64-bit on PostgreSQL and rowid aliases on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSONType}


#: the longest deploy comment stored with a version
COMMENT_MAX = 500


class Definition(Base):
    """One deployed version of one executable process."""

    __tablename__ = "bpmn_definitions"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    xml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    #: SHA-256 of the process's canonical form (:mod:`engine.canonical`); None on rows stored
    #: before it existed (computed from ``xml`` when needed)
    semantic_digest: Mapped[str | None] = mapped_column(String(64))
    deployed_by: Mapped[str] = mapped_column(String(120))
    deployed_at: Mapped[datetime]
    #: why this version was deployed, in the deployer's words
    comment: Mapped[str] = mapped_column(String(COMMENT_MAX), server_default="")
    #: user tasks (element id -> name, lane, form key), read by pages without parsing XML
    info: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class ProcessInstance(Base):
    __tablename__ = "process_instances"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("bpmn_definitions.id"), index=True)
    key: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(64), index=True)
    #: running, completed, cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: the serialized workflow, spec by reference
    state: Mapped[str] = mapped_column(Text)
    #: optimistic concurrency: every save increments it, a stale save changes nothing
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]


class HumanTask(Base):
    """A user or manual task: ready (someone must act), completed or cancelled."""

    __tablename__ = "human_tasks"
    __table_args__ = (
        Index("ix_human_tasks_state_lane_due", "state", "lane", "due_at"),
        Index("ix_human_tasks_state_group_due", "state", "candidate_group", "due_at"),
        Index("ix_human_tasks_instance_state", "instance_id", "state"),
        # the tasks of one kind created in a period (a KPI per kind: co-handling on time)
        Index("ix_human_tasks_kind_created", "kind", "created_at"),
        # inbox counts (per kind too): ready tasks of a lane and group, from the index alone
        Index(
            "ix_human_tasks_ready_group",
            "state",
            "lane",
            "candidate_group",
            "kind",
            "instance_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    element_id: Mapped[str] = mapped_column(String(255))
    #: what the task is in the domain's words, whatever the designer called the element: named
    #: by the task's spec as the runtime was told to read it (``Runtime.set_task_kind``);
    #: queries filter on it without deserializing the workflow
    kind: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(120))
    #: who may take it: evaluated from the task's ``candidateGroups`` property (a department
    #: code, say); inbox queries filter on it
    candidate_group: Mapped[str | None] = mapped_column(String(64))
    #: who claimed it, if anyone
    assignee: Mapped[str | None] = mapped_column(String(64))
    form_key: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(120))


class Timer(Base):
    """A waiting timer of an instance: what the timer service claims and fires."""

    __tablename__ = "timers"
    __table_args__ = (
        Index("ix_timers_status_due", "status", "due_at"),
        Index("ix_timers_instance_status", "instance_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    task_id: Mapped[str] = mapped_column(String(36), unique=True)
    element_id: Mapped[str] = mapped_column(String(255))
    #: duration, date or cycle
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    #: pending, fired, cancelled, incident
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: after a failed firing: not before this time (exponential backoff)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class InstanceEvent(Base):
    """The append-only log of everything that happened to an instance: who, when, what, why."""

    __tablename__ = "instance_events"
    __table_args__ = (Index("ix_instance_events_instance_at", "instance_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instances.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str | None] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Incident(Base):
    """A step that kept failing (a timer's firing, say): visible to administrators, retryable."""

    __tablename__ = "incidents"
    __table_args__ = (Index("ix_incidents_open", "resolved_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("process_instances.id", ondelete="CASCADE"), index=True
    )
    timer_id: Mapped[int | None] = mapped_column(ForeignKey("timers.id", ondelete="SET NULL"))
    error: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(120))


class OutboxMessage(Base):
    """A side effect to carry out after the transaction that asked for it has committed.

    Written in the same transaction as the change that causes it, so a rolled-back step
    leaves no message and a committed one never loses its message; the worker hands it to the
    handler registered for its ``topic`` (at least once; ``key`` lets handlers be idempotent).
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: the name of the handler that carries it out
    topic: Mapped[str] = mapped_column(String(64))
    #: unique: writing the same key twice is one message; handlers dedupe their effects by it
    key: Mapped[str] = mapped_column(String(255), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: pending, failed (waiting for its next attempt), done, incident
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]


class WorkerHeartbeat(Base):
    """A process that runs the timer scheduler (``hotline worker``, or ``hotline serve`` with
    its scheduler on), as of its last sweep: ``/readyz`` is not ready when none is recent."""

    __tablename__ = "worker_heartbeats"

    #: the worker's lease owner name (host:pid unless given)
    owner: Mapped[str] = mapped_column(String(120), primary_key=True)
    #: "worker" or "serve"
    role: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime] = mapped_column(index=True)
