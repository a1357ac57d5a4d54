"""Where a case stands: diagram markers (done, current, waiting) and its deadlines.

Read from the engine's projections (human tasks, timers, the event log), never from the
serialized workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.events import EventKind
from engine.models import HumanTask, InstanceEvent, Timer
from workflows.cases.models import Case


def markers(session: Session, instance_id: int) -> dict[str, list[str]]:
    """Element ids per marker. An element in several states shows the liveliest one:
    current over waiting over done (a loop can pass a task again)."""
    tasks = session.execute(
        select(HumanTask.element_id, HumanTask.state).where(HumanTask.instance_id == instance_id)
    ).all()
    timers = session.execute(
        select(Timer.element_id, Timer.status).where(Timer.instance_id == instance_id)
    ).all()
    logged = session.execute(
        select(InstanceEvent.element_id).where(
            InstanceEvent.instance_id == instance_id,
            InstanceEvent.kind.in_((EventKind.TASK_COMPLETED, EventKind.TIMER_FIRED)),
            InstanceEvent.element_id.is_not(None),
        )
    ).scalars()
    current = {element for element, state in tasks if state == "ready"}
    waiting = {element for element, status in timers if status == "pending"} - current
    done = (
        (
            {element for element, state in tasks if state == "completed"}
            | {element for element, status in timers if status == "fired"}
            | set(logged)
        )
        - current
        - waiting
    )
    return {"done": sorted(done), "current": sorted(current), "waiting": sorted(waiting)}


@dataclass
class Deadline:
    label: str
    due: datetime
    #: when it was met (signed, replied), if it was
    met_at: datetime | None
    #: normal, yellow, red, met, late, closed
    state: str


def deadlines(case: Case, now: datetime) -> list[Deadline]:
    """Sign-for, return and reply deadlines with their state at ``now``."""
    out = []
    if case.sign_due is not None:
        out.append(_deadline(_l("Sign for by"), case.sign_due, case.signed_at, now))
    if case.return_due is not None:
        # the return window is not an obligation: once past it simply closes
        state = "closed" if now > case.return_due else "normal"
        out.append(Deadline(str(_l("Return (with reason) by")), case.return_due, None, state))
    if case.reply_due is not None:
        reply = case.replied_at or (case.closed_at if case.status in ("closed", "merged") else None)
        item = _deadline(_l("Reply by"), case.reply_due, reply, now)
        if item.state == "normal" and case.warn_at is not None and now >= case.warn_at:
            item.state = "yellow"
        if case.status == "suspended" and item.state != "met":
            item.state = "paused"
        out.append(item)
    if case.status in ("closed", "merged"):
        for item in out:
            if item.state in ("normal", "yellow", "red", "paused"):
                item.state = "closed"
    return out


def _deadline(label, due: datetime, met_at: datetime | None, now: datetime) -> Deadline:
    if met_at is not None:
        return Deadline(str(label), due, met_at, "met" if met_at <= due else "late")
    return Deadline(str(label), due, None, "red" if now > due else "normal")
