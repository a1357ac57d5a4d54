"""The ``hotline`` command: one click command per administrator action, each a thin wrapper.

Every command answers bad input with a message and an exit status, never a traceback.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from engine.errors import DefinitionInvalid, EngineError
from engine.validation import validate_file
from engine.xmlsafe import DEFAULT_MAX_BYTES
from workflows.simulation import Rates

from . import create_app
from .cli_needs import DEMO, REFERENCE, SCHEMA, needs
from .config import ROOT

#: the simulator's behaviours and their default shares (``hotline simulate --rate``); the
#: field ``return_`` is spelled ``return`` on the command line
RATE_DEFAULTS = {name.rstrip("_"): share for name, share in dataclasses.asdict(Rates()).items()}


def _create_app():
    from .config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def friendly_errors(fn):
    """Turn expected failures into one-line messages and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except click.exceptions.Exit:
            raise
        except click.ClickException:
            raise
        except DefinitionInvalid as exc:
            for issue in exc.issues:
                click.echo(str(issue), err=True)
            sys.exit(1)
        except EngineError as exc:
            raise click.ClickException(str(exc)) from None
        except OperationalError as exc:
            raise click.ClickException(f"cannot use the database: {exc.orig}") from None
        except SQLAlchemyError as exc:
            raise click.ClickException(f"database error: {exc}") from None

    return wrapper


