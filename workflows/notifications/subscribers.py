"""Who hears of what: the events a case's lead department is notified of, via the outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engine.outbox import Outbox

from ..cases.enums import CaseStatus
from ..cases.models import Case
from ..events import (
    CaseChased,
    CaseEvent,
    Deadline,
    DeadlinePassed,
    StatusChanged,
    SupervisionOpened,
    SupervisionOrdered,
)
from .service import TOPIC, NotificationKind


class DepartmentNotifier:
    """Writes one outbox message per notification, in the step's transaction."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def status_changed(self, session: Session, event: StatusChanged) -> None:
        if event.to_status == CaseStatus.DISPATCHED:
            self._notify(session, event, NotificationKind.DISPATCHED)

    def deadline_passed(self, session: Session, event: DeadlinePassed) -> None:
        if event.deadline == Deadline.SIGN:
            self._notify(session, event, NotificationKind.SIGN_OVERDUE)
        else:
            self._notify(session, event, NotificationKind.REPLY_OVERDUE)

    def supervision_opened(self, session: Session, event: SupervisionOpened) -> None:
        self._notify(session, event, NotificationKind.SUPERVISED)

    def case_chased(self, session: Session, event: CaseChased) -> None:
        # a chase steps no instance: the time tells one notice from the next
        self._notify(session, event, NotificationKind.SUPERVISED, step=event.at.isoformat())

    def supervision_ordered(self, session: Session, event: SupervisionOrdered) -> None:
        self._notify(session, event, NotificationKind.SUPERVISED)

    def _notify(
        self,
        session: Session,
        event: CaseEvent,
        kind: NotificationKind,
        *,
        step: str | None = None,
    ) -> None:
        case = session.get(Case, event.case_id)  # the mirror's own object: no read
        if case is None or case.lead_department_id is None:
            return
        self.outbox.write(
            session,
            topic=TOPIC,
            # one message per case, kind and step: a re-dispatch after a return is a new one
            key=f"{TOPIC}:{event.case_number}:{kind}:{step or event.instance_version}",
            payload={
                "case_id": case.id,
                "case": event.case_number,
                "department_id": case.lead_department_id,
                "kind": str(kind),
                "at": event.at.isoformat(),
            },
        )
