"""Every subscriber to the hotline's domain events and every outbox handler, in one place."""

from __future__ import annotations

from engine.clock import Clock
from engine.outbox import Outbox

from .events import (
    CaseChased,
    DeadlinePassed,
    EventBus,
    StatusChanged,
    SupervisionOpened,
    SupervisionOrdered,
)
from .notifications.service import TOPIC as NOTIFY_DEPARTMENT
from .notifications.service import Deliverer
from .notifications.subscribers import DepartmentNotifier


def register(bus: EventBus, outbox: Outbox, *, clock: Clock) -> None:
    """Subscribe the hotline's subscribers to ``bus`` and its handlers to ``outbox``."""
    notifier = DepartmentNotifier(outbox)
    bus.subscribe(StatusChanged, notifier.status_changed)
    bus.subscribe(DeadlinePassed, notifier.deadline_passed)
    bus.subscribe(SupervisionOpened, notifier.supervision_opened)
    bus.subscribe(CaseChased, notifier.case_chased)
    bus.subscribe(SupervisionOrdered, notifier.supervision_ordered)
    outbox.register(NOTIFY_DEPARTMENT, Deliverer(clock))
