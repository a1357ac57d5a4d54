"""Case vocabularies and the one table of allowed status transitions (case types are
declared in ``types.py``)."""

from __future__ import annotations

from enum import StrEnum


class Urgency(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    APP = "app"
    SMS = "sms"
    OPEN311 = "open311"


class IntakeOutcome(StrEnum):
    ANSWERED = "answered"  # answered at once: first-contact resolution
    NOT_ACCEPTED = "not_accepted"  # out of scope, or handed to 110/119/120
    DISPATCH = "dispatch"


class CaseStatus(StrEnum):
    AWAITING_DISPATCH = "awaiting_dispatch"  # 待派单
    AWAITING_REDISPATCH = "awaiting_redispatch"  # 待二级派单 (district platform)
    DISPATCHED = "dispatched"  # 已派单待签收
    RETURN_REQUESTED = "return_requested"  # 退单待审
    IN_PROGRESS = "in_progress"  # 办理中
    EXTENSION_REQUESTED = "extension_requested"  # 延期待审
    SUSPENSION_REQUESTED = "suspension_requested"  # 挂起待审
    SUSPENDED = "suspended"  # 挂起: the deadline clock is paused
    REPLIED = "replied"  # 已答复待审核 (by the platform)
    AWAITING_CALLBACK = "awaiting_callback"  # 待回访
    CLOSED = "closed"  # 办结
    MERGED = "merged"  # 已合并 into a master case; closed with it


#: the one name of each status (Chinese, English), used by every page, list, CSV export, KPI
#: page and Open311 status note: a status must not be called two things
STATUS_NAMES: dict[str, tuple[str, str]] = {
    CaseStatus.AWAITING_DISPATCH: ("待派单", "Awaiting dispatch"),
    CaseStatus.AWAITING_REDISPATCH: ("待区级派单", "Awaiting district dispatch"),
    CaseStatus.DISPATCHED: ("已派单待签收", "Dispatched, not signed for"),
    CaseStatus.RETURN_REQUESTED: ("退单待审", "Return requested"),
    CaseStatus.IN_PROGRESS: ("办理中", "In progress"),
    CaseStatus.EXTENSION_REQUESTED: ("延期待审", "Extension requested"),
    CaseStatus.SUSPENSION_REQUESTED: ("挂起待审", "Suspension requested"),
    CaseStatus.SUSPENDED: ("已挂起", "Suspended"),
    CaseStatus.REPLIED: ("已答复待审核", "Replied, under review"),
    CaseStatus.AWAITING_CALLBACK: ("待回访", "Awaiting callback"),
    CaseStatus.CLOSED: ("已办结", "Closed"),
    CaseStatus.MERGED: ("已合并", "Merged"),
}

S = CaseStatus

#: status -> statuses it may move to. Everything that changes a case's status checks this.
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    S.AWAITING_DISPATCH: frozenset({S.DISPATCHED, S.AWAITING_REDISPATCH, S.CLOSED, S.MERGED}),
    S.AWAITING_REDISPATCH: frozenset({S.DISPATCHED, S.AWAITING_DISPATCH, S.MERGED}),
    S.DISPATCHED: frozenset({S.IN_PROGRESS, S.RETURN_REQUESTED, S.MERGED}),
    S.RETURN_REQUESTED: frozenset({S.AWAITING_DISPATCH, S.DISPATCHED, S.MERGED}),
    S.IN_PROGRESS: frozenset(
        {
            S.EXTENSION_REQUESTED,
            S.SUSPENSION_REQUESTED,
            S.REPLIED,
            S.AWAITING_CALLBACK,
            S.CLOSED,
            S.MERGED,
        }
    ),
    S.EXTENSION_REQUESTED: frozenset({S.IN_PROGRESS, S.MERGED}),
    S.SUSPENSION_REQUESTED: frozenset({S.SUSPENDED, S.IN_PROGRESS, S.MERGED}),
    S.SUSPENDED: frozenset({S.IN_PROGRESS, S.MERGED}),
    S.REPLIED: frozenset({S.IN_PROGRESS, S.AWAITING_CALLBACK, S.CLOSED, S.MERGED}),
    S.AWAITING_CALLBACK: frozenset({S.IN_PROGRESS, S.CLOSED, S.MERGED}),
    S.CLOSED: frozenset(),
    S.MERGED: frozenset({S.CLOSED}),
}

#: Statuses in which the case is with a department and its reply clock runs.
CLOCK_RUNNING = frozenset(
    {S.DISPATCHED, S.RETURN_REQUESTED, S.IN_PROGRESS, S.EXTENSION_REQUESTED, S.SUSPENSION_REQUESTED}
)
OPEN = frozenset(s for s in CaseStatus if s not in (S.CLOSED, S.MERGED))


def can_move(current: CaseStatus | None, target: CaseStatus) -> bool:
    """A new case may start in any open status or closed (answered at once / not accepted)."""
    if current is None:
        return target in (S.AWAITING_DISPATCH, S.CLOSED)
    return current == target or target in TRANSITIONS[current]


class Satisfaction(StrEnum):
    SATISFIED = "satisfied"  # 满意
    BASICALLY_SATISFIED = "basically_satisfied"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class Outcome(StrEnum):
    """How a closed case ended: the ``outcome`` property of the end event it reached."""

    HANDLED = "handled"  # 已办理
    ANSWERED = "answered"  # 当场解答
    NOT_ACCEPTED = "not_accepted"  # 不予受理
    MERGED = "merged"  # 随主件办结
    NOT_REACHED = "not_reached"  # 办结, 未联系上市民 (the callback attempts ran out)
    RATING_DECLINED = "rating_declined"  # 办结, 市民拒绝评价


class ContactResult(StrEnum):
    """What one callback attempt came to (the callback form's ``contact_result``)."""

    REACHED = "reached"
    NOT_REACHED = "not_reached"
    RATING_DECLINED = "rating_declined"


class DueState(StrEnum):
    NORMAL = "normal"
    YELLOW = "yellow"  # the warning share of the time is used up
    RED = "red"  # overdue
