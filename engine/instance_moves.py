"""Moving running instances from one deployed version of a process to another, deadlines kept.

(Instance migration, as BPMN engines call it; not the schema's migrations, nor SpiffWorkflow's
serializer migrations of a stored instance, for which see :mod:`engine.stored_format`.)

Deploying a new version leaves running instances on the version they started on. An
administrator may move them: :func:`preview` says, per instance, whether it can move and what
moving does; :func:`move` moves them, one transaction per instance. The move is done in memory
here; :meth:`Runtime.save_moved <engine.runtime.Runtime.save_moved>` saves it as a step is
saved (projections and event log with it).

The move itself is SpiffWorkflow's (``SpiffWorkflow.bpmn.util.diff``): align the old spec's
task specs with the new one's (by element id, then by position), point every task at its
aligned spec, and reset the ready and waiting tasks so that they predict their way on along
the new diagram. That reset clears each task's internal data, so a waiting timer would compute
its due time again from "now" and a deadline would silently restart; here the frozen
``event_value`` of every waiting timer is carried over to the matching task of the moved
workflow. Two more gaps of the reset are closed here: a waiting boundary event is re-predicted
as a fresh run predicts it (otherwise the instance never completes once it fires), and a
boundary event the new version adds to the task an instance is at is armed at the move. A
waiting boundary event the new version removes stops waiting.

An instance that waits at an element the new version removes, or whose history went through
one (a restored instance needs the spec of every task in its tree), cannot move; nor can one
whose move fails (an expression of the new version, say). Each such instance says why.

:mod:`engine.version_diff` compares the XML of two versions element by element, for people.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.control import EventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import projections as pj
from .db import unit_of_work
from .errors import EngineError, ExpressionError, NotFound
from .models import Definition, ProcessInstance
from .runtime import InstanceRow, Runtime, run_error
from .serializer import spiff_config
from .version_diff import DefinitionDiff, definition_versions, diff_definitions

__all__ = [
    "Element",
    "InstancePlan",
    "MoveError",
    "MovePreview",
    "MoveResult",
    "Said",
    "move",
    "preview",
    "running_counts",
]

_ALIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class MoveError(EngineError):
    """The move asked for makes no sense (same version, another key...)."""


class Element(str):
    """An element in a plan's words: ``id (name)`` as text, with its parts kept so that a
    page can show the element's name (in its language) rather than its id."""

    element_id: str
    name: str | None
    boundary: bool

    def __new__(cls, element_id: str, name: str | None, *, boundary: bool = False) -> Element:
        if boundary:
            text = f"the boundary events of {element_id}"
        else:
            text = f"{element_id} ({name})" if name else element_id
        self = super().__new__(cls, text)
        self.element_id, self.name, self.boundary = element_id, name, boundary
        return self


class Said(str):
    """A note or reason of a plan: English text (the CLI, the CSV, the event log), with its
    template and values kept so that a page can say it in its own language and show its times
    in its own zone (the engine knows neither)."""

    template: str
    values: dict

    def __new__(cls, template: str, **values) -> Said:
        plain = {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}
        self = super().__new__(cls, template % plain)
        self.template, self.values = template, values
        return self


# -- moving instances ------------------------------------------------------------------------


@dataclass
class InstancePlan:
    """One running instance: where it waits, and why it cannot move or what moving does."""

    instance_id: int
    business_key: str | None
    waiting: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def movable(self) -> bool:
        return not self.reasons


@dataclass
class MovePreview:
    key: str
    from_version: int
    to_version: int
    from_definition_id: int
    to_definition_id: int
    diff: DefinitionDiff
    instances: list[InstancePlan]

    @property
    def movable(self) -> list[InstancePlan]:
        return [p for p in self.instances if p.movable]

    @property
    def blocked(self) -> list[InstancePlan]:
        return [p for p in self.instances if not p.movable]


