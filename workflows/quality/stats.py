"""Each operator's and dispatcher's figures for one local month (docs/evaluation-quality.md).

Dispatches, returns and re-dispatches are read from the engine's human-task rows: every
dispatch is a completed task of step ``dispatch`` (派单) or ``redispatch`` (二级派单, a district
platform's), by ``completed_by``. In every bundled diagram the only way back to ``dispatch``
after the first is an approved return (退单审核 "approve: re-dispatch"), so a second
``dispatch`` task on a case *is* an approved return, and the dispatch just before it (by
either step) is the one returned as wrong. One query with window functions, the same SQL on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from engine.models import HumanTask
from workflows.calls.enums import Outcome
from workflows.calls.models import Call
from workflows.cases.enums import IntakeOutcome
from workflows.cases.models import Case
from workflows.cases.steps import Step
from workflows.users.models import Role, User

from .months import month_span

DISPATCH_STEPS = (Step.DISPATCH.value, Step.REDISPATCH.value)


@dataclass(frozen=True)
class OperatorMonth:
    username: str
    display_name: str
    #: cases they recorded (created_by), created in the month
    cases: int
    #: of those, answered at intake (当场解答)
    answered_at_once: int
    #: of those, dispatched (dispatched_at set)
    dispatched: int
    #: of the dispatched, returned as wrongly dispatched at least once (an approved return)
    returned: int
    #: re-dispatches (改派) done on their month's cases
    redispatches: int
    #: calls they answered that arrived in the month
    calls: int
    #: the answered calls with a talk time from the phone system, and their talk + after-call
    #: work in seconds
    timed_calls: int
    handling_seconds: float

    @property
    def handling_average(self) -> float | None:
        return self.handling_seconds / self.timed_calls if self.timed_calls else None


@dataclass(frozen=True)
class DispatcherMonth:
    username: str
    display_name: str
    #: dispatch and second-level dispatch tasks they completed in the month
    dispatches: int
    #: of those, returned as wrong: the case came back to dispatch by an approved return
    returned: int
    #: of those, re-dispatches: a dispatch after an approved return
    redispatches: int


def _dispatch_tasks(instances):
    """The dispatch-step tasks of ``instances`` (a select of instance ids: the window reads
    only their cases, not every case's) with their place in their case: the n-th of its step,
    and the step of the next dispatch-step task of the same instance (None: none yet)."""
    order = (HumanTask.created_at, HumanTask.id)
    return (
        select(
            HumanTask.instance_id,
            HumanTask.kind,
            HumanTask.state,
            HumanTask.completed_by,
            HumanTask.completed_at,
            func.row_number()
            .over(partition_by=(HumanTask.instance_id, HumanTask.kind), order_by=order)
            .label("nth"),
            func.lead(HumanTask.kind)
            .over(partition_by=HumanTask.instance_id, order_by=order)
            .label("next_kind"),
        )
        .where(HumanTask.kind.in_(DISPATCH_STEPS), HumanTask.instance_id.in_(instances))
        .subquery("dispatch_tasks")
    )


def _is_redispatch(t):
    return and_(t.c.kind == Step.DISPATCH.value, t.c.nth > 1)


def operator_months(session: Session, *, month: date, tz: ZoneInfo) -> list[OperatorMonth]:
    """Every operator's figures for ``month`` (active operators, and any operator with cases
    or calls in it), by username."""
    start, end = month_span(month, tz)
    mine = and_(Case.created_at >= start, Case.created_at < end)
    cases = {
        row.created_by: row
        for row in session.execute(
            select(
                Case.created_by,
                func.count().label("cases"),
                func.sum(
                    case((Case.intake_outcome == IntakeOutcome.ANSWERED.value, 1), else_=0)
                ).label("answered"),
                func.sum(case((Case.dispatched_at.is_not(None), 1), else_=0)).label("dispatched"),
            )
            .where(mine)
            .group_by(Case.created_by)
        )
    }
    t = _dispatch_tasks(
        select(Case.instance_id).where(mine, Case.dispatched_at.is_not(None)).scalar_subquery()
    )
    returns = {
        row.created_by: row
        for row in session.execute(
            select(
                Case.created_by,
                func.count(distinct(case((_is_redispatch(t), Case.id), else_=None))).label(
                    "returned"
                ),
                func.sum(
                    case((and_(_is_redispatch(t), t.c.state == "completed"), 1), else_=0)
                ).label("redispatches"),
            )
            .join(t, t.c.instance_id == Case.instance_id)
            .where(mine, Case.dispatched_at.is_not(None))
            .group_by(Case.created_by)
        )
    }
    answered = Call.outcome == Outcome.ANSWERED.value
    timed = and_(answered, Call.talk_seconds.is_not(None))
    calls = {
        row.agent: row
        for row in session.execute(
            select(
                Call.agent,
                func.sum(case((answered, 1), else_=0)).label("calls"),
                func.sum(case((timed, 1), else_=0)).label("timed"),
                func.sum(
                    case((timed, Call.talk_seconds + func.coalesce(Call.wrap_seconds, 0)), else_=0)
                ).label("seconds"),
            )
            .where(Call.arrived_at >= start, Call.arrived_at < end, Call.agent != "")
            .group_by(Call.agent)
        )
    }
    out = []
    for user in _people(session, Role.OPERATOR, set(cases) | set(calls)):
        c, r, k = cases.get(user.username), returns.get(user.username), calls.get(user.username)
        out.append(
            OperatorMonth(
                username=user.username,
                display_name=user.display_name,
                cases=int(c.cases) if c else 0,
                answered_at_once=int(c.answered or 0) if c else 0,
                dispatched=int(c.dispatched or 0) if c else 0,
                returned=int(r.returned or 0) if r else 0,
                redispatches=int(r.redispatches or 0) if r else 0,
                calls=int(k.calls or 0) if k else 0,
                timed_calls=int(k.timed or 0) if k else 0,
                handling_seconds=float(k.seconds or 0) if k else 0.0,
            )
        )
    return out


def dispatcher_months(session: Session, *, month: date, tz: ZoneInfo) -> list[DispatcherMonth]:
    """Every dispatcher's dispatches completed in ``month``, with the returned and the
    re-dispatches among them, by username."""
    start, end = month_span(month, tz)
    t = _dispatch_tasks(
        select(HumanTask.instance_id)
        .where(
            HumanTask.kind.in_(DISPATCH_STEPS),
            HumanTask.completed_at >= start,
            HumanTask.completed_at < end,
        )
        .scalar_subquery()
    )
    rows = {
        row.completed_by: row
        for row in session.execute(
            select(
                t.c.completed_by,
                func.count().label("dispatches"),
                func.sum(case((t.c.next_kind == Step.DISPATCH.value, 1), else_=0)).label(
                    "returned"
                ),
                func.sum(case((_is_redispatch(t), 1), else_=0)).label("redispatches"),
            )
            .where(
                t.c.state == "completed",
                t.c.completed_at >= start,
                t.c.completed_at < end,
                t.c.completed_by.is_not(None),
            )
            .group_by(t.c.completed_by)
        )
    }
    out = []
    for user in _people(session, Role.DISPATCHER, set(rows)):
        row = rows.get(user.username)
        out.append(
            DispatcherMonth(
                username=user.username,
                display_name=user.display_name,
                dispatches=int(row.dispatches) if row else 0,
                returned=int(row.returned or 0) if row else 0,
                redispatches=int(row.redispatches or 0) if row else 0,
            )
        )
    return out


def _people(session: Session, role: Role, active_in_month: set[str]) -> list[User]:
    """Users of ``role`` who are active or did something in the month, by username."""
    stmt = select(User).where(
        User.role == role.value,
        User.active.is_(True) | User.username.in_(sorted(active_in_month)),
    )
    return list(session.scalars(stmt.order_by(User.username)))
