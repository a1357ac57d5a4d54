"""Keeps each case row in step with its workflow, inside the engine step's transaction.

The diagram drives the process; the case row mirrors it for queries and KPIs:
- the status is read from the ``status`` property of the ready main-path task (a case closes
  when its instance completes), and every change is checked against the transition table;
- deadlines, timestamps and counters are copied from the process data of the main path;
- timer elements with an ``effect`` property (``sign_overdue``, ``warn``, ``overdue``) mark
  escalations; the yellow/red state is derived from the deadlines and the clock;
- once the row is up to date, the step's domain events (``workflows/events.py``) are
  published to the subscribers, in the same transaction.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, inspect, select
from sqlalchemy.orm import Session

from engine.clock import Clock, as_utc
from engine.db import real_session
from engine.runtime import Runtime, StepResult

from ..departments.models import Department
from ..errors import DomainError
from ..events import (
    CaseClosed,
    CaseEvent,
    CaseEventKind,
    CaseOpened,
    Deadline,
    DeadlinePassed,
    DeadlineWarned,
    EventBus,
    StatusChanged,
    SupervisionOpened,
    TaskCompleted,
    TaskReady,
)
from .enums import CLOCK_RUNNING, CaseStatus, ContactResult, DueState, Outcome, can_move
from .models import CallbackAttempt, Case, CaseDepartment
from .process import element_properties
from .steps import TASK_OVERDUE, TASK_WARN, Step, step_of

#: process data key -> case column, copied after every step when present in the data
MIRRORED_DATES = (
    "dispatched_at",
    "sign_due",
    "signed_at",
    "return_due",
    "reply_due",
    "warn_at",
    "replied_at",
    "closed_at",
    "paused_at",
    "callback_at",
)
MIRRORED_COUNTS = ("return_count", "extension_count", "reopen_count")


class CaseMirror:
    """The engine step listener that updates the ``cases`` row of the stepped instance."""

    def __init__(self, runtime: Runtime, clock: Clock, events: EventBus | None = None) -> None:
        self.runtime = runtime
        self.clock = clock
        self.events = events or EventBus()

    def on_step(self, session: Session, step: StepResult) -> None:
        if not step.business_key:
            return
        case = (
            _loaded_case(session, step.business_key)
            or session.scalars(select(Case).where(Case.number == step.business_key)).first()
        )
        if case is not None:
            published: list[CaseEvent] = []
            self._on_step(session, case, step, published)
            for event in published:
                self.events.publish(session, event)

    def _on_step(
        self, session: Session, case: Case, step: StepResult, published: list[CaseEvent]
    ) -> None:
        if case.instance_id is None:
            case.instance_id = step.instance_id
        workflow = step.workflow
        main = [(r, element_properties(workflow, r.element_id).get("status")) for r in step.ready]
        main = [(r, status) for r, status in main if status]
        data = _main_data(workflow, main[0][0].task_id if main else None)
        self._mirror(session, case, data)
        events = _Events(self.events, case, step, published)
        if step.kind == "start":
            events.add(CaseOpened, case_type=str(case.case_type), channel=str(case.channel))
        for element in step.completed:
            effect = element_properties(workflow, element.element_id).get("effect")
            if effect == "sign_overdue":
                case.sign_escalated = True
                self._event(session, case, CaseEventKind.SIGN_OVERDUE, step)
                events.add(DeadlinePassed, deadline=Deadline.SIGN, element_id=element.element_id)
            elif effect == "overdue":
                case.escalated = True
                self._event(session, case, CaseEventKind.OVERDUE, step)
                events.add(DeadlinePassed, deadline=Deadline.REPLY, element_id=element.element_id)
            elif effect == "warn":
                self._event(session, case, CaseEventKind.WARNING, step)
                events.add(DeadlineWarned, element_id=element.element_id)
            elif effect in (TASK_WARN, TASK_OVERDUE):
                self._task_clock(session, case, step, events, element, effect)
            elif element.kind == "UserTask":
                task_step = _step_of(workflow, element.element_id)
                if task_step == Step.CALLBACK:
                    self._callback_attempt(session, case, step, data)
                if events.wanted(TaskCompleted):
                    events.add(
                        TaskCompleted,
                        element_id=element.element_id,
                        name=element.name,
                        step=task_step,
                    )
        if step.status == "completed":
            outcome = ""
            for element in step.completed:
                outcome = element_properties(workflow, element.element_id).get("outcome") or outcome
            self._close(session, case, outcome or "handled", step, events)
        elif step.status == "running" and main:
            self._move(session, case, CaseStatus(main[0][1]), step, events, main[0][0].element_id)
        self._due_state(case, step.at)
        case.updated_at = step.at
        if events.wanted(TaskReady) or events.wanted(SupervisionOpened):
            self._ready(workflow, step, events)

    def _callback_attempt(
        self, session: Session, case: Case, step: StepResult, data: dict[str, Any]
    ) -> None:
        """The callback task was completed: one call to the citizen, recorded with what came
        of it (the form's ``contact_result``; a form without it recorded a reached citizen)."""
        result = str(data.get("contact_result") or ContactResult.REACHED)
        reason = data.get("unreached_reason") if result == ContactResult.NOT_REACHED else None
        session.add(
            CallbackAttempt(
                case_id=case.id,
                at=step.at,
                user=step.actor or "",
                result=result,
                reason=str(reason) if reason else None,
                note=str(data.get("callback_note") or ""),
            )
        )

    def _ready(self, workflow: Any, step: StepResult, events: _Events) -> None:
        for ready in step.became_ready:
            kind = ready.kind
            events.add(
                TaskReady,
                task_id=ready.task_id,
                element_id=ready.element_id,
                name=ready.name,
                step=kind,
                candidate_group=ready.candidate_group,
            )
            if kind == Step.SUPERVISE:
                events.add(SupervisionOpened, task_id=ready.task_id, element_id=ready.element_id)

    def _task_clock(
        self,
        session: Session,
        case: Case,
        step: StepResult,
        events: _Events,
        element: Any,
        effect: str,
    ) -> None:
        """A task's own clock fired (a boundary timer with ``effect`` task_warn or
        task_overdue): recorded on the case's timeline with the task it ran on, and published
        as the yellow or red deadline of that task."""
        props = element_properties(step.workflow, element.element_id)
        host = _attached_to(step.workflow, element.element_id)
        task_step = _step_of(step.workflow, host) if host else None
        clock = props.get("clock") or None
        payload = {"element": element.element_id, "task": host, "step": task_step, "clock": clock}
        if task_step == Step.COHANDLE:
            # one clock for the units asked together: name those it caught still to answer
            payload["pending"] = _cohandle_pending(step, effect)
        if effect == TASK_WARN:
            self._event(session, case, CaseEventKind.TASK_WARNING, step, payload)
            events.add(DeadlineWarned, element_id=element.element_id, clock=clock, step=task_step)
        else:
            self._event(session, case, CaseEventKind.TASK_OVERDUE, step, payload)
            events.add(
                DeadlinePassed,
                deadline=Deadline.TASK,
                element_id=element.element_id,
                clock=clock,
                step=task_step,
            )

    # -- pieces ---------------------------------------------------------------------------

    def _mirror(self, session: Session, case: Case, data: dict[str, Any]) -> None:
        for key in MIRRORED_DATES:
            if key in data:
                value = data[key]
                setattr(case, key, _as_datetime(value))
        for key in MIRRORED_COUNTS:
            if isinstance(data.get(key), int):
                setattr(case, key, data[key])
        if data.get("reply_text"):
            case.reply_text = str(data["reply_text"])
        if data.get("satisfaction"):
            case.satisfaction = str(data["satisfaction"])
        if data.get("resolved") in ("yes", "no", True, False):
            case.resolved = data["resolved"] in ("yes", True)
        lead = data.get("lead_department")
        if lead:
            self._set_departments(session, case, lead, data.get("co_departments") or [])

    def _set_departments(self, session: Session, case: Case, lead: str, co: list[str]) -> None:
        codes = [lead, *[c for c in co if c != lead]]
        if case.lead_department_id is not None and case.id is not None:
            # Every step after dispatch carries the departments: most change nothing, and
            # the case's own rows say so in one read (which need not flush the case's new
            # dates first: the step's changes then go out in one UPDATE at its end).
            with _unless_departments_unsaved(session):
                linked = session.execute(
                    select(Department.code, CaseDepartment.department_id, CaseDepartment.role)
                    .join(Department, Department.id == CaseDepartment.department_id)
                    .where(CaseDepartment.case_id == case.id)
                ).all()
            wanted = {code: "lead" if code == lead else "co" for code in codes}
            if {code: role for code, _, role in linked} == wanted and any(
                role == "lead" and department_id == case.lead_department_id
                for _, department_id, role in linked
            ):
                return
        ids = dict(
            session.execute(
                select(Department.code, Department.id).where(Department.code.in_(codes))
            ).all()
        )
        if lead not in ids:
            raise DomainError(f"department {lead!r} does not exist")
        if case.lead_department_id == ids[lead]:
            current = set(
                session.scalars(
                    select(CaseDepartment.department_id).where(CaseDepartment.case_id == case.id)
                )
            )
            if current == {ids[c] for c in codes if c in ids}:
                return
        case.lead_department_id = ids[lead]
        session.execute(delete(CaseDepartment).where(CaseDepartment.case_id == case.id))
        for code in codes:
            if code in ids:
                session.add(
                    CaseDepartment(
                        case_id=case.id,
                        department_id=ids[code],
                        role="lead" if code == lead else "co",
                    )
                )

    def _move(
        self,
        session: Session,
        case: Case,
        target: CaseStatus,
        step: StepResult,
        events: _Events,
        element_id: str | None = None,
        *,
        outcome: str | None = None,
    ) -> None:
        current = CaseStatus(case.status) if case.status else None
        if current == target:
            return
        if current == CaseStatus.MERGED:
            return  # a merged duplicate follows its master, not its own diagram
        if not can_move(current, target):
            raise DomainError(
                f"case {case.number}: the diagram moved it from {current} to {target}, which "
                "the status table does not allow"
            )
        case.status = target
        self._event(
            session,
            case,
            CaseEventKind.STATUS,
            step,
            {
                "from": str(current) if current else None,
                "to": str(target),
                **({"outcome": outcome} if outcome else {}),
            },
        )
        events.add(
            StatusChanged,
            from_status=str(current) if current else None,
            to_status=str(target),
            step=_step_of(step.workflow, element_id) if element_id else None,
            element_id=element_id,
        )

    def _close(
        self, session: Session, case: Case, outcome: str, step: StepResult, events: _Events
    ) -> None:
        if case.status == CaseStatus.CLOSED:
            return
        self._move(session, case, CaseStatus.CLOSED, step, events, outcome=outcome)
        case.closed_at = case.closed_at or step.at
        case.outcome = outcome
        case.first_contact_resolution = first_contact_resolution(case)
        events.add(CaseClosed, outcome=outcome)
        for duplicate in session.scalars(
            select(Case).where(Case.merged_into_id == case.id, Case.status == CaseStatus.MERGED)
        ):
            duplicate.status = CaseStatus.CLOSED
            duplicate_events = _Events(self.events, duplicate, step, events.published)
            duplicate_events.add(
                StatusChanged,
                from_status=str(CaseStatus.MERGED),
                to_status=str(CaseStatus.CLOSED),
                step=None,
                element_id=None,
                instance_id=duplicate.instance_id,
                instance_version=None,
            )
            duplicate_events.add(
                CaseClosed,
                outcome="merged",
                instance_id=duplicate.instance_id,
                instance_version=None,
            )
            duplicate.closed_at = step.at
            duplicate.outcome = "merged"
            duplicate.updated_at = step.at
            if duplicate.instance_id is not None:
                self.runtime.record_event(
                    session,
                    duplicate.instance_id,
                    CaseEventKind.CLOSED_WITH_MASTER,
                    actor=step.actor,
                    payload={"master": case.number},
                )

    def _due_state(self, case: Case, now: datetime) -> None:
        if case.replied_at is not None or case.status not in CLOCK_RUNNING:
            return
        if case.reply_due is not None and now >= case.reply_due:
            case.due_state = DueState.RED
        elif case.warn_at is not None and now >= case.warn_at:
            case.due_state = DueState.YELLOW
        else:
            case.due_state = DueState.NORMAL

    def _event(self, session, case, kind, step, payload=None) -> None:
        self.runtime.record_event(
            session,
            step.instance_id,
            kind,
            actor=step.actor,
            payload={"case": case.number, **(payload or {})},
        )


def first_contact_resolution(case: Case) -> bool:
    """DOMAIN.md's first-contact resolution, as the KPI counts it (``workflows/kpi``):
    answered at intake, or dispatched and closed without being reopened, without its reply
    coming after the reply deadline, and without being escalated (sign-for or reply)."""
    if case.outcome == Outcome.ANSWERED:
        return True
    if case.intake_outcome != "dispatch" or case.status != CaseStatus.CLOSED:
        return False
    reply = case.replied_at or case.closed_at
    late = case.reply_due is not None and reply is not None and reply > case.reply_due
    return not (case.reopen_count or late or case.escalated or case.sign_escalated)


class _Events:
    """The events of one case in one step, built only when someone subscribes to them."""

    def __init__(self, bus: EventBus, case: Case, step: StepResult, published: list) -> None:
        self.bus = bus
        self.case = case
        self.step = step
        self.published = published

    def wanted(self, event_type: type[CaseEvent]) -> bool:
        return self.bus.wants(event_type)

    def add(self, event_type: type[CaseEvent], **fields: Any) -> None:
        if not self.bus.wants(event_type):
            return
        common = {
            "case_id": self.case.id,
            "case_number": self.case.number,
            "instance_id": self.step.instance_id,
            "instance_version": self.step.version,
            "at": self.step.at,
            "actor": self.step.actor,
        }
        self.published.append(event_type(**{**common, **fields}))


def _step_of(workflow: Any, element_id: str) -> str | None:
    """The hotline step a user task stands for (its ``step`` property), as the engine
    projects it into ``human_tasks.kind``."""
    for spec in (workflow.spec, *getattr(workflow, "subprocess_specs", {}).values()):
        task_spec = spec.task_specs.get(element_id)
        if task_spec is not None:
            # a multi-instance task: its instances' spec carries the properties
            inner = getattr(task_spec, "task_spec", None)
            if isinstance(inner, str) and inner in spec.task_specs:
                task_spec = spec.task_specs[inner]
            return step_of(task_spec)
    return None


def _cohandle_pending(step: StepResult, effect: str) -> list[str]:
    """The co-handling units whose task a co-handling clock caught unanswered: the ready
    co-handling tasks whose deadline (or, for the warning, whose yellow share) has come."""
    ready = [r for r in step.ready if r.kind == Step.COHANDLE and r.candidate_group]
    if effect == TASK_OVERDUE:
        ready = [r for r in ready if r.due_at is not None and r.due_at <= step.at]
    return sorted({r.candidate_group for r in ready if r.candidate_group})


def _attached_to(workflow: Any, element_id: str) -> str | None:
    """The id of the task a boundary event is attached to."""
    for spec in (workflow.spec, *getattr(workflow, "subprocess_specs", {}).values()):
        task_spec = spec.task_specs.get(element_id)
        if task_spec is not None:
            # a boundary event's input is its task's event split, whose outputs are the task
            # and its boundary events (the only ones with an event definition)
            for split in task_spec.inputs:
                for host in split.outputs:
                    if host is not task_spec and getattr(host, "event_definition", None) is None:
                        return getattr(host, "bpmn_id", None) or host.name
    return None


def _unless_departments_unsaved(session: Session):
    """``no_autoflush`` for a read of departments and case links, unless the session holds
    unsaved ones (an earlier step of the same transaction), which the read must see."""
    unsaved = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, CaseDepartment | Department) for obj in unsaved):
        return contextlib.nullcontext()
    return session.no_autoflush


def _loaded_case(session: Session, number: str) -> Case | None:
    """The case if this transaction has loaded it already (the API and the pages read it
    before completing its task): a query by number would read the row again. Expired
    objects (from an earlier transaction) hold no attributes, so they never match."""
    for obj in real_session(session).identity_map.values():
        if type(obj) is Case and inspect(obj).dict.get("number") == number:
            return obj
    return None


def _main_data(workflow: Any, task_id: str | None) -> dict[str, Any]:
    if task_id is not None:
        import uuid

        task = workflow.get_task_from_id(uuid.UUID(task_id))
        if task is not None:
            return task.data
    task = workflow.last_task or workflow.task_tree
    return task.data


def _as_datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return as_utc(value)
    raise DomainError(f"expected a date-time in process data, got {type(value).__name__}")
