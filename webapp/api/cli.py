"""``hotline token`` and ``hotline channel``: API tokens for people, api_keys for Open311
channels. A new token or key is printed once; only its hash is stored."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from engine.db import unit_of_work

from ..cli_calendar import cli_audit
from ..cli_needs import SCHEMA, needs


def _clock():
    return current_app.extensions["hotline"].clock


@click.group("token", invoke_without_command=True)
@click.pass_context
def token_group(ctx: click.Context) -> None:
    """Personal API tokens (Authorization: Bearer ...); without a command, list them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(token_list)


@token_group.command("list")
@click.argument("username", required=False)
@with_appcontext
@needs(SCHEMA)
def token_list(username: str | None) -> None:
    """Tokens (of USERNAME): id, user, name, prefix, created, last used, state."""
    from workflows.api.tokens import tokens_of

    from ..extensions import db

    for row, user in db.session.execute(tokens_of(db.session, viewer=None, username=username)):
        state = f"revoked {row.revoked_at.isoformat()}" if row.revoked_at else "active"
        used = row.last_used_at.isoformat() if row.last_used_at else "never used"
        click.echo(
            f"{row.id}\t{user.username}\t{row.name}\t{row.prefix}...\t"
            f"{row.created_at.isoformat()}\t{used}\t{state}"
        )


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="command line", show_default=True, help="What will use it.")
@with_appcontext
@needs(SCHEMA)
def token_create(username: str, name: str) -> None:
    """Make a token for USERNAME and print it (the only time it is shown)."""
    from workflows.api.tokens import create_token
    from workflows.errors import FormInvalid
    from workflows.users.service import by_username

    from ..extensions import db

    user = by_username(db.session, username)
    if user is None:
        from sqlalchemy import func, select

        from workflows.users.models import User

        from ..cli_needs import INIT_DEMO, Missing

        if not db.session.scalar(select(func.count()).select_from(User)):
            raise Missing(f"the database has no users: {INIT_DEMO}")
        raise click.ClickException(f"no user is named {username!r}")
    try:
        with unit_of_work(db.session):
            row, token = create_token(db.session, user=user, name=name, clock=_clock())
            cli_audit(
                "api_token.create",
                target_type="api_token",
                target_id=row.id,
                owner=username,
                name=name,
            )
    except FormInvalid as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"token {row.id} for {username} ({name}): {token}", err=True)
    click.echo(token)


@token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
@needs(SCHEMA)
def token_revoke(token_id: int) -> None:
    """Revoke token TOKEN_ID: it stops working at once."""
    from engine.errors import NotFound
    from workflows.api.tokens import revoke_token

    from ..extensions import db

    try:
        with unit_of_work(db.session):
            revoke_token(db.session, token_id=token_id, by=None, clock=_clock())
            cli_audit("api_token.revoke", target_type="api_token", target_id=token_id)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"token {token_id} revoked")


@click.group("channel", invoke_without_command=True)
@click.pass_context
def channel_group(ctx: click.Context) -> None:
    """Open311 channels and their api_keys; without a command, list them."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(channel_list)


@channel_group.command("list")
@with_appcontext
@needs(SCHEMA)
def channel_list() -> None:
    """Channels: name, key prefix, what they read, state."""
    from workflows.open311.service import list_channels

    from ..extensions import db

    for channel in list_channels(db.session):
        reads = "reads all requests" if channel.read_all else "reads its own requests"
        state = "active" if channel.active else f"revoked {channel.revoked_at.isoformat()}"
        click.echo(f"{channel.name}\t{channel.key_prefix}...\t{reads}\t{state}")


@channel_group.command("create")
@click.argument("name")
@click.option("--read-all", is_flag=True, help="May read every case as a request.")
@with_appcontext
@needs(SCHEMA)
def channel_create(name: str, read_all: bool) -> None:
    """Make a channel and print its api_key (the only time it is shown)."""
    from workflows.errors import FormInvalid
    from workflows.open311.service import create_channel

    from ..extensions import db

    try:
        with unit_of_work(db.session):
            _channel, key = create_channel(db.session, name=name, clock=_clock(), read_all=read_all)
            cli_audit("channel.create", target_type="channel", target_id=name, read_all=read_all)
    except FormInvalid as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"channel {name}: api_key follows", err=True)
    click.echo(key)


@channel_group.command("revoke")
@click.argument("name")
@with_appcontext
@needs(SCHEMA)
def channel_revoke(name: str) -> None:
    """Switch channel NAME's api_key off."""
    from engine.errors import NotFound
    from workflows.open311.service import revoke_channel

    from ..extensions import db

    try:
        with unit_of_work(db.session):
            revoke_channel(db.session, name=name, clock=_clock())
            cli_audit("channel.revoke", target_type="channel", target_id=name)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"channel {name} revoked")
