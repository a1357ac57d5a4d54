"""The hotline's domain events, its event-log kinds, and the bus that delivers events.

The case mirror (``cases/listener.py``) publishes typed events inside the engine step's
transaction, after it has updated the case row; merging publishes from ``cases/flows.py``.
Subscribers are plain functions ``(session, event)`` registered in one place
(``workflows/subscribers.py``); they run in the same transaction, so what they write commits
or rolls back with the step. A subscriber with side effects outside the database writes an
outbox message (``engine.outbox``) instead of acting: the worker carries it out after commit.

Publishing is an in-memory call per subscriber of the event's type: a step whose events
nobody subscribes to costs no SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy.orm import Session


class CaseEventKind(StrEnum):
    """The domain's kinds of event-log entries (``instance_events.kind``); the engine's own
    are ``engine.events.EventKind``. The stored strings never change: pages read them."""

    STATUS = "case.status"
    NOTE = "case.note"
    WARNING = "case.warning"
    SIGN_OVERDUE = "case.sign_overdue"
    OVERDUE = "case.overdue"
    #: a task's own clock (``effect`` task_warn / task_overdue, ``clock`` names the limit)
    TASK_WARNING = "task.warning"
    TASK_OVERDUE = "task.overdue"
    MERGED_IN = "case.merged_in"
    CLOSED_WITH_MASTER = "case.closed_with_master"
    #: a supervisor's chase notice (催办) to the case's lead department
    CHASED = "case.chased"
    TASK_CLAIMED = "task.claimed"
    TASK_RELEASED = "task.released"
    #: 阶段性答复: the handling unit told the citizen where the case stands, task kept
    INTERIM_REPLY = "case.interim_reply"
    #: a department's appeal (申诉) filed, and the centre's decision on it (workflows/appeals)
    APPEAL_FILED = "case.appeal_filed"
    APPEAL_DECIDED = "case.appeal_decided"
    #: the dispatcher corrected the category or urgency at dispatch (``changes``: key ->
    #: [old, new])
    RECLASSIFIED = "case.reclassified"


class Deadline(StrEnum):
    SIGN = "sign"  # 签收时限
    REPLY = "reply"  # 答复时限
    #: a task's own clock: the policy limit it runs on (``dispatch``, ``review``, ...)
    TASK = "task"


@dataclass(frozen=True, kw_only=True)
class CaseEvent:
    """What every domain event says: which case, which step of its instance, when, by whom."""

    case_id: int
    case_number: str
    instance_id: int | None
    #: the instance version the step saved (None outside an engine step, e.g. merging):
    #: with the case, it names the step for idempotency keys
    instance_version: int | None
    at: datetime
    actor: str | None


@dataclass(frozen=True, kw_only=True)
class CaseOpened(CaseEvent):
    case_type: str
    channel: str


@dataclass(frozen=True, kw_only=True)
class StatusChanged(CaseEvent):
    from_status: str | None
    to_status: str
    #: the ``step`` property of the user task that now holds the case (None: none, or the
    #: diagram does not name its steps)
    step: str | None
    element_id: str | None


@dataclass(frozen=True, kw_only=True)
class TaskReady(CaseEvent):
    task_id: str
    element_id: str
    name: str
    step: str | None
    candidate_group: str | None


@dataclass(frozen=True, kw_only=True)
class TaskCompleted(CaseEvent):
    element_id: str
    name: str
    step: str | None


@dataclass(frozen=True, kw_only=True)
class DeadlineWarned(CaseEvent):
    """A deadline is near (the yellow card): the reply's, or a task's own (``clock`` names
    the policy limit the task runs on, ``step`` the task; both None for the reply)."""

    element_id: str
    clock: str | None = None
    step: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeadlinePassed(CaseEvent):
    """A deadline passed: signing for the case (``sign``) or replying to it (``reply``)."""

    deadline: Deadline
    element_id: str
    #: for ``Deadline.TASK``: the policy limit the task ran on and the task's step
    clock: str | None = None
    step: str | None = None


@dataclass(frozen=True, kw_only=True)
class SupervisionOpened(CaseEvent):
    """A supervisor's task to chase the case became ready (its ``step`` is ``supervise``)."""

    task_id: str
    element_id: str


@dataclass(frozen=True, kw_only=True)
class CaseChased(CaseEvent):
    """A supervisor sent the case's lead department a chase notice (催办通知)."""

    note: str


@dataclass(frozen=True, kw_only=True)
class SupervisionOrdered(CaseEvent):
    """A supervisor sent the case's lead department a supervision order (督办单) from outside
    the diagram's supervise task; its answer task is a ``TaskReady`` of the same step."""

    note: str


@dataclass(frozen=True, kw_only=True)
class CaseClosed(CaseEvent):
    outcome: str


@dataclass(frozen=True, kw_only=True)
class CaseMerged(CaseEvent):
    """The case was merged into ``master_number`` as a duplicate."""

    master_number: str
    from_status: str | None


@dataclass(frozen=True, kw_only=True)
class InterimReplied(CaseEvent):
    """The unit handling the case sent an interim reply (阶段性答复) without ending its
    handling task: for the citizen (a notification channel sends ``body`` to them)."""

    task_id: str
    department_code: str | None
    body: str
    #: the ``case_notes`` row that keeps it (a unique key for the message)
    note_id: int


@dataclass(frozen=True, kw_only=True)
class AppealUpheld(CaseEvent):
    """The centre upheld a department's appeal (申诉) about the case: ``cases.appeal_upheld_at``
    is set in the same transaction, and the case leaves the department's rates (published by
    ``workflows/appeals/service.py``)."""

    appeal_id: int
    ground: str
    department_id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class AppealFiled(CaseEvent):
    """A handler of the case's lead department appealed (申诉) one ground of it: the centre's
    reviewers are to decide (published by ``workflows/appeals/service.py``)."""

    appeal_id: int
    ground: str
    department_id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class AppealRejected(CaseEvent):
    """The centre rejected a department's appeal (申诉驳回): the case stays in its rates;
    ``reason`` is the reviewer's."""

    appeal_id: int
    ground: str
    department_id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class WaveDetected:
    """A hot-topic wave opened (``workflows/insight/waves.py``): calls on one word, category or
    category in an area far above their usual count. Not about one case: no case fields."""

    wave_id: int
    kind: str
    key: str
    label: str
    count: int
    baseline: float
    at: datetime


E = TypeVar("E", bound=CaseEvent)
Subscriber = Callable[[Session, Any], None]


class EventBus:
    """Subscribers by event type; ``publish`` calls them in order of subscription."""

    def __init__(self) -> None:
        self._subscribers: dict[type, list[Subscriber]] = {}

    def subscribe(self, event_type: type[Any], subscriber: Callable[[Session, Any], None]) -> None:
        self._subscribers.setdefault(event_type, []).append(subscriber)

    def wants(self, event_type: type[CaseEvent]) -> bool:
        """Whether anyone subscribes to ``event_type`` (lets publishers skip building it)."""
        return event_type in self._subscribers

    def publish(self, session: Session, event: CaseEvent | WaveDetected) -> None:
        for subscriber in self._subscribers.get(type(event), ()):
            subscriber(session, event)
