"""A city hotline's days, simulated through the engine on a moved clock.

Calls arrive over each day's hours; operators answer some at once, refuse a few, dispatch the
rest; departments sign, return, ask for extensions and suspensions, and reply (some late);
dispatchers review; supervisors chase late cases; callback agents call citizens back (some are
never reached, some decline to rate). Everything goes
through the domain services and the engine, so deadlines, warnings and escalations really
fire, at their times, on the moved clock. Used by ``hotline init --demo`` and
``hotline simulate``.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import ManualClock
from engine.db import unit_of_work
from engine.models import HumanTask, Timer

from .calls import agents
from .calls.enums import AgentStatus, EventName, NoCaseReason
from .calls.models import AgentState, Call, CallCallback
from .calls.service import CallEventIn, ingest
from .cases import flows as cases
from .cases.models import Case
from .cases.steps import Step
from .cohandling.service import cohandling_of
from .departments.models import Department
from .departments.service import by_code, children
from .dispatch.models import DispatchRule
from .errors import DomainError, FormInvalid
from .hotline import Hotline
from .insight import sim_texts, wave_sim
from .insight.wave_sim import WaveSpec
from .users.models import Role, User

URGENCY_MIX = {"normal": 90, "urgent": 8, "critical": 2}
#: calls per hour of the day (Beijing time), relative
HOURLY = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 13, 10, 12, 14, 14, 13, 11, 8, 7, 6, 4, 3, 2]
#: the queue the simulated calls ring in, and the operators who answer them; the consumer
#: line 12315 (merged into 12345, still dialled) takes the market-regulation categories
QUEUE = "12345"
MARKET_QUEUE = "12315"
MARKET_CATEGORIES = frozenset({"食品安全", "药品安全", "价格收费", "消费维权"})
OPERATORS = ("op1", "op2")
#: the share of the cases that come by phone (the channel weights in ``_intake``)
PHONE_SHARE = 0.8
#: the phone system's busy hours (local); outside them a call is this many times likelier to
#: be missed (fewer operators on the night shift)
DAY_HOURS = range(8, 20)
NIGHT_MISSED = 6
#: why an answered call recorded no case, and how often
ONE_MINUTE = timedelta(minutes=1)
NO_CASE_MIX = {
    NoCaseReason.WRONG_NUMBER: 3,
    NoCaseReason.SILENT: 3,
    NoCaseReason.HUNG_UP: 2,
    NoCaseReason.HARASSMENT: 1,
}


@dataclass
class Rates:
    answered: float = 0.22
    not_accepted: float = 0.04
    sign_late: float = 0.05
    return_: float = 0.07
    extension: float = 0.06
    suspension: float = 0.02
    late_reply: float = 0.08
    redo: float = 0.05
    unsatisfied: float = 0.08
    duplicate: float = 0.02
    #: dispatches naming a co-handling unit; co-handlers answering after their own deadline
    cohandle: float = 0.1
    cohandle_late: float = 0.2
    #: citizens the callback agent never reaches (a call a day until the case closes as
    #: not reached)
    unreachable: float = 0.05
    #: citizens reached at the callback who decline to rate
    rating_declined: float = 0.03
    #: of the late replies: the supervisor sends a supervision order (else a chase notice)
    supervision_order: float = 0.4
    #: of the supervision orders: the department lets the deadline pass (the lead steps in)
    ignored_order: float = 0.25
    #: of the inbound phone calls (docs/calls.md, "The simulator"): callers who hang up while
    #: waiting (abandoned); calls the phone system gives up on (missed, most of them at night,
    #: outside 8:00-20:00); calls answered that record no case (wrong number, silent, ...).
    #: The rest are the phone-channel cases' calls.
    call_abandoned: float = 0.03
    call_missed: float = 0.02
    call_no_case: float = 0.05
    #: of the phone cases: the caller calls again about it (hours to days later, answered,
    #: linked to the case)
    call_repeat: float = 0.05
    #: a unit sent a case that is not its own (the catalogue's unit for another sub-topic,
    #: workflows/insight/sim_texts.py) returns it at this rate, else handles it anyway; the
    #: approved re-dispatch goes to the true unit. A city with ``return_=0`` returns nothing.
    wrong_unit_return: float = 0.85


@dataclass
class Report:
    cases: int = 0
    steps: int = 0
    timers_fired: int = 0
    refused: int = 0
    statuses: Counter = field(default_factory=Counter)
    #: the simulated calls by outcome ("" still live), and the callback tasks they made
    calls: Counter = field(default_factory=Counter)
    call_callbacks: int = 0

    def lines(self) -> list[str]:
        states = ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items()))
        outcomes = ", ".join(f"{k or 'live'} {v}" for k, v in sorted(self.calls.items()))
        return [
            f"simulated {self.cases} cases: {self.steps} task steps, "
            f"{self.timers_fired} timer firings, {self.refused} refused actions",
            f"cases by status: {states}",
            f"calls: {sum(self.calls.values())} ({outcomes}); "
            f"{self.call_callbacks} missed-call callback tasks",
        ]


class Simulation:
    """One run. ``hotline.clock`` must be a ManualClock; it is moved forward, never back."""

    def __init__(
        self,
        hotline: Hotline,
        session_factory: Callable[[], Session],
        *,
        seed: int = 1,
        rates: Rates | None = None,
        wave: WaveSpec | None = None,
    ) -> None:
        if not isinstance(hotline.clock, ManualClock):
            raise TypeError("the simulation needs a hotline on a ManualClock")
        self.hotline = hotline
        self.clock: ManualClock = hotline.clock
        self.session = session_factory()
        self.random = random.Random(seed)
        #: the calls' own stream, so that calls leave the cases' story as it was
        self.calls_random = random.Random(f"calls:{seed}")
        self.seed = seed
        self.call_numbers = itertools.count(1)
        self.call_prefix = f"sim{seed}"
        self.rates = rates or Rates()
        #: a hot-topic wave's extra calls (workflows/insight/wave_sim.py), if any
        self.wave = wave
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.report = Report()
        self.users = {u.username: u for u in self.session.scalars(select(User))}
        self.departments = {d.code: d for d in self.session.scalars(select(Department))}
        self.handlers: dict[int, User] = {}
        for user in self.users.values():
            if user.role == Role.HANDLER and user.department_id not in self.handlers:
                self.handlers[user.department_id] = user
        self.rules = self.session.execute(select(DispatchRule.category, DispatchRule.area)).all()
        #: the share of the calls with no case that ring in 12315: as the cases' categories
        self.market_share = sum(c in MARKET_CATEGORIES for c, _ in self.rules) / max(
            1, len(self.rules)
        )
        self.open_numbers: list[str] = []
        #: the texts' own stream (descriptions leave the cases' story as it was), and each
        #: case's true unit (by number) as its description tells it
        self.texts_random = random.Random(f"texts:{seed}")
        self.true_units: dict[str, str] = {}
        #: the case types' shares of the calls (each type declares its own)
        self.type_mix = hotline.case_types.mix()

    # -- driving --------------------------------------------------------------------------

    def run(
        self,
        *,
        cases: int,
        days: float,
        until: datetime | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> Report:
        """Spread ``cases`` calls over ``days`` from the clock's now, then run until ``until``
        (default: the end of the period)."""
        start = self.clock.now()
        end = until or start + timedelta(days=days)
        for when in self._arrivals(start, days, cases):
            self._at(when, self._intake)
        if self.wave is not None:
            for when, action in wave_sim.plan(self, self.wave, start):
                self._at(when, action)
        self.call_prefix = f"sim{self.seed}-{start.astimezone(UTC):%Y%m%d%H%M%S}"
        first_call = self.session.scalar(select(func.max(Call.id))) or 0
        first_task = self.session.scalar(select(func.max(CallCallback.id))) or 0
        self.session.rollback()
        for when, kind in self._extra_calls(start, days, cases):
            self._at(when, lambda kind=kind: self._extra_call(kind))
        done = 0
        while self.queue and self.queue[0][0] <= end:
            when, _, action = heapq.heappop(self.queue)
            self._fire_timers_until(when)
            if when > self.clock.now():
                self.clock.set(when)
            try:
                action()
            except (FormInvalid, DomainError):
                self.session.rollback()
                self.report.refused += 1
            if action.__name__ == "_intake" or getattr(action, "intake", False):
                done += 1
                if progress:
                    progress(1)
        self._fire_timers_until(end)
        if end > self.clock.now():
            self.clock.set(end)
        rows = self.session.execute(select(Case.status, func.count()).group_by(Case.status))
        self.report.statuses = Counter(dict(rows.all()))
        rows = self.session.execute(
            select(Call.outcome, func.count()).where(Call.id > first_call).group_by(Call.outcome)
        )
        self.report.calls = Counter(dict(rows.all()))
        self.report.call_callbacks = self.session.scalar(
            select(func.count()).where(CallCallback.id > first_task)
        )
        self.session.close()
        return self.report

    def _arrivals(
        self,
        start: datetime,
        days: float,
        n: int,
        weights: list[float] = HOURLY,
        rng: random.Random | None = None,
    ) -> list[datetime]:
        tz = self.hotline.tz
        r = rng or self.random
        out = []
        for _ in range(n):
            day = r.randrange(max(1, int(days)))
            hour = r.choices(range(24), weights)[0]
            local = (start.astimezone(tz) + timedelta(days=day)).replace(
                hour=hour, minute=r.randrange(60), second=r.randrange(60)
            )
            when = local.astimezone(start.tzinfo)
            if start <= when <= start + timedelta(days=days):
                out.append(when)
            else:
                out.append(start + timedelta(seconds=r.uniform(0, days * 86400)))
        return sorted(out)

    def _at(self, when: datetime, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (when, next(self.seq), action))

    def _later(self, action: Callable[[], None], *, minutes: float = 0, hours: float = 0) -> None:
        self._at(self.clock.now() + timedelta(minutes=minutes, hours=hours), action)

    def _fire_timers_until(self, when: datetime) -> None:
        while True:
            due = self.session.scalar(
                select(func.min(Timer.due_at)).where(
                    Timer.status == "pending", Timer.due_at <= when
                )
            )
            self.session.rollback()
            if due is None:
                return
            if due > self.clock.now():
                self.clock.set(due)
            self.report.timers_fired += self.hotline.runtime.fire_due_timers(self.session)

    # -- the people -----------------------------------------------------------------------

    def _intake(self) -> None:
        r = self.random
        category, area = r.choice(self.rules)
        case_type = r.choices(list(self.type_mix), list(self.type_mix.values()))[0]
        outcome = "dispatch"
        roll = r.random()
        answered = self.rates.answered * (2.5 if case_type == "consultation" else 0.6)
        if roll < answered:
            outcome = "answered"
        elif roll < answered + self.rates.not_accepted:
            outcome = "not_accepted"
        data = {
            "case_type": case_type,
            "urgency": r.choices(list(URGENCY_MIX), list(URGENCY_MIX.values()))[0],
            "channel": r.choices(["phone", "web", "app", "sms"], [80, 8, 8, 4])[0],
            "caller_name": r.choice("张王李赵陈刘黄周吴郑") + r.choice(["先生", "女士"]),
            "caller_phone": f"13{r.randrange(10**9):09d}",
            "address": f"江门市{r.choice(['蓬江区', '江海区', '新会区'])}{r.randrange(1, 300)}号",
            "area": area if area != "*" else r.choice(["D-PJ", "D-JH", "D-XH"]),
            "category": category,
            "description": "",
            "intake_outcome": outcome,
        }
        data["description"], true_unit = sim_texts.describe(
            self.texts_random, category, data["area"]
        )
        if outcome == "answered":
            data["answer"] = "已根据知识库当场解答"
        elif outcome == "not_accepted":
            data["not_accepted_reason"] = "已进入司法程序，不予受理"
        actor = r.choice(OPERATORS)
        queue = MARKET_QUEUE if category in MARKET_CATEGORIES else QUEUE
        phone = data["channel"] == "phone"
        call_id = self._case_call(actor, data["caller_phone"], queue) if phone else ""
        with unit_of_work(self.session):
            case = cases.open_case(self.session, self.hotline, data=data, actor=actor)
            if call_id:
                link_call(self.session, call_id, case_id=case.id, by=actor, at=self.clock.now())
        self.report.cases += 1
        if call_id and self.calls_random.random() < self.rates.call_repeat:
            case_id = case.id
            self._later(
                lambda: self._repeat_call(case_id, data["caller_phone"], queue),
                hours=self.calls_random.uniform(2, 72),
            )
        if outcome != "dispatch":
            return
        if self.open_numbers and r.random() < self.rates.duplicate:
            master = r.choice(self.open_numbers[-20:])
            self._later(lambda: self._merge(case.number, master), minutes=r.uniform(5, 60))
            return
        self.open_numbers.append(case.number)
        if true_unit in self.departments:
            self.true_units[case.number] = true_unit
        self._later(
            lambda: self._dispatch(case.number, data["category"], data["area"]),
            minutes=r.uniform(5, 90),
        )

    # -- the phones (docs/calls.md, "The simulator") ------------------------------------

    def _call_id(self) -> str:
        return f"{self.call_prefix}-{next(self.call_numbers):06d}"

    def _event(self, call_id: str, event: str, at: datetime, **fields: str) -> None:
        """One event through the one code path, as the phone system would send it."""
        ingest(
            self.session,
            CallEventIn(call_id=call_id, event=event, at=at, **fields),
            clock=self.clock,
            calendar=self.hotline.calendar.get(),
        )

    def _speed_of_answer(self) -> float:
        """Seconds a caller waits for an operator: mostly a few, now and then minutes."""
        return 3 + min(240.0, self.calls_random.expovariate(1 / 15))

    def _case_call(self, agent: str, caller: str, queue: str) -> str:
        """The call a phone case is recorded on, now: it rang, ``agent`` answered it after a
        wait and has been talking a while; it ends (and the operator's after-call work) a
        little later. Returns its call_id."""
        r = self.calls_random
        now = self.clock.now()
        call_id = self._call_id()
        talked = timedelta(seconds=r.uniform(60, 300))
        answered = now - talked
        rang = answered - timedelta(seconds=self._speed_of_answer())
        self._event(call_id, EventName.RINGING, rang, caller=caller, queue=queue)
        self._event(call_id, EventName.ANSWERED, answered, agent=agent)
        ends = timedelta(minutes=r.uniform(0.3, 3))
        wrap = timedelta(minutes=r.uniform(0.2, 2))
        self._later(
            lambda: self._end_call(call_id, agent, ends=wrap), minutes=(ends + wrap) / ONE_MINUTE
        )
        return call_id

    def _end_call(
        self,
        call_id: str,
        agent: str,
        *,
        ends: timedelta,
        reason: str = "",
        case_id: int | None = None,
    ) -> None:
        """The call ended ``ends`` ago; now its operator records why it made no case, or the
        earlier case it was about (if it recorded none), and is available again: one step of
        the simulation, as the two cost the same whenever they run."""
        now = self.clock.now()
        self._event(call_id, EventName.ENDED, now - ends)
        with unit_of_work(self.session):
            if case_id is not None:
                link_call(self.session, call_id, case_id=case_id, by=agent, at=now)
            elif reason:
                call = self.session.scalars(select(Call).where(Call.call_id == call_id)).one()
                call.no_case_reason = reason
                call.settled_by = agent
                call.settled_at = now
            row = self.session.get(AgentState, self.users[agent].id)
            waiting = row is not None and row.state == AgentStatus.AFTER_CALL_WORK
            if waiting and row.call_id == call_id:  # not since on another call
                agents.end_wrap_up(self.session, row=row, now=now)

    def _extra_calls(self, start: datetime, days: float, cases: int) -> list[tuple[datetime, str]]:
        """The calls that record no case, at the rates' shares of all the phone calls:
        abandoned and answered ones over the day as the cases, missed ones mostly at night."""
        r = self.calls_random
        rates = self.rates
        shares = {
            "abandoned": rates.call_abandoned,
            "missed": rates.call_missed,
            "no_case": rates.call_no_case,
        }
        case_calls = max(0.05, 1.0 - sum(shares.values()))
        night = [w * (1 if h in DAY_HOURS else NIGHT_MISSED) for h, w in enumerate(HOURLY)]
        out = []
        for kind, share in shares.items():
            n = round(cases * PHONE_SHARE * share / case_calls)
            weights = night if kind == "missed" else HOURLY
            out.extend((when, kind) for when in self._arrivals(start, days, n, weights, r))
        return sorted(out)

    def _extra_call(self, kind: str) -> None:
        """A call that ends now with no case: abandoned by its caller while waiting, missed by
        the phone system, or answered and found to be a wrong number, silence, ..."""
        r = self.calls_random
        now = self.clock.now()
        call_id = self._call_id()
        caller = f"13{r.randrange(10**9):09d}"
        queue = MARKET_QUEUE if r.random() < self.market_share else QUEUE
        if kind == "abandoned":
            rang = now - timedelta(seconds=r.uniform(5, 150))
            self._event(call_id, EventName.RINGING, rang, caller=caller, queue=queue)
            self._event(call_id, EventName.ENDED, now)
        elif kind == "missed":
            rang = now - timedelta(seconds=r.uniform(30, 90))
            self._event(call_id, EventName.RINGING, rang, caller=caller, queue=queue)
            self._event(call_id, EventName.MISSED, now)
        else:
            reason = r.choices(list(NO_CASE_MIX), list(NO_CASE_MIX.values()))[0]
            self._answered_call(call_id, caller, queue, talk=r.uniform(5, 90), reason=reason)

    def _repeat_call(self, case_id: int, caller: str, queue: str) -> None:
        """The caller of a phone case calls again about it (how is it going?): answered,
        linked to the case, no new case."""
        talk = self.calls_random.uniform(30, 180)
        self._answered_call(self._call_id(), caller, queue, talk=talk, case_id=case_id)

    def _answered_call(
        self,
        call_id: str,
        caller: str,
        queue: str,
        *,
        talk: float,
        reason: str = "",
        case_id: int | None = None,
    ) -> None:
        """A call answered after a wait that has talked ``talk`` seconds until now; it ends
        and its operator settles it (``reason`` or ``case_id``) after the wrap-up."""
        r = self.calls_random
        agent = r.choice(OPERATORS)
        answered = self.clock.now() - timedelta(seconds=talk)
        rang = answered - timedelta(seconds=self._speed_of_answer())
        self._event(call_id, EventName.RINGING, rang, caller=caller, queue=queue)
        self._event(call_id, EventName.ANSWERED, answered, agent=agent)
        wrap = timedelta(minutes=r.uniform(0.2, 2))
        self._later(
            lambda: self._end_call(call_id, agent, ends=wrap, reason=reason, case_id=case_id),
            minutes=wrap / ONE_MINUTE,
        )

    def _task(self, number: str, step: Step) -> HumanTask | None:
        self.session.expire_all()
        row = (
            self.session.execute(
                select(HumanTask)
                .join(Case, Case.instance_id == HumanTask.instance_id)
                .where(
                    Case.number == number,
                    HumanTask.kind == step,
                    HumanTask.state == "ready",
                )
            )
            .scalars()
            .first()
        )
        self.session.rollback()
        return row

    def _do(self, number: str, step: Step, username: str, data: dict[str, Any]) -> bool:
        task = self._task(number, step)
        if task is None:
            return False
        cases.complete_task(
            self.session, self.hotline, task_id=task.task_id, data=data, user=self.users[username]
        )
        self.report.steps += 1
        return True

    def _handler_for(self, code: str) -> str:
        dept = self.departments[code]
        return self.handlers[dept.id].username

    def _dispatch(self, number: str, category: str, area: str) -> None:
        r = self.random
        from .dispatch.service import suggest_department

        suggested = suggest_department(self.session, category=category, area=area)
        self.session.rollback()
        lead = suggested.code if suggested else r.choice(["B-UM", "B-MR"])
        co = [r.choice(["B-UM", "B-HU", "B-MR"])] if r.random() < self.rates.cohandle else []
        co = [c for c in co if c != lead]
        if not self._do(
            number, Step.DISPATCH, "disp1", {"lead_department": lead, "co_departments": co}
        ):
            return
        for code in co:
            self._plan_cohandle(number, code)
        self._route(number, lead)

    def _route(self, number: str, lead: str) -> None:
        """After a dispatch to ``lead``: a district platform re-dispatches to a street, a
        unit signs."""
        r = self.random
        dept = self.departments[lead]
        if dept.is_platform and dept.parent_id:
            street = r.choice(children(self.session, parent=dept))
            self.session.rollback()
            dispatcher = next(
                u.username
                for u in self.users.values()
                if u.role == Role.DISPATCHER and u.department_id == dept.id
            )
            self._later(
                lambda: self._redispatch(number, dispatcher, street.code),
                minutes=r.uniform(20, 240),
            )
            return
        self._later(lambda: self._sign(number, lead), hours=self._sign_delay(number))

    def _wrong_unit(self, number: str, dept: str) -> bool:
        """Whether ``dept`` (a street: its district platform) is not the case's true unit."""
        true = self.true_units.get(number)
        if not true:
            return False
        unit = self.departments[dept]
        parent = next((d for d in self.departments.values() if d.id == unit.parent_id), None)
        return dept != true and not (parent is not None and parent.code == true)

    def _redispatch(self, number: str, dispatcher: str, street: str) -> None:
        if self._do(number, Step.REDISPATCH, dispatcher, {"street_department": street}):
            self._later(lambda: self._sign(number, street), hours=self._sign_delay(number))

    def _sign_delay(self, number: str) -> float:
        """Hours until the department signs: within the case's sign-for limit, or (at the
        ``sign_late`` rate) well after it, so the unsigned-case escalation fires."""
        case = self._case(number)
        due = case.sign_due if case is not None else None
        left = (due - self.clock.now()).total_seconds() / 3600 if due else 6.0
        if self.random.random() < self.rates.sign_late:
            return max(0.0, left) + self.random.uniform(2, 30)
        return max(0.05, left * self.random.uniform(0.1, 0.9))

    def _sign(self, number: str, dept: str) -> None:
        r = self.random
        handler = self._handler_for(dept)
        case = self._case(number)
        if case is None or case.status != "dispatched":
            return
        if self._wrong_unit(number, dept) and self.rates.return_ > 0:
            returns = r.random() < self.rates.wrong_unit_return
        else:
            returns = r.random() < self.rates.return_
        if returns and case.return_count < 2:
            if self._do(
                number,
                Step.SIGN_FOR,
                handler,
                {"action": "return", "return_reason": "不属于本单位职责"},
            ):
                self._later(lambda: self._review_return(number, dept), hours=r.uniform(1, 8))
            return
        if self._do(number, Step.SIGN_FOR, handler, {"action": "sign"}):
            self._plan_reply(number, dept)

    def _review_return(self, number: str, dept: str) -> None:
        r = self.random
        wrong = self._wrong_unit(number, dept)
        approve = r.random() < (0.95 if wrong else 0.6)
        if not self._do(
            number,
            Step.REVIEW_RETURN,
            "disp1",
            {"decision": "approve" if approve else "reject", "note": "审核退单"},
        ):
            return
        if approve:
            # the true unit when the description tells it; else (the true unit returned it)
            # another bureau, as the dispatcher guesses
            true = self.true_units.get(number, "")
            other = (
                true
                if wrong
                else r.choice([c for c in ("B-UM", "B-HU", "B-MR", "B-WA") if c != dept])
            )
            self._later(lambda: self._dispatch_to(number, other), minutes=r.uniform(10, 120))
        else:
            self._later(lambda: self._sign(number, dept), hours=r.uniform(0.5, 4))

    def _dispatch_to(self, number: str, lead: str) -> None:
        if self._do(
            number, Step.DISPATCH, "disp1", {"lead_department": lead, "co_departments": []}
        ):
            self._route(number, lead)

    def _cohandle_task(self, number: str, code: str) -> HumanTask | None:
        self.session.expire_all()
        task = self.session.scalars(
            select(HumanTask)
            .join(Case, Case.instance_id == HumanTask.instance_id)
            .where(
                Case.number == number,
                HumanTask.kind == Step.COHANDLE,
                HumanTask.candidate_group == code,
                HumanTask.state == "ready",
            )
        ).first()
        self.session.rollback()
        return task

    def _plan_cohandle(self, number: str, code: str) -> None:
        """A co-handling unit sends its part within its own deadline, or (at the
        ``cohandle_late`` rate) after it, so its clock turns red."""
        r = self.random
        task = self._cohandle_task(number, code)
        if task is None or task.due_at is None:
            return
        left = (task.due_at - self.clock.now()).total_seconds() / 3600
        if r.random() < self.rates.cohandle_late:
            hours = max(0.0, left) + r.uniform(2, 48)
        else:
            hours = max(0.1, left * r.uniform(0.1, 0.9))
        self._later(lambda: self._cohandle(number, code), hours=hours)

    def _cohandle(self, number: str, code: str) -> None:
        task = self._cohandle_task(number, code)
        if task is None:  # the case closed meanwhile
            return
        cases.complete_task(
            self.session,
            self.hotline,
            task_id=task.task_id,
            data={"cohandle_text": "本单位已配合现场核查，情况已反馈主办单位"},
            user=self.users[self._handler_for(code)],
        )
        self.report.steps += 1

    def _waiting_for_cohandlers(self, number: str) -> datetime | None:
        """When the last co-handling unit the lead must wait for falls due (None: none)."""
        case = self._case(number)
        if case is None:
            return None
        waiting = cohandling_of(self.session, case=case, now=self.clock.now()).waiting_for
        self.session.rollback()
        dues = [p.due_at for p in waiting if p.due_at is not None]
        return max(dues) if dues else None

    def _case(self, number: str) -> Case | None:
        self.session.expire_all()
        case = self.session.scalars(select(Case).where(Case.number == number)).first()
        self.session.rollback()
        return case

    def _plan_reply(self, number: str, dept: str) -> None:
        r = self.random
        case = self._case(number)
        if case is None or case.reply_due is None:
            return
        left = (case.reply_due - self.clock.now()).total_seconds() / 3600
        roll = r.random()
        if roll < self.rates.extension:
            self._later(lambda: self._ask_extension(number, dept), hours=max(0.5, left * 0.5))
        elif roll < self.rates.extension + self.rates.suspension:
            self._later(lambda: self._ask_suspension(number, dept), hours=max(0.5, left * 0.3))
        elif roll < self.rates.extension + self.rates.suspension + self.rates.late_reply:
            # the red card first: the supervisor chases or orders, then the late reply
            self._later(lambda: self._supervise(number, dept), hours=left + r.uniform(0.2, 1.5))
        else:
            self._later(
                lambda: self._reply(number, dept), hours=max(0.2, left * r.uniform(0.1, 0.9))
            )

    def _handle_form(self, number: str) -> str | None:
        task = self._task(number, Step.HANDLE)
        return task.form_key if task else None

    def _reply(self, number: str, dept: str) -> None:
        form = self._handle_form(number)
        if form is None:
            return
        wait = self._waiting_for_cohandlers(number)
        if wait is not None:  # the lead replies with the co-handlers' parts, or once late
            hours = (wait - self.clock.now()).total_seconds() / 3600
            self._later(lambda: self._reply(number, dept), hours=max(0.1, hours) + 0.1)
            return
        data: dict[str, Any] = {
            "reply_text": "经核查已处理，并已答复市民",
            "result": self.random.choice(["resolved", "resolved", "partly_resolved"]),
        }
        if form != "common/reply":
            data["action"] = "reply"
        if self._do(number, Step.HANDLE, self._handler_for(dept), data):
            self._later(lambda: self._after_reply(number, dept), hours=self.random.uniform(1, 10))

    def _ask_extension(self, number: str, dept: str) -> None:
        form = self._handle_form(number)
        if form not in ("common/handle", "common/handle_extension"):
            return self._reply(number, dept)
        days = self.random.randint(2, 5)
        if self._do(
            number,
            Step.HANDLE,
            self._handler_for(dept),
            {
                "action": "request_extension",
                "extension_days": days,
                "extension_reason": "需要现场勘查和检测",
            },
        ):
            self._later(
                lambda: self._review_extension(number, dept, days), hours=self.random.uniform(1, 6)
            )

    def _review_extension(self, number: str, dept: str, days: int) -> None:
        approve = self.random.random() < 0.8
        data = {"decision": "approve", "approved_days": days} if approve else {"decision": "refuse"}
        if self._do(number, Step.REVIEW_EXTENSION, "disp1", data):
            self._plan_reply(number, dept)

    def _ask_suspension(self, number: str, dept: str) -> None:
        if self._handle_form(number) != "common/handle":
            return self._reply(number, dept)
        if self._do(
            number,
            Step.HANDLE,
            self._handler_for(dept),
            {"action": "request_suspension", "suspension_reason": "等待当事人补充材料"},
        ):
            self._later(
                lambda: self._review_suspension(number, dept), hours=self.random.uniform(1, 8)
            )

    def _review_suspension(self, number: str, dept: str) -> None:
        approve = self.random.random() < 0.7
        if not self._do(
            number,
            Step.REVIEW_SUSPENSION,
            "disp1",
            {"decision": "approve" if approve else "refuse"},
        ):
            return
        if approve:
            self._later(lambda: self._resume(number, dept), hours=self.random.uniform(24, 120))
        else:
            self._plan_reply(number, dept)

    def _resume(self, number: str, dept: str) -> None:
        if self._do(number, Step.RESUME, self._handler_for(dept), {"note": "材料已补齐"}):
            self._plan_reply(number, dept)

    def _after_reply(self, number: str, dept: str) -> None:
        case = self._case(number)
        if case is None:
            return
        if case.status == "replied":
            redo = self.random.random() < self.rates.redo
            data = {"decision": "redo", "note": "答复不完整"} if redo else {"decision": "accept"}
            if self._do(number, Step.REVIEW_REPLY, "disp1", data):
                if redo:
                    self._later(lambda: self._reply(number, dept), hours=self.random.uniform(4, 30))
                else:
                    self._later(
                        lambda: self._callback(number, dept), hours=self.random.uniform(2, 30)
                    )
        elif case.status == "awaiting_callback":
            self._callback(number, dept)

    def _callback_agent(self) -> str:
        for user in self.users.values():
            if user.role == Role.CALLBACK and user.active:
                return user.username
        raise DomainError("no active callback agent (role callback) to call the citizen back")

    def _callback(self, number: str, dept: str) -> None:
        r = self.random
        roll = r.random()
        if roll < self.rates.unreachable:
            return self._not_reached(number, 1)
        if roll < self.rates.unreachable + self.rates.rating_declined:
            self._do(
                number,
                Step.CALLBACK,
                self._callback_agent(),
                {"contact_result": "rating_declined", "callback_note": "市民不愿评价"},
            )
            return
        unhappy = r.random() < self.rates.unsatisfied
        satisfaction = (
            "unsatisfied"
            if unhappy
            else r.choice(["satisfied", "satisfied", "basically_satisfied"])
        )
        reopen = unhappy and r.random() < 0.6
        if (
            self._do(
                number,
                Step.CALLBACK,
                self._callback_agent(),
                {
                    "contact_result": "reached",
                    "satisfaction": satisfaction,
                    "resolved": "no" if unhappy else "yes",
                    "reopen": reopen,
                    "callback_note": "已电话回访",
                },
            )
            and reopen
        ):
            self._plan_reply(number, dept)

    def _not_reached(self, number: str, attempt: int) -> None:
        """One unanswered call; another about a day later while the case waits (the diagram
        closes it once the policy's attempts span its working days)."""
        reason = self.random.choice(["no_answer", "no_answer", "busy", "wrong_number", "declined"])
        data = {"contact_result": "not_reached", "unreached_reason": reason}
        if not self._do(number, Step.CALLBACK, self._callback_agent(), data):
            return
        case = self._case(number)
        if case is not None and case.status == "awaiting_callback" and attempt < 10:
            self._later(
                lambda: self._not_reached(number, attempt + 1), hours=self.random.uniform(20, 28)
            )

    def _merge(self, duplicate: str, master: str) -> None:
        cases.merge_case(
            self.session,
            self.hotline,
            duplicate_number=duplicate,
            master_number=master,
            user=self.users["disp1"],
        )

    # -- supervision ----------------------------------------------------------------------

    def _supervise(self, number: str, dept: str) -> None:
        """The supervisor takes the red card's supervise task: a chase notice, or (at the
        ``supervision_order`` rate) an order the department answers in writing, unless it
        ignores it (``ignored_order``) and the centre's lead steps in; the late reply follows."""
        r = self.random
        reply_in = r.uniform(2, 48)
        try:
            if r.random() >= self.rates.supervision_order:
                chase = {"action": "chase_notice", "note": "请尽快办结"}
                self._do(number, Step.SUPERVISE, "sup1", chase)
                return
            order = {"action": "supervision_order", "note": "请两个工作日内书面答复办理情况"}
            if not self._do(number, Step.SUPERVISE, "sup1", order):
                return
            task = self._task(number, Step.ANSWER_SUPERVISION)
            if task is None or task.due_at is None:
                return
            left = (task.due_at - self.clock.now()).total_seconds() / 3600
            if r.random() < self.rates.ignored_order:
                answer_in = left + r.uniform(8, 30)
                self._later(lambda: self._lead_supervise(number), hours=left + r.uniform(1, 6))
                reply_in = answer_in + r.uniform(1, 8)
            else:
                answer_in = max(0.3, left * r.uniform(0.1, 0.8))
            self._later(lambda: self._answer_order(number, dept), hours=answer_in)
        finally:
            self._later(lambda: self._reply(number, dept), hours=reply_in)

    def _answer_order(self, number: str, dept: str) -> None:
        self._do(
            number,
            Step.ANSWER_SUPERVISION,
            self._handler_for(dept),
            {"answer": "已按督办要求核查处理，正在整改并答复市民"},
        )

    def _lead_supervise(self, number: str) -> None:
        if "lead1" not in self.users:  # a city seeded before the centre had a lead
            return
        self._do(number, Step.LEAD_SUPERVISE, "lead1", {"instruction": "责成承办单位当日书面答复"})

    def supervise_all(self) -> None:
        """Supervisors answer every chase task waiting (run between days)."""
        for task in self.session.scalars(
            select(HumanTask).where(HumanTask.kind == Step.SUPERVISE, HumanTask.state == "ready")
        ).all():
            cases.complete_task(
                self.session,
                self.hotline,
                task_id=task.task_id,
                data={"action": "chase_notice", "note": "请尽快办结"},
                user=self.users["sup1"],
            )
            self.report.steps += 1


def link_call(session: Session, call_id: str, *, case_id: int, by: str, at: datetime) -> None:
    """The case the operator recorded on call ``call_id``: the call links to it (in the
    caller's transaction)."""
    call = session.scalars(select(Call).where(Call.call_id == call_id)).one()
    call.case_id = case_id
    call.settled_by = by
    call.settled_at = at
    session.flush()


def department_of(session: Session, code: str) -> Department:
    dept = by_code(session, code)
    if dept is None:
        raise LookupError(code)
    return dept
