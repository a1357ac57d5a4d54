"""Reviews of sampled cases, operators' disputes of them, and the monthly report and ranking.

An operator reads only their own reviews: every read for an operator is by their username,
and a review or dispute of someone else is NotFound to them (as if it did not exist).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from workflows.cases.models import Case
from workflows.errors import DomainError, FormInvalid

from .models import Dispute, Review, SampledCase, SampleDraw, ScoringSheet
from .sheets import check_scores, max_total, sheet_in_force
from .stats import OperatorMonth, operator_months

COMMENT_MAX = 2000
REASON_MAX = 2000


class Refused(DomainError):
    """A quality action its state refuses; ``code`` names which (the pages translate it)."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class SampleRow:
    sample: SampledCase
    case: Case
    review: Review | None
    dispute: Dispute | None


def samples_of(session: Session, *, month: date, operator: str | None = None) -> list[SampleRow]:
    """The month's sampled cases (one operator's, or all), with their review and dispute."""
    stmt = (
        select(SampledCase, Case, Review, Dispute)
        .join(Case, Case.id == SampledCase.case_id)
        .outerjoin(Review, Review.sample_id == SampledCase.id)
        .outerjoin(Dispute, Dispute.review_id == Review.id)
        .where(SampledCase.month == month)
        .order_by(SampledCase.operator, SampledCase.position)
    )
    if operator is not None:
        stmt = stmt.where(SampledCase.operator == operator)
    return [SampleRow(*row) for row in session.execute(stmt)]


def get_sample(session: Session, sample_id: int) -> SampleRow:
    row = session.execute(
        select(SampledCase, Case, Review, Dispute)
        .join(Case, Case.id == SampledCase.case_id)
        .outerjoin(Review, Review.sample_id == SampledCase.id)
        .outerjoin(Dispute, Dispute.review_id == Review.id)
        .where(SampledCase.id == sample_id)
    ).first()
    if row is None:
        raise NotFound(f"no sampled case {sample_id}")
    return SampleRow(*row)


def draws_of(session: Session, *, month: date) -> list[SampleDraw]:
    """The month's draws, one per operator drawn."""
    return list(
        session.scalars(
            select(SampleDraw).where(SampleDraw.month == month).order_by(SampleDraw.operator)
        )
    )


def get_dispute(session: Session, dispute_id: int) -> tuple[Dispute, Review]:
    row = session.execute(
        select(Dispute, Review)
        .join(Review, Review.id == Dispute.review_id)
        .where(Dispute.id == dispute_id)
    ).first()
    if row is None:
        raise NotFound(f"no dispute {dispute_id}")
    return row[0], row[1]


def _text(value: str | None, *, field: str, limit: int, required: bool, what: str) -> str:
    text = (value or "").strip()
    if (required and not text) or len(text) > limit:
        need = f"{what} (at most {limit} characters)"
        raise FormInvalid({field: [need]})
    return text


