"""``hotline duplicates reindex`` and ``hotline duplicates prune``: the duplicate suggestions'
index (docs/insight-duplicates.md). Imports the app's modules inside the commands: the CLI
loads this before the blueprints."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..cli_needs import SCHEMA, needs


@click.group("duplicates")
def duplicates_group() -> None:
    """The duplicate suggestions' index (docs/insight-duplicates.md)."""


def _run(action) -> tuple[int, int]:
    from engine.db import unit_of_work
    from workflows.insight import duplicates as service

    from ..extensions import db
    from ..hotline import get_hotline

    days = int(current_app.config.get("DUPLICATE_DAYS") or service.DEFAULT_DAYS)
    with unit_of_work(db.session):
        count = getattr(service, action)(db.session, now=get_hotline().clock.now(), days=days)
    return count, days


@duplicates_group.command("reindex")
@with_appcontext
@needs(SCHEMA)
def reindex_command() -> None:
    """Index the open cases of the window that have no keys (after an upgrade, a bulk load)."""
    count, days = _run("reindex")
    click.echo(f"indexed {count} open cases of the last {days} days")


@duplicates_group.command("prune")
@with_appcontext
@needs(SCHEMA)
def prune_command() -> None:
    """Delete the keys older than the window now (the worker does it hourly)."""
    count, days = _run("prune")
    click.echo(f"deleted {count} keys older than {days} days")
