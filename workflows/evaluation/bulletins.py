"""The monthly bulletin (通报): the rankings per level, the best and worst units, the month's
overdue and reopened cases and the trend, built from the scorecards; publishing freezes it.

A published bulletin is its ``snapshot``: later changes to cases do not rewrite it, except an
upheld appeal (:func:`revise_for_appeal`), which recomputes the appealed unit's row of the
case's month and records the revision on the bulletin.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.calendar.service import DEFAULT_TZ
from workflows.cases.models import Case
from workflows.departments.models import Department
from workflows.errors import DomainError
from workflows.events import AppealUpheld
from workflows.kpi.monthly import department_months

from .cases import figure_cases
from .models import Bulletin
from .scorecards import (
    Scorecard,
    add_months,
    figures_of,
    group_levels,
    month_start,
    score_figures,
    score_months,
    sort_level,
)
from .settings import Scheme, scheme_for

#: months in the trend, the bulletin's month included
TREND_MONTHS = 12
#: cases listed in each of the overdue and reopened lists
LISTED_CASES = 500
#: the rates the trend follows (the "three rates" and on-time closure)
TREND_RATES = ("on_time_sign_for", "on_time_closure", "satisfaction", "resolution")


class BulletinError(DomainError):
    """The bulletin cannot be published (already published, or the month is not over)."""


def build_bulletin(
    session: Session, *, month: date, as_of: datetime, tz: str = DEFAULT_TZ
) -> dict[str, Any]:
    """A month's bulletin as a JSON-ready dict (what publishing freezes)."""
    month = month.replace(day=1)
    first = add_months(month, -(TREND_MONTHS - 1))
    scored = score_months(session, first=first, last=month, as_of=as_of, tz=tz)
    previous = {c.department_id: c for c in scored[add_months(month, -1)]}
    cards = scored[month]
    for card in cards:
        old = previous.get(card.department_id)
        if old is not None:
            card.prev_score, card.prev_rank = old.score, old.rank
    levels = group_levels(cards)
    snapshot: dict[str, Any] = {
        "month": month.strftime("%Y-%m"),
        "as_of": as_of.isoformat(),
        "tz": tz,
        "scheme": scheme_for(session, month=month).as_dict(),
        "levels": {level: [c.as_dict() for c in rows] for level, rows in levels.items()},
        "overdue_cases": _cases(session, month, "overdue", as_of, tz),
        "reopened_cases": _cases(session, month, "reopened", as_of, tz),
        "trend": [_trend_point(m, scored[m]) for m in sorted(scored)],
    }
    _best_and_worst(snapshot)
    return snapshot


def _cases(session: Session, month: date, kpi: str, as_of: datetime, tz: str) -> list[dict]:
    stmt = figure_cases(
        month=month, department_id=None, kpi=kpi, side="numerator", as_of=as_of, tz=tz
    )
    names = dict(session.execute(select(Department.id, Department.name)).all())
    zone = ZoneInfo(tz)
    return [
        {
            "id": case.id,
            "number": case.number,
            "department_id": case.lead_department_id,
            "department": names.get(case.lead_department_id, ""),
            "created_at": case.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "reply_due": case.reply_due.astimezone(zone).strftime("%Y-%m-%d %H:%M")
            if case.reply_due
            else "",
            "reopens": case.reopen_count,
        }
        for case in session.scalars(stmt.limit(LISTED_CASES))
    ]


def _trend_point(month: date, cards: list[Scorecard]) -> dict[str, Any]:
    scores = [c.score for c in cards if c.ranked and c.score is not None]
    point: dict[str, Any] = {
        "month": month.strftime("%Y-%m"),
        "ranked": len(scores),
        "average": round(sum(scores) / len(scores), 1) if scores else None,
        "dispatched": sum(c.figures["dispatched"][0] for c in cards),
    }
    for kpi in TREND_RATES:
        n = sum(c.figures[kpi][0] for c in cards)
        d = sum(c.figures[kpi][1] for c in cards)
        point[kpi] = [n, d]
    return point


def _best_and_worst(snapshot: dict[str, Any]) -> None:
    """Per level: the units ranked first, and those ranked last (when last is not first)."""
    best: dict[str, list[int]] = {}
    worst: dict[str, list[int]] = {}
    for level, rows in snapshot["levels"].items():
        ranks = [r["rank"] for r in rows if r["ranked"]]
        if not ranks:
            continue
        best[level] = [r["department_id"] for r in rows if r["ranked"] and r["rank"] == 1]
        if max(ranks) > 1:
            worst[level] = [
                r["department_id"] for r in rows if r["ranked"] and r["rank"] == max(ranks)
            ]
    snapshot["best"] = best
    snapshot["worst"] = worst


# --- publishing --------------------------------------------------------------------------------


def published(session: Session, *, month: date) -> Bulletin | None:
    return session.scalar(select(Bulletin).where(Bulletin.month == month.replace(day=1)))


def published_bulletins(session: Session) -> list[Bulletin]:
    """Every published bulletin, the newest month first."""
    return list(session.scalars(select(Bulletin).order_by(Bulletin.month.desc())))


