"""``hotline kpi rollup``: recount the KPI rollup's dirty days now (``--rebuild``: every day),
and ``hotline kpi verify``: compare the rollup with a recount from the cases."""

from __future__ import annotations

from datetime import timedelta

import click
from flask.cli import with_appcontext

from .cli_needs import SCHEMA, needs


@click.group("kpi")
def kpi_group() -> None:
    """The KPI rollup (per local day, department and case type; see docs/evaluation-rollup.md)."""


def _session_factory():
    from sqlalchemy.orm import Session

    from .extensions import db

    engine = db.engine
    return lambda: Session(engine)


@kpi_group.command("rollup")
@click.option("--rebuild", is_flag=True, help="Mark every day dirty and recount them all.")
@with_appcontext
@needs(SCHEMA)
def rollup_command(rebuild: bool) -> None:
    """Recount the dirty days (what the worker does every minute)."""
    from workflows.kpi import rollup

    from .hotline import get_hotline

    now = get_hotline().clock.now()
    factory = _session_factory()
    if rebuild:
        done = rollup.rebuild(factory, as_of=now)
    else:
        done = rollup.recount_dirty(factory, as_of=now)
    click.echo(f"recounted {done} days")


@kpi_group.command("verify")
@click.option("--days", type=click.IntRange(1, 3660), default=400, show_default=True,
              help="How many local days back from today to compare.")  # fmt: skip
@with_appcontext
@needs(SCHEMA)
def verify_command(days: int) -> None:
    """Compare the rollup of every clean day with a recount from the cases; exit 1 on a
    difference."""
    from workflows.kpi import rollup
    from workflows.kpi.models import local_day

    from .extensions import db
    from .hotline import get_hotline

    now = get_hotline().clock.now()
    today = local_day(now)
    span = [today - timedelta(days=i) for i in range(days)]
    wrong = rollup.differences(db.session, as_of=now, days=span)
    dirty = len(rollup.dirty_days(db.session))
    click.echo(f"{len(span)} days compared, {dirty} dirty (read live), {len(wrong)} differ")
    for day in wrong:
        click.echo(f"  differs: {day.isoformat()}")
    if wrong:
        raise SystemExit(1)