class TextArgumentsGroup(FlaskGroup):
    """Arguments must be text: bytes that are not UTF-8 (which Python hands over as lone
    surrogates) would fail deep inside, where the database or a log writes them, with a
    traceback. They are refused first, naming the argument."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for position, arg in enumerate(args, 1):
            if any("\ud800" <= char <= "\udfff" for char in arg):
                shown = os.fsencode(arg).decode("utf-8", "backslashreplace")
                raise click.UsageError(
                    f"argument {position} ({shown}) is not UTF-8 text: "
                    "give names and values in UTF-8"
                )
        return super().parse_args(ctx, args)


@click.group(
    cls=TextArgumentsGroup,
    create_app=_create_app,
    add_version_option=False,
    help="The citizen hotline case engine.",
)
def cli() -> None:
    pass


def main() -> None:
    cli(prog_name="hotline")


@cli.command()
@click.option("--demo", is_flag=True, help="Also load demo departments, users and cases.")
@click.option(
    "--force",
    is_flag=True,
    help="Deploy the diagram files even over versions made elsewhere (the modeler, the API, "
    "`hotline deploy`).",
)
@with_appcontext
@friendly_errors
def init(demo: bool, force: bool) -> None:
    """Create or migrate the database, seed the deadline policy and calendar, and deploy the
    bundled diagrams and those the declared case types name.

    A diagram whose latest version was made elsewhere (a designer in the modeler, say) is not
    replaced by the file: init says which version it kept, by whom and when, unless --force.
    """
    from flask import current_app
    from flask_migrate import upgrade

    from engine.db import unit_of_work
    from workflows.forms import store as form_store
    from workflows.seed import seed_reference

    from .extensions import db
    from .hotline import get_hotline
    from .services import INIT_ACTOR, deploy_directory, deploy_file, init_guard

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.echo("database is at the latest schema")
    hotline = get_hotline()
    with unit_of_work(db.session):
        for line in seed_reference(db.session, clock=hotline.clock, case_types=hotline.case_types):
            click.echo(line)
    # before the diagrams, so that a deployment pins the forms as the files have them
    with unit_of_work(db.session):
        for line in form_store.seed_from_files(db.session, hotline.forms, clock=hotline.clock):
            click.echo(line)
    how = {
        "deployed_by": INIT_ACTOR,
        "comment": "hotline init --force" if force else "hotline init",
        "guard": None if force else init_guard(),
    }
    for line in deploy_directory(Path(current_app.config["BPMN_DIR"]), **how):
        click.echo(line)
    for path in hotline.case_types.diagrams():
        for line in deploy_file(path, **how):
            click.echo(line)
    if demo:
        from .demo import load

        with click.progressbar(length=300, label="demo cases", file=sys.stderr) as bar:
            for line in load(progress=bar.update):
                click.echo(line)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--forms-dir",
    type=click.Path(file_okay=False),
    default=lambda: os.environ.get("HOTLINE_FORMS_DIR", str(ROOT / "forms")),
    help="Where user-task forms live (to check that each form exists).",
)
def validate(files: tuple[str, ...], forms_dir: str) -> None:
    """Validate BPMN files: one FILE:LINE: ELEMENT: message line per problem.

    Exit status 0 when every file is valid, 1 when any is not. Needs no database.
    """
    from engine.clock import SystemClock
    from engine.expressions import Evaluator
    from workflows.connectors import build as build_connectors
    from workflows.hotline import expression_functions, property_checks

    from .config import SETTINGS, ConfigError
    from .hotline import connector_hosts, expression_budget

    forms = Path(forms_dir)
    # the budget the server would run with, from the same environment variables
    env = {k: os.environ.get(e, d) for k, (e, d, _) in SETTINGS.items() if k.startswith("EXPR")}
    try:
        budget = expression_budget(env)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    evaluator = Evaluator(expression_functions(SystemClock()), budget)
    try:
        hosts = connector_hosts({"CONNECTOR_HOSTS": os.environ.get("HOTLINE_CONNECTOR_HOSTS", "")})
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    connectors = build_connectors(hosts=hosts)
    max_bytes = int(os.environ.get("HOTLINE_MAX_BPMN_BYTES", DEFAULT_MAX_BYTES))
    failed = False
    for name in files:
        try:
            result = validate_file(
                name,
                form_exists=lambda key: _form_exists(forms, key),
                max_bytes=max_bytes,
                evaluator=evaluator,
                property_checks=property_checks(),
                connectors=connectors,
            )
            issues = [str(i) for i in result.issues]
        except Exception as exc:  # a bug of ours must still not print a traceback
            issues = [f"{name}:0: -: internal error while validating: {type(exc).__name__}: {exc}"]
        if issues:
            failed = True
            for line in issues:
                click.echo(line)
        else:
            click.echo(f"{name}: ok", err=True)
    sys.exit(1 if failed else 0)


def _form_exists(forms: Path, key: str) -> bool:
    return bool(key) and ".." not in key.split("/") and (forms / f"{key}.json").is_file()


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--by",
    "deployed_by",
    default=lambda: os.environ.get("USER", "cli"),
    help="Who deploys (recorded with the version).",
)
@click.option(
    "--comment",
    "-m",
    default="hotline deploy",
    show_default=True,
    help="Why (recorded with each new version, shown in the versions list).",
)
@with_appcontext
@friendly_errors
@needs(SCHEMA)
def deploy(files: tuple[str, ...], deployed_by: str, comment: str) -> None:
    """Validate and deploy BPMN files as new definition versions.

    A process that only moved, was reformatted or renamed its namespace prefixes is not a new
    version: it is reported as unchanged.
    """
    from engine.models import COMMENT_MAX

    from .services import deploy_file

    if len(comment.strip()) > COMMENT_MAX:
        raise click.BadParameter(f"at most {COMMENT_MAX} characters", param_hint="--comment")
    failed = False
    for name in files:
        try:
            for line in deploy_file(Path(name), deployed_by=deployed_by, comment=comment):
                click.echo(line)
        except DefinitionInvalid as exc:
            failed = True
            for issue in exc.issues:
                click.echo(str(issue), err=True)
    sys.exit(1 if failed else 0)


@cli.command()
@click.argument("key")
@click.option("--version", type=click.IntRange(min=1), help="The version (default: the latest).")
@click.option(
    "--out",
    "out_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to write: the diagram under its deployed file name, forms under forms/.",
)
@with_appcontext
@friendly_errors
@needs(SCHEMA)
def export(key: str, version: int | None, out_dir: str) -> None:
    """Write a deployed diagram and the forms its user tasks name to files (to keep in git).

    KEY is the process id (``hotline definitions`` lists them). Files already there are
    overwritten.
    """
    from .services import export_definition

    try:
        lines = export_definition(key, Path(out_dir), version=version)
    except OSError as exc:
        raise click.ClickException(
            f"cannot write {key} to {out_dir}: {exc.strerror or exc}"
        ) from None
    for line in lines:
        click.echo(line)


@cli.command()
@with_appcontext
@friendly_errors
@needs(SCHEMA)
def definitions() -> None:
    """List deployed definitions: key, name and versions."""
    from engine.definitions import list_definitions

    from .extensions import db

    rows = list_definitions(db.session)
    if not rows:
        click.echo("no definitions deployed (run `hotline init`)")
    for key, name, versions in rows:
        click.echo(f"{key}\t{name}\tversions {', '.join(map(str, versions))}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
@with_appcontext
@friendly_errors
@needs(SCHEMA)
def serve(host: str, port: int, threads: int) -> None:
    """Serve the web app (waitress) with the timer scheduler in this process."""
    from flask import current_app
    from waitress import serve as waitress_serve

    from .scheduler import start_scheduler

    app = current_app._get_current_object()
    # The scheduler's first sweep runs at once, in the background: timers that fell due while
    # nothing ran fire in due order while the app already answers requests.
    scheduler = start_scheduler(app, role="serve")
    click.echo(f"hotline at http://{host}:{port}/ (timers: {'on' if scheduler else 'off'})")
    try:
        waitress_serve(app, host=host, port=port, threads=threads, ident="hotline")
    finally:
        if scheduler:
            scheduler.shutdown(wait=False)


@cli.command()
@click.option(
    "--cases",
    "n_cases",
    type=click.IntRange(1, 10_000_000),
    required=True,
    help="How many calls to simulate.",
)
@click.option(
    "--days", type=click.FloatRange(0.01, 3650), required=True, help="Over how many days."
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--ending-now/--starting-now",
    default=True,
    show_default=True,
    help="Whether the simulated period ends now (history) or starts now.",
)
@click.option(
    "--rate",
    "rates",
    multiple=True,
    metavar="NAME=SHARE",
    help="Change one behaviour's share, 0 to 1 (repeatable), e.g. --rate late_reply=0.3. "
    f"Names and defaults: {', '.join(f'{k}={v}' for k, v in RATE_DEFAULTS.items())}.",
)
@click.option(
    "--wave",
    default=None,
    metavar="WORDS",
    help='Inject a hot-topic wave: extra food-safety calls using these words, e.g. "紫菜 塑料" '
    "(docs/insight-waves.md); the wave detection then runs over the period.",
)
@click.option(
    "--wave-day",
    type=click.IntRange(0),
    default=None,
    help="The simulated day (0 = the first) the wave starts on (default: the last day).",
)
@with_appcontext
@friendly_errors
@needs(REFERENCE, DEMO)
def simulate(
    n_cases: int,
    days: float,
    seed: int,
    ending_now: bool,
    rates: tuple[str, ...],
    wave: str | None,
    wave_day: int | None,
) -> None:
    """Drive a realistic load of calls through the engine on a moved clock."""
    from .demo import simulate as run

    chosen = parse_rates(rates)
    spec = parse_wave(wave, wave_day, days)
    with click.progressbar(length=n_cases, label="calls", file=sys.stderr) as bar:
        for line in run(
            cases=n_cases,
            days=days,
            seed=seed,
            ending_now=ending_now,
            progress=bar.update,
            rates=chosen,
            wave=spec,
        ):
            click.echo(line)


def parse_wave(words: str | None, day: int | None, days: float):
    """``--wave``/``--wave-day`` checked: a ``WaveSpec``, None, or a usage error naming the
    option (workflows/insight/wave_sim.py)."""
    from workflows.errors import FormInvalid
    from workflows.insight.wave_sim import WaveSpec, parse_words

    if words is None:
        if day is not None:
            raise click.BadParameter(
                "--wave-day needs --wave (the wave's words)", param_hint="--wave-day"
            )
        return None
    try:
        chosen = parse_words(words)
    except FormInvalid as exc:
        raise click.BadParameter(exc.errors["wave"][0], param_hint="--wave") from None
    last = max(0, int(days) - 1) if days >= 1 else 0
    if day is None:
        day = last
    if day > last:
        raise click.BadParameter(
            f"{day} is past the simulated days (0 to {last})", param_hint="--wave-day"
        )
    return WaveSpec(words=chosen, day=day)


def parse_rates(items: tuple[str, ...]) -> Rates:
    """``("late_reply=0.3", ...)`` -> Rates; a bad item is a usage error naming it."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in RATE_DEFAULTS:
            raise click.BadParameter(
                f"{item!r}: expected NAME=SHARE with NAME one of {', '.join(RATE_DEFAULTS)}",
                param_hint="--rate",
            )
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0.0 <= value <= 1.0:
            raise click.BadParameter(
                f"{item!r}: the share must be a number from 0 to 1", param_hint="--rate"
            )
        values[name if name in Rates.__dataclass_fields__ else f"{name}_"] = value
    return Rates(**values)