@dataclass
class MoveResult:
    key: str
    from_version: int
    to_version: int
    migrated: list[InstancePlan]
    #: instances left where they were, with the reason in ``reasons``
    refused: list[InstancePlan]


def preview(
    session: Session,
    runtime: Runtime,
    *,
    key: str,
    from_version: int,
    to_version: int,
    instance_ids: Iterable[int] | None = None,
) -> MovePreview:
    """What :func:`move` would do to each running instance of ``key`` ``from_version``.

    Each instance is restored from its row and moved in memory (nothing is written), so the
    answer is the one the move itself would reach.
    """
    old, new = _versions(session, key, from_version, to_version)
    new_specs = runtime.definition_specs(session, new.id)
    plans = []
    for row in _running(session, old.id, instance_ids):
        workflow = runtime.restore_workflow(session, row.id, old.id)
        plan = InstancePlan(row.id, row.business_key)
        try:
            _move(workflow, new_specs, plan, to_version)
        except Exception as exc:  # an expression of the new version failed, say: not movable
            plan.reasons.append(_failure(exc))
        plans.append(plan)
    session.rollback()  # end the read
    diff = diff_definitions(old.xml, new.xml, key)
    return MovePreview(key, from_version, to_version, old.id, new.id, diff, plans)


def move(
    session: Session,
    runtime: Runtime,
    *,
    key: str,
    from_version: int,
    to_version: int,
    instance_ids: Iterable[int] | None = None,
    actor: str,
) -> MoveResult:
    """Move running instances of ``key`` from one version to another, one transaction each.

    ``instance_ids`` limits the move to those instances (default: every running instance of
    ``from_version``). An instance that cannot move, or whose move fails, is left untouched
    and reported in ``refused``; the others are not held back by it.
    """
    old, new = _versions(session, key, from_version, to_version)
    new_specs = runtime.definition_specs(session, new.id)
    if instance_ids is None:
        ids = [row.id for row in _running(session, old.id, None)]
    else:
        ids = sorted({int(i) for i in instance_ids})
    session.rollback()  # end the read before the writes begin
    migrated, refused = [], []
    for instance_id in ids:
        plan = InstancePlan(instance_id, None)
        try:
            _move_one(session, runtime, plan, old, new, new_specs, actor)
        except Exception as exc:  # one broken instance must not stop the others
            plan.reasons.append(_failure(exc))
        (migrated if plan.movable else refused).append(plan)
    return MoveResult(key, from_version, to_version, migrated, refused)


def _move_one(
    session: Session,
    runtime: Runtime,
    plan: InstancePlan,
    old: Definition,
    new: Definition,
    new_specs: tuple,
    actor: str,
) -> None:
    with unit_of_work(session):
        try:
            row = runtime.instance_row(session, plan.instance_id)
        except NotFound:
            plan.reasons.append("the instance does not exist")
            return
        plan.business_key = row.business_key
        if row.status != "running":
            plan.reasons.append(f"the instance is {row.status}, not running")
            return
        if row.definition_id != old.id:
            plan.reasons.append(f"the instance is not on version {old.version}")
            return
        workflow = runtime.restore_workflow(session, row.id, old.id, actor=actor)
        carried = _move(workflow, new_specs, plan, new.version)
        if not plan.movable:
            return
        runtime.save_moved(
            session,
            row,
            workflow,
            definition_id=new.id,
            actor=actor,
            details={
                "from_version": old.version,
                "to_version": new.version,
                "from_definition_id": old.id,
                "to_definition_id": new.id,
                "actor": actor,
                "timers_kept": carried,
                "notes": plan.notes,
            },
        )


