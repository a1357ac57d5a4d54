"""What a ``hotline`` command needs in the database, checked before it runs.

A command run on a database that is not ready (no tables, an older schema, no reference or demo
data) answers one line naming what is missing and the command that provides it, exit status 2,
instead of failing halfway with a traceback or a raw SQL error.
"""

from __future__ import annotations

import functools

import click
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

#: the command that creates or migrates the schema and seeds the reference data
INIT = "run 'hotline init'"
#: the command that also loads the demo departments, users and dispatch catalogue
INIT_DEMO = "run 'hotline init --demo'"

SCHEMA = "schema"
REFERENCE = "reference"
DEMO = "demo"


class Missing(click.ClickException):
    """The database lacks what a command needs: one ``Error:`` line, exit status 2."""

    exit_code = 2


def schema_problem(session) -> str | None:
    """Why the schema is not this code's latest (None when it is), from Alembic's own view:
    the revision stamped in the database against the heads of the migration scripts."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from flask import current_app

    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    heads = set(script.get_heads())
    current = set(MigrationContext.configure(session.connection()).get_current_heads())
    if not current:
        return f"the database has no hotline tables: {INIT}"
    if current == heads:
        return None
    known = {rev.revision for rev in script.walk_revisions()}
    if current - known:
        return (
            f"the database schema ({', '.join(sorted(current))}) is newer than this hotline "
            f"({', '.join(sorted(heads))}): run a newer hotline"
        )
    return (
        f"the database schema ({', '.join(sorted(current))}) is older than this hotline "
        f"({', '.join(sorted(heads))}): {INIT} to migrate it"
    )


def reference_problem(session) -> str | None:
    """The deadline policy and the deployed diagrams that ``hotline init`` provides."""
    from engine.models import Definition
    from workflows.policy.models import DeadlinePolicy

    if not session.scalar(select(func.count()).select_from(DeadlinePolicy)):
        return f"the database has no deadline policy: {INIT}"
    if not session.scalar(select(func.count()).select_from(Definition)):
        return f"the database has no deployed diagrams: {INIT}"
    return None


def demo_problem(session) -> str | None:
    """The departments, users and dispatch rules the simulator acts with."""
    from workflows.departments.models import Department
    from workflows.dispatch.models import DispatchRule
    from workflows.seed import USERS
    from workflows.users.models import User

    lacking = [
        what
        for what, model in [
            ("departments", Department),
            ("users", User),
            ("dispatch rules", DispatchRule),
        ]
        if not session.scalar(select(func.count()).select_from(model))
    ]
    if lacking:
        return f"the database has no {', '.join(lacking)}: {INIT_DEMO}"
    wanted = [row[0] for row in USERS]
    found = set(session.scalars(select(User.username).where(User.username.in_(wanted))))
    absent = [name for name in wanted if name not in found]
    if absent:
        return f"the database lacks the demo users {', '.join(absent)}: {INIT_DEMO}"
    return None


CHECKS = {SCHEMA: schema_problem, REFERENCE: reference_problem, DEMO: demo_problem}


def check(*needs: str) -> None:
    """Raise :class:`Missing` for the first unmet need (the schema is always checked first)."""
    from .extensions import db

    try:
        for need in (SCHEMA, *(n for n in needs if n != SCHEMA)):
            problem = CHECKS[need](db.session)
            if problem:
                raise Missing(problem)
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None) or exc
        raise click.ClickException(f"cannot use the database: {orig}") from None
    finally:
        db.session.rollback()


def needs(*what: str):
    """Decorate a command (inside ``with_appcontext``) with what it needs in the database."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            check(*what)
            return fn(*args, **kwargs)

        return wrapper

    return decorate
