"""The demo's appeals (申诉): after the simulated weeks, a few lead departments appeal a mark
still within the window, and the centre decides some of them, so that the review queue, the
appeal figures and the case pages' trail show something.

Everything goes through ``service.file_appeal`` and ``service.review_appeal`` (the rules, the
timeline entries, the events and their notices), at the hotline's now.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..cases.enums import Satisfaction
from ..cases.models import Case
from ..errors import FormInvalid
from ..hotline import Hotline
from ..users.models import Role, User
from .models import Appeal
from .service import file_appeal, ground_times, review_appeal, window_end

#: what the demo's departments say, per ground, and what the centre answers
REASONS = {
    "overdue": "该件涉及多部门现场核查，已于时限内电话告知市民办理进度，申请不计超期。",
    "rating": "已按规定办结并答复，市民不满意系对政策本身有异议，非承办单位办理问题。",
    "reopen": "重办系市民提出新的诉求，原诉求已办结，申请不计重办。",
}
DECISIONS = (
    None,  # left pending: the review queue
    ("upheld", "经核实，承办单位已在时限内告知市民办理进度，申诉成立。"),
    ("rejected", "未提供现场核查记录，申诉理由不充分，予以驳回。"),
)
#: how far back a mark may be to be looked at (the window is at most 60 working days; the
#: demo's default is 5)
LOOKBACK = timedelta(days=21)


def demo_appeals(session: Session, hotline: Hotline) -> Iterator[str]:
    """File one appeal per entry of ``DECISIONS`` (different departments where it can), and
    decide them as it says."""
    session.rollback()  # a read begun before the simulation would not see its cases
    now = hotline.clock.now()
    handlers: dict[int, User] = {}
    for user in session.scalars(
        select(User).where(User.role == Role.HANDLER, User.active.is_(True)).order_by(User.id)
    ):
        if user.department_id is not None:
            handlers.setdefault(user.department_id, user)
    reviewers = {
        role: session.scalar(
            select(User).where(User.role == role, User.active.is_(True)).order_by(User.id)
        )
        for role in (Role.SUPERVISOR, Role.LEAD)
    }
    since = now - LOOKBACK
    candidates = session.scalars(
        select(Case)
        .where(
            Case.lead_department_id.in_(list(handlers)),
            Case.appeal_upheld_at.is_(None),
            or_(
                Case.reply_due.between(since, now),
                Case.satisfaction == Satisfaction.UNSATISFIED,
                Case.reopen_count > 0,
            ),
        )
        .order_by(Case.id.desc())
        .limit(200)
    ).all()
    chosen: list[tuple[Case, str]] = []
    used: set[int] = set()
    for case in candidates:
        if len(chosen) == len(DECISIONS):
            break
        if case.lead_department_id in used and len(used) < len(handlers):
            continue  # a different department each, while there are others
        for ground, occurred in sorted(ground_times(session, case, now=now).items()):
            if occurred >= since and now <= window_end(hotline, session, occurred):
                chosen.append((case, str(ground)))
                used.add(case.lead_department_id)
                break
    session.rollback()
    filed = decided = 0
    for (case, ground), decision in zip(chosen, DECISIONS, strict=False):
        handler = handlers[case.lead_department_id]
        try:
            appeal: Appeal = file_appeal(
                session, hotline, number=case.number, ground=ground,
                reason=REASONS[ground], user=handler,
            )  # fmt: skip
            filed += 1
            if decision is None:
                continue
            status, reason = decision
            reviewer = reviewers[Role.SUPERVISOR if status == "upheld" else Role.LEAD]
            if reviewer is None:
                continue
            review_appeal(
                session, hotline, appeal_id=appeal.id, decision=status, reason=reason,
                user=reviewer,
            )  # fmt: skip
            decided += 1
        except FormInvalid:  # the case changed under us: the demo goes on without it
            session.rollback()
    yield f"demo appeals: {filed} filed, {decided} decided, {filed - decided} pending review"
