"""Projections: the human-task and timer rows that mirror a workflow, kept in step with it.

After every step the runtime compares what the workflow now waits for (ready human tasks,
waiting timers) with what the rows last said, and writes only the difference. Statements are
built once at import: building a SQLAlchemy statement costs more than executing it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

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

# -- statements (built once) ----------------------------------------------------------------

SELECT_INSTANCE = select(
    PI.c.id, PI.c.definition_id, PI.c.key, PI.c.business_key, PI.c.status, PI.c.version
).where(PI.c.id == bindparam("id"))
SELECT_INSTANCE_OF_TASK = (
    select(PI.c.id, PI.c.definition_id, PI.c.key, PI.c.business_key, PI.c.status, PI.c.version)
    .join_from(HT, PI, HT.c.instance_id == PI.c.id)
    .where(HT.c.task_id == bindparam("task_id"))
)
SELECT_STATE = select(PI.c.state).where(PI.c.id == bindparam("id"))
INSERT_INSTANCE = insert(PI).returning(PI.c.id)
SAVE_INSTANCE = (
    update(PI)
    .where(PI.c.id == bindparam("b_id"), PI.c.version == bindparam("b_version"))
    .values(
        state=bindparam("state"),
        version=bindparam("b_version") + 1,
        status=bindparam("status"),
        updated_at=bindparam("updated_at"),
        completed_at=bindparam("completed_at"),
    )
)
SELECT_OPEN_TASKS = select(HT.c.task_id, HT.c.due_at).where(
    HT.c.instance_id == bindparam("id"), HT.c.state == "ready"
)
INSERT_TASKS = insert(HT)
CLOSE_TASK = (
    update(HT)
    .where(HT.c.task_id == bindparam("b_task_id"), HT.c.state == "ready")
    .values(
        state=bindparam("state"),
        completed_at=bindparam("completed_at"),
        completed_by=bindparam("completed_by"),
    )
)
SET_TASK_DUE = (
    update(HT).where(HT.c.task_id == bindparam("b_task_id")).values(due_at=bindparam("due_at"))
)
SELECT_PENDING_TIMERS = select(TM.c.task_id, TM.c.due_at).where(
    TM.c.instance_id == bindparam("id"), TM.c.status.in_(("pending", "incident"))
)
INSERT_TIMERS = insert(TM)
CLOSE_TIMER = (
    update(TM)
    .where(TM.c.task_id == bindparam("b_task_id"), TM.c.status.in_(("pending", "incident")))
    .values(
        status=bindparam("status"),
        fired_at=bindparam("fired_at"),
        lease_owner=None,
        lease_expires_at=None,
    )
)
MOVE_TIMER = (
    update(TM)
    .where(TM.c.task_id == bindparam("b_task_id"))
    .values(due_at=bindparam("due_at"), status="pending", attempts=0)
)
INSERT_EVENTS = insert(EV)


@dataclass
class ReadyTask:
    task_id: str
    element_id: str
    name: str
    lane: str | None
    form_key: str | None
    due_at: datetime | None


@dataclass
class Projection:
    """What the rows say an instance waits for: open task ids and pending timers, with dues."""

    tasks: dict[str, datetime | None] = field(default_factory=dict)
    timers: dict[str, datetime] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: Connection, instance_id: int) -> Projection:
        return cls(
            tasks=dict(conn.execute(SELECT_OPEN_TASKS, {"id": instance_id}).all()),
            timers=dict(conn.execute(SELECT_PENDING_TIMERS, {"id": instance_id}).all()),
        )


@dataclass
class SyncResult:
    ready: list[ReadyTask]
    projection: Projection
    #: (element id, name) of every timer that fired in the step, each cycle occurrence included
    fired: list[tuple[str, str]]


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


def is_timer(task) -> bool:
    return type(getattr(task.task_spec, "event_definition", None)) in TIMER_KINDS


def ready_task(task) -> ReadyTask:
    """The projection of one ready human task; its due date is its earliest boundary timer."""
    spec = task.task_spec
    props = (getattr(spec, "extensions", None) or {}).get("properties", {})
    due = None
    parent = task.parent
    if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
        dues = [
            d
            for sibling in parent.children
            if sibling is not task
            and sibling.state == TaskState.WAITING
            and is_timer(sibling)
            and getattr(sibling.task_spec, "cancel_activity", True)
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
    )


def waiting_timers(workflow: BpmnWorkflow) -> dict[str, tuple[str, str, datetime]]:
    """task id -> (element id, kind, due) for every waiting timer of the workflow."""
    out = {}
    for task in workflow.event_manager.tasks.values():
        kind = TIMER_KINDS.get(type(task.task_spec.event_definition))
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
) -> SyncResult:
    """Write the difference between ``before`` and the workflow's waits to the rows."""
    ready = [ready_task(t) for t in workflow.get_tasks(state=TaskState.READY, manual=True)]
    after = Projection(tasks={r.task_id: r.due_at for r in ready})

    new_tasks = [
        dict(
            instance_id=instance_id,
            task_id=r.task_id,
            element_id=r.element_id,
            name=r.name,
            lane=r.lane,
            form_key=r.form_key,
            state="ready",
            created_at=now,
            due_at=r.due_at,
        )
        for r in ready
        if r.task_id not in before.tasks
    ]
    if new_tasks:
        conn.execute(INSERT_TASKS, new_tasks)
    moved = [
        {"b_task_id": r.task_id, "due_at": r.due_at}
        for r in ready
        if r.task_id in before.tasks and before.tasks[r.task_id] != r.due_at
    ]
    if moved:
        conn.execute(SET_TASK_DUE, moved)
    closed = []
    for task_id in before.tasks.keys() - after.tasks.keys():
        task = workflow.get_task_from_id(uuid.UUID(task_id))
        done = task is not None and task.state == TaskState.COMPLETED
        closed.append(
            {
                "b_task_id": task_id,
                "state": "completed" if done else "cancelled",
                "completed_at": now,
                "completed_by": actor if done else None,
            }
        )
    if closed:
        conn.execute(CLOSE_TASK, closed)

    waiting = waiting_timers(workflow)
    after.timers = {tid: due for tid, (_, _, due) in waiting.items()}
    new_timers = [
        dict(
            instance_id=instance_id,
            task_id=tid,
            element_id=el,
            kind=kind,
            due_at=due,
            status="pending",
            created_at=now,
            attempts=0,
        )
        for tid, (el, kind, due) in waiting.items()
        if tid not in before.timers
    ]
    if new_timers:
        conn.execute(INSERT_TIMERS, new_timers)
    fired: list[tuple[str, str]] = []  # (element id, name) of timers that fired this step
    moved_timers = []
    for tid, due in after.timers.items():
        if tid in before.timers and before.timers[tid] != due:
            moved_timers.append({"b_task_id": tid, "due_at": due})  # a cycle moved on
            fired.append(_timer_name(workflow, tid))
    if moved_timers:
        conn.execute(MOVE_TIMER, moved_timers)
    closed_timers = []
    for tid in before.timers.keys() - after.timers.keys():
        task = workflow.get_task_from_id(uuid.UUID(tid))
        if task is None:
            done = False
        elif isinstance(task.task_spec.event_definition, ClockedCycleTimer):
            done = task.state != TaskState.CANCELLED  # its last occurrence fired
        else:
            done = task.state == TaskState.COMPLETED
        if done:
            fired.append(_timer_name(workflow, tid))
        closed_timers.append(
            {
                "b_task_id": tid,
                "status": "fired" if done else "cancelled",
                "fired_at": now if done else None,
            }
        )
    if closed_timers:
        conn.execute(CLOSE_TIMER, closed_timers)
    return SyncResult(ready, after, fired)


def _timer_name(workflow: BpmnWorkflow, task_id: str) -> tuple[str, str]:
    spec = workflow.get_task_from_id(uuid.UUID(task_id)).task_spec
    return (spec.bpmn_id or spec.name, spec.bpmn_name or spec.bpmn_id or spec.name)