def publish(
    session: Session, *, month: date, at: datetime, by: str, tz: str = DEFAULT_TZ
) -> Bulletin:
    """Freeze the month's bulletin as of ``at``; a month is published once, after it ends."""
    month = month.replace(day=1)
    if month_start(add_months(month, 1), tz) > at:
        raise BulletinError("the month is not over yet")
    if published(session, month=month) is not None:
        raise BulletinError("this month's bulletin is already published")
    row = Bulletin(
        month=month,
        published_at=at,
        published_by=by,
        snapshot=build_bulletin(session, month=month, as_of=at, tz=tz),
        revisions={"items": []},
    )
    session.add(row)
    session.flush()
    return row


def revise_for_appeal(
    session: Session, *, case_id: int, department_id: int, at: datetime
) -> list[Bulletin]:
    """After an upheld appeal about ``case_id``: in the published bulletin of the case's month,
    the unit's figures and score are recomputed (the clock at the bulletin's ``as_of``, the
    scheme and bonus frozen in it) and it takes the rank its new score has among the others'
    frozen scores (theirs stay as published: equal scores share a rank), the case is taken off the bulletin's lists, and the revision recorded; the next month's
    bulletin, if published, gets the revised score and rank as the unit's month before.
    Returns the bulletins revised (none when the month has no published bulletin)."""
    case = session.get(Case, case_id)
    if case is None:
        raise ValueError(f"case_id: no case {case_id}")
    revised = []
    for bulletin in published_bulletins(session):
        tz = bulletin.snapshot.get("tz", DEFAULT_TZ)
        month = case.created_at.astimezone(ZoneInfo(tz)).date().replace(day=1)
        if bulletin.month != month:
            continue
        snapshot = copy.deepcopy(bulletin.snapshot)
        change = _revise_row(session, snapshot, month, department_id, case_id)
        if change is None:
            continue
        items = list((bulletin.revisions or {}).get("items", []))
        items.append({"at": at.isoformat(), "case_id": case_id, "case_number": case.number,
                      "department_id": department_id, **change})  # fmt: skip
        bulletin.snapshot = snapshot
        bulletin.revisions = {"items": items}
        bulletin.revised_at = at
        revised.append(bulletin)
        following = published(session, month=add_months(month, 1))
        if following is not None:
            _carry_forward(following, snapshot, department_id)
    session.flush()
    return revised


def _revise_row(
    session: Session, snapshot: dict[str, Any], month: date, department_id: int, case_id: int
) -> dict[str, Any] | None:
    tz = snapshot.get("tz", DEFAULT_TZ)
    for level, rows in snapshot["levels"].items():
        index = next((i for i, r in enumerate(rows) if r["department_id"] == department_id), None)
        if index is None:
            continue
        scheme = Scheme.from_dict(snapshot["scheme"])
        found = department_months(
            session,
            start=month_start(month, tz),
            end=month_start(add_months(month, 1), tz),
            as_of=datetime.fromisoformat(snapshot["as_of"]),
            tz=tz,
            department_ids=[department_id],
        )
        card = Scorecard.from_dict(rows[index])
        before = card.score
        card.figures = figures_of(found[0] if found else None)
        card.cases = card.figures["dispatched"][0]
        score = score_figures(card.figures, scheme, card.bonus)
        card.score, card.formula_zh, card.formula_en = (
            score.score,
            score.formula_zh,
            score.formula_en,
        )
        card.revised = True
        others = [Scorecard.from_dict(r) for i, r in enumerate(rows) if i != index]
        # the others keep their published ranks: another unit's appeal takes nothing from them
        card.ranked = card.score is not None and card.cases >= scheme.min_cases
        card.rank = (
            1 + sum(1 for c in others if c.ranked and (c.score or 0.0) > (card.score or 0.0))
            if card.ranked
            else None
        )
        snapshot["levels"][level] = [c.as_dict() for c in sort_level([*others, card])]
        for key in ("overdue_cases", "reopened_cases"):
            snapshot[key] = [c for c in snapshot[key] if c["id"] != case_id]
        _best_and_worst(snapshot)
        return {"before": before, "after": card.score}
    return None


def _carry_forward(following: Bulletin, revised: dict[str, Any], department_id: int) -> None:
    card = next(
        r
        for rows in revised["levels"].values()
        for r in rows
        if r["department_id"] == department_id
    )
    snapshot = copy.deepcopy(following.snapshot)
    for rows in snapshot["levels"].values():
        for row in rows:
            if row["department_id"] == department_id:
                row["prev_score"], row["prev_rank"] = card["score"], card["rank"]
    following.snapshot = snapshot


def bulletin_cards(snapshot: dict[str, Any]) -> dict[str, list[Scorecard]]:
    """A snapshot's rows as scorecards, per level."""
    return {
        level: [Scorecard.from_dict(r) for r in rows] for level, rows in snapshot["levels"].items()
    }


def on_appeal_upheld(session: Session, event: AppealUpheld) -> None:
    """The subscriber of ``AppealUpheld`` (``workflows/subscribers.py``): the published bulletin
    of the case's month is revised for the appealing unit, in the review's transaction."""
    revise_for_appeal(
        session, case_id=event.case_id, department_id=event.department_id, at=event.at
    )
