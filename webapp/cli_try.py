"""``hotline try FILE``: run a draft diagram's synthetic cases in a throwaway database and
print where they end and where they get stuck (docs/try-run.md). Nothing is stored."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .cli_needs import REFERENCE, needs


@click.command("try")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--cases", type=click.IntRange(1, 100), default=20, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=1, show_default=True)
@click.option(
    "--seconds",
    type=click.FloatRange(1, 3600),
    default=60,
    show_default=True,
    help="Wall-clock time the run may take.",
)
@with_appcontext
@needs(REFERENCE)
def try_command(file: str, cases: int, seed: int, seconds: float) -> None:
    """Try a draft FILE before deploying it (exit status 1 when a problem is found)."""
    from engine.errors import DefinitionInvalid
    from engine.xmlsafe import UnsafeXml, read_limited

    from .services import try_in_app

    try:
        data = read_limited(file, int(current_app.config["MAX_BPMN_BYTES"]))
    except UnsafeXml as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    try:
        report = try_in_app(data, Path(file).name, cases=cases, seed=seed, seconds=seconds)
    except DefinitionInvalid as exc:
        for issue in exc.issues:
            click.echo(str(issue), err=True)
        sys.exit(1)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        sys.exit(1)
