"""The caller's identity as the signed-in user may see it, for every page, export and answer.

One place for what ``workflows/cases/confidentiality.py`` decides: ``shown(case)`` is the
name and phone to print (masked for a department when the case is confidential; the pages'
``caller(case)``), and ``record`` writes the centre's full views of confidential callers to
the view log. Views call ``record`` for what they are about to show, before rendering.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, g, request

from engine.db import end_read, in_unit_of_work, unit_of_work
from workflows.cases.confidentiality import (
    Identity,
    caller_identity,
    full_views,
    is_centre,
    record_views,
)
from workflows.cases.models import Case

from .extensions import db
from .hotline import get_hotline


def centre() -> bool:
    """Whether the signed-in user sees confidential callers in full."""
    user = getattr(g, "user", None)
    return user is not None and is_centre(user, getattr(g, "department", None))


def shown(case: Case) -> Identity:
    """The case's caller as the signed-in user may see it."""
    return caller_identity(case, centre=centre())


def record(cases: Iterable[Case], channel: str) -> None:
    """Record the full views of confidential callers among ``cases`` (nothing for a
    department: it sees them masked)."""
    record_ids(full_views(cases, centre=centre()), channel)


def record_ids(case_ids: list[int], channel: str) -> None:
    """Record full views of these confidential cases by the signed-in user, in the request's
    unit of work if one is open, else in one of its own."""
    if not case_ids or not centre():
        return
    session = db.session
    values = {
        "case_ids": case_ids,
        "user": g.user,
        "channel": channel,
        "path": request.path,
        "now": get_hotline().clock.now(),
    }
    if in_unit_of_work(session):
        record_views(session, **values)
        return
    end_read(session)
    with unit_of_work(session):
        record_views(session, **values)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["caller"] = shown
