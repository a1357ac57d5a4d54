"""``hotline audit verify`` (the audit log's hash chain) and ``hotline retention run`` (the
personal data of cases closed long ago).

Bad input gets one ``Error:`` line and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from .cli_calendar import BadInput, _database_errors
from .cli_needs import SCHEMA, needs


@click.group("audit")
def audit_group() -> None:
    """The audit log: check that no row was changed, removed or reordered."""


@audit_group.command("verify")
@with_appcontext
@_database_errors
@needs(SCHEMA)
def verify_command() -> None:
    """Walk the hash chain: exit 0 if intact, 1 naming the first broken row."""
    from workflows.audit.service import verify

    from .extensions import db

    verdict = verify(db.session)
    db.session.rollback()
    if verdict.intact:
        click.echo(f"audit log intact: {verdict.rows} rows, last hash {verdict.last_hash}")
        return
    click.echo(
        f"audit log BROKEN at row seq={verdict.broken_seq} (id {verdict.broken_id}): "
        f"{verdict.reason}; {verdict.rows} rows before it are intact",
        err=True,
    )
    sys.exit(1)


@click.group("retention")
def retention_group() -> None:
    """Remove the personal data of cases closed long ago (HOTLINE_RETENTION_DAYS)."""


@retention_group.command("run")
@click.option("--dry-run", is_flag=True, help="Only count the cases; change nothing.")
@click.option("--batch", default=200, show_default=True, type=click.IntRange(1, 5000))
@with_appcontext
@_database_errors
@needs(SCHEMA)
def retention_run(dry_run: bool, batch: int) -> None:
    """Anonymise the cases closed more than HOTLINE_RETENTION_DAYS ago, keeping statistics."""
    from workflows.attachments.files import FileStore
    from workflows.audit.retention import RetentionTooShort, run_retention
    from workflows.audit.service import CLI_ACTOR, Actor

    from .extensions import db
    from .hotline import get_hotline

    try:
        days = int(current_app.config["RETENTION_DAYS"])
        report = run_retention(
            db.session,
            now=get_hotline().clock.now(),
            days=days,
            actor=Actor(CLI_ACTOR),
            dry_run=dry_run,
            batch=batch,
            files=FileStore(current_app.config["FILES_DIR"]),
        )
    except (RetentionTooShort, ValueError) as exc:
        raise BadInput(str(exc)) from None
    cutoff = report.cutoff.isoformat(timespec="seconds")
    if dry_run:
        click.echo(f"dry run: {report.cases} cases closed before {cutoff} would be anonymised")
        click.echo(
            f"dry run: {report.calls} calls and {report.callbacks} missed-call callback tasks "
            f"before {cutoff} would lose the caller's number"
        )
    else:
        click.echo(
            f"anonymised {report.cases} cases closed before {cutoff} "
            f"in {report.batches} batches (kept: category, area, dates, departments, "
            "deadlines, status, satisfaction)"
        )
        click.echo(f"removed {report.files} attached files of those cases")
        click.echo(
            f"removed the caller's number from {report.calls} calls and {report.callbacks} "
            f"missed-call callback tasks before {cutoff} in {report.call_batches} batches "
            "(kept: queue, operator, times, outcome)"
        )
    for number in report.numbers[:20]:
        click.echo(f"  {number}")
    if len(report.numbers) > 20:
        click.echo(f"  ... and {len(report.numbers) - 20} more")