def _move(workflow: BpmnWorkflow, new_specs: tuple, plan: InstancePlan, to_version: int):
    """Move ``workflow`` onto ``new_specs`` in memory; fill ``plan``. Returns the timers kept.

    Leaves ``plan.reasons`` non-empty (and the workflow in an undefined state) when the
    instance cannot move.
    """
    new_spec, new_subprocess_specs = new_specs
    plan.waiting = sorted({_label(t) for t in _tasks(workflow) if t.state & _ALIVE}, key=str)
    top, sub_diffs = diff_workflow(_registry(), workflow, new_spec, new_subprocess_specs)
    diffs = [(workflow, top, new_spec)]
    for sp_id, sub_diff in sub_diffs.items():
        sub = workflow.subprocesses[sp_id]
        if sub_diff is None:
            plan.reasons.append(
                Said(
                    "it runs subprocess %(name)r, which version %(version)s does not have",
                    name=sub.spec.name,
                    version=to_version,
                )
            )
        else:
            diffs.append((sub, sub_diff, new_subprocess_specs[sub.spec.name]))
    drop = _removed_tasks(diffs, plan, to_version)
    if plan.reasons:
        return []

    before = {
        t.id: (_label(t), t.task_spec.bpmn_name) for t in _tasks(workflow) if t.state & _ALIVE
    }
    timers = {
        t.id: (_diff_target(diffs, t), copy.deepcopy(t._get_internal_data("event_value")))
        for t in _tasks(workflow)
        if t.state == TaskState.WAITING and pj.is_timer(t)
    }
    for task in drop:
        if task.id in task.workflow.tasks:
            task.workflow._remove_task(task.id)
    for sub, diff, spec in diffs:
        migrate_workflow(diff, sub, spec)
    workflow.subprocess_specs = new_subprocess_specs
    _repredict_boundary_events(workflow)
    added = _arm_new_boundary_events(workflow)
    _prune_event_manager(workflow)

    carried = _carry_timers(workflow, timers, plan)
    misplaced = set()
    for task in _tasks(workflow):
        spec = task.task_spec
        owner = (
            new_spec
            if task.workflow is workflow
            else new_subprocess_specs.get(task.workflow.spec.name)
        )
        if owner is None or owner.task_specs.get(spec.name) is not spec:
            misplaced.add((_label(task), TaskState.get_name(task.state).lower()))
    plan.reasons.extend(
        Said(
            "%(element)s (%(state)s) has no place in version %(version)s",
            element=element,
            state=state,
            version=to_version,
        )
        for element, state in sorted(misplaced, key=str)
    )
    if plan.reasons:
        return []
    for task in _tasks(workflow):
        old = before.get(task.id)
        if old is not None and task.state & _ALIVE:
            new_name = task.task_spec.bpmn_name
            if old[1] and new_name and old[1] != new_name:
                plan.notes.append(
                    Said("%(element)s is now named %(name)r", element=old[0], name=new_name)
                )
    for task in added:
        due = pj.timer_due(task) if pj.is_timer(task) else None
        if due is None:
            note = Said(
                "%(element)s is new in version %(version)s: armed now",
                element=_label(task),
                version=to_version,
            )
        else:
            note = Said(
                "%(element)s is new in version %(version)s: armed now, due %(due)s",
                element=_label(task),
                version=to_version,
                due=due,
            )
        plan.notes.append(note)
    return carried


def _removed_tasks(diffs, plan: InstancePlan, to_version: int) -> list:
    """Tasks whose element the new version removes: the ones to drop, or why none can be.

    A waiting boundary event, a cancelled task and a prediction can go (a fresh run of the new
    version would not have them); a task the instance waits at, or one it completed, cannot.
    """
    drop = []
    seen: set[str] = set()
    for _, diff, _ in diffs:
        for task in diff.removed:
            label = _label(task)
            if task.state & (TaskState.PREDICTED_MASK | TaskState.FUTURE | TaskState.CANCELLED):
                drop.append(task)
            elif task.state == TaskState.WAITING and _is_boundary_event(task):
                drop.append(task)
                plan.notes.append(
                    Said(
                        "%(element)s stops waiting: version %(version)s removes it",
                        element=label,
                        version=to_version,
                    )
                )
            elif label in seen:
                continue
            elif task.state & _ALIVE:
                seen.add(label)
                plan.reasons.append(
                    Said(
                        "it waits at %(element)s, which version %(version)s removes",
                        element=label,
                        version=to_version,
                    )
                )
            else:
                seen.add(label)
                plan.reasons.append(
                    Said(
                        "its history went through %(element)s, which version %(version)s "
                        "removes (a saved case needs every element it passed)",
                        element=label,
                        version=to_version,
                    )
                )
    return drop


