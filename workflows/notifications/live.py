"""Version tokens of the lists that refresh by themselves: a short string per list and viewer
that changes when the list would show other rows. A browser polls them every few seconds and
fetches a list again only when its token moved, so each token must cost one cheap query.

- ``tasks`` (the inbox, the dispatcher's queues): per step, how many ready tasks of the
  viewer's lane and group and the sum of their instance ids, read from the index
  ``ix_human_tasks_ready_group`` (state, lane, candidate_group, kind, instance_id) alone: a
  task that appears, is taken, or becomes the next step of the same case changes it. No
  join to the cases (the list's own query has it): a task always has its case.
- ``overdue`` (supervision): how many cases the overdue list pages through, the same count
  the page runs (its query is planned for a million cases, docs/benchmarks.md).
- ``notifications``: the person's newest unread id and unread count (``inapp.version``).
- ``sms_replies``: the open SMS replies' count and newest id (the queue is short).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.models import HumanTask

from ..departments.models import Department
from ..kpi.service import count_overdue_now
from ..users.models import User
from . import inapp
from .inbound import Status
from .models import SmsInbound


def tasks_version(session: Session, *, user: User) -> str:
    """The token of the viewer's ready tasks (every step of their lane and group)."""
    department = session.get(Department, user.department_id) if user.department_id else None
    group = HumanTask.candidate_group.is_(None)
    if department is not None:
        group = or_(group, HumanTask.candidate_group == department.code)
    rows = session.execute(
        select(HumanTask.kind, func.count(), func.sum(HumanTask.instance_id))
        .where(HumanTask.state == "ready", HumanTask.lane == user.role, group)
        .group_by(HumanTask.kind)
    ).all()
    text = ";".join(f"{kind}:{count}:{total}" for kind, count, total in sorted(rows, key=str))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def overdue_version(session: Session, *, now: datetime) -> str:
    """The token of the supervisors' overdue list: how many cases it holds now."""
    return str(count_overdue_now(session, as_of=now))


def sms_replies_version(session: Session) -> str:
    """The token of the SMS replies waiting for a person (the centre's queue): how many, and
    the newest one's id, from ``ix_sms_inbound_status`` (few rows are ever open)."""
    count, newest = session.execute(
        select(func.count(), func.max(SmsInbound.id)).where(SmsInbound.status == Status.OPEN)
    ).one()
    return f"{newest or 0}.{count}"


def notifications_version(session: Session, *, user: User) -> str:
    return inapp.version(session, user_id=user.id)
