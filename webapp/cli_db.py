"""``hotline backup``, ``hotline restore`` and ``hotline db check|current``.

Bad input (a missing file, not a backup, the wrong kind, an unwritable path, a database that is
not empty) gets one ``Error:`` line and exit status 2, never a traceback.
"""

from __future__ import annotations

import functools
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from .backup import BackupError
from .backup import backup as backup_database
from .backup import restore as restore_database


class BadInput(click.ClickException):
    """A one-line ``Error:`` message with the usage-error exit status."""

    exit_code = 2


def _errors(fn):
    return _errors_with(fn, database_status=1)


def _errors_with(fn, *, database_status: int):
    """Bad input -> one ``Error:`` line, status 2; a database that cannot be used ->
    ``database_status`` (2 for ``db check``, whose 1 means "migrations pending")."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except BackupError as exc:
            raise BadInput(str(exc)) from None
        except OSError as exc:  # a disk full or a read-only file system mid-way
            raise BadInput(f"{exc.filename or 'file'}: {exc.strerror or exc}") from None
        except SQLAlchemyError as exc:
            orig = getattr(exc, "orig", None) or exc
            error = click.ClickException(f"cannot use the database: {' '.join(str(orig).split())}")
            error.exit_code = database_status
            raise error from None

    return wrapper


def _engine():
    from .extensions import db

    db.session.remove()
    return db.engine


def _script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory(current_app.extensions["migrate"].directory)


def schema_state() -> tuple[str, list[str], list[str]]:
    """("current" | "pending" | "newer" | "empty", the database's revisions, lines to show)."""
    from alembic.runtime.migration import MigrationContext

    script = _script()
    heads = set(script.get_heads())
    with _engine().connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if not current:
        return "empty", [], ["the database has no hotline tables: run 'hotline init'"]
    known = {rev.revision for rev in script.walk_revisions()}
    if current - known:
        return (
            "newer",
            sorted(current),
            [
                f"the database schema ({', '.join(sorted(current))}) is newer than this hotline "
                f"({', '.join(sorted(heads))}): run a newer hotline"
            ],
        )
    if current == heads:
        return "current", sorted(current), [f"schema is current ({', '.join(sorted(current))})"]
    pending = [
        f"  {rev.revision} {rev.doc.splitlines()[0] if rev.doc else ''}".rstrip()
        for rev in reversed(list(script.iterate_revisions(list(heads), list(current))))
    ]
    return (
        "pending",
        sorted(current),
        [
            f"the database schema ({', '.join(sorted(current))}) is behind: "
            f"{len(pending)} migrations pending (run 'hotline init'):",
            *pending,
        ],
    )


EXIT = {"current": 0, "pending": 1, "newer": 2, "empty": 2}


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
@_errors
def backup_command(file: Path) -> None:
    """Write a consistent backup of the database to FILE (safe while the app runs): SQLite's
    online backup, or a pg_dump custom archive on PostgreSQL (pg_dump must be on PATH)."""
    summary = backup_database(_engine(), file)
    for line in summary.lines():
        click.echo(line)


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that is not empty.")
@click.option(
    "--upgrade", is_flag=True, help="Migrate the restored database to this hotline's schema."
)
@with_appcontext
@_errors
def restore_command(file: Path, force: bool, upgrade: bool) -> None:
    """Restore the backup FILE into the configured database (refused if it is not empty,
    unless --force). The schema is not upgraded unless --upgrade: run `hotline init` after."""
    summary = restore_database(_engine(), file, force=force)
    click.echo(f"restored {file}")
    for line in summary.lines()[1:]:
        click.echo(line)
    if upgrade:
        from flask_migrate import upgrade as migrate_up

        migrate_up(directory=current_app.extensions["migrate"].directory)
    state, _, lines = schema_state()
    for line in lines:
        click.echo(line)


class _WithMigrate(click.Group):
    """``hotline db``: Flask-Migrate's group (its options, its callback that sets the migration
    directory, its ``upgrade``, ``downgrade``, ``history``...), with our ``check`` and
    ``current`` in place of its own (Alembic's ``check`` compares models, not the database)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or _migrate_group().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_migrate_group().list_commands(ctx)})


def _migrate_group() -> click.Group:
    from flask_migrate.cli import db as migrate_group

    return migrate_group


db_group = _WithMigrate(
    "db",
    params=_migrate_group().params,
    callback=_migrate_group().callback,
    help="The schema: `check` and `current` against this hotline's migrations, and "
    "Flask-Migrate's Alembic commands (upgrade, downgrade, history, ...).",
)


@db_group.command("check")
@with_appcontext
@functools.partial(_errors_with, database_status=2)
def db_check() -> None:
    """Exit 0 if the schema is current, 1 if migrations are pending, 2 if the database is
    newer than this hotline, has no tables or cannot be reached."""
    state, _, lines = schema_state()
    for line in lines:
        click.echo(line, err=state in ("newer", "empty"))
    raise SystemExit(EXIT[state])


@db_group.command("current")
@with_appcontext
@_errors
def db_current() -> None:
    """Print the database's schema revision and this hotline's (the migrations' head)."""
    _, current, _ = schema_state()
    click.echo(f"database: {', '.join(current) or '(none)'}")
    click.echo(f"code:     {', '.join(sorted(_script().get_heads()))}")
