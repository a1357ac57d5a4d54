"""``hotline notifications`` (the delivery log: SMS, e-mail, webhooks) and ``hotline
notifications retry ID`` (a failed message or an incident back in the queue).

Recipients of citizens are masked (a shell's output ends up in tickets and chats). Bad input
gets one ``Error:`` line and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from .cli_calendar import _database_errors
from .cli_needs import SCHEMA, needs


@click.group("notifications", invoke_without_command=True)
@click.option("--failed", "problems", is_flag=True, help="Only failed messages and incidents.")
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.pass_context
@with_appcontext
@_database_errors
@needs(SCHEMA)
def notifications_group(ctx: click.Context, problems: bool, limit: int) -> None:
    """Messages sent to citizens, departments and staff, newest first, with the counts by
    status; `hotline notifications retry ID` re-queues one."""
    if ctx.invoked_subcommand is not None:
        return
    from workflows.notifications.log import counts_by_status, recent

    from .extensions import db
    from .hotline import get_hotline

    tz = get_hotline().tz
    counts = counts_by_status(db.session)
    rows = recent(db.session, problems=problems, limit=limit, tz=tz)
    db.session.rollback()
    click.echo(", ".join(f"{status} {count}" for status, count in counts.items()))
    if not rows:
        click.echo("no failed messages" if problems else "no messages")
        return
    for message, number in rows:
        click.echo(_line(message, number, tz))


def _line(message, number: str | None, tz) -> str:
    from workflows.notifications.log import mask_recipient

    when = message.created_at.astimezone(tz).isoformat(timespec="seconds")
    recipient = message.recipient
    if message.audience == "citizen":
        recipient = mask_recipient(recipient)
    line = (
        f"{message.id:>7} {when} {message.channel:<7} {message.notice:<18} {recipient} "
        f"case {number or '-'} {message.status}"
    )
    if message.attempts:
        line += f", {message.attempts} attempts"
    if message.reason:
        line += f" ({message.reason})"
    if message.last_error and message.status in ("failed", "incident"):
        line += f": {message.last_error.splitlines()[0][:200]}"
    return line


@notifications_group.command("retry")
@click.argument("message_id", type=int)
@with_appcontext
@_database_errors
@needs(SCHEMA)
def retry_command(message_id: int) -> None:
    """Put a failed message or an incident back in the queue, its attempts reset."""
    from engine.db import unit_of_work
    from workflows.errors import DomainError
    from workflows.notifications.pipeline import retry_message

    from .cli_calendar import cli_audit
    from .extensions import db
    from .hotline import get_hotline

    try:
        with unit_of_work(db.session):
            message = retry_message(db.session, get_hotline().runtime.outbox, message_id)
            cli_audit("message.retry", target_type="message", target_id=message_id)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"message {message.id} ({message.channel} {message.notice}) re-queued: "
        "a worker delivers it at its next sweep"
    )
