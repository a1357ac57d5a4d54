"""The on-duty lead's board (值班长; docs/calls.md, "The on-duty lead's board"): the floor now
in a handful of indexed queries, and a version token that moves whenever the board would.

- calls waiting: live (no outcome) and still ringing, arrived within the settings'
  ``stale_minutes`` (a call whose end never came stops counting), from ``ix_calls_live``;
- calls in progress: answered and not ended, arrived within :data:`TALK_HOURS` (from
  ``ix_calls_arrived``: an answered call has its outcome already);
- every active operator with their state (no row yet: offline) and its call;
- today's figures (today in the centre's time zone) from ``kpi.figures``;
- the missed-call backlog: open callback tasks, how many are overdue, the oldest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.orm import Session

from ..users.models import Role, User
from .callbacks import call_settings
from .enums import AgentStatus, CallbackState, CallState
from .kpi import CallFigures, figures
from .models import AgentState, Call, CallCallback, CallEvent, CallSettings

#: a call answered this long ago with no end is taken as one whose end never came
TALK_HOURS = 4
#: the most calls each list shows (the counts are exact)
LIST_LIMIT = 50
#: the operators' states in the order the board lists them
STATE_ORDER = (
    AgentStatus.ON_CALL,
    AgentStatus.AFTER_CALL_WORK,
    AgentStatus.AVAILABLE,
    AgentStatus.AWAY,
    AgentStatus.OFFLINE,
)
#: ``outcome = ''`` written out, so PostgreSQL matches the partial index's predicate
_LIVE = Call.outcome == literal_column("''")


@dataclass(frozen=True)
class LiveCall:
    call_id: str
    caller: str
    queue: str
    #: the operator it rings at or who answered it ("" none yet)
    agent: str
    arrived_at: datetime
    answered_at: datetime | None
    #: seconds waiting (ringing) or talking (answered), as of the board's time
    seconds: float


@dataclass(frozen=True)
class Operator:
    username: str
    display_name: str
    state: str
    #: when they entered the state (None: never set, offline)
    since: datetime | None
    call_id: str
    seconds: float | None


@dataclass(frozen=True)
class Backlog:
    open: int
    overdue: int
    oldest_missed_at: datetime | None
    oldest_seconds: float | None


@dataclass(frozen=True)
class Board:
    now: datetime
    waiting: list[LiveCall]
    waiting_count: int
    longest_wait_seconds: float | None
    talking: list[LiveCall]
    talking_count: int
    operators: list[Operator]
    today: CallFigures
    answer_rate_target: float
    backlog: Backlog
    stale_minutes: int

    @property
    def by_state(self) -> dict[str, int]:
        counts = {str(state): 0 for state in STATE_ORDER}
        for row in self.operators:
            counts[row.state] = counts.get(row.state, 0) + 1
        return counts

    @property
    def below_target(self) -> bool:
        rate = self.today.answer_rate
        return rate is not None and rate < self.answer_rate_target


def today_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Today's local midnight and the next one, as aware times."""
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return start, end