def submit_review(
    session: Session,
    *,
    sample_id: int,
    given: dict[str, Any],
    comment: str,
    reviewer: str,
    now: datetime,
) -> Review:
    """Score a sampled case on the sheet in force, pinning its version. Once scored, a review
    changes only through a dispute."""
    row = get_sample(session, sample_id)
    if row.review is not None:
        raise Refused(
            "reviewed", "this case is reviewed already: a correction goes through a dispute"
        )
    sheet = sheet_in_force(session, now=now)
    errors: dict[str, list[str]] = {}
    scores: dict[str, int] = {}
    try:
        scores = check_scores(sheet, given)
    except FormInvalid as exc:
        errors.update(exc.errors)
    try:
        comment = _text(
            comment, field="comment", limit=COMMENT_MAX, required=False, what="a comment"
        )
    except FormInvalid as exc:
        errors.update(exc.errors)
    if errors:
        raise FormInvalid(errors)
    review = Review(
        sample_id=row.sample.id, sheet_id=sheet.id, month=row.sample.month,
        operator=row.sample.operator, case_id=row.case.id, reviewer=reviewer, scores=scores,
        total=sum(scores.values()), max_total=max_total(sheet), comment=comment,
        status="scored", created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(review)
    session.flush()
    return review


def reviews_of_operator(
    session: Session, *, operator: str
) -> list[tuple[Review, Case, ScoringSheet, Dispute | None]]:
    """An operator's own reviews, newest month first."""
    return [
        tuple(r)  # type: ignore[misc]
        for r in session.execute(
            select(Review, Case, ScoringSheet, Dispute)
            .join(Case, Case.id == Review.case_id)
            .join(ScoringSheet, ScoringSheet.id == Review.sheet_id)
            .outerjoin(Dispute, Dispute.review_id == Review.id)
            .where(Review.operator == operator)
            .order_by(Review.month.desc(), Review.id)
        )
    ]


def review_for(session: Session, *, review_id: int, operator: str | None) -> Review:
    """A review; for an operator (``operator`` given) only their own, else NotFound."""
    review = session.get(Review, review_id)
    if review is None or (operator is not None and review.operator != operator):
        raise NotFound(f"no review {review_id}")
    return review


def file_dispute(
    session: Session, *, review_id: int, operator: str, reason: str, now: datetime
) -> Dispute:
    """The operator disputes their own review, once, with a reason."""
    review = review_for(session, review_id=review_id, operator=operator)
    reason = _text(reason, field="reason", limit=REASON_MAX, required=True,
                   what="say why you dispute the review")  # fmt: skip
    if review.status != "scored":
        raise Refused("voided", "this review was voided: there is nothing to dispute")
    if session.scalar(select(Dispute.id).where(Dispute.review_id == review.id)) is not None:
        raise Refused("disputed", "this review was disputed already")
    dispute = Dispute(review_id=review.id, operator=operator, reason=reason, filed_at=now,
                      status="open")  # fmt: skip
    session.add(dispute)
    session.flush()
    return dispute


def decide_dispute(
    session: Session,
    *,
    dispute_id: int,
    decision: str,
    outcome: str,
    given: dict[str, Any],
    reason: str,
    by: str,
    now: datetime,
) -> Dispute:
    """Uphold (correct the scores on the review's own sheet version, or void the review) or
    reject an open dispute, with a reason; the scores before and after stay on the dispute."""
    dispute = session.get(Dispute, dispute_id)
    if dispute is None:
        raise NotFound(f"no dispute {dispute_id}")
    if dispute.status != "open":
        raise Refused("decided", f"this dispute was decided already ({dispute.status})")
    errors: dict[str, list[str]] = {}
    if decision not in ("upheld", "rejected"):
        errors["decision"] = ["choose upheld or rejected"]
    if decision == "upheld" and outcome not in ("corrected", "voided"):
        errors["outcome"] = ["an upheld dispute corrects the scores or voids the review"]
    try:
        reason = _text(reason, field="decision_reason", limit=REASON_MAX, required=True,
                       what="give the reason for the decision")  # fmt: skip
    except FormInvalid as exc:
        errors.update(exc.errors)
    review = session.get(Review, dispute.review_id)
    assert review is not None
    sheet = session.get(ScoringSheet, review.sheet_id)
    assert sheet is not None
    scores: dict[str, int] = {}
    if decision == "upheld" and outcome == "corrected":
        try:
            scores = check_scores(sheet, given)
        except FormInvalid as exc:
            errors.update(exc.errors)
        else:
            if scores == review.scores:
                errors["outcome"] = ["the corrected scores are the same as before"]
    if errors:
        raise FormInvalid(errors)
    dispute.status = decision
    dispute.outcome = outcome if decision == "upheld" else ""
    dispute.decided_by, dispute.decided_at, dispute.decision_reason = by, now, reason
    dispute.scores_before = {"scores": dict(review.scores), "total": review.total}
    if dispute.outcome == "corrected":
        review.scores, review.total = scores, sum(scores.values())
        dispute.scores_after = {"scores": scores, "total": review.total}
        review.updated_at = now
    elif dispute.outcome == "voided":
        review.status = "voided"
        review.updated_at = now
    session.flush()
    return dispute


def open_disputes(session: Session) -> list[tuple[Dispute, Review, Case]]:
    return [
        tuple(r)  # type: ignore[misc]
        for r in session.execute(
            select(Dispute, Review, Case)
            .join(Review, Review.id == Dispute.review_id)
            .join(Case, Case.id == Review.case_id)
            .where(Dispute.status == "open")
            .order_by(Dispute.filed_at, Dispute.id)
        )
    ]


@dataclass(frozen=True)
class ReportRow:
    #: None: no scored review this month (listed, not ranked)
    rank: int | None
    stats: OperatorMonth
    reviews: int
    #: mean of each review's total as a share of its sheet's maximum, out of 100
    average: Fraction | None

    @property
    def average_shown(self) -> str:
        return "–" if self.average is None else f"{float(self.average):.1f}"


def monthly_report(session: Session, *, month: date, tz: ZoneInfo) -> list[ReportRow]:
    """Every operator's month: the average review score (voided reviews left out) and their
    figures; ranked by the average, highest first, equal averages sharing a rank (1, 1, 3)."""
    shares: dict[str, list[Fraction]] = {}
    for operator, total, most in session.execute(
        select(Review.operator, Review.total, Review.max_total).where(
            Review.month == month, Review.status == "scored"
        )
    ):
        shares.setdefault(operator, []).append(Fraction(100 * total, most))
    rows = []
    for stats in operator_months(session, month=month, tz=tz):
        mine = shares.get(stats.username, [])
        rows.append(
            ReportRow(None, stats, len(mine), sum(mine, Fraction(0)) / len(mine) if mine else None)
        )
    scored = sorted((r for r in rows if r.average is not None), key=lambda r: -r.average)  # type: ignore[operator]
    ranked: list[ReportRow] = []
    for i, row in enumerate(scored):
        rank = ranked[-1].rank if ranked and ranked[-1].average == row.average else i + 1
        ranked.append(ReportRow(rank, row.stats, row.reviews, row.average))
    return ranked + [r for r in rows if r.average is None]
