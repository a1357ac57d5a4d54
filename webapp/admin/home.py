"""The administration overview: one link per area, with what each holds."""

from __future__ import annotations

from datetime import date

from flask import render_template
from sqlalchemy import func, select

from engine.definitions import deployed_counts, running_per_key
from engine.timers import stats
from workflows.calendar.models import CalendarDay
from workflows.departments.models import Department
from workflows.dispatch.models import DispatchRule
from workflows.knowledge.models import Article
from workflows.notifications.models import NotificationTemplate
from workflows.notifications.notices import DEFAULT_TEMPLATES
from workflows.policy.models import DeadlinePolicy
from workflows.users.models import User

from ..extensions import db
from ..hotline import get_hotline
from . import bp
from .common import admin_only


def _count(stmt) -> int:
    return db.session.scalar(stmt) or 0


@bp.get("")
@admin_only
def index():
    hotline = get_hotline()
    now = hotline.clock.now()
    year = now.astimezone(hotline.tz).year
    keys, versions = deployed_counts(db.session)
    counts = {
        "case_types": keys,
        "versions": versions,
        "running": sum(running_per_key(db.session).values()),
        "departments": _count(
            select(func.count()).select_from(Department).where(Department.active.is_(True))
        ),
        "users": _count(select(func.count()).select_from(User).where(User.active.is_(True))),
        "dispatch_rules": _count(select(func.count()).select_from(DispatchRule)),
        "calendar_days": _count(
            select(func.count())
            .select_from(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
        ),
        "policies": _count(select(func.count()).select_from(DeadlinePolicy)),
        "articles": _count(
            select(func.count()).select_from(Article).where(Article.active.is_(True))
        ),
        "templates": _count(select(func.count()).select_from(NotificationTemplate)),
        "template_total": len(DEFAULT_TEMPLATES),
    }
    timers = stats(db.session, now=now)
    return render_template("admin/index.html", counts=counts, timers=timers, year=year)
