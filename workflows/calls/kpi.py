"""Call KPIs (docs/calls.md, "KPIs"): counts and averages over the calls that *arrived* in
``[start, end)``, in one query of conditional aggregates.

- inbound: every call; answered, abandoned, missed, transferred: by outcome; live calls
  (no outcome yet) count in inbound only;
- answer rate = answered / inbound; abandon rate = abandoned / inbound;
- average speed of answer (ASA) = mean wait of the answered calls;
- average handling time (AHT) = mean of talk plus recorded after-call work, over the answered
  calls whose talk is known (ended); average talk time likewise without the after-call work.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .enums import Outcome
from .models import Call


@dataclass(frozen=True)
class CallFigures:
    inbound: int
    answered: int
    abandoned: int
    missed: int
    transferred: int
    #: mean seconds; None when no call gives one
    asa_seconds: float | None
    aht_seconds: float | None
    talk_seconds: float | None

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.inbound if self.inbound else None

    @property
    def abandon_rate(self) -> float | None:
        return self.abandoned / self.inbound if self.inbound else None


def _count(outcome: str):
    return func.coalesce(func.sum(case((Call.outcome == outcome, 1), else_=0)), 0)


def figures(session: Session, *, start: datetime, end: datetime) -> CallFigures:
    """The figures of the calls that arrived in ``[start, end)``."""
    answered = Call.outcome == Outcome.ANSWERED
    handled = case(
        (
            answered & Call.talk_seconds.is_not(None),
            Call.talk_seconds + func.coalesce(Call.wrap_seconds, 0),
        ),
        else_=None,
    )
    row = session.execute(
        select(
            func.count(),
            _count(Outcome.ANSWERED),
            _count(Outcome.ABANDONED),
            _count(Outcome.MISSED),
            _count(Outcome.TRANSFERRED),
            func.avg(case((answered, Call.wait_seconds), else_=None)),
            func.avg(handled),
            func.avg(case((answered, Call.talk_seconds), else_=None)),
        ).where(Call.arrived_at >= start, Call.arrived_at < end)
    ).one()
    inbound, n_answered, abandoned, missed, transferred, asa, aht, talk = row
    return CallFigures(
        inbound=int(inbound),
        answered=int(n_answered),
        abandoned=int(abandoned),
        missed=int(missed),
        transferred=int(transferred),
        asa_seconds=float(asa) if asa is not None else None,
        aht_seconds=float(aht) if aht is not None else None,
        talk_seconds=float(talk) if talk is not None else None,
    )