def _seconds(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else max(0.0, (now - since).total_seconds())


def _waiting_filter(settings: CallSettings, now: datetime):
    return (
        _LIVE,
        Call.state == CallState.RINGING,
        Call.arrived_at >= now - timedelta(minutes=settings.stale_minutes),
    )


def _talking_filter(now: datetime):
    # an answered call has its outcome at once: outside ix_calls_live, read by arrival
    return (
        Call.state == CallState.ANSWERED,
        Call.arrived_at >= now - timedelta(hours=TALK_HOURS),
    )


def _live_calls(session: Session, where, *, order, now: datetime, talking: bool) -> list[LiveCall]:
    rows = session.scalars(select(Call).where(*where).order_by(order).limit(LIST_LIMIT))
    return [
        LiveCall(
            call_id=row.call_id,
            caller=row.caller,
            queue=row.queue,
            agent=row.agent,
            arrived_at=row.arrived_at,
            answered_at=row.answered_at,
            seconds=_seconds(row.answered_at if talking else row.arrived_at, now) or 0.0,
        )
        for row in rows
    ]


def operators(session: Session, *, now: datetime) -> list[Operator]:
    """Every active operator, in :data:`STATE_ORDER` then by name."""
    rows = session.execute(
        select(
            User.username, User.display_name, AgentState.state, AgentState.since, AgentState.call_id
        )
        .outerjoin(AgentState, AgentState.user_id == User.id)
        .where(User.role == Role.OPERATOR, User.active.is_(True))
    ).all()
    rank = {str(state): n for n, state in enumerate(STATE_ORDER)}
    found = [
        Operator(
            username=username,
            display_name=name,
            state=state or AgentStatus.OFFLINE,
            since=since,
            call_id=call_id or "",
            seconds=_seconds(since, now),
        )
        for username, name, state, since, call_id in rows
    ]
    return sorted(found, key=lambda o: (rank.get(o.state, len(rank)), o.display_name))


def backlog(session: Session, *, now: datetime) -> Backlog:
    """The open missed-call callback tasks: how many, how many overdue, the oldest."""
    count, overdue, oldest = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((CallCallback.due_at < now, 1), else_=0)), 0),
            func.min(CallCallback.first_missed_at),
        ).where(CallCallback.state == CallbackState.OPEN)
    ).one()
    return Backlog(int(count), int(overdue), oldest, _seconds(oldest, now))


def board(session: Session, *, now: datetime, tz: ZoneInfo) -> Board:
    """The board as of ``now``."""
    settings = call_settings(session)
    waiting_where = _waiting_filter(settings, now)
    waiting_count, oldest = session.execute(
        select(func.count(), func.min(Call.arrived_at)).where(*waiting_where)
    ).one()
    talking_where = _talking_filter(now)
    talking_count = session.scalar(select(func.count()).select_from(Call).where(*talking_where))
    start, end = today_bounds(now, tz)
    return Board(
        now=now,
        waiting=_live_calls(session, waiting_where, order=Call.arrived_at, now=now, talking=False),
        waiting_count=int(waiting_count),
        longest_wait_seconds=_seconds(oldest, now),
        talking=_live_calls(session, talking_where, order=Call.answered_at, now=now, talking=True),
        talking_count=int(talking_count or 0),
        operators=operators(session, now=now),
        today=figures(session, start=start, end=end),
        answer_rate_target=float(settings.answer_rate_target),
        backlog=backlog(session, now=now),
        stale_minutes=int(settings.stale_minutes),
    )


def version(session: Session, *, now: datetime, tz: ZoneInfo) -> str:
    """A token that moves whenever the board would show something else (its ticking waits
    aside, which the page counts by itself): the newest call event (every change of a call
    stores one), how many calls still count as waiting (one goes stale), the operators'
    states, the open callback tasks and how many are overdue, the settings, the date. Each
    part reads an index or a small table. (A call in progress whose end never came leaves
    the board after :data:`TALK_HOURS` with the next other change.)"""
    settings = call_settings(session)
    newest_event = session.scalar(select(func.max(CallEvent.id)))
    waiting = session.scalar(
        select(func.count()).select_from(Call).where(*_waiting_filter(settings, now))
    )
    states = session.execute(
        select(AgentState.user_id, AgentState.state, AgentState.since, AgentState.call_id)
        .join(User, User.id == AgentState.user_id)
        .where(User.role == Role.OPERATOR)
        .order_by(AgentState.user_id)
    ).all()
    operators_active = session.execute(
        select(func.count(), func.sum(User.id)).where(
            User.role == Role.OPERATOR, User.active.is_(True)
        )
    ).one()
    tasks = session.execute(
        select(
            func.count(),
            func.sum(CallCallback.id),
            func.coalesce(func.sum(case((CallCallback.due_at < now, 1), else_=0)), 0),
        ).where(CallCallback.state == CallbackState.OPEN)
    ).one()
    text = "|".join(
        str(part)
        for part in (
            newest_event,
            waiting,
            [tuple(row) for row in states],
            tuple(operators_active),
            tuple(tasks),
            settings.updated_at,
            settings.stale_minutes,
            settings.answer_rate_target,
            today_bounds(now, tz)[0].date(),
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
