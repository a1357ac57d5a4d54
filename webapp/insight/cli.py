"""``hotline insight detect``: look for hot-topic waves now (what the worker does every
HOTLINE_WAVE_SECONDS; docs/insight-waves.md)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from ..cli_needs import SCHEMA, needs


@click.group("insight")
def insight_group() -> None:
    """Insight: the words of the cases, their areas, hot-topic waves."""


@insight_group.command("detect")
@with_appcontext
@needs(SCHEMA)
def detect_command() -> None:
    """Look for hot-topic waves now: open, update and end them; supervisors hear of new ones."""
    from sqlalchemy.orm import Session

    from workflows.insight.waves import WaveJob, WaveSettings

    from ..extensions import db
    from ..hotline import get_hotline

    hotline = get_hotline()
    engine = db.engine
    job = WaveJob(
        lambda: Session(engine),
        clock=hotline.clock,
        settings=WaveSettings.from_config(current_app.config),
        publish=hotline.events.publish,
    )
    result = job.run()
    click.echo(
        f"waves: {len(result.opened)} opened, {len(result.updated)} still open, "
        f"{len(result.ended)} ended ({result.flags} keys flagged)"
    )
