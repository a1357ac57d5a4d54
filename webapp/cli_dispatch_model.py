"""``hotline dispatch-model train``: learn which unit a case goes to from the closed cases, and
``hotline dispatch-model show``: the active model's date and figures
(workflows/insight/dispatch_model.py, docs/insight-dispatch-model.md)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from .cli_needs import SCHEMA, needs


@click.group("dispatch-model")
def dispatch_model_group() -> None:
    """The dispatch model learned from closed cases (beside the catalogue's suggestion)."""


def _pct(value) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}%"


def _figures(metrics: dict) -> list[str]:
    if "top1" not in metrics:
        return ["holdout: too few units in the older cases to score"]
    gain = 100 * (metrics["top1"] - metrics["baseline_top1"])
    return [
        f"holdout (newest {metrics['test_cases']} cases, trained on {metrics['train_cases']}): "
        f"top-1 {_pct(metrics['top1'])}, top-3 {_pct(metrics['top3'])}; "
        f"catalogue {_pct(metrics['baseline_top1'])} ({gain:+.1f} points)"
    ]


@dispatch_model_group.command("train")
@click.option("--min-cases", type=click.IntRange(1, None), default=None,
              help="Refuse with fewer usable closed cases (default: DISPATCH_MODEL_MIN_CASES).")  # fmt: skip
@with_appcontext
@needs(SCHEMA)
def train_command(min_cases: int | None) -> None:
    """Train on every closed case (the unit that handled it without returning it), score on
    the newest 20%, and make it the active model. Exit 1 when refused (the old model kept)."""
    from workflows.insight import dispatch_model

    from .cli_calendar import cli_audit
    from .extensions import db
    from .hotline import get_hotline

    least = min_cases or int(current_app.config["DISPATCH_MODEL_MIN_CASES"])
    try:
        outcome = dispatch_model.train(
            db.session, now=get_hotline().clock.now(), by="cli", min_cases=least
        )
    except dispatch_model.TrainingRefused as refused:
        db.session.rollback()
        click.echo(f"not trained: {refused}", err=True)
        raise SystemExit(1) from None
    cli_audit("dispatch_model.train", target_type="dispatch_model", target_id=str(outcome.model.id))
    db.session.commit()
    click.echo(
        f"dispatch model {outcome.model.id} trained on {outcome.cases} closed cases, "
        f"{outcome.classes} units, in {outcome.seconds:.1f} s"
    )
    for line in _figures(outcome.metrics):
        click.echo(line)


@dispatch_model_group.command("show")
@with_appcontext
@needs(SCHEMA)
def show_command() -> None:
    """The active model: when and by whom it was trained, on how many cases, its figures."""
    from workflows.insight import dispatch_model

    from .extensions import db

    row = dispatch_model.active(db.session)
    if row is None:
        click.echo(
            "no dispatch model yet: `hotline dispatch-model train` (the pages show the "
            "catalogue's suggestion only)"
        )
        return
    metrics = row.metrics or {}
    click.echo(
        f"dispatch model {row.id}, trained {row.trained_at.isoformat(timespec='minutes')} "
        f"by {row.trained_by or '-'} on {row.cases} closed cases, {metrics.get('classes', '?')} "
        f"units, in {metrics.get('seconds', '?')} s"
    )
    for line in _figures(metrics):
        click.echo(line)
