"""``hotline forms list`` and ``hotline forms export KEY [--version N] [--out FILE]``: the
stored versions of the task forms (docs/forms.md), for keeping them in git."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from .cli_needs import SCHEMA, needs


@click.group("forms")
def forms_group() -> None:
    """Task forms and their versions (the form editor saves them; see docs/forms.md)."""


@forms_group.command("list")
@with_appcontext
@needs(SCHEMA)
def list_command() -> None:
    """One line per form: key, newest version, who saved it, when, and its comment."""
    from workflows.forms import store

    from .extensions import db
    from .hotline import get_hotline

    stored = store.latest_versions(db.session)
    for key in sorted(set(get_hotline().forms.file_keys()) | set(stored)):
        row = stored.get(key)
        if row is None:
            click.echo(f"{key}\t-\tonly the file under forms/")
        else:
            when = row.created_at.isoformat(timespec="seconds")
            click.echo(f"{key}\tv{row.version}\t{row.author}\t{when}\t{row.comment}")


@forms_group.command("export")
@click.argument("key")
@click.option("--version", type=click.IntRange(1), default=None, help="Default: the newest.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the JSON to this file (default: print it).",
)
@with_appcontext
@needs(SCHEMA)
def export_command(key: str, version: int | None, out: Path | None) -> None:
    """Print (or write) one version of a form as its JSON file."""
    from workflows.forms import FormError, is_form_key, store

    from .extensions import db
    from .hotline import get_hotline

    if not is_form_key(key):
        raise click.BadParameter("letters, digits, _ and -, in parts joined by /", param_hint="KEY")
    if version is None:
        row = store.latest(db.session, key)
    else:
        row = store.version_row(db.session, key=key, version=version)
    if row is not None:
        text = row.schema
    elif version is None:
        try:
            text = get_hotline().forms.file_text(key).decode("utf-8")
        except FormError as exc:
            raise click.ClickException(f"form {key}: {exc.message}") from None
    else:
        raise click.ClickException(f"form {key} has no version {version}")
    if out is None:
        click.echo(text, nl=False)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {out}: {exc.strerror}") from None
    click.echo(f"wrote {key} to {out}", err=True)