def _is_boundary_event(task) -> bool:
    parent = task.parent
    return (
        parent is not None
        and isinstance(parent.task_spec, EventSplit)
        and isinstance(task.task_spec, parent.task_spec.event_type)
    )


def _arm_new_boundary_events(workflow: BpmnWorkflow) -> list:
    """Arm the boundary events the new version adds to a task the instance is at.

    The reset does not touch the (completed) split above the open task, so without this a
    timer added to that task would only run the next time a case reaches it. Done as the
    split's own run does it: a MAYBE event with MAYBE successors, then WAITING and updated
    (which computes a timer's due time from now).
    """
    added = []
    for split in list(_tasks(workflow)):
        spec = split.task_spec
        if split.state != TaskState.COMPLETED or not isinstance(spec, EventSplit):
            continue
        children = split.children
        main = [c for c in children if not isinstance(c.task_spec, spec.event_type)]
        if not main or not any(c.state & _ALIVE for c in main):
            continue
        have = {c.task_spec for c in children}
        for output in spec.outputs:
            if output in have or not isinstance(output, spec.event_type):
                continue
            event = split._add_child(output, TaskState.MAYBE)
            if not isinstance(output.event_definition, CycleTimerEventDefinition):
                event._sync_children(output.outputs, TaskState.MAYBE)
            event._set_state(TaskState.WAITING)
            output._update(event)
            added.append(event)
    return added


def _diff_target(diffs, task) -> str | None:
    """The name of the new spec an old task is aligned with (None if removed)."""
    for _, diff, _ in diffs:
        if task in diff.alignment:
            target = diff.alignment[task]
            return target.name if target is not None else None
    return None


def _carry_timers(workflow: BpmnWorkflow, timers: dict, plan: InstancePlan) -> list[dict]:
    """Give every waiting timer of the moved workflow the due time it had before the move.

    The reset keeps a task's id when the task itself is reset, so a timer is first matched by
    id; a timer re-created under a reset parent is matched by its element instead, when one
    waiting timer of that element is unmatched on each side.
    """
    waiting = [t for t in _tasks(workflow) if t.state == TaskState.WAITING and pj.is_timer(t)]
    unmatched_old = {tid: v for tid, v in timers.items() if tid not in {t.id for t in waiting}}
    carried = []
    for task in waiting:
        if task.id in timers:
            target, value = timers[task.id]
        else:
            same = [
                tid for tid, (target, _) in unmatched_old.items() if target == task.task_spec.name
            ]
            if (
                len(same) != 1
                or sum(
                    1
                    for t in waiting
                    if t.task_spec.name == task.task_spec.name and t.id not in timers
                )
                != 1
            ):
                continue  # a timer the new version adds (or an ambiguous one): armed afresh
            target, value = unmatched_old.pop(same[0])
        if value is None:
            continue
        current = task._get_internal_data("event_value")
        if isinstance(current, dict) != isinstance(value, dict):
            plan.notes.append(
                Said("%(element)s changed its kind of timer: it starts again", element=_label(task))
            )
            continue
        task._set_internal_data(event_value=value)
        due = pj.timer_due(task)
        carried.append(
            {"element": _label(task), "due": due.isoformat() if due is not None else None}
        )
        if due is not None:
            plan.notes.append(
                Said("%(element)s keeps its due time %(due)s", element=_label(task), due=due)
            )
    return carried


