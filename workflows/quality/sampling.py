"""The monthly random sample of each operator's cases, drawn once and stored.

The draw is reproducible: the generator is seeded by the month and the operator (never the
time or the person drawing), and picks from the operator's cases of the month in id order; so
the same month's cases give the same sample on any machine. It is idempotent: a month already
drawn for an operator (a ``quality_draws`` row) is returned as stored, even if cases were added
since or another size is asked.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.cases.models import Case
from workflows.errors import FormInvalid
from workflows.users.models import Role, User

from .models import SampledCase, SampleDraw
from .months import month_of, month_span, parse_month, previous_month

DEFAULT_SAMPLE_SIZE = 5
MAX_SAMPLE_SIZE = 50


@dataclass(frozen=True)
class DrawResult:
    operator: str
    draw: SampleDraw
    case_ids: list[int]
    #: drawn now (False: the stored draw, unchanged)
    new: bool


def seed_of(month: date, operator: str) -> int:
    """The generator's seed for one operator's month."""
    digest = hashlib.sha256(f"quality-sample:{month:%Y-%m}:{operator}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def pick(case_ids: list[int], *, month: date, operator: str, size: int) -> list[int]:
    """``size`` of ``case_ids`` (all when fewer), in the order drawn."""
    population = sorted(case_ids)
    return random.Random(seed_of(month, operator)).sample(population, min(size, len(population)))


def check_size(size: object) -> int:
    try:
        n = int(str(size).strip())
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_SAMPLE_SIZE:
        raise FormInvalid(
            {"size": [f"the sample size is a whole number from 1 to {MAX_SAMPLE_SIZE}"]}
        )
    return n


def check_draw(month_text: str, size_text: str) -> tuple[date, int]:
    """The month and size of a draw from a form, or FormInvalid naming each bad field."""
    errors: dict[str, list[str]] = {}
    month, size = date.min, 0
    try:
        month = parse_month(month_text)
    except FormInvalid as exc:
        errors.update(exc.errors)
    try:
        size = check_size(size_text)
    except FormInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise FormInvalid(errors)
    return month, size


def draw_month(
    session: Session, *, month: date, size: int, by: str, now: datetime, tz: ZoneInfo
) -> list[DrawResult]:
    """Draw every operator's sample for ``month`` (a month that has ended); operators drawn
    before keep their stored sample. Call inside a unit of work."""
    size = check_size(size)
    start, end = month_span(month, tz)
    if now < end:
        raise FormInvalid({"month": ["a month is drawn once it has ended"]})
    drawn = {
        d.operator: d for d in session.scalars(select(SampleDraw).where(SampleDraw.month == month))
    }
    cases: dict[str, list[int]] = {}
    for case_id, operator in session.execute(
        select(Case.id, Case.created_by)
        .join(User, User.username == Case.created_by)
        .where(Case.created_at >= start, Case.created_at < end, User.role == Role.OPERATOR.value)
    ):
        cases.setdefault(operator, []).append(case_id)
    results = []
    for operator in sorted(set(cases) | set(drawn)):
        if operator in drawn:
            results.append(
                DrawResult(operator, drawn[operator], stored_ids(session, drawn[operator]), False)
            )
            continue
        ids = pick(cases[operator], month=month, operator=operator, size=size)
        draw = SampleDraw(
            month=month, operator=operator, size=size, population=len(cases[operator]),
            drawn_at=now, drawn_by=by,
        )  # fmt: skip
        session.add(draw)
        session.flush()
        for position, case_id in enumerate(ids, start=1):
            session.add(
                SampledCase(
                    draw_id=draw.id,
                    month=month,
                    operator=operator,
                    case_id=case_id,
                    position=position,
                )  # fmt: skip
            )
        session.flush()
        results.append(DrawResult(operator, draw, ids, True))
    return results


def stored_ids(session: Session, draw: SampleDraw) -> list[int]:
    return list(
        session.scalars(
            select(SampledCase.case_id)
            .where(SampledCase.draw_id == draw.id)
            .order_by(SampledCase.position)
        )
    )


def last_ended_month(now: datetime, tz: ZoneInfo) -> date:
    """The month before the one ``now`` falls in (what the start of a month draws)."""
    return previous_month(month_of(now, tz))
