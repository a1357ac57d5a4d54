"""``hotline insight``: ``detect`` looks for hot-topic waves now (what the worker does every
HOTLINE_WAVE_SECONDS; docs/insight-waves.md); ``import-areas FILE.geojson`` stores the areas'
boundaries from a GeoJSON file, checked whole before anything is stored (as the admin page's
upload; docs/insight-topics.md)."""

from __future__ import annotations

from pathlib import Path

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


@insight_group.command("import-areas")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create", is_flag=True, help="Create areas the file names but the centre lacks.")
@with_appcontext
@needs(SCHEMA)
def import_areas_command(path: Path, create: bool) -> None:
    """Store each feature's geometry on its area (property 'code', or 'name' of an area)."""
    from engine.db import unit_of_work
    from workflows.insight import areas

    from ..cli_calendar import cli_audit
    from ..extensions import db
    from ..hotline import get_hotline

    if path.stat().st_size > areas.MAX_GEOJSON_BYTES:
        raise click.ClickException(f"{path}: larger than {areas.MAX_GEOJSON_BYTES} bytes")
    try:
        with unit_of_work(db.session):
            codes = areas.import_geojson(
                db.session, path.read_bytes(), clock=get_hotline().clock, create=create
            )
            cli_audit("insight.areas_import", target_type="insight_area", codes=codes)
    except areas.GeoJSONInvalid as exc:
        lines = "\n".join(f"  {p}" for p in exc.problems)
        raise click.ClickException(f"{path}: nothing stored:\n{lines}") from None
    click.echo(f"boundaries stored for {len(codes)} areas: {', '.join(codes)}")