@cli.command()
@click.option(
    "--until-idle",
    is_flag=True,
    help="Fire what is due now and deliver the outbox, then exit (for cron, tests and "
    "catch-up runs).",
)
@click.option("--owner", default=None, help="Name of this worker in leases (default host:pid).")
@click.option("--pause-after", type=int, default=None, hidden=True)
@click.option("--pause-outbox-after", type=int, default=None, hidden=True)
@click.option("--pause-file", type=click.Path(), default=None, hidden=True)
@with_appcontext
@friendly_errors
@needs(SCHEMA)
def worker(
    until_idle: bool,
    owner: str | None,
    pause_after: int | None,
    pause_outbox_after: int | None,
    pause_file: str | None,
) -> None:
    """Run the timer scheduler, which also delivers the outbox, in its own process (for
    deployments with several web processes, which then run with HOTLINE_SCHEDULER=off)."""
    import signal
    import threading

    from flask import current_app

    from .scheduler import heartbeat, outbox_service, start_scheduler, timer_service

    app = current_app._get_current_object()
    if until_idle:
        service = timer_service(app, owner=owner)
        if pause_after is not None:
            _pause_mid_batch(service, pause_after, pause_file)
        result = service.drain()
        click.echo(
            f"fired {result.fired} instances ({result.claimed} timers claimed, "
            f"{result.retried} to retry, {result.incidents} incidents)"
        )
        from .scheduler import wave_job

        waves = wave_job(app).run()  # before the outbox: a new wave's notice goes out now
        click.echo(f"waves: {len(waves.opened)} opened, {len(waves.ended)} ended")
        # after the timers: their steps may have written messages
        outbox = outbox_service(app, owner=owner)
        if pause_outbox_after is not None:
            _pause_mid_delivery(outbox, pause_outbox_after, pause_file)
        delivered = outbox.drain()
        click.echo(
            f"delivered {delivered.done} outbox messages ({delivered.claimed} claimed, "
            f"{delivered.retried} to retry, {delivered.incidents} incidents)"
        )
        from .scheduler import rollup_job

        click.echo(f"recounted {rollup_job(app).run()} KPI rollup days")
        # a worker run from cron counts as alive for /readyz until its next run is late
        heartbeat(app, role="worker", owner=service.owner).beat()
        return
    app.config["SCHEDULER"] = "on"
    scheduler = start_scheduler(app, role="worker", owner=owner)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"timer and outbox worker {scheduler.service.owner} running; Ctrl-C to stop")
    stop.wait()
    scheduler.shutdown()


