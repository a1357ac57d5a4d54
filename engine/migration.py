"""Moving running instances from one deployed version of a process to another, deadlines kept.

Deploying a new version leaves running instances on the version they started on. An
administrator may move them: :func:`preview` says, per instance, whether it can move and what
moving does; :func:`migrate` moves them, one transaction per instance.

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

:func:`diff_definitions` compares the XML of two versions element by element, for people.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.control import EventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from . import projections as pj
from .db import connection, unit_of_work
from .errors import ConflictError, EngineError, ExpressionError, NotFound
from .events import EventKind
from .fastsql import fast_sql
from .models import Definition, ProcessInstance
from .runtime import _Loaded, _run_error  # a move is saved the way a step is saved
from .serializer import spiff_config
from .validation import BPMN_NS, SPIFF_NS, SUPPORTED_FLOW_NODES
from .xmlsafe import parse_bytes

__all__ = [
    "DefinitionDiff",
    "ElementChange",
    "InstancePlan",
    "MigrationError",
    "MigrationPreview",
    "MigrationResult",
    "diff_definitions",
    "diff_versions",
    "migrate",
    "preview",
]

PI = ProcessInstance.__table__
_ALIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
_HISTORY = TaskState.COMPLETED | TaskState.CANCELLED


class MigrationError(EngineError):
    """The migration asked for makes no sense (same version, another key...)."""


# -- the definition diff, for people ---------------------------------------------------------


@dataclass
class ElementChange:
    """One element added, removed or changed between two versions.

    ``changes`` maps what changed (name, type, condition, timer, script, properties...) to the
    (old, new) values, as text; it is empty for an added or removed element.
    """

    element_id: str
    kind: str
    name: str
    changes: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


@dataclass
class DefinitionDiff:
    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_definitions(old_xml: str, new_xml: str, key: str) -> DefinitionDiff:
    """What changed in process ``key`` between two stored documents: flow nodes and flows by id.

    Compared per element: type, name, condition, timer, script, properties (form, candidate
    groups...), boundary attachment, default flow, source and target, lane, service, called
    element and event definitions.
    """
    old, new = _elements(old_xml, key), _elements(new_xml, key)
    added = [_change(new[i]) for i in new if i not in old]
    removed = [_change(old[i]) for i in old if i not in new]
    changed = []
    for element_id, before in old.items():
        after = new.get(element_id)
        if after is None:
            continue
        facets = {
            name: (before.get(name), after.get(name))
            for name in sorted(set(before) | set(after))
            if before.get(name) != after.get(name)
        }
        if facets:
            changed.append(_change(after, facets))
    return DefinitionDiff(added, removed, changed)


def diff_versions(session: Session, *, key: str, from_version: int, to_version: int):
    """:func:`diff_definitions` of two deployed versions of ``key``."""
    old, new = _versions(session, key, from_version, to_version, allow_same=True)
    return diff_definitions(old.xml, new.xml, key)


def _change(facets: dict[str, str | None], changes=None) -> ElementChange:
    return ElementChange(
        element_id=facets["id"] or "",
        kind=facets["type"] or "",
        name=facets.get("name") or "",
        changes=changes or {},
    )


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _text(node: etree._Element | None) -> str | None:
    if node is None:
        return None
    return " ".join((node.text or "").split()) or None


def _elements(xml: str, key: str) -> dict[str, dict[str, str | None]]:
    """element id -> facets, for every flow node and sequence flow of process ``key``."""
    data = xml.encode("utf-8")
    root = parse_bytes(data, max_bytes=len(data) + 1).getroot()
    process = next(
        (p for p in root.iter(_q(BPMN_NS, "process")) if p.get("id") == key),
        None,
    )
    if process is None:
        raise NotFound(f"the stored document has no process {key!r}")
    lanes: dict[str, str] = {}
    for lane in process.iter(_q(BPMN_NS, "lane")):
        for ref in lane.iter(_q(BPMN_NS, "flowNodeRef")):
            if ref.text:
                lanes[ref.text.strip()] = lane.get("name") or lane.get("id") or ""
    found: dict[str, dict[str, str | None]] = {}
    for el in process.iter():
        if not isinstance(el.tag, str) or not el.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        tag = etree.QName(el).localname
        if tag not in SUPPORTED_FLOW_NODES and tag != "sequenceFlow":
            continue
        element_id = el.get("id")
        if not element_id:
            continue
        found[element_id] = _facets(el, tag, lanes.get(element_id))
    return found


def _facets(el: etree._Element, tag: str, lane: str | None) -> dict[str, str | None]:
    facets: dict[str, str | None] = {
        "id": el.get("id"),
        "type": tag,
        "name": " ".join((el.get("name") or "").split()) or None,
    }
    if tag == "sequenceFlow":
        facets["source"] = el.get("sourceRef")
        facets["target"] = el.get("targetRef")
        facets["condition"] = _text(el.find(_q(BPMN_NS, "conditionExpression")))
        return facets
    facets["lane"] = lane
    if el.get("default"):
        facets["default flow"] = el.get("default")
    if tag == "boundaryEvent":
        facets["attached to"] = el.get("attachedToRef")
        facets["interrupting"] = el.get("cancelActivity", "true")
    if tag == "callActivity":
        facets["called element"] = el.get("calledElement")
    timers = []
    events = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        name = etree.QName(child).localname
        if name == "timerEventDefinition":
            for part in child:
                if isinstance(part.tag, str):
                    timers.append(f"{etree.QName(part).localname}: {_text(part) or ''}")
        elif name.endswith("EventDefinition"):
            ref = next((v for k, v in child.attrib.items() if k.endswith("Ref")), None)
            events.append(name[: -len("EventDefinition")] + (f" {ref}" if ref else ""))
    if timers:
        facets["timer"] = "; ".join(timers)
    if events:
        facets["events"] = ", ".join(sorted(events))
    script = el.find(_q(BPMN_NS, "script"))
    if script is not None:
        facets["script"] = (script.text or "").strip() or None
    ext = el.find(_q(BPMN_NS, "extensionElements"))
    if ext is not None:
        props = {
            p.get("name"): p.get("value")
            for p in ext.iter(_q(SPIFF_NS, "property"))
            if p.get("name")
        }
        if props:
            facets["properties"] = "; ".join(f"{k}={v}" for k, v in sorted(props.items()))
        for hook in ("preScript", "postScript"):
            node = ext.find(_q(SPIFF_NS, hook))
            if node is not None and (node.text or "").strip():
                facets[hook] = node.text.strip()
        operator = ext.find(_q(SPIFF_NS, "serviceTaskOperator"))
        if operator is not None:
            params = [
                f"{p.get('id')}={p.get('value')}" for p in operator.iter(_q(SPIFF_NS, "parameter"))
            ]
            facets["service"] = operator.get("id", "") + (
                f" ({', '.join(params)})" if params else ""
            )
    return facets


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
class MigrationPreview:
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
class MigrationResult:
    key: str
    from_version: int
    to_version: int
    migrated: list[InstancePlan]
    #: instances left where they were, with the reason in ``reasons``
    refused: list[InstancePlan]


def preview(
    session: Session,
    runtime,
    *,
    key: str,
    from_version: int,
    to_version: int,
    instance_ids: Iterable[int] | None = None,
) -> MigrationPreview:
    """What :func:`migrate` would do to each running instance of ``key`` ``from_version``.

    Each instance is restored from its row and moved in memory (nothing is written), so the
    answer is the one the migration itself would reach.
    """
    old, new = _versions(session, key, from_version, to_version)
    new_specs = runtime.specs.get(new.id, lambda: session.get(Definition, new.id))
    plans = []
    for row in _running(session, old.id, instance_ids):
        workflow = runtime._restore(session, row.id, old.id)
        workflow.script_engine = runtime._script_engine(session, row.id, None)
        plan = InstancePlan(row.id, row.business_key)
        try:
            _move(workflow, new_specs, plan, to_version)
        except Exception as exc:  # an expression of the new version failed, say: not movable
            plan.reasons.append(_failure(exc))
        plans.append(plan)
    session.rollback()  # end the read
    diff = diff_definitions(old.xml, new.xml, key)
    return MigrationPreview(key, from_version, to_version, old.id, new.id, diff, plans)


def migrate(
    session: Session,
    runtime,
    *,
    key: str,
    from_version: int,
    to_version: int,
    instance_ids: Iterable[int] | None = None,
    actor: str,
) -> MigrationResult:
    """Move running instances of ``key`` from one version to another, one transaction each.

    ``instance_ids`` limits the move to those instances (default: every running instance of
    ``from_version``). An instance that cannot move, or whose move fails, is left untouched
    and reported in ``refused``; the others are not held back by it.
    """
    old, new = _versions(session, key, from_version, to_version)
    new_specs = runtime.specs.get(new.id, lambda: session.get(Definition, new.id))
    if instance_ids is None:
        ids = [row.id for row in _running(session, old.id, None)]
    else:
        ids = sorted({int(i) for i in instance_ids})
    session.rollback()  # end the read before the writes begin
    migrated, refused = [], []
    for instance_id in ids:
        plan = InstancePlan(instance_id, None)
        try:
            _migrate_one(session, runtime, plan, old, new, new_specs, actor)
        except Exception as exc:  # one broken instance must not stop the others
            plan.reasons.append(_failure(exc))
        (migrated if plan.movable else refused).append(plan)
    return MigrationResult(key, from_version, to_version, migrated, refused)


def _migrate_one(session, runtime, plan, old: Definition, new: Definition, new_specs, actor):
    with unit_of_work(session):
        conn = connection(session)
        row = fast_sql(conn).one(conn, "instance", (plan.instance_id,))
        if row is None:
            plan.reasons.append("the instance does not exist")
            return
        instance_id, definition_id, row_key, business_key, status, version = row
        plan.business_key = business_key
        if status != "running":
            plan.reasons.append(f"the instance is {status}, not running")
            return
        if definition_id != old.id:
            plan.reasons.append(f"the instance is not on version {old.version}")
            return
        # Never move a cached live workflow: restore the saved one. Taking the entry out also
        # drops it, so nothing can step a stale old-version object after this commits.
        runtime.workflows.take(instance_id, version)
        workflow = runtime._restore(session, instance_id, old.id)
        workflow.script_engine = runtime._script_engine(session, instance_id, actor)
        carried = _move(workflow, new_specs, plan, new.version)
        if not plan.movable:
            return
        completed: list = []
        loaded = _Loaded(
            instance_id, new.id, row_key, business_key, status, version, workflow, None, conn
        )
        # A reset task of a type the engine runs (a user task turned script task) goes on now.
        runtime._run_engine(loaded, completed)
        changed = conn.execute(
            update(PI)
            .where(PI.c.id == instance_id, PI.c.version == version)
            .values(definition_id=new.id)
        ).rowcount
        if changed != 1:
            raise ConflictError(
                f"instance {instance_id} changed while it was being migrated; try again",
                what_happened="changed concurrently",
            )
        _rename_open_tasks(conn, runtime, workflow)
        loaded.projection = _close_dropped(conn, instance_id, workflow, runtime.clock.now())
        event = (
            EventKind.INSTANCE_MIGRATED,
            None,
            {
                "from_version": old.version,
                "to_version": new.version,
                "from_definition_id": old.id,
                "to_definition_id": new.id,
                "actor": actor,
                "timers_kept": carried,
                "notes": plan.notes,
            },
        )
        runtime._save(session, loaded, "migrate", actor, completed, [event])


def _close_dropped(conn, instance_id: int, workflow: BpmnWorkflow, now) -> pj.Projection:
    """Cancel the rows of tasks and timers the move took out of the tree; return the rest.

    The projection sync looks every task of the old rows up in the workflow, and a task the
    move dropped (a waiting boundary event the new version removes) is no longer there.
    """
    before = pj.Projection.load(conn, instance_id)
    gone_tasks = [t for t in before.tasks if _find(workflow, t) is None]
    gone_timers = [t for t in before.timers if _find(workflow, t) is None]
    if gone_tasks:
        conn.execute(
            update(pj.HT)
            .where(pj.HT.c.task_id.in_(gone_tasks), pj.HT.c.state == "ready")
            .values(state="cancelled", completed_at=now)
        )
    if gone_timers:
        conn.execute(
            update(pj.TM)
            .where(pj.TM.c.task_id.in_(gone_timers), pj.TM.c.status.in_(("pending", "incident")))
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


def _rename_open_tasks(conn, runtime, workflow: BpmnWorkflow) -> None:
    """Open task rows that survive the move take the new version's name, lane and form."""
    for task in pj.ready_human_tasks(workflow):
        ready = pj.ready_task(task, runtime._candidate_group)
        conn.execute(
            update(pj.HT)
            .where(pj.HT.c.task_id == ready.task_id, pj.HT.c.state == "ready")
            .values(
                element_id=ready.element_id,
                name=ready.name,
                lane=ready.lane,
                form_key=ready.form_key,
                candidate_group=ready.candidate_group,
            )
        )


