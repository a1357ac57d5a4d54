"""The try run itself: synthetic cases of a draft, through the real loop, on a moved clock.

Like the city simulator (``workflows/simulation.py``) it goes through the domain's own
services (intake, task completion with the hotline's rules, timer firing) on a ManualClock,
but it knows nothing of any diagram: each ready task is done by a user who may do it, with
answers made from the task's form (``forms.py``). What happens to each case is collected by
a step listener on the throwaway runtime.
"""

from __future__ import annotations

import heapq
import itertools
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import ManualClock
from engine.connectors import TOPIC as CONNECTOR_TOPIC
from engine.errors import ConflictError, EngineError, WorkflowRunError
from engine.models import HumanTask, ProcessInstance, Timer
from engine.outbox import OB, OutboxService
from engine.runtime import StepResult

from ..cases import flows as cases
from ..cases.flows import INTAKE_FORM, form_context
from ..cases.models import Case
from ..cases.service import can_act
from ..departments.models import Department
from ..dispatch.models import DispatchRule
from ..errors import DomainError, FormInvalid
from ..hotline import Hotline
from ..users.models import Role, User
from .forms import answers
from .report import Finding, TryReport

#: answers tried per task before the run calls the form's data refused
TRIES = 6
#: times a refused task is taken up again later before the run calls it refused
LATER = 4
#: the intake's outcomes, in the shares the synthetic calls have them
OUTCOMES = ["dispatch", "answered", "not_accepted"]


@dataclass(frozen=True)
class Limits:
    #: wall-clock seconds the run may take (the rest of the cases are left as they are)
    seconds: float = 30.0
    #: simulated days after the first call before the run stops
    days: float = 120.0
    #: task steps one case may take (a case looping on random answers stops there)
    steps_per_case: int = 80


class _ConnectorCalls(OutboxService):
    """The worker's part a try run plays: the connector calls service tasks queued (their
    HTTP requests answered by the run's stand-in, never sent), not the notifications."""

    def _claimable(self, now: datetime, limit: int):
        return super()._claimable(now, limit).where(OB.c.topic == CONNECTOR_TOPIC)


class _Collector:
    """The runtime's step listener: which elements each case reached, where it ended, and
    the tasks to do next."""

    def __init__(self, run: Driver) -> None:
        self.run = run

    def on_step(self, session: Session, step: StepResult) -> None:
        run = self.run
        run.reached.update(c.element_id for c in step.completed)
        run.reached.update(r.element_id for r in step.ready)
        if step.status == "completed":
            ends = [c.element_id for c in step.completed if c.kind == "EndEvent"]
            run.ended[step.instance_id] = ends[-1] if ends else ""
        for ready in step.became_ready:
            run.plan(ready.task_id, ready.due_at)