def _hang(count: int, pause_file: str | None, said: str) -> None:
    """Test hooks' end: write ``count`` to the pause file, say ``said`` and hang (to be killed)."""
    import time
    from pathlib import Path

    if pause_file:
        Path(pause_file).write_text(str(count))
    click.echo(said, nl=True)
    sys.stdout.flush()
    while True:
        time.sleep(3600)


def _pause_mid_batch(service, after: int, pause_file: str | None) -> None:
    """Test hook: after firing ``after`` instances of a batch, say so and hang (to be killed)."""
    service.group_size = 1  # stop between single instances, not whole groups
    original = service.run_batch

    def run_batch(**kwargs):
        def after_each(count: int) -> None:
            if count >= after:
                _hang(count, pause_file, f"paused after {count}")

        return original(after_each=after_each, **kwargs)

    service.run_batch = run_batch


def _pause_mid_delivery(service, after: int, pause_file: str | None) -> None:
    """Test hook: with ``after`` messages delivered, handle the next one, then say so and hang
    before its transaction commits (to be killed there)."""
    handled = 0

    def before_commit(message) -> None:
        nonlocal handled
        if handled >= after:
            _hang(handled, pause_file, f"paused after {handled} in message {message.id}")
        handled += 1

    service.before_commit = before_commit


@cli.group(invoke_without_command=True)
@click.pass_context
@with_appcontext
@friendly_errors
@needs(SCHEMA)
def timers(ctx: click.Context) -> None:
    """Timer backlog and incidents; `hotline timers retry ID` re-queues an incident."""
    if ctx.invoked_subcommand is not None:
        return
    from engine.timers import open_incidents, stats

    from .extensions import db
    from .hotline import get_hotline

    hotline = get_hotline()
    now = hotline.clock.now()
    s = stats(db.session, now=now)
    tz = hotline.tz

    def show(value):
        return value.astimezone(tz).isoformat(timespec="seconds") if value else "-"

    click.echo(f"pending timers:   {s.pending}")
    click.echo(f"next due:         {show(s.next_due)}")
    click.echo(f"overdue backlog:  {s.overdue} (oldest {show(s.oldest_overdue)})")
    click.echo(f"leased now:       {s.leased}")
    click.echo(f"open incidents:   {s.incidents}")
    for incident in open_incidents(db.session, limit=20):
        from workflows.cases.models import Case

        case = (
            db.session.query(Case.number).filter(Case.instance_id == incident.instance_id).scalar()
        )
        click.echo(
            f"  incident {incident.id}: case {case or '-'} (instance {incident.instance_id})"
            f", {show(incident.created_at)}, after {incident.attempts} attempts: "
            f"{incident.error}"
        )