def _move(workflow: BpmnWorkflow, new_specs: tuple, plan: InstancePlan, to_version: int):
    """Move ``workflow`` onto ``new_specs`` in memory; fill ``plan``. Returns the timers kept.

    Leaves ``plan.reasons`` non-empty (and the workflow in an undefined state) when the
    instance cannot move.
    """
    new_spec, new_subprocess_specs = new_specs
    plan.waiting = sorted({_label(t) for t in _tasks(workflow) if t.state & _ALIVE})
    top, sub_diffs = diff_workflow(_registry(), workflow, new_spec, new_subprocess_specs)
    diffs = [(workflow, top, new_spec)]
    for sp_id, sub_diff in sub_diffs.items():
        sub = workflow.subprocesses[sp_id]
        if sub_diff is None:
            plan.reasons.append(
                f"it runs subprocess {sub.spec.name!r}, which version {to_version} does not have"
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
            misplaced.add(f"{_label(task)} ({TaskState.get_name(task.state).lower()})")
    plan.reasons.extend(f"{m} has no place in version {to_version}" for m in sorted(misplaced))
    if plan.reasons:
        return []
    for task in _tasks(workflow):
        old = before.get(task.id)
        if old is not None and task.state & _ALIVE:
            new_name = task.task_spec.bpmn_name
            if old[1] and new_name and old[1] != new_name:
                plan.notes.append(f"{old[0]} is now named {new_name!r}")
    for task in added:
        due = pj.timer_due(task) if pj.is_timer(task) else None
        when = f", due {due.isoformat()}" if due is not None else ""
        plan.notes.append(f"{_label(task)} is new in version {to_version}: armed now{when}")
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
                plan.notes.append(f"{label} stops waiting: version {to_version} removes it")
            elif label in seen:
                continue
            elif task.state & _ALIVE:
                seen.add(label)
                plan.reasons.append(f"it waits at {label}, which version {to_version} removes")
            else:
                seen.add(label)
                plan.reasons.append(
                    f"its history went through {label}, which version {to_version} removes "
                    "(a saved case needs every element it passed)"
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
            plan.notes.append(f"{_label(task)} changed its kind of timer: it starts again")
            continue
        task._set_internal_data(event_value=value)
        due = pj.timer_due(task)
        carried.append(
            {"element": _label(task), "due": due.isoformat() if due is not None else None}
        )
        if due is not None:
            plan.notes.append(f"{_label(task)} keeps its due time {due.isoformat()}")
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


def _label(task) -> str:
    spec = task.task_spec
    for helper in (".BoundaryEventSplit", ".BoundaryEventJoin"):
        if spec.name.endswith(helper):
            return f"the boundary events of {spec.name[: -len(helper)]}"
    element = getattr(spec, "bpmn_id", None) or spec.name
    name = getattr(spec, "bpmn_name", None)
    return f"{element} ({name})" if name and name != element else element


def _failure(exc: Exception) -> str:
    if isinstance(exc, SpiffWorkflowException | ExpressionError):
        exc = _run_error(exc)  # "the workflow failed at ELEMENT: what the expression said"
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
    session: Session, key: str, from_version: int, to_version: int, *, allow_same: bool = False
) -> tuple[Definition, Definition]:
    if from_version == to_version and not allow_same:
        raise MigrationError(f"{key}: from and to are the same version ({from_version})")
    rows = {
        d.version: d
        for d in session.scalars(
            select(Definition).where(
                Definition.key == key, Definition.version.in_([from_version, to_version])
            )
        )
    }
    for version in (from_version, to_version):
        if version not in rows:
            raise NotFound(f"{key} has no version {version}")
    return rows[from_version], rows[to_version]


@dataclass
class _Row:
    id: int
    business_key: str | None


def _running(session: Session, definition_id: int, instance_ids: Iterable[int] | None):
    stmt = (
        select(ProcessInstance.id, ProcessInstance.business_key)
        .where(
            ProcessInstance.definition_id == definition_id,
            ProcessInstance.status == "running",
        )
        .order_by(ProcessInstance.id)
    )
    if instance_ids is not None:
        stmt = stmt.where(ProcessInstance.id.in_([int(i) for i in instance_ids]))
    return [_Row(r[0], r[1]) for r in session.execute(stmt).all()]


def running_counts(session: Session, *, key: str) -> dict[int, int]:
    """version -> running instances of that version of ``key``."""
    from sqlalchemy import func

    rows = session.execute(
        select(Definition.version, func.count(ProcessInstance.id))
        .join(ProcessInstance, ProcessInstance.definition_id == Definition.id)
        .where(Definition.key == key, ProcessInstance.status == "running")
        .group_by(Definition.version)
    ).all()
    return {version: count for version, count in rows}
