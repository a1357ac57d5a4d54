"""Projections: the human-task and timer rows that mirror a workflow, kept in step with it.

After every step the runtime compares what the workflow now waits for (ready human tasks,
waiting timers) with what the rows last said, and writes only the difference. The writes go through
:mod:`engine.fastsql` (the DBAPI cursor), the rare reads through SQLAlchemy.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import update
from sqlalchemy.engine import Connection

from .fastsql import fast_sql
from .models import HumanTask, InstanceEvent, ProcessInstance, Timer
from .spiff import ClockedCycleTimer, ClockedDateTimer, ClockedDurationTimer

PI = ProcessInstance.__table__
HT = HumanTask.__table__
TM = Timer.__table__
EV = InstanceEvent.__table__

TIMER_KINDS = {
    ClockedDurationTimer: "duration",
    ClockedDateTimer: "date",
    ClockedCycleTimer: "cycle",
}


@dataclass
class ReadyTask:
    task_id: str
    element_id: str
    name: str
    lane: str | None
    form_key: str | None
    due_at: datetime | None
    candidate_group: str | None = None
    #: what the task is, in the domain's words (``Runtime.set_task_kind``)
    kind: str | None = None


#: what a human task is, from its spec (``Runtime.set_task_kind``); None: nothing in particular
TaskKind = Callable[[Any], str | None]
#: whether a non-interrupting boundary timer's spec is its task's deadline
#: (``Runtime.set_deadline_timers``)
DeadlineOf = Callable[[Any], bool]


@dataclass
class Projection:
    """What the rows say an instance waits for: open task ids and pending timers, with dues."""

    tasks: dict[str, datetime | None] = field(default_factory=dict)
    timers: dict[str, datetime] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, instance_id: int) -> Projection:
        sql = fast_sql(conn)
        projection = cls()
        for which, task_id, due in sql.rows(conn, "projection", (instance_id, instance_id)):
            (projection.tasks if which == "t" else projection.timers)[task_id] = sql.from_ts(due)
        return projection


@dataclass
class SyncResult:
    ready: list[ReadyTask]
    projection: Projection
    #: (element id, name) of every timer that fired in the step, each cycle occurrence included
    fired: list[tuple[str, str]]
    #: due times of timers armed or moved by the step (the scheduler wakes up for them)
    armed: list[datetime] = field(default_factory=list)


def timer_due(task) -> datetime | None:
    """When a waiting timer task falls due (its frozen value), or None if it has none yet."""
    value = task._get_internal_data("event_value")
    if value is None:
        return None
    if isinstance(value, dict):  # cycle state
        if value.get("cycles", 0) == 0:
            return None
        value = value["next"]
    return datetime.fromisoformat(value).astimezone(UTC)


def timer_kind(task) -> str | None:
    """duration, date or cycle for a timer task; an event-based gateway waiting on a timer
    (SpiffWorkflow gives it a MultipleEventDefinition) counts as one."""
    definition = getattr(task.task_spec, "event_definition", None)
    kind = TIMER_KINDS.get(type(definition))
    if kind is None and isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            kind = TIMER_KINDS.get(type(inner))
            if kind is not None:
                break
    return kind


def is_timer(task) -> bool:
    return timer_kind(task) is not None


def is_deadline_timer(timer, deadline_of: DeadlineOf | None = None) -> bool:
    """Whether a boundary timer is its task's deadline: an interrupting one still waiting, or a
    non-interrupting one the domain calls a deadline (``Runtime.set_deadline_timers``; a
    reminder or an early warning is not one). Such a one stays the deadline after it fired, so
    an overdue task still shows when it was due, not nothing."""
    if not is_timer(timer):
        return False
    if getattr(timer.task_spec, "cancel_activity", True):
        return timer.state == TaskState.WAITING
    if deadline_of is None or not deadline_of(timer.task_spec):
        return False
    return timer.state in (TaskState.WAITING, TaskState.READY, TaskState.COMPLETED)


def task_properties(task) -> dict[str, str]:
    """The ``spiffworkflow:properties`` of a task's spec (formKey, candidateGroups, ...)."""
    return (getattr(task.task_spec, "extensions", None) or {}).get("properties", {})


