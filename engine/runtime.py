"""The runtime: start instances, complete human tasks, fire timers; one transaction each.

Every step is load -> act -> save, inside :func:`~engine.db.unit_of_work`: the serialized
workflow, its version counter, the projections (human tasks, timers) and the event log change
together or not at all. Listeners registered by the domain run inside the same transaction.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, NamedTuple, Protocol

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import SignalEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from . import definitions as defs
from . import projections as pj
from .cache import WorkflowCache
from .clock import Clock, SystemClock
from .connectors import TOPIC as CONNECTOR_TOPIC
from .connectors import Connector, ConnectorJobs
from .db import after_commit, connection, in_unit_of_work, unit_of_work
from .errors import (
    ConflictError,
    EngineError,
    ExpressionError,
    NotFound,
    StoredFormatError,
    TaskDataError,
    WorkflowRunError,
)
from .events import EventKind
from .expressions import DEFAULT_BUDGET, Budget, Evaluator
from .fastsql import fast_sql
from .models import Definition, HumanTask, InstanceEvent, ProcessInstance, Timer
from .outbox import Outbox
from .projections import DeadlineOf, Projection, ReadyTask, TaskKind
from .serializer import WorkflowSerializer
from .spiff import ScriptEngine, ServiceHandler, StepContext, time_functions
from .validation import PropertyCheck

RESERVED_DATA_KEYS = {"data_objects"}

__all__ = [
    "CompletedElement",
    "InstanceRow",
    "ReadyTask",
    "Runtime",
    "StepListener",
    "StepResult",
    "run_error",
]


@dataclass
class CompletedElement:
    element_id: str
    name: str
    kind: str  # the spec class name: UserTask, ScriptTask, EndEvent, BoundaryEvent...
    is_timer: bool = False


@dataclass
class StepResult:
    """What one step did; handed to listeners and returned to callers."""

    instance_id: int
    definition_id: int
    key: str
    business_key: str | None
    version: int
    status: str
    kind: str  # start, complete, timer
    actor: str | None
    at: datetime
    ready: list[ReadyTask]  # every ready human task after the step
    completed: list[CompletedElement]
    data: dict[str, Any] = field(default_factory=dict)
    workflow: BpmnWorkflow | None = field(default=None, repr=False)
    #: the ready human tasks that were not ready before the step
    became_ready: list[ReadyTask] = field(default_factory=list)

    def completed_ids(self) -> set[str]:
        return {c.element_id for c in self.completed}


class InstanceRow(NamedTuple):
    """An instance's row without its serialized state: what a step reads first."""

    id: int
    definition_id: int
    key: str
    business_key: str | None
    status: str
    #: the optimistic-concurrency counter (every save increments it)
    version: int


class StepListener(Protocol):
    def on_step(self, session: Session, step: StepResult) -> None:
        """Called inside the step's transaction, after the instance is saved."""


@dataclass
class _Loaded:
    id: int
    definition_id: int
    key: str
    business_key: str | None
    status: str
    version: int
    workflow: BpmnWorkflow
    projection: Projection | None  # None: not known yet, read it from the rows
    conn: Connection