@timers.command("retry")
@click.argument("incident_id", type=int)
@click.option("--by", "actor", default=lambda: os.environ.get("USER", "cli"))
@with_appcontext
@friendly_errors
@needs(SCHEMA)
def timers_retry(incident_id: int, actor: str) -> None:
    """Put an incident's timer back in the queue, due now."""
    from engine.db import unit_of_work
    from engine.timers import retry_incident

    from .cli_calendar import cli_audit
    from .extensions import db
    from .hotline import get_hotline

    with unit_of_work(db.session):
        incident = retry_incident(
            db.session, incident_id=incident_id, actor=actor, now=get_hotline().clock.now()
        )
        cli_audit("incident.retry", target_type="incident", target_id=incident_id, by=actor)
    click.echo(f"incident {incident.id} re-queued: its timer fires at the next sweep")


@cli.group(invoke_without_command=True)
@click.option("--limit", type=click.IntRange(1, 10000), default=50, show_default=True)
@click.pass_context
@with_appcontext
@friendly_errors
@needs(SCHEMA)
def outbox(ctx: click.Context, limit: int) -> None:
    """Outbox messages waiting, failed and given up on (incidents); `hotline outbox retry ID`
    re-queues one."""
    if ctx.invoked_subcommand is not None:
        return
    from engine.outbox import stats, undelivered

    from .extensions import db
    from .hotline import get_hotline

    tz = get_hotline().tz

    def show(value):
        return value.astimezone(tz).isoformat(timespec="seconds") if value else "-"

    s = stats(db.session)
    click.echo(f"pending:    {s.pending} (oldest {show(s.oldest_waiting)})")
    click.echo(f"failed:     {s.failed} (retried with backoff)")
    click.echo(f"incidents:  {s.incidents}")
    for row in undelivered(db.session, limit=limit):
        line = f"  {row.id} {row.status} {row.topic} {row.key} created {show(row.created_at)}"
        if row.status != "pending" or row.attempts:
            line += f", {row.attempts} attempts"
        if row.next_attempt_at and row.status == "failed":
            line += f", next {show(row.next_attempt_at)}"
        if row.last_error:
            line += f": {row.last_error}"
        click.echo(line)


@outbox.command("retry")
@click.argument("message_id", type=int)
@with_appcontext
@friendly_errors
@needs(SCHEMA)
def outbox_retry(message_id: int) -> None:
    """Put a failed outbox message or an incident back in the queue, attempts reset."""
    from engine.db import unit_of_work

    from .cli_calendar import cli_audit
    from .extensions import db
    from .hotline import get_hotline

    with unit_of_work(db.session):
        get_hotline().runtime.outbox.retry(db.session, message_id)
        cli_audit("outbox.retry", target_type="outbox", target_id=message_id)
    click.echo(f"outbox message {message_id} re-queued: a worker delivers it at its next sweep")


def _register_groups() -> None:
    from .api.cli import channel_group, token_group
    from .auth.cli import users_group
    from .cli_audit import audit_group, retention_group
    from .cli_calendar import calendar_group
    from .cli_dispatch_model import dispatch_model_group
    from .cli_forms import forms_group
    from .cli_kpi import kpi_group
    from .cli_notifications import notifications_group
    from .cli_try import try_command
    from .insight.cli import insight_group

    cli.add_command(calendar_group)
    cli.add_command(try_command)
    cli.add_command(kpi_group)
    cli.add_command(forms_group)
    cli.add_command(notifications_group)
    cli.add_command(audit_group)
    cli.add_command(retention_group)
    cli.add_command(token_group)
    cli.add_command(channel_group)
    cli.add_command(users_group)
    from .insight.duplicates_cli import duplicates_group

    cli.add_command(duplicates_group)
    cli.add_command(insight_group)
    cli.add_command(dispatch_model_group)

    from .cli_db import backup_command, db_group, restore_command

    cli.add_command(backup_command)
    cli.add_command(restore_command)
    cli.add_command(db_group)


_register_groups()