def _repredict_boundary_events(workflow: BpmnWorkflow) -> None:
    """Give waiting boundary events the MAYBE children a fresh run gives them.

    A boundary event is predicted while it is only MAYBE (its split's prediction) and set
    WAITING when the split runs, so what follows it stays MAYBE until it fires. The reset
    re-predicts it from FUTURE instead, which makes that path definite: when the event fires,
    the joins then wait for a branch that never comes and the instance never completes.
    """
    for task in list(_tasks(workflow)):
        if task.state != TaskState.WAITING or not _is_boundary_event(task):
            continue
        for child in list(task.children):
            if child.has_state(TaskState.NOT_FINISHED_MASK):
                task.workflow._remove_task(child.id)
        if not isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
            task._sync_children(task.task_spec.outputs, TaskState.MAYBE)


def _prune_event_manager(workflow: BpmnWorkflow) -> None:
    """Forget waiting tasks the reset removed from the tree.

    SpiffWorkflow drops a reset task's descendants from the tree but not from the event
    manager, where a live (cached) workflow would keep firing their timers; a restored one
    rebuilds the manager from the tree, so both must agree.
    """
    manager = workflow.event_manager
    for task_id, task in list(manager.tasks.items()):
        if task.workflow.tasks.get(task_id) is not task or task.state != TaskState.WAITING:
            manager.tasks.pop(task_id, None)


def _tasks(workflow: BpmnWorkflow) -> Iterator:
    yield from list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        yield from list(sub.tasks.values())


def _label(task) -> Element:
    spec = task.task_spec
    for helper in (".BoundaryEventSplit", ".BoundaryEventJoin"):
        if spec.name.endswith(helper):
            return Element(spec.name[: -len(helper)], None, boundary=True)
    element = getattr(spec, "bpmn_id", None) or spec.name
    name = getattr(spec, "bpmn_name", None)
    return Element(element, name if name != element else None)


def _failure(exc: Exception) -> str:
    if isinstance(exc, SpiffWorkflowException | ExpressionError):
        exc = run_error(exc)  # "the workflow failed at ELEMENT: what the expression said"
    if isinstance(exc, EngineError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


_registry_lock = threading.Lock()
_registry_instance = None


def _registry():
    """A SpiffWorkflow converter registry that knows our specs (SpecDiff compares their dicts)."""
    global _registry_instance
    with _registry_lock:
        if _registry_instance is None:
            _registry_instance = BpmnWorkflowSerializer.configure(spiff_config())
        return _registry_instance


# -- lookups ---------------------------------------------------------------------------------


def _versions(
    session: Session, key: str, from_version: int, to_version: int
) -> tuple[Definition, Definition]:
    if from_version == to_version:
        raise MoveError(f"{key}: from and to are the same version ({from_version})")
    return definition_versions(session, key, from_version, to_version)


def _running(
    session: Session, definition_id: int, instance_ids: Iterable[int] | None
) -> list[InstanceRow]:
    """The running instances of a definition, by id (all, or those of ``instance_ids``)."""
    columns = [getattr(ProcessInstance, name) for name in InstanceRow._fields]
    stmt = (
        select(*columns)
        .where(
            ProcessInstance.definition_id == definition_id,
            ProcessInstance.status == "running",
        )
        .order_by(ProcessInstance.id)
    )
    if instance_ids is not None:
        stmt = stmt.where(ProcessInstance.id.in_([int(i) for i in instance_ids]))
    return [InstanceRow(*row) for row in session.execute(stmt)]


def running_counts(session: Session, *, key: str) -> dict[int, int]:
    """version -> running instances of that version of ``key``."""
    rows = session.execute(
        select(Definition.version, func.count(ProcessInstance.id))
        .join(ProcessInstance, ProcessInstance.definition_id == Definition.id)
        .where(Definition.key == key, ProcessInstance.status == "running")
        .group_by(Definition.version)
    ).all()
    return {version: count for version, count in rows}