class Runtime:
    """The engine's entry point. One per process; safe to share between threads."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        services: Mapping[str, ServiceHandler] | None = None,
        tz: tzinfo = UTC,
        listeners: Sequence[StepListener] = (),
        spec_cache: defs.SpecCache | None = None,
        workflow_cache_size: int = 2000,
        expression_budget: Budget = DEFAULT_BUDGET,
    ) -> None:
        self.clock = clock or SystemClock()
        self.tz = tz
        self.services: dict[str, ServiceHandler] = dict(services or {})
        self.evaluator = Evaluator(
            {**time_functions(self.clock), **(functions or {})}, expression_budget
        )
        self.specs = spec_cache or defs.SpecCache()
        self.serializer = WorkflowSerializer()
        self.listeners: list[StepListener] = list(listeners)
        self.workflows = WorkflowCache(workflow_cache_size)
        #: called with the earliest due time whenever a committed step arms a timer
        self.timer_watchers: list[Callable[[datetime], None]] = []
        #: names what each human task is (projected into ``human_tasks.kind``)
        self.task_kind: TaskKind | None = None
        #: which non-interrupting boundary timers are their task's deadline (``due_at``)
        self.deadline_timer: DeadlineOf | None = None
        #: extension property name -> check of its value, run by validate and deploy
        self.property_checks: dict[str, PropertyCheck] = {}
        #: side effects to carry out after commit; the domain registers the handlers
        #: told inside the transaction that records a timer incident (``engine.timers``):
        #: ``(session, instance_id, error)`` (an alert to administrators, say)
        self.incident_listeners: list[Callable[[Session, int, str], None]] = []
        self.outbox = Outbox(self.clock)
        #: operations service tasks hand to a worker (``engine/connectors.py``), by name
        self.connectors: dict[str, Connector] = {}
        #: the versions of the forms a deployment pins (``engine.definitions.deploy``)
        self.form_versions: defs.FormVersions | None = None

    # -- wiring ---------------------------------------------------------------------------

    def add_functions(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        """Register more whitelisted functions (the domain's calendar, for instance)."""
        self.evaluator = Evaluator({**self.evaluator.functions, **functions}, self.evaluator.budget)

    def add_services(self, services: Mapping[str, ServiceHandler]) -> None:
        """Register handlers that BPMN service tasks may call by name."""
        self.services.update(services)

    def add_connectors(
        self,
        connectors: Iterable[Connector],
        *,
        session_factory: Callable[[], Session] | None = None,
    ) -> None:
        """Register connectors: a service task naming one waits while a worker carries the
        call out after the step commits, then completes it with the result.
        ``session_factory``: the worker first checks that the task still waits (a deadline
        may have taken it away) and does not call the other system when it does not."""
        for connector in connectors:
            if connector.name in self.services:
                raise EngineError(f"{connector.name!r} is already a service handler")
            self.connectors[connector.name] = connector
        if CONNECTOR_TOPIC not in self.outbox.handlers:
            self.outbox.register(CONNECTOR_TOPIC, ConnectorJobs(self, session_factory))

    def add_listener(self, listener: StepListener) -> None:
        self.listeners.append(listener)

    def set_task_kind(self, kind_of: TaskKind) -> None:
        """Say what each human task is, from its spec (a property the domain gives a
        meaning, say): the answer is projected into ``human_tasks.kind`` so that queries
        filter on it without deserializing, and the domain keys its rules on it rather than
        on element ids a designer chose."""
        self.task_kind = kind_of

    def set_deadline_timers(self, deadline_of: DeadlineOf) -> None:
        """Say which non-interrupting boundary timers are their task's deadline, from the
        timer's spec: a task's ``due_at`` is its earliest interrupting timer or such a one.
        Without it only interrupting timers count (a reminder does not make a deadline)."""
        self.deadline_timer = deadline_of

    def add_property_checks(self, checks: Mapping[str, PropertyCheck]) -> None:
        """Check the values of extension properties the domain gives a meaning to:
        validation and deployment refuse a value a check answers a message for."""
        self.property_checks.update(checks)

    def set_form_versions(self, form_versions: defs.FormVersions) -> None:
        """Say how to find the current versions of forms: every deployment stores those of
        its user tasks' forms, so the domain can render a case's tasks with the forms its
        definition version was deployed with."""
        self.form_versions = form_versions

    def _script_engine(self, session: Session, instance_id: int | None, actor: str | None):
        engine = ScriptEngine(
            self.evaluator, self.clock, self.tz, self.services, self.connectors.keys()
        )
        engine.environment.step = StepContext(session, instance_id, actor, self.clock)
        return engine

    # -- definitions ----------------------------------------------------------------------

    def deploy(
        self,
        session: Session,
        data: bytes,
        file_name: str,
        *,
        deployed_by: str,
        form_exists: defs.FormExists | None = None,
        comment: str = "",
        guard: defs.DeployGuard | None = None,
    ) -> list[defs.DeployOutcome]:
        return defs.deploy(
            session,
            data,
            file_name,
            deployed_by=deployed_by,
            comment=comment,
            guard=guard,
            clock=self.clock,
            evaluator=self.evaluator,
            form_exists=form_exists,
            services=self.services.keys(),
            property_checks=self.property_checks,
            connectors=self.connectors,
            form_versions=self.form_versions,
        )

    def validate(self, data: bytes, file_name: str, *, form_exists: defs.FormExists | None = None):
        from .validation import validate_bytes

        return validate_bytes(
            data,
            file_name,
            evaluator=self.evaluator,
            form_exists=form_exists,
            services=self.services.keys(),
            property_checks=self.property_checks,
            connectors=self.connectors,
        )

    # -- steps ----------------------------------------------------------------------------

    def start(
        self,
        session: Session,
        key: str,
        *,
        data: Mapping[str, Any] | None = None,
        actor: str | None = None,
        business_key: str | None = None,
        version: int | None = None,
    ) -> StepResult:
        """Start an instance of the latest (or given) version of ``key`` and run it to a wait."""
        data = _check_data(data or {})
        with unit_of_work(session):
            conn = connection(session)
            definition_id, definition_key = defs.definition_ref(conn, key, version)
            spec, subprocess_specs = self.definition_specs(session, definition_id)
            now = self.clock.now()
            sql = fast_sql(conn)
            instance_id = sql.one(
                conn,
                "insert_instance",
                (
                    definition_id,
                    definition_key,
                    business_key,
                    "running",
                    sql.ts(now),
                    sql.ts(now),
                ),
            )[0]
            workflow = BpmnWorkflow(
                spec,
                subprocess_specs,
                script_engine=self._script_engine(session, instance_id, actor),
            )
            start_task = workflow.get_next_task(state=TaskState.READY)
            if start_task is not None:
                start_task.data.update(data)
            loaded = _Loaded(
                instance_id,
                definition_id,
                definition_key,
                business_key,
                "running",
                0,
                workflow,
                Projection(),
                conn,
            )
            completed: list[CompletedElement] = []
            self._run_engine(loaded, completed)
            events = [(EventKind.INSTANCE_STARTED, None, {"data": self._jsonable(data)})]
            return self._save(session, loaded, "start", actor, completed, events)

    def complete_task(
        self,
        session: Session,
        task_id: str,
        *,
        data: Mapping[str, Any] | None = None,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> StepResult:
        """Complete a ready human task with ``data`` and run the instance to its next wait.

        Due timers are fired first: if one has taken the task away (a deadline passed), the
        timer's effect is saved, the submitted data is kept in the event log, and
        :class:`ConflictError` says what happened instead.
        """
        data = _check_data(data or {})
        _check_task_id(task_id)
        rejection: ConflictError | None = None
        with unit_of_work(session):
            conn = connection(session)
            row = _instance_row(conn, "instance_of_task", task_id)
            if row is None:
                raise NotFound(f"task {task_id} does not exist")
            loaded = self._load(session, row, actor)
            _check_version(loaded.version, expected_version)
            completed: list[CompletedElement] = []
            self._fire_due(loaded, completed)
            task = loaded.workflow.get_task_from_id(uuid.UUID(task_id))
            if task is None:
                raise NotFound(f"task {task_id} does not exist")
            if task.state != TaskState.READY or not task.task_spec.manual:
                rejection = _rejection(task, completed)
                events = [
                    (
                        EventKind.TASK_REJECTED,
                        task.task_spec.name,
                        {"data": self._jsonable(data), "reason": rejection.what_happened},
                    )
                ]
                if completed:
                    self._save(session, loaded, "timer", actor, completed, events)
                else:
                    self._append_events(loaded.conn, loaded.id, actor, events)
            else:
                task.data.update(data)
                self._run_task(task)
                completed.append(_element(task))
                self._run_engine(loaded, completed)
                name = task.task_spec.bpmn_name or task.task_spec.name
                events = [
                    (
                        EventKind.TASK_COMPLETED,
                        task.task_spec.name,
                        {"name": name, "data": self._jsonable(data)},
                    )
                ]
                return self._save(session, loaded, "complete", actor, completed, events)
        raise rejection

    def signal(
        self,
        session: Session,
        instance_id: int,
        name: str,
        *,
        payload: Mapping[str, Any] | None = None,
        actor: str | None = None,
        expected_version: int | None = None,
    ) -> StepResult:
        """Deliver the BPMN signal ``name`` to one running instance and run it to its next wait:
        one step (listeners run, one transaction). An event sub-process it starts sees the
        process data as it is now, with ``payload`` on top (see :func:`engine_steps`).

        Due timers are fired first. :class:`ConflictError` if the instance is not running or
        nothing in it waits for the signal (nothing is written then).
        """
        payload = _check_data(payload or {})
        with unit_of_work(session):
            row = _running_row(connection(session), instance_id)
            loaded = self._load(session, row, actor)
            _check_version(loaded.version, expected_version)
            completed: list[CompletedElement] = []
            self._fire_due(loaded, completed)
            workflow = loaded.workflow
            event = BpmnEvent(SignalEventDefinition(name), dict(payload))
            try:
                caught = workflow.event_manager.catch(event, internal=False)
            except (SpiffWorkflowException, ExpressionError) as exc:
                raise run_error(exc) from None
            if caught == 0:
                raise ConflictError(
                    f"instance {instance_id} is not waiting for the signal {name!r}",
                    what_happened="not waiting for the signal",
                )
            self._run_engine(loaded, completed, payload)
            events = [
                (EventKind.SIGNAL_RECEIVED, None, {**self._jsonable(payload), "signal": name})
            ]
            return self._save(session, loaded, "signal", actor, completed, events)

    def fire_timers(
        self, session: Session, instance_id: int, *, actor: str = "timer"
    ) -> StepResult | None:
        """Fire whatever timers of one instance are due now and run it to its next wait.

        Returns None, and writes nothing, when no timer of the instance is due (another worker
        fired it already, or it was disarmed): firing twice has no second effect.
        """
        with unit_of_work(session):
            conn = connection(session)
            row = _instance_row(conn, "instance", instance_id)
            if row is None:
                raise NotFound(f"instance {instance_id} does not exist")
            if row.status != "running":
                return None
            loaded = self._load(session, row, actor)
            completed: list[CompletedElement] = []
            if not self._fire_due(loaded, completed):
                self.workflows.put(loaded.id, loaded.version, loaded.workflow, loaded.projection)
                return None
            return self._save(session, loaded, "timer", actor, completed, [])

    def complete_service(
        self,
        session: Session,
        instance_id: int,
        task_id: str,
        *,
        result_variable: str,
        value: Any = None,
        data: Mapping[str, Any] | None = None,
        actor: str = "connector",
    ) -> StepResult | None:
        """Complete a service task that waits for its connector, with the call's result in
        ``result_variable`` (and ``data`` merged into the task data), and run the instance on
        to its next wait: one step.

        Due timers are fired first (a deadline on the task may have taken it away). Returns
        None, and writes nothing, when the instance has ended or the task no longer waits
        (completed by an earlier delivery of the same call, or cancelled): a call delivered
        twice completes its task once.
        """
        _check_task_id(task_id)
        with unit_of_work(session):
            row = _instance_row(connection(session), "instance", instance_id)
            if row is None or row.status != "running":
                return None
            loaded = self._load(session, row, actor)
            completed: list[CompletedElement] = []
            fired = self._fire_due(loaded, completed)
            task = loaded.workflow.get_task_from_id(uuid.UUID(task_id))
            waiting = task is not None and task.state == TaskState.STARTED
            if not waiting:
                if fired:
                    return self._save(session, loaded, "timer", actor, completed, [])
                self.workflows.put(loaded.id, loaded.version, loaded.workflow, loaded.projection)
                return None
            task.data.update(dict(data or {}))
            task.data[result_variable] = value
            try:
                task.complete()
            except (SpiffWorkflowException, ExpressionError) as exc:
                raise run_error(exc) from None
            completed.append(_element(task))
            self._run_engine(loaded, completed)
            events = [
                (
                    EventKind.CONNECTOR_DONE,
                    task.task_spec.name,
                    {
                        "connector": getattr(task.task_spec, "operation_name", None),
                        "result_variable": result_variable,
                        "result": self._jsonable({"value": value})["value"],
                    },
                )
            ]
            return self._save(session, loaded, "connector", actor, completed, events)

    def service_waiting(self, session: Session, instance_id: int, task_id: str) -> bool:
        """Whether the service task ``task_id`` of a running instance still waits for its
        connector (reads only)."""
        _check_task_id(task_id)
        row = _instance_row(connection(session), "instance", instance_id)
        if row is None or row.status != "running":
            return False

        def waiting(workflow) -> bool:
            task = workflow.get_task_from_id(uuid.UUID(task_id))
            return task is not None and task.state == TaskState.STARTED

        cached = self.workflows.read(row.id, row.version, waiting)
        if cached is not None:
            return cached
        return waiting(self._restore(session, row.id, row.definition_id))

    def cancel(
        self, session: Session, instance_id: int, *, actor: str | None, reason: str
    ) -> StepResult:
        """Stop a running instance: every waiting task and timer is cancelled, with the reason."""
        with unit_of_work(session):
            row = _running_row(connection(session), instance_id)
            loaded = self._load(session, row, actor)
            loaded.workflow.cancel()
            events = [(EventKind.INSTANCE_CANCELLED, None, {"reason": reason})]
            return self._save(session, loaded, "cancel", actor, [], events, cancelled=True)

    def fire_due_timers(self, session: Session, *, limit: int = 1000) -> int:
        """Fire every instance's due timers, one transaction per instance. Returns instances run.

        A simple sweep for a single process and for tests; the timer service claims rows with
        leases so that several workers can share the work.
        """
        if in_unit_of_work(session):
            raise RuntimeError("fire_due_timers runs its own transactions; call it outside one")
        now = self.clock.now()
        ids = session.scalars(
            select(pj.TM.c.instance_id)
            .where(pj.TM.c.status == "pending", pj.TM.c.due_at <= now)
            .group_by(pj.TM.c.instance_id)
            .order_by(func.min(pj.TM.c.due_at))
            .limit(limit)
        ).all()
        session.rollback()  # end the read before the writes begin
        for instance_id in ids:
            self.fire_timers(session, instance_id)
        return len(ids)

    def record_event(
        self,
        session: Session,
        instance_id: int,
        kind: str,
        *,
        actor: str | None = None,
        element_id: str | None = None,
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        """Append a domain event to an instance's log (inside the caller's transaction)."""
        self._append_events(
            connection(session),
            instance_id,
            actor,
            [(kind, element_id, self._jsonable(dict(payload or {})))],
        )

    # -- reads ----------------------------------------------------------------------------

    def ready_tasks(self, session: Session, instance_id: int) -> list[HumanTask]:
        return list(
            session.scalars(
                select(HumanTask)
                .where(HumanTask.instance_id == instance_id, HumanTask.state == "ready")
                .order_by(HumanTask.id)
            )
        )

    def task(self, session: Session, task_id: str) -> HumanTask:
        row = session.scalars(select(HumanTask).where(HumanTask.task_id == task_id)).first()
        if row is None:
            raise NotFound(f"task {task_id} does not exist")
        return row

    def instance(self, session: Session, instance_id: int) -> ProcessInstance:
        row = session.get(ProcessInstance, instance_id)
        if row is None:
            raise NotFound(f"instance {instance_id} does not exist")
        return row

    def events(self, session: Session, instance_id: int) -> list[InstanceEvent]:
        return list(
            session.scalars(
                select(InstanceEvent)
                .where(InstanceEvent.instance_id == instance_id)
                .order_by(InstanceEvent.id)
            )
        )

    def pending_timers(self, session: Session, instance_id: int) -> list[Timer]:
        return list(
            session.scalars(
                select(Timer)
                .where(Timer.instance_id == instance_id, Timer.status == "pending")
                .order_by(Timer.due_at)
            )
        )

    def data(self, session: Session, instance_id: int) -> dict[str, Any]:
        """The instance's current data: that of its most recently finished task (not an
        event sub-process's, see :func:`process_data`)."""
        row = self.instance_row(session, instance_id)
        # the live workflow of the row's version, if a step of this process left it cached
        # (a deep copy, as a restore would give), else restored from the row
        cached = self.workflows.read(row.id, row.version, _last_data)
        if cached is not None:
            return cached
        workflow = self._restore(session, row.id, row.definition_id)
        return process_data(workflow)

    def instance_row(self, session: Session, instance_id: int) -> InstanceRow:
        """The instance's row without its state (raises :class:`NotFound`)."""
        row = _instance_row(connection(session), "instance", instance_id)
        if row is None:
            raise NotFound(f"instance {instance_id} does not exist")
        return row

    def definition_specs(self, session: Session, definition_id: int) -> tuple:
        """(spec, sub-process specs) of a deployed definition, parsed once per process."""
        return self.specs.get(definition_id, lambda: session.get(Definition, definition_id))

    # -- tools that work on a whole workflow (moving instances between versions) ----------

    def restore_workflow(
        self, session: Session, instance_id: int, definition_id: int, *, actor: str | None = None
    ) -> BpmnWorkflow:
        """The instance's saved workflow on ``definition_id``'s spec, ready to run.

        Always restored from the row, never the cached live workflow (which a step may be
        changing), so the caller may change it freely; nothing is written.
        """
        workflow = self._restore(session, instance_id, definition_id)
        workflow.script_engine = self._script_engine(session, instance_id, actor)
        return workflow

    def save_moved(
        self,
        session: Session,
        row: InstanceRow,
        workflow: BpmnWorkflow,
        *,
        definition_id: int,
        actor: str,
        details: Mapping[str, Any],
    ) -> StepResult:
        """Save ``workflow``, moved onto ``definition_id``, as the instance ``row`` now is.

        Saved as a step is (in the caller's transaction, or its own): the engine first runs
        what the move made ready for it, the row points at the new definition, the projections
        follow (open task rows take their new name, lane and form; the rows of tasks and timers
        the move took out of the tree are closed), and ``instance.migrated`` with ``details``
        goes to the event log. :class:`ConflictError` if the row changed since it was read.
        """
        with unit_of_work(session):
            conn = connection(session)
            # a cached live workflow is of the old version: never step it again
            self.workflows.take(row.id, row.version)
            workflow.script_engine = self._script_engine(session, row.id, actor)
            loaded = _Loaded(
                row.id,
                definition_id,
                row.key,
                row.business_key,
                row.status,
                row.version,
                workflow,
                None,
                conn,
            )
            completed: list[CompletedElement] = []
            self._run_engine(loaded, completed)
            changed = conn.execute(
                update(pj.PI)
                .where(pj.PI.c.id == row.id, pj.PI.c.version == row.version)
                .values(definition_id=definition_id)
            ).rowcount
            if changed != 1:
                raise ConflictError(
                    f"instance {row.id} changed while it was being moved; try again",
                    what_happened="changed concurrently",
                )
            pj.rename_open_tasks(conn, workflow, self._candidate_group, self.task_kind)
            loaded.projection = pj.close_dropped(conn, row.id, workflow, self.clock.now())
            events = [(EventKind.INSTANCE_MIGRATED, None, self._jsonable(details))]
            return self._save(session, loaded, "migrate", actor, completed, events)

    # -- internals ------------------------------------------------------------------------

    def _restore(self, session: Session, instance_id: int, definition_id: int) -> BpmnWorkflow:
        conn = connection(session)
        (state,) = fast_sql(conn).one(conn, "state", (instance_id,))
        spec, subprocess_specs = self.definition_specs(session, definition_id)
        try:
            return self.serializer.loads(state, spec, subprocess_specs)
        except StoredFormatError as exc:
            raise StoredFormatError(f"instance {instance_id} cannot be loaded: {exc}") from exc

    def _load(self, session: Session, row: InstanceRow, actor: str | None) -> _Loaded:
        instance_id, definition_id, key, business_key, status, version = row
        cached = self.workflows.take(instance_id, version)
        if cached is not None:
            workflow, projection = cached
        else:
            workflow = self._restore(session, instance_id, definition_id)
            projection = None
        workflow.script_engine = self._script_engine(session, instance_id, actor)
        return _Loaded(
            instance_id,
            definition_id,
            key,
            business_key,
            status,
            version,
            workflow,
            projection,
            connection(session),
        )

    def _run_engine(
        self,
        loaded: _Loaded,
        completed: list[CompletedElement],
        payload: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            engine_steps(loaded.workflow, lambda t: completed.append(_element(t)), payload)
        except (SpiffWorkflowException, ExpressionError) as exc:
            raise run_error(exc) from None

    def _run_task(self, task) -> None:
        try:
            task.run()
        except (SpiffWorkflowException, ExpressionError) as exc:
            raise run_error(exc) from None

    def _fire_due(self, loaded: _Loaded, completed: list[CompletedElement]) -> bool:
        """Move due timers to READY and, if any did, run the engine on from them.

        Returns whether a timer fired (a cycle timer's occurrence counts).
        """
        workflow = loaded.workflow
        timers = [t for t in workflow.event_manager.tasks.values() if pj.is_timer(t)]
        if not timers:
            return False
        before = {t.id: pj.timer_due(t) for t in timers}
        try:
            workflow.refresh_timers()
        except (SpiffWorkflowException, ExpressionError) as exc:
            raise run_error(exc) from None
        fired = any(t.state == TaskState.READY or pj.timer_due(t) != before[t.id] for t in timers)
        if fired:
            self._run_engine(loaded, completed)
        return fired

    def _save(
        self,
        session: Session,
        loaded: _Loaded,
        kind: str,
        actor: str | None,
        completed: list[CompletedElement],
        events: list[tuple[str, str | None, dict[str, Any]]],
        *,
        cancelled: bool = False,
    ) -> StepResult:
        now = self.clock.now()
        wf = loaded.workflow
        done = cancelled or pj.is_finished(wf)
        status = "cancelled" if cancelled else "completed" if done else "running"
        conn = loaded.conn
        sql = fast_sql(conn)
        changed = sql.run(
            conn,
            "save_instance",
            (
                self.serializer.dumps(wf),
                status,
                sql.ts(now),
                sql.ts(now) if done else None,
                loaded.id,
                loaded.version,
            ),
        )
        if changed != 1:
            raise ConflictError(
                f"instance {loaded.id} was changed by another transaction; nothing was saved",
                what_happened="changed concurrently",
            )
        before = loaded.projection or Projection.load(conn, loaded.id)
        synced = pj.sync(
            conn,
            loaded.id,
            wf,
            before,
            actor=actor,
            now=now,
            group_of=self._candidate_group,
            kind_of=self.task_kind,
            deadline_of=self.deadline_timer,
        )
        ready, after = synced.ready, synced.projection
        events.extend(
            (EventKind.TIMER_FIRED, element, {"name": name}) for element, name in synced.fired
        )
        events.extend(self._queue_connector_calls(session, loaded))
        if done and not cancelled and loaded.status != "completed":
            events.append((EventKind.INSTANCE_COMPLETED, None, {}))
        self._append_events(conn, loaded.id, actor, events, now)
        last = wf.last_task or wf.task_tree
        step = StepResult(
            instance_id=loaded.id,
            definition_id=loaded.definition_id,
            key=loaded.key,
            business_key=loaded.business_key,
            version=loaded.version + 1,
            status=status,
            kind=kind,
            actor=actor,
            at=now,
            ready=ready,
            completed=completed,
            data=last.data,
            workflow=wf,
            became_ready=[r for r in ready if r.task_id not in before.tasks],
        )
        for listener in self.listeners:
            listener.on_step(session, step)
        if synced.armed and self.timer_watchers:
            earliest = min(synced.armed)
            for watcher in self.timer_watchers:
                after_commit(session, lambda w=watcher: w(earliest))
        if self.workflows.maxsize and not done:
            version = loaded.version + 1
            after_commit(session, lambda: self.workflows.put(loaded.id, version, wf, after))
        return step

    def _queue_connector_calls(
        self, session: Session, loaded: _Loaded
    ) -> list[tuple[str, str | None, dict[str, Any]]]:
        """One outbox message per connector call the step's service tasks asked for, keyed
        by instance and task (a step saved twice writes one); their log entries."""
        engine = loaded.workflow.script_engine
        step = getattr(getattr(engine, "environment", None), "step", None)
        if step is None or not step.deferred:
            return []
        events = []
        for call in step.deferred:
            params = self._jsonable(call.params)
            self.outbox.write(
                session,
                topic=CONNECTOR_TOPIC,
                key=f"{CONNECTOR_TOPIC}:{loaded.id}:{call.task_id}",
                payload={
                    "instance_id": loaded.id,
                    "task_id": call.task_id,
                    "element_id": call.element_id,
                    "connector": call.connector,
                    "params": params,
                    "result_variable": call.result_variable,
                },
            )
            events.append(
                (EventKind.CONNECTOR_QUEUED, call.element_id, {"connector": call.connector})
            )
        step.deferred.clear()
        return events

    def _candidate_group(self, task) -> str | None:
        """Evaluate the task's ``candidateGroups`` property (an expression) on its data."""
        expression = pj.task_properties(task).get("candidateGroups")
        if not expression:
            return None
        try:
            value = self.evaluator.evaluate(expression, task.data)
        except ExpressionError as exc:
            element = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
            raise WorkflowRunError(
                f"the workflow failed at {element}: candidateGroups {exc}", element=element
            ) from None
        return None if value is None else str(value)

    def _append_events(self, conn: Connection, instance_id, actor, events, now=None) -> None:
        sql = fast_sql(conn)
        at = sql.ts(now or self.clock.now())
        sql.many(
            conn,
            "insert_event",
            [
                (instance_id, at, actor, kind, element, sql.json(payload))
                for kind, element, payload in events
            ],
        )

    def _jsonable(self, data: Mapping[str, Any]) -> dict[str, Any]:
        return self.serializer.to_json_value(dict(data))


def engine_steps(
    workflow,
    did_complete_task: Callable[[Any], None],
    payload: Mapping[str, Any] | None = None,
) -> None:
    """SpiffWorkflow's ``do_engine_steps``, finding READY tasks by a flat scan of each
    workflow's task dict instead of its tree iterator (which walks every task of a long
    case's history at every pass: about a fifth of the CPU of firing a timer). Same passes:
    innermost sub-processes first, until no engine task is ready; then timers refresh.
    Tasks made ready by a run are taken by the next pass rather than the same one.

    An event sub-process that an event has just started (its start event caught and not yet
    run) is given the process data as it is now, with ``payload`` on top: in BPMN it sees its
    parent's variables, while SpiffWorkflow starts it on the data the process started with."""

    def update(wf) -> int:
        count = 0
        for task in [t for t in wf.tasks.values() if t.state == TaskState.READY]:
            if task.state != TaskState.READY or task.task_spec.manual:
                continue  # an earlier run of this pass moved it on, or a person does it
            task.run()
            count += 1
            did_complete_task(task)
        return count

    while True:
        active = workflow.get_active_subprocesses()
        for sub in sorted(active, key=lambda v: v.depth, reverse=True):
            _seed_event_subprocess(workflow, sub, payload)
            while update(sub) > 0:
                pass
            if sub.parent_task_id is not None:
                task = workflow.get_task_from_id(sub.parent_task_id)
                task.task_spec._update(task)
        count = update(workflow)
        if count == 0 and len(workflow.get_active_subprocesses()) <= len(active):
            break
    workflow.refresh_timers()


def _seed_event_subprocess(workflow, sub, payload: Mapping[str, Any] | None) -> None:
    parent = workflow.get_task_from_id(sub.parent_task_id) if sub.parent_task_id else None
    if parent is None or not _is_event_subprocess(parent):
        return
    starts = [
        t
        for t in sub.tasks.values()
        if t.state == TaskState.READY and isinstance(t.task_spec, StartEvent)
    ]
    if not starts:
        return
    current = process_data(parent.workflow)
    for start in starts:
        start.data.update(copy.deepcopy(current))
        start.data.update(copy.deepcopy(dict(payload or {})))


def _is_event_subprocess(task) -> bool:
    # the Spiff parser makes event sub-processes plain SubWorkflowTasks: what marks them is
    # that the process's start lists them as started by an event
    start = getattr(task.workflow.spec, "start", None)
    return task.task_spec.name in getattr(start, "trigger_specs", ())


def process_data(workflow) -> dict[str, Any]:
    """The data of a (sub-)process as it is now: that of its most recently finished task,
    leaving out event sub-processes (which bring back their own copy when they end)."""
    last = workflow.last_task
    if last is not None and not _is_event_subprocess(last):
        return dict(last.data)
    finished = [
        (t.last_state_change, i, t)
        for i, t in enumerate(workflow.tasks.values())
        if t.state == TaskState.COMPLETED and not _is_event_subprocess(t)
    ]
    if not finished:
        return dict(workflow.task_tree.data)
    return dict(max(finished, key=lambda f: f[:2])[2].data)


def _element(task) -> CompletedElement:
    spec = task.task_spec
    return CompletedElement(
        element_id=getattr(spec, "bpmn_id", None) or spec.name,
        name=getattr(spec, "bpmn_name", None) or spec.name,
        kind=type(spec).__name__,
        is_timer=pj.is_timer(task),
    )


def _rejection(task, completed: list[CompletedElement]) -> ConflictError:
    name = task.task_spec.bpmn_name or task.task_spec.name
    timers = [c for c in completed if c.is_timer]
    if timers:
        what = f"the deadline timer {timers[0].name!r} fired first and took the case past {name!r}"
    elif task.state == TaskState.COMPLETED:
        what = f"{name!r} was already completed"
    elif task.state == TaskState.CANCELLED:
        what = f"{name!r} was cancelled (a deadline or another path took the case on)"
    else:
        what = f"{name!r} is not ready ({TaskState.get_name(task.state).lower()})"
    return ConflictError(
        f"cannot complete {name!r}: {what}; your input was kept in the case history",
        what_happened=what,
    )


def run_error(exc: Exception) -> WorkflowRunError:
    """A SpiffWorkflow or expression error as "the workflow failed at ELEMENT: what it said"."""
    task = getattr(exc, "task", None)
    # a gateway with no true condition names its spec, not a task
    spec = task.task_spec if task is not None else getattr(exc, "task_spec", None)
    element = None
    if spec is not None:
        element = getattr(spec, "bpmn_id", None) or spec.name
    inner = exc.__cause__ or exc.__context__  # SpiffWorkflow wraps our error while handling it
    message = str(inner) if isinstance(inner, ExpressionError) else str(exc).split("\n")[0]
    where = f" at {element}" if element else ""
    return WorkflowRunError(f"the workflow failed{where}: {message}", element=element)


def _check_version(version: int, expected: int | None) -> None:
    """ConflictError when the caller loaded an earlier version of the instance."""
    if expected is not None and version != expected:
        raise ConflictError(
            f"the case changed since you loaded it (version {expected}, now {version}); "
            "reload it and try again",
            what_happened="changed by someone else",
        )


def _running_row(conn: Connection, instance_id: int) -> InstanceRow:
    """The row of a running instance: NotFound if there is none, ConflictError if it ended."""
    row = _instance_row(conn, "instance", instance_id)
    if row is None:
        raise NotFound(f"instance {instance_id} does not exist")
    if row.status != "running":
        raise ConflictError(
            f"instance {instance_id} is {row.status}, not running",
            what_happened=f"already {row.status}",
        )
    return row


def _instance_row(conn: Connection, statement: str, param) -> InstanceRow | None:
    row = fast_sql(conn).one(conn, statement, (param,))
    return None if row is None else InstanceRow._make(row)


def _check_task_id(task_id: str) -> None:
    try:
        uuid.UUID(str(task_id))
    except ValueError:
        raise NotFound(f"task {task_id!r} does not exist") from None


def _check_data(data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise TaskDataError("task data must be an object of field names to values")
    out = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_"):
            raise TaskDataError(f"{key!r} is not a valid field name")
        if key in RESERVED_DATA_KEYS:
            raise TaskDataError(f"{key!r} is a reserved name")
        out[key] = value
    return out


def _last_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """A copy of the workflow's data as it is now (:func:`process_data`)."""
    return copy.deepcopy(process_data(workflow))