def ready_task(
    task,
    group_of: Callable[[Any], str | None] | None = None,
    kind_of: TaskKind | None = None,
    deadline_of: DeadlineOf | None = None,
) -> ReadyTask:
    """The projection of one ready human task; its due date is its earliest deadline timer
    (see :func:`is_deadline_timer`). An instance of a multi-instance task has the timers
    attached to the whole task."""
    spec = task.task_spec
    props = task_properties(task)
    due = None
    host, parent = task, task.parent
    if parent is not None and isinstance(parent.task_spec, LoopTask):
        host, parent = parent, parent.parent
    if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
        dues = [
            d
            for sibling in parent.children
            if sibling is not host
            and is_deadline_timer(sibling, deadline_of)
            and (d := timer_due(sibling)) is not None
        ]
        due = min(dues) if dues else None
    return ReadyTask(
        task_id=str(task.id),
        element_id=getattr(spec, "bpmn_id", None) or spec.name,
        name=getattr(spec, "bpmn_name", None) or spec.name,
        lane=getattr(spec, "lane", None),
        form_key=props.get("formKey"),
        due_at=due,
        candidate_group=group_of(task) if group_of is not None else None,
        kind=kind_of(spec) if kind_of is not None else None,
    )


def ready_human_tasks(workflow: BpmnWorkflow) -> list:
    """Ready user and manual tasks, subprocesses included.

    A flat scan of the task dicts: SpiffWorkflow's ``get_tasks`` walks the whole tree from the
    root, history included, on every call.
    """
    ready = TaskState.READY
    found = [t for t in workflow.tasks.values() if t._state == ready and t.task_spec.manual]
    for sub in workflow.subprocesses.values():
        found.extend(t for t in sub.tasks.values() if t._state == ready and t.task_spec.manual)
    return found


def is_finished(workflow: BpmnWorkflow) -> bool:
    """Same answer as ``workflow.is_completed()`` without walking the tree."""
    if workflow.completed:
        return True
    unfinished = TaskState.NOT_FINISHED_MASK
    if any(t._state & unfinished for t in workflow.tasks.values()):
        return False
    workflow.completed = True
    return True


def waiting_timers(workflow: BpmnWorkflow) -> dict[str, tuple[str, str, datetime]]:
    """task id -> (element id, kind, due) for every waiting timer of the workflow."""
    out = {}
    for task in workflow.event_manager.tasks.values():
        kind = timer_kind(task)
        if kind is None or task.state != TaskState.WAITING:
            continue
        due = timer_due(task)
        if due is not None:
            out[str(task.id)] = (task.task_spec.bpmn_id or task.task_spec.name, kind, due)
    return out