class Driver:
    def __init__(
        self,
        hotline: Hotline,
        session_factory: Callable[[], Session],
        *,
        case_type: str,
        report: TryReport,
        limits: Limits,
    ) -> None:
        if not isinstance(hotline.clock, ManualClock):
            raise TypeError("a try run needs a hotline on a ManualClock")
        self.hotline = hotline
        self.clock: ManualClock = hotline.clock
        self.session = session_factory()
        self.case_type = case_type
        self.report = report
        self.limits = limits
        self.random = random.Random(report.seed)
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.reached: set[str] = set()
        self.ended: dict[int, str] = {}
        #: instances a run error stopped (their timers are left alone)
        self.broken: set[int] = set()
        self.steps: Counter = Counter()
        self.refusals: Counter = Counter()
        self.findings: dict[tuple[str, str], Finding] = {}
        self.counted: set[tuple[str, str, int]] = set()
        self.users = list(self.session.scalars(select(User).where(User.active.is_(True))))
        self.departments = {d.id: d for d in self.session.scalars(select(Department))}
        self.staffed = {
            self.departments[u.department_id].code
            for u in self.users
            if u.department_id in self.departments
        }
        self.handling = {
            self.departments[u.department_id].code
            for u in self.users
            if u.department_id in self.departments and u.role == Role.HANDLER
        }
        self.rules = self.session.execute(select(DispatchRule.category, DispatchRule.area)).all()
        self.session.rollback()
        hotline.runtime.add_listener(_Collector(self))
        self.connector_calls = _ConnectorCalls(
            hotline.runtime.outbox,
            session_factory,
            clock=self.clock,
            owner="try-run",
            max_attempts=1,
        )

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        started = time.monotonic()
        start = self.clock.now()
        for _ in range(self.report.cases):
            self._at(start + timedelta(hours=self.random.uniform(0, 72)), self._intake)
        end = start + timedelta(days=self.limits.days)
        while True:
            if time.monotonic() - started > self.limits.seconds:
                self.report.truncated = bool(self.queue) or self._next_timer() is not None
                break
            due = self._next_timer()
            when = self.queue[0][0] if self.queue else None
            if due is not None and (when is None or due <= when):
                if due > end:
                    break
                self._advance(due)
                self._fire_timers()
                self._run_connectors()
            elif when is not None:
                if when > end:
                    break
                _, _, action = heapq.heappop(self.queue)
                self._advance(when)
                action()
                self._run_connectors()
            else:
                break
        self.report.simulated_days = (self.clock.now() - start) / timedelta(days=1)

    def _run_connectors(self) -> None:
        """Carry out the connector calls the last step queued, as the worker would after it
        (a case waits at its service task until then); the next steps follow."""
        self.session.rollback()
        if CONNECTOR_TOPIC in self.hotline.runtime.outbox.handlers:
            self.connector_calls.drain()

    def _advance(self, when: datetime) -> None:
        if when > self.clock.now():
            self.clock.set(when)

    def _at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (when, next(self.seq), action))

    def plan(self, task_id: str, due_at: datetime | None) -> None:
        """Someone takes the task later: within its deadline mostly, after it now and then."""
        now = self.clock.now()
        left = (due_at - now).total_seconds() / 3600 if due_at else 8.0
        if self.random.random() < 0.1:
            hours = max(0.0, left) + self.random.uniform(1, 24)
        else:
            hours = max(0.05, left * self.random.uniform(0.05, 0.8))
        self._at(now + timedelta(hours=hours), lambda: self._act(task_id))

    def _next_timer(self) -> datetime | None:
        stmt = select(func.min(Timer.due_at)).where(Timer.status == "pending")
        if self.broken:
            stmt = stmt.where(Timer.instance_id.not_in(self.broken))
        due = self.session.scalar(stmt)
        self.session.rollback()
        return due

    def _fire_timers(self) -> None:
        now = self.clock.now()
        stmt = select(Timer.instance_id).where(Timer.status == "pending", Timer.due_at <= now)
        ids = sorted(set(self.session.scalars(stmt)) - self.broken)
        self.session.rollback()
        for instance_id in ids:
            try:
                if self.hotline.runtime.fire_timers(self.session, instance_id) is not None:
                    self.report.timers_fired += 1
            except WorkflowRunError as exc:
                self.session.rollback()
                self._broken(instance_id, exc.element or "", str(exc))
            except EngineError as exc:
                self.session.rollback()
                self._broken(instance_id, "", str(exc))

    # -- the people -------------------------------------------------------------------------

    def _intake(self) -> None:
        hotline = self.hotline
        form = hotline.forms.get(INTAKE_FORM)
        context = form_context(self.session, hotline, form_key=INTAKE_FORM)
        description = form.describe(context=context)
        self.session.rollback()
        data = answers(
            description, self.random, now=self.clock.now(), tz=hotline.tz, keep_defaults=False
        )
        data.update(
            case_type=self.case_type,
            intake_outcome=self.random.choices(OUTCOMES, [8, 1, 1])[0],
            caller_phone=f"13{self.random.randrange(10**9):09d}",
        )
        if self.rules:
            category, area = self.random.choice(self.rules)
            data["category"] = category
            if area != "*":
                data["area"] = area
        operator = next((u.username for u in self.users if u.role == Role.OPERATOR), "try-run")
        try:
            cases.open_case(self.session, hotline, data=data, actor=operator)
        except WorkflowRunError as exc:
            self.session.rollback()
            self.report.not_started += 1
            gateway = "gateway" if "No conditions satisfied" in str(exc) else ""
            self._finding(exc.element or "", "error", str(exc), None, value=gateway)
            return
        except (DomainError, EngineError) as exc:
            self.session.rollback()
            self.report.not_started += 1
            self._finding("", "error", str(exc), None)
            return
        self.report.started += 1

    def _act(self, task_id: str) -> None:
        session = self.session
        session.expire_all()
        row = session.execute(
            select(HumanTask, Case)
            .join(Case, Case.instance_id == HumanTask.instance_id)
            .where(HumanTask.task_id == task_id)
        ).first()
        session.rollback()
        if row is None or row[0].state != "ready" or row[0].instance_id in self.broken:
            return
        task, case = row
        able = [u for u in self.users if can_act(u, task, self.departments.get(u.department_id))]
        if not able:
            self._finding(
                task.element_id, "nobody", "", task.instance_id, value=task.candidate_group or ""
            )
            return
        if self.steps[task.instance_id] >= self.limits.steps_per_case:
            return
        user = self.random.choice(able)
        errors: Any = None
        for attempt in range(TRIES):
            outcome = self._try_answer(task, user, keep_defaults=attempt == 0)
            if outcome is None:
                return
            errors = outcome
        # a rule may refuse for now (co-handlers still to answer): come back later
        self.refusals[task_id] += 1
        if self.refusals[task_id] <= LATER:
            self._at(
                self.clock.now() + timedelta(hours=self.random.uniform(4, 24)),
                lambda: self._act(task_id),
            )
            return
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in sorted(errors.items()))
        self._finding(task.element_id, "refused", detail, task.instance_id)

    def _try_answer(self, task: HumanTask, user: User, *, keep_defaults: bool) -> Any:
        """Complete the task with one set of answers: None when done (or when nothing more
        can be done with it), else the form's errors."""
        hotline = self.hotline
        if not task.form_key:
            self._finding(task.element_id, "refused", "no form", task.instance_id)
            return None
        form = hotline.forms.get(task.form_key)
        context = form_context(
            self.session, hotline, form_key=task.form_key, group=task.candidate_group
        )
        description = form.describe(context=context)
        self.session.rollback()
        data = answers(
            description,
            self.random,
            now=self.clock.now(),
            tz=hotline.tz,
            keep_defaults=keep_defaults,
            staffed=self.staffed,
            handling=self.handling,
        )
        try:
            cases.complete_task(self.session, hotline, task_id=task.task_id, data=data, user=user)
        except FormInvalid as exc:
            self.session.rollback()
            return exc.errors
        except ConflictError:  # a deadline timer took the task first
            self.session.rollback()
            return None
        except WorkflowRunError as exc:
            self.session.rollback()
            self._broken(task.instance_id, exc.element or task.element_id, str(exc))
            return None
        except (DomainError, EngineError, LookupError) as exc:
            # LookupError: a form's valuesKey names an option list the hotline does not have
            self.session.rollback()
            self._finding(task.element_id, "refused", str(exc), task.instance_id)
            return None
        self.report.steps += 1
        self.steps[task.instance_id] += 1
        return None

    # -- what was found -----------------------------------------------------------------------

    def _broken(self, instance_id: int, element: str, detail: str) -> None:
        self.broken.add(instance_id)
        # SpiffWorkflow's words for an exclusive gateway with no way out
        gateway = "gateway" if "No conditions satisfied" in detail else ""
        self._finding(element, "error", detail, instance_id, value=gateway)

    def _finding(
        self, element: str, kind: str, detail: str, instance_id: int | None, value: str = ""
    ) -> None:
        key = (element, kind)
        finding = self.findings.get(key)
        if finding is None:
            finding = self.findings[key] = Finding(element, kind, detail, 0, value)
        mark = (element, kind, instance_id if instance_id is not None else -next(self.seq))
        if mark not in self.counted:
            self.counted.add(mark)
            finding.cases += 1

    def settle(self) -> None:
        """The cases' ends and waits, the cases that stopped with nothing to wait for."""
        session = self.session
        rows = session.execute(select(ProcessInstance.id, ProcessInstance.status)).all()
        for instance_id, status in rows:
            if status == "completed":
                self.report.completed += 1
                if self.ended.get(instance_id):
                    self.report.ends[self.ended[instance_id]] += 1
                continue
            if instance_id in self.broken:
                self.report.failed += 1
                continue
            self.report.running += 1
            ready = self.hotline.runtime.ready_tasks(session, instance_id)
            for task in ready:
                self.report.waiting[task.element_id] += 1
            if not ready and not self.hotline.runtime.pending_timers(session, instance_id):
                for element in self._waiting_elements(instance_id):
                    self._finding(element, "stuck", "", instance_id)
        session.rollback()
        self.report.findings.extend(f for f in self.findings.values() if f.element)
        self.report.findings.extend(f for f in self.findings.values() if not f.element)
        self.session.close()

    def _waiting_elements(self, instance_id: int) -> list[str]:
        row = self.hotline.runtime.instance_row(self.session, instance_id)
        workflow = self.hotline.runtime.restore_workflow(
            self.session, instance_id, row.definition_id
        )
        waiting = workflow.get_tasks(state=TaskState.WAITING | TaskState.STARTED)
        ids = [getattr(t.task_spec, "bpmn_id", None) for t in waiting]
        return [i for i in ids if i] or [""]
