"""``hotline users``: an operator's recovery tools for sign-in, when no administrator can
sign in to do it on the pages (a lost phone and lost recovery codes, a leaked password).

Bad input gets one ``Error:`` line and exit status 1, never a traceback.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from ..cli_needs import SCHEMA, needs


def _user(username: str):
    from workflows.users.service import by_username

    from ..extensions import db

    user = by_username(db.session, username)
    if user is None:
        raise click.ClickException(f"no user is named {username!r}")
    return user


def _audit(action: str, user) -> None:
    """The audit row of a change made from the command line (in the change's transaction)."""
    from workflows.audit.service import CLI_ACTOR, Actor

    from ..audit.log import record

    record(
        action,
        target_type="user",
        target_id=user.id,
        username=user.username,
        actor=Actor(CLI_ACTOR),
    )


@click.group("users")
def users_group() -> None:
    """Sign-in recovery: end sessions, reset a second factor, set a password."""


@users_group.command("end-sessions")
@click.argument("username")
@with_appcontext
@needs(SCHEMA)
def end_sessions_command(username: str) -> None:
    """End every session of USERNAME (they sign in again)."""
    from ..security import end_sessions

    ended = end_sessions(_user(username).id, "revoked")
    click.echo(f"{ended} sessions of {username} ended")


@users_group.command("reset-second-factor")
@click.argument("username")
@with_appcontext
@needs(SCHEMA)
def reset_second_factor(username: str) -> None:
    """Remove USERNAME's second factor and end their sessions (they set up a new one)."""
    from engine.db import unit_of_work
    from workflows.users import totp

    from ..extensions import db
    from ..security import end_sessions

    user = _user(username)
    with unit_of_work(db.session):
        removed = totp.remove(db.session, user_id=user.id)
        if removed:
            _audit("user.reset_second_factor", user)
    if not removed:
        click.echo(f"{username} has no second factor")
        return
    end_sessions(user.id, "revoked")
    click.echo(f"second factor of {username} removed; their sessions are ended")


@users_group.command("set-password")
@click.argument("username")
@click.password_option("--password", prompt="New password", help="Prompted for if not given.")
@with_appcontext
@needs(SCHEMA)
def set_password_command(username: str, password: str) -> None:
    """Give USERNAME a new password (the password policy applies) and end their sessions."""
    from flask_babel import force_locale

    from engine.db import unit_of_work
    from workflows.users.service import set_password

    from ..extensions import db
    from ..security import end_sessions, hash_password, password_problem

    user = _user(username)
    with force_locale("en"):  # no request here to choose a language from
        problem = password_problem(password)
    if problem:
        raise click.ClickException(f"--password: {problem}")
    with unit_of_work(db.session):
        set_password(db.session, user_id=user.id, password_hash=hash_password(password))
        _audit("user.password", user)
    end_sessions(user.id, "password_changed")
    click.echo(f"password of {username} changed; their sessions are ended")
