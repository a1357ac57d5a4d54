"""People as pages name them: by display name, never by user name (``{{ username|person }}``)."""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from workflows.users.models import User

from .extensions import db


def person(username: str | None) -> str:
    """The display name of ``username`` (the user name itself if nobody has it: a system
    actor, a removed user). Looked up once per request."""
    if not username:
        return ""
    names = g.setdefault("display_names", {})
    if username not in names:
        names[username] = (
            db.session.scalar(select(User.display_name).where(User.username == username))
            or username
        )
    return names[username]
