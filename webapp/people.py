"""People as pages name them: by display name, never by user name (``{{ username|person }}``)."""

from __future__ import annotations

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from workflows.users.models import User

from .extensions import db

#: actors that are not people: the timers' sweep, the system's own steps, the demo's data
NOT_PEOPLE = {"timer": _l("Deadline timer"), "system": _l("System"), "demo": _l("Demo data")}


def person(username: str | None) -> str:
    """The display name of ``username`` (the user name itself if nobody has it: a system
    actor, a removed user). Looked up once per request."""
    if not username:
        return ""
    if username in NOT_PEOPLE:
        return str(NOT_PEOPLE[username])
    names = g.setdefault("display_names", {})
    if username not in names:
        try:
            found = db.session.scalar(select(User.display_name).where(User.username == username))
        except SQLAlchemyError:  # an error page after a failed transaction: say what we know
            found = None
        names[username] = found or username
    return names[username]
