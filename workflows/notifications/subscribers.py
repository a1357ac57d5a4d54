"""Who hears of what: the domain events each notice answers, written in the step's transaction.

Each subscriber writes at most one ``notify`` outbox message (``pipeline.Notifier``); who
exactly receives it, by which channel and in which words is decided later by the worker
(``pipeline.FanOut``), so a step pays one insert per notice and no reads beyond the case row
it already holds (a co-handling request reads its task's deadline).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask

from ..cases.enums import CaseStatus, IntakeOutcome
from ..cases.models import Case
from ..departments.service import by_code
from ..events import (
    AppealFiled,
    AppealRejected,
    AppealUpheld,
    CaseChased,
    CaseClosed,
    CaseEvent,
    CaseOpened,
    Deadline,
    DeadlinePassed,
    DeadlineWarned,
    InterimReplied,
    StatusChanged,
    SupervisionOpened,
    SupervisionOrdered,
    TaskReady,
    WaveDetected,
)
from ..policy.service import get_policy
from ..users.models import Role
from .notices import Notice
from .pipeline import Notifier, summary

#: who hears of an appeal filed: the centre's reviewers (``appeals.service.REVIEWERS``)
APPEAL_REVIEWERS = (Role.SUPERVISOR, Role.LEAD)
#: who hears of a hot-topic wave opening (workflows/insight/waves.py)
WAVE_WATCHERS = (Role.SUPERVISOR,)
#: the longest reason a notice quotes (the whole one is on the case page)
APPEAL_REASON_CHARS = 200

#: the steps a department's own people take: the department's notices cover them
DEPARTMENT_STEPS = frozenset({"sign_for", "handle", "cohandle", "resume", "answer_supervision"})

S = CaseStatus


class NoticeSubscribers:
    """The subscribers of the domain events that tell someone something."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier

    def _case(self, session: Session, event: CaseEvent) -> Case | None:
        return session.get(Case, event.case_id)  # the mirror's own object: no read

    def _step_key(self, event: CaseEvent) -> str:
        return f"{event.case_number}:{event.instance_version or event.at.isoformat()}"

    # --- citizens and departments, by status

    def case_opened(self, session: Session, event: CaseOpened) -> None:
        case = self._case(session, event)
        if case is None or case.intake_outcome != IntakeOutcome.DISPATCH:
            return  # answered or not accepted on the phone: the caller heard it there
        self.notifier.notice(
            session, Notice.CASE_ACCEPTED, key=f"accepted:{case.number}", at=event.at, case=case
        )

    def status_changed(self, session: Session, event: StatusChanged) -> None:
        case = self._case(session, event)
        if case is None:
            return
        key = self._step_key(event)
        frm, to = event.from_status, event.to_status
        lead = case.lead_department_id
        notice, values = None, None
        if to == S.DISPATCHED and frm != S.RETURN_REQUESTED:
            notice = Notice.DISPATCHED
        elif frm == S.RETURN_REQUESTED and to in (S.AWAITING_DISPATCH, S.DISPATCHED):
            # the unit that asked is still the lead until the case is dispatched again
            notice = Notice.RETURN_DECIDED
            values = {"decision": "approved" if to == S.AWAITING_DISPATCH else "rejected"}
        elif frm == S.AWAITING_CALLBACK and to == S.IN_PROGRESS:
            notice = Notice.REOPENED
        if notice is not None and lead is not None:
            self.notifier.notice(
                session,
                notice,
                key=f"{notice}:{key}",
                at=event.at,
                case=case,
                department_id=lead,
                values=values,
            )
        if to == S.AWAITING_CALLBACK:
            self.notifier.notice(
                session,
                Notice.CASE_REPLIED,
                key=f"replied:{key}",
                at=event.at,
                case=case,
                values={"summary": case.reply_text},
            )

    def case_closed(self, session: Session, event: CaseClosed) -> None:
        case = self._case(session, event)
        if case is None or (case.dispatched_at is None and event.outcome != "merged"):
            return  # closed at intake: the caller heard the answer on the phone
        self.notifier.notice(
            session,
            Notice.CASE_CLOSED,
            key=f"closed:{self._step_key(event)}",
            at=event.at,
            case=case,
            values={"outcome": event.outcome, "summary": case.reply_text},
        )

    def interim_replied(self, session: Session, event: InterimReplied) -> None:
        case = self._case(session, event)
        if case is None:
            return
        self.notifier.notice(
            session,
            Notice.INTERIM_REPLY,
            key=f"interim:{event.note_id}",
            at=event.at,
            case=case,
            values={"body": event.body},
        )

    # --- tasks

    def task_ready(self, session: Session, event: TaskReady) -> None:
        case = self._case(session, event)
        if case is None:
            return
        if event.step == "cohandle" and event.candidate_group:
            department = by_code(session, event.candidate_group)
            if department is not None:
                self.notifier.notice(  # the fan-out reads the task's deadline (``due``)
                    session,
                    Notice.COHANDLE_REQUESTED,
                    key=f"cohandle:{event.task_id}",
                    at=event.at,
                    case=case,
                    department_id=department.id,
                    task_id=event.task_id,
                )
            return
        if event.step in DEPARTMENT_STEPS:
            return
        if event.step == "callback":
            self._survey(session, case, event)
        # who may take it (the task's lane) is read by the fan-out, not here: no query in the step
        self.notifier.notice(
            session,
            Notice.TASK_ASSIGNED,
            key=f"task:{event.task_id}",
            at=event.at,
            case=case,
            task_id=event.task_id,
            values={"task": event.name},
        )

    def _survey(self, session: Session, case: Case, event: TaskReady) -> None:
        try:
            policy = get_policy(
                session, case_type=case.case_type, urgency=case.urgency, category=case.category
            )
        except LookupError:
            return
        if not policy.sms_survey:
            return
        # one survey per round of handling: a second callback attempt asks nothing new
        self.notifier.notice(
            session,
            Notice.SURVEY,
            key=f"survey:{case.number}:{case.reopen_count}",
            at=event.at,
            case=case,
        )

    # --- deadlines and supervision

    def deadline_warned(self, session: Session, event: DeadlineWarned) -> None:
        self._deadline(session, event, Notice.YELLOW_WARNING, passed=None)

    def deadline_passed(self, session: Session, event: DeadlinePassed) -> None:
        self._deadline(session, event, Notice.OVERDUE, passed=event.deadline)

    def _deadline(
        self,
        session: Session,
        event: DeadlineWarned | DeadlinePassed,
        notice: Notice,
        *,
        passed: Deadline | None,
    ) -> None:
        case = self._case(session, event)
        if case is None:
            return
        key = f"{notice}:{event.element_id}:{self._step_key(event)}"
        clock = event.clock
        if passed == Deadline.SIGN or clock == "sign":
            deadline, due, department_id = "sign", case.sign_due, case.lead_department_id
        elif passed == Deadline.REPLY or (passed is None and clock is None):
            deadline, due, department_id = "reply", case.reply_due, case.lead_department_id
        else:  # a task's own clock: tell whoever holds the task
            task = session.execute(
                select(HumanTask.name, HumanTask.candidate_group, HumanTask.lane, HumanTask.due_at)
                .where(HumanTask.instance_id == event.instance_id, HumanTask.state == "ready")
                .where(HumanTask.kind == event.step)
                .order_by(HumanTask.id.desc())
                .limit(1)
            ).first()
            if task is None:
                return
            if event.step == "callback":
                self.notifier.notice(
                    session,
                    Notice.CALLBACK_DUE,
                    key=key,
                    at=event.at,
                    case=case,
                    lane=task.lane,
                    group=task.candidate_group,
                    values={"task": task.name, "due": task.due_at},
                )
                return
            department = by_code(session, task.candidate_group) if task.candidate_group else None
            if department is None:
                return
            deadline, due, department_id = "task", task.due_at, department.id
            self.notifier.notice(
                session,
                notice,
                key=key,
                at=event.at,
                case=case,
                department_id=department_id,
                values={"deadline": deadline, "due": due, "task": task.name},
            )
            return
        if department_id is None:
            return
        self.notifier.notice(
            session,
            notice,
            key=key,
            at=event.at,
            case=case,
            department_id=department_id,
            values={"deadline": deadline, "due": due},
        )

    def supervision_opened(self, session: Session, event: SupervisionOpened) -> None:
        self._supervision(session, event, note="", key=f"supervise:{event.task_id}")

    def case_chased(self, session: Session, event: CaseChased) -> None:
        # a chase steps no instance: the time tells one notice from the next
        self._supervision(
            session, event, note=event.note, key=f"chase:{event.case_number}:{event.at.isoformat()}"
        )

    def supervision_ordered(self, session: Session, event: SupervisionOrdered) -> None:
        self._supervision(session, event, note=event.note, key=f"order:{self._step_key(event)}")

    def _supervision(self, session: Session, event: CaseEvent, *, note: str, key: str) -> None:
        case = self._case(session, event)
        if case is None or case.lead_department_id is None:
            return
        self.notifier.notice(
            session,
            Notice.SUPERVISION_ORDER,
            key=key,
            at=event.at,
            case=case,
            department_id=case.lead_department_id,
            values={"note": note},
        )

    # --- appeals (申诉)

    def appeal_filed(self, session: Session, event: AppealFiled) -> None:
        case = self._case(session, event)
        if case is None:
            return
        self.notifier.notice(
            session,
            Notice.APPEAL_FILED,
            key=f"appeal_filed:{event.appeal_id}",
            at=event.at,
            case=case,
            role=APPEAL_REVIEWERS,
            values={
                "department": event.department_id,
                "ground": event.ground,
                "reason": summary(event.reason, APPEAL_REASON_CHARS),
                "filed_by": event.actor,
            },
        )

    def appeal_upheld(self, session: Session, event: AppealUpheld) -> None:
        self._appeal_decided(session, event, "upheld")

    def appeal_rejected(self, session: Session, event: AppealRejected) -> None:
        self._appeal_decided(session, event, "rejected")

    def _appeal_decided(
        self, session: Session, event: AppealUpheld | AppealRejected, decision: str
    ) -> None:
        case = self._case(session, event)
        if case is None:
            return
        # the department that appealed (the case's lead when it filed, maybe not now)
        self.notifier.notice(
            session,
            Notice.APPEAL_DECIDED,
            key=f"appeal_decided:{event.appeal_id}",
            at=event.at,
            case=case,
            department_id=event.department_id,
            values={
                "department": event.department_id,
                "ground": event.ground,
                "decision": decision,
                "reason": summary(event.reason, APPEAL_REASON_CHARS),
            },
        )

    # --- hot-topic waves (热点)

    def wave_detected(self, session: Session, event: WaveDetected) -> None:
        self.notifier.notice(
            session,
            Notice.WAVE_DETECTED,
            key=f"wave:{event.wave_id}",
            at=event.at,
            role=WAVE_WATCHERS,
            values={
                "wave": event.label,
                "count": event.count,
                "baseline": event.baseline,
                "link": f"/insight/waves/{event.wave_id}",
            },
        )
