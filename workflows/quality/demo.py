"""The demo's quality review: last month's samples drawn and most of them scored by ``qa1``,
one review disputed by its operator, so that the reviewer's samples, the monthly report and
ranking, and an operator's own scores show something after ``hotline init --demo``.

Everything goes through ``sampling.draw_month``, ``reviews.submit_review`` and
``reviews.file_dispute`` at the hotline's now, with scores from a fixed random stream.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from sqlalchemy.orm import Session

from engine.db import unit_of_work

from ..hotline import Hotline
from .reviews import file_dispute, samples_of, submit_review
from .sampling import draw_month, last_ended_month
from .sheets import sheet_in_force

REVIEWER = "qa1"
COMMENTS = (
    "态度热情，记录完整，诉求要点清楚。",
    "地址记录不够具体，请补充门牌号。",
    "未向来电人复述诉求，沟通可以更耐心。",
)
DISPUTE = "地址为来电人口述，已按原话记录，申请复核。"


def demo_quality(session: Session, hotline: Hotline, *, size: int = 5) -> Iterator[str]:
    now = hotline.clock.now()
    month = last_ended_month(now, hotline.tz)
    stream = random.Random(12345)
    with unit_of_work(session):
        draws = draw_month(session, month=month, size=size, by=REVIEWER, now=now, tz=hotline.tz)
    if not draws:
        yield f"quality review: no operator recorded cases in {month:%Y-%m}"
        return
    reviewed = 0
    disputed = None
    with unit_of_work(session):
        sheet = sheet_in_force(session, now=now)
        rows = samples_of(session, month=month)
        if any(row.review is not None for row in rows):
            rows = []  # reviewed already (a second run): the reviewer's work stays as it is
        for row in rows:
            if stream.random() < 0.25:
                continue  # a quarter left for the reviewer to do
            scores = {
                f"score_{item['key']}": max(
                    0, int(item["max_points"]) - stream.choice((0, 0, 1, 2, 5))
                )
                for item in sheet.items
            }
            comment = stream.choice(COMMENTS)
            review = submit_review(
                session,
                sample_id=row.sample.id,
                given=scores,
                comment=comment,
                reviewer=REVIEWER,
                now=now,
            )
            reviewed += 1
            if disputed is None and comment == COMMENTS[1]:
                disputed = file_dispute(
                    session, review_id=review.id, operator=review.operator, reason=DISPUTE, now=now
                )
    sampled = sum(len(d.case_ids) for d in draws)
    yield (
        f"quality review {month:%Y-%m}: {sampled} cases sampled from {len(draws)} operators, "
        f"{reviewed} scored by {REVIEWER}, {1 if disputed else 0} disputed"
    )