def sync(
    conn: Connection,
    instance_id: int,
    workflow: BpmnWorkflow,
    before: Projection,
    *,
    actor: str | None,
    now: datetime,
    group_of: Callable[[Any], str | None] | None = None,
    kind_of: TaskKind | None = None,
    deadline_of: DeadlineOf | None = None,
) -> SyncResult:
    """Write the difference between ``before`` and the workflow's waits to the rows."""
    sql = fast_sql(conn)
    ts = sql.ts
    ready = [ready_task(t, group_of, kind_of, deadline_of) for t in ready_human_tasks(workflow)]
    after = Projection(tasks={r.task_id: r.due_at for r in ready})
    at = ts(now)

    sql.many(
        conn,
        "insert_task",
        [
            (
                instance_id,
                r.task_id,
                r.element_id,
                r.kind,
                r.name,
                r.lane,
                r.candidate_group,
                r.form_key,
                at,
                ts(r.due_at),
            )
            for r in ready
            if r.task_id not in before.tasks
        ],
    )
    sql.many(
        conn,
        "task_due",
        [
            (ts(r.due_at), r.task_id)
            for r in ready
            if r.task_id in before.tasks and before.tasks[r.task_id] != r.due_at
        ],
    )
    closed = []
    for task_id in before.tasks.keys() - after.tasks.keys():
        # gone from the tree: a terminate end event drops the open instances of a
        # multi-instance task (their rows are cancelled)
        task = _find(workflow, task_id)
        done = task is not None and task.state == TaskState.COMPLETED
        closed.append(("completed" if done else "cancelled", at, actor if done else None, task_id))
    sql.many(conn, "close_task", closed)

    waiting = waiting_timers(workflow)
    after.timers = {tid: due for tid, (_, _, due) in waiting.items()}
    sql.many(
        conn,
        "insert_timer",
        [
            (instance_id, tid, element, kind, ts(due), at)
            for tid, (element, kind, due) in waiting.items()
            if tid not in before.timers
        ],
    )
    fired: list[tuple[str, str]] = []  # (element id, name) of timers that fired this step
    moved = []
    for tid, due in after.timers.items():
        if tid in before.timers and before.timers[tid] != due:
            moved.append((ts(due), tid))  # a cycle moved on to its next occurrence
            fired.append(_timer_name(workflow, tid))
    sql.many(conn, "move_timer", moved)
    closed_timers = []
    for tid in before.timers.keys() - after.timers.keys():
        task = _find(workflow, tid)
        if task is None:
            done = False
        elif isinstance(task.task_spec.event_definition, ClockedCycleTimer):
            done = task.state != TaskState.CANCELLED  # its last occurrence fired
        else:  # completed, and by its timer (an event gateway may have caught something else)
            done = task.state == TaskState.COMPLETED and before.timers[tid] <= now
        if done:
            fired.append(_timer_name(workflow, tid))
        closed_timers.append(("fired" if done else "cancelled", at if done else None, tid))
    sql.many(conn, "close_timer", closed_timers)
    armed = [due for tid, due in after.timers.items() if before.timers.get(tid) != due]
    return SyncResult(ready, after, fired, armed)


def _timer_name(workflow: BpmnWorkflow, task_id: str) -> tuple[str, str]:
    spec = workflow.get_task_from_id(uuid.UUID(task_id)).task_spec
    return (spec.bpmn_id or spec.name, spec.bpmn_name or spec.bpmn_id or spec.name)


# -- after a workflow was replaced, not stepped (moved to another version) --------------------


def rename_open_tasks(
    conn: Connection,
    workflow: BpmnWorkflow,
    group_of: Callable[[Any], str | None] | None,
    kind_of: TaskKind | None = None,
) -> None:
    """Open task rows take the name, kind, lane, form and group their task now has."""
    for task in ready_human_tasks(workflow):
        ready = ready_task(task, group_of, kind_of)
        conn.execute(
            update(HT)
            .where(HT.c.task_id == ready.task_id, HT.c.state == "ready")
            .values(
                element_id=ready.element_id,
                kind=ready.kind,
                name=ready.name,
                lane=ready.lane,
                form_key=ready.form_key,
                candidate_group=ready.candidate_group,
            )
        )


def close_dropped(
    conn: Connection, instance_id: int, workflow: BpmnWorkflow, now: datetime
) -> Projection:
    """Cancel the rows of tasks and timers no longer in the workflow's tree; return the rest.

    :func:`sync` looks every task of the old rows up in the workflow, and a replaced workflow
    may have dropped some (a waiting boundary event that a new version removes).
    """
    before = Projection.load(conn, instance_id)
    gone_tasks = [t for t in before.tasks if _find(workflow, t) is None]
    gone_timers = [t for t in before.timers if _find(workflow, t) is None]
    if gone_tasks:
        conn.execute(
            update(HT)
            .where(HT.c.task_id.in_(gone_tasks), HT.c.state == "ready")
            .values(state="cancelled", completed_at=now)
        )
    if gone_timers:
        conn.execute(
            update(TM)
            .where(TM.c.task_id.in_(gone_timers), TM.c.status.in_(("pending", "incident")))
            .values(status="cancelled", lease_owner=None, lease_expires_at=None)
        )
    for task_id in gone_tasks:
        before.tasks.pop(task_id)
    for task_id in gone_timers:
        before.timers.pop(task_id)
    return before


def _find(workflow: BpmnWorkflow, task_id: str):
    key = uuid.UUID(task_id)
    task = workflow.tasks.get(key)
    if task is None:
        for sub in workflow.subprocesses.values():
            task = sub.tasks.get(key)
            if task is not None:
                break
    return task
