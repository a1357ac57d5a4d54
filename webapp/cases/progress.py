"""Where a case stands: diagram markers (done, current, waiting) and its deadlines.

The markers are read from the engine's projections by ``workflows.cases.reads``
(``element_markers``), never from the serialized workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l

from workflows.cases.models import Case


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
