"""Every subscriber to the hotline's domain events and every outbox handler, in one place."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.runtime import Runtime

from .cases.types import BUILTIN, CaseTypes
from .evaluation.bulletins import on_appeal_upheld
from .events import (
    AppealFiled,
    AppealRejected,
    AppealUpheld,
    CaseChased,
    CaseClosed,
    CaseOpened,
    DeadlinePassed,
    DeadlineWarned,
    EventBus,
    InterimReplied,
    StatusChanged,
    SupervisionOpened,
    SupervisionOrdered,
    TaskReady,
    WaveDetected,
)
from .insight.duplicates import on_case_opened as index_duplicates
from .notifications.pipeline import (
    DELIVER_TOPIC,
    NOTIFY_TOPIC,
    Delivery,
    FanOut,
    IncidentAlerts,
    Notifier,
)
from .notifications.service import TOPIC as NOTIFY_DEPARTMENT
from .notifications.service import Deliverer
from .notifications.settings import NotifySettings
from .notifications.subscribers import NoticeSubscribers


def register(
    bus: EventBus,
    runtime: Runtime,
    *,
    clock: Clock,
    tz: ZoneInfo,
    session_factory: Callable[[], Session],
    notify: NotifySettings | None = None,
    case_types: CaseTypes = BUILTIN,
) -> None:
    """Subscribe the hotline's subscribers to ``bus`` and its handlers to the runtime's outbox."""
    outbox = runtime.outbox
    settings = notify or NotifySettings()
    notifier = Notifier(outbox)
    notices = NoticeSubscribers(notifier)
    bus.subscribe(CaseOpened, notices.case_opened)
    # duplicate suggestions: the new case's keys, in the intake's transaction
    bus.subscribe(CaseOpened, index_duplicates)
    bus.subscribe(StatusChanged, notices.status_changed)
    bus.subscribe(CaseClosed, notices.case_closed)
    bus.subscribe(InterimReplied, notices.interim_replied)
    bus.subscribe(TaskReady, notices.task_ready)
    bus.subscribe(DeadlineWarned, notices.deadline_warned)
    bus.subscribe(DeadlinePassed, notices.deadline_passed)
    bus.subscribe(SupervisionOpened, notices.supervision_opened)
    bus.subscribe(CaseChased, notices.case_chased)
    bus.subscribe(SupervisionOrdered, notices.supervision_ordered)
    # an upheld appeal (申诉) revises the published bulletin of the case's month
    bus.subscribe(AppealUpheld, on_appeal_upheld)
    # appeals: the centre's reviewers hear of one filed, the department of the decision
    bus.subscribe(AppealFiled, notices.appeal_filed)
    bus.subscribe(AppealUpheld, notices.appeal_upheld)
    bus.subscribe(AppealRejected, notices.appeal_rejected)
    bus.subscribe(WaveDetected, notices.wave_detected)
    outbox.register(
        NOTIFY_TOPIC, FanOut(outbox, settings, clock=clock, tz=tz, case_types=case_types)
    )
    outbox.register(DELIVER_TOPIC, Delivery(settings, session_factory, clock=clock))
    # messages of the department notifications written before issue 16 still in the queue
    outbox.register(NOTIFY_DEPARTMENT, Deliverer(clock))
    alerts = IncidentAlerts(notifier, clock)
    outbox.incident_listeners.append(alerts.outbox_incident)
    runtime.incident_listeners.append(alerts.timer_incident)
