"""``hotline backup`` and ``hotline restore``: a busy hotline, backed up and restored into an
empty database, is all there (every row of every table) and the app serves it and runs on:
its pages and API answer as before, a timer fires, a task is completed. And ``hotline db``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import Result
from sqlalchemy import func, select, text

from engine.models import Incident, OutboxMessage, Timer
from tests.api.conftest import ApiClient, make_token
from tests.conftest import POSTGRES_URL
from tests.webapp.conftest import dispose, make_app
from tests.webapp.pages import login
from tests.webapp.test_cases_pages import act, case_row, close_on_time, dispatched, open_case
from tests.webapp.test_databases import built_afresh, contents
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases.models import Case


def busy(app, clock) -> dict[str, str]:
    """Cases at several steps, their events and pending timers, outbox messages, an incident."""
    numbers = {
        "new": open_case(app),
        "dispatched": dispatched(app),
        "signed": dispatched(app, caller_name="张三"),
        "closed": dispatched(app, caller_name="李四"),
    }
    act(app, numbers["signed"], "sign_for", "h_mr", {"action": "sign"})
    clock.advance(timedelta(hours=2))
    close_on_time(app, numbers["closed"])
    with app.app_context():
        instance = db.session.scalar(
            select(Case.instance_id).where(Case.number == numbers["signed"])
        )
        db.session.add(
            Incident(
                kind="timer",
                instance_id=instance,
                error="boom (a test incident)",
                attempts=5,
                created_at=clock.now(),
            )
        )
        db.session.commit()
        counts = {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Incident, OutboxMessage)
        }
        pending = db.session.scalar(
            select(func.count()).select_from(Timer).where(Timer.status == "pending")
        )
    assert counts["incidents"] == 1 and counts["outbox"] > 0 and pending > 0
    return numbers


def backup_name(kind: str) -> str:
    return "hotline-backup.db" if kind == "sqlite" else "hotline-backup.dump"


def test_a_restored_backup_has_every_row_and_the_app_runs_on_it(
    hotline_app, database, clock, tmp_path
):
    numbers = busy(hotline_app, clock)
    file = tmp_path / backup_name(database.kind)
    made = hotline_app.test_cli_runner().invoke(cli, ["backup", str(file)])
    assert made.exit_code == 0, made.output
    assert f"{file}: " in made.output and "bytes" in made.output
    assert "cases 4" in made.output and "schema revision " in made.output
    before = contents(database.engine)
    database.engine.dispose()

    # the backup is refused over a database with rows, and says what is there
    refused = hotline_app.test_cli_runner().invoke(cli, ["restore", str(file)])
    assert refused.exit_code == 2, refused.output
    assert "Error: the database is not empty" in refused.output and "cases 4" in refused.output

    # a new database, as ``createdb`` or a new SQLite path gives: no tables at all
    with built_afresh(database.kind, tmp_path / "restored", lambda url: None) as target:
        app = make_app(target.url, clock)
        try:
            done = app.test_cli_runner().invoke(cli, ["restore", str(file)])
            assert done.exit_code == 0, done.output
            assert "schema is current" in done.output and "cases 4" in done.output
            with app.app_context():
                db.session.remove()
                for engine in db.engines.values():
                    engine.dispose()
            assert contents(target.engine) == before
            target.engine.dispose()
            serves_what_it_served(hotline_app, app, numbers)
            runs_on(app, clock, numbers)
        finally:
            dispose(app)


def serves_what_it_served(original, restored, numbers: dict[str, str]) -> None:
    tokens = {app: make_token(app, "sup1") for app in (original, restored)}
    for number in numbers.values():
        answers = [
            ApiClient(app, token).get(f"/api/v1/cases/{number}") for app, token in tokens.items()
        ]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].get_json() == answers[1].get_json()
    client = restored.test_client()
    assert login(client, "sup1").status_code == 302
    for number in numbers.values():
        page = client.get(f"/cases/{number}")
        assert page.status_code == 200 and number in page.get_data(as_text=True)


def runs_on(app, clock, numbers: dict[str, str]) -> None:
    with app.app_context():
        first = db.session.scalars(
            select(Timer).where(Timer.status == "pending").order_by(Timer.due_at, Timer.id)
        ).first()
        timer_id, instance, due = first.id, first.instance_id, first.due_at
        events = db.session.scalar(
            text("SELECT count(*) FROM instance_events WHERE instance_id = :i"), {"i": instance}
        )
        db.session.rollback()
    # the restored timer fires when its time comes, and its case records what it did
    clock.set(due.replace(tzinfo=clock.now().tzinfo) + timedelta(minutes=1))
    with app.app_context():
        assert get_hotline().runtime.fire_due_timers(db.session)
        assert db.session.get(Timer, timer_id) is None or (
            db.session.get(Timer, timer_id).status != "pending"
        )
        assert (
            db.session.scalar(
                text("SELECT count(*) FROM instance_events WHERE instance_id = :i"),
                {"i": instance},
            )
            > events
        )
        db.session.rollback()
    # the dispatched case's unit signs for it and the case moves on to handling
    assert case_row(app, numbers["dispatched"]).signed_at is None
    act(app, numbers["dispatched"], "sign_for", "h_mr", {"action": "sign"})
    assert case_row(app, numbers["dispatched"]).signed_at is not None


def scripts(app):
    from alembic.script import ScriptDirectory

    return ScriptDirectory(app.extensions["migrate"].directory)


def head(app) -> str:
    """This code's migration head (other branches' migrations move it)."""
    return scripts(app).get_current_head()


def one_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.output
    return lines[0]


def test_bad_files_and_paths_get_one_error_line(app, database, tmp_path):
    runner = app.test_cli_runner()
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup\n")
    archive = tmp_path / "pg.dump"
    archive.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 64)
    other = tmp_path / "other.db"
    import sqlite3

    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    cases = {
        ("restore", str(tmp_path / "missing.db")): "does not exist",
        ("restore", str(text_file)): "is not a hotline backup",
        ("restore", str(tmp_path)): "is not a file",
        ("backup", str(tmp_path / "no" / "such" / "dir" / "b.db")): "is not a directory",
    }
    if database.kind == "sqlite":
        cases[("restore", str(other))] = "is a SQLite database but not a hotline backup"
        cases[("restore", str(archive))] = (
            "is a PostgreSQL backup but the configured database is SQLite"
        )
    else:
        cases[("restore", str(other))] = (
            "is a SQLite backup but the configured database is PostgreSQL"
        )
        cases[("restore", str(archive))] = "is not a readable pg_dump archive"
    for args, said in cases.items():
        assert said in one_error(runner.invoke(cli, list(args))), args
    # nothing was dropped or written: the database still has its schema
    assert runner.invoke(cli, ["db", "check"]).exit_code == 0


def test_a_backup_of_a_missing_database_file_is_refused(tmp_path, clock):
    app = make_app(f"sqlite:///{tmp_path / 'gone.db'}", clock)
    try:
        with app.app_context():
            db.engine.dispose()
        (tmp_path / "gone.db").unlink(missing_ok=True)
        line = one_error(app.test_cli_runner().invoke(cli, ["backup", str(tmp_path / "b.db")]))
        assert "does not exist: nothing to back up" in line
        assert not (tmp_path / "b.db").exists()
    finally:
        dispose(app)


@pytest.mark.postgres
@pytest.mark.skipif(not POSTGRES_URL, reason="HOTLINE_TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_pg_dump_missing_from_path_is_named(app, database, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    line = one_error(app.test_cli_runner().invoke(cli, ["backup", str(tmp_path / "b.dump")]))
    assert "pg_dump is not on PATH" in line
    assert not (tmp_path / "b.dump").exists()
    # a pg_dump older than the server (it could not read the server's catalogue) is named too
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    line = one_error(app.test_cli_runner().invoke(cli, ["backup", str(tmp_path / "b.dump")]))
    assert "pg_dump is version 9 but the server is PostgreSQL" in line
    assert not (tmp_path / "b.dump").exists()


def test_a_restored_older_backup_says_migrations_are_pending_until_upgraded(
    app, database, tmp_path
):
    from flask_migrate import downgrade

    with app.app_context():
        downgrade(directory=app.extensions["migrate"].directory, revision="925e7f349a75")
        db.session.remove()
    file = tmp_path / backup_name(database.kind)
    runner = app.test_cli_runner()
    assert runner.invoke(cli, ["backup", str(file)]).exit_code == 0
    with app.app_context():
        from flask_migrate import upgrade

        upgrade(directory=app.extensions["migrate"].directory)
        db.session.remove()
    restored = runner.invoke(cli, ["restore", str(file)])  # no rows: no --force needed
    assert restored.exit_code == 0, restored.output
    assert "schema revision 925e7f349a75" in restored.output
    pending = len(list(scripts(app).iterate_revisions("heads", "925e7f349a75")))
    assert f"{pending} migrations pending (run 'hotline init')" in restored.output
    assert runner.invoke(cli, ["db", "check"]).exit_code == 1  # not upgraded behind our back
    upgraded = runner.invoke(cli, ["restore", "--upgrade", str(file)])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"schema is current ({head(app)})" in upgraded.output


def test_a_sqlite_backup_holds_what_is_committed_in_the_write_ahead_log_only(tmp_path):
    import sqlite3

    from sqlalchemy import create_engine

    from webapp.backup import backup

    live = tmp_path / "live.db"
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")  # committed rows stay in the -wal file
    writer.execute("CREATE TABLE alembic_version (version_num TEXT)")
    writer.execute("INSERT INTO alembic_version VALUES ('e8d41c7a9f25')")
    writer.execute("CREATE TABLE cases (n INTEGER)")
    writer.executemany("INSERT INTO cases VALUES (?)", [(i,) for i in range(100)])
    writer.execute("BEGIN")
    writer.execute("INSERT INTO cases VALUES (-1)")  # in flight while the backup runs
    assert (tmp_path / "live.db-wal").stat().st_size > 0
    engine = create_engine(f"sqlite:///{live}")
    try:
        summary = backup(engine, tmp_path / "copy.db")
    finally:
        engine.dispose()
        writer.execute("ROLLBACK")
        writer.close()
    assert summary.rows["cases"] == 100 and summary.revision == "e8d41c7a9f25"
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("SELECT count(*), min(n) FROM cases").fetchone() == (100, 0)
    assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    copy.close()
    assert not (tmp_path / "copy.db-wal").exists()


def test_db_check_says_current_pending_newer_and_empty(app, tmp_path, clock):
    from flask_migrate import downgrade

    runner = app.test_cli_runner()
    current = runner.invoke(cli, ["db", "check"])
    assert current.exit_code == 0 and current.output.startswith("schema is current ("), current
    assert runner.invoke(cli, ["db", "current"]).output == (
        f"database: {head(app)}\ncode:     {head(app)}\n"
    )
    with app.app_context():
        downgrade(directory=app.extensions["migrate"].directory, revision="0b6f2c8e41d7")
    behind = runner.invoke(cli, ["db", "check"])
    assert behind.exit_code == 1, behind.output
    assert "migrations pending" in behind.output and "run 'hotline init'" in behind.output
    # the pending revisions with their messages, oldest first; not the one it is at
    assert f"  {head(app)} " in behind.output and "  0b6f2c8e41d7" not in behind.output
    # Flask-Migrate's commands are still there under ``hotline db``
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(cli, ["db", "check"]).exit_code == 0
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'fffffffffff1'"))
        db.session.commit()
    newer = runner.invoke(cli, ["db", "check"])
    assert newer.exit_code == 2 and "newer than this hotline" in newer.output

    empty = make_app(f"sqlite:///{tmp_path / 'empty.db'}", clock)
    try:
        none = empty.test_cli_runner().invoke(cli, ["db", "check"])
        assert none.exit_code == 2 and "no hotline tables" in none.output
    finally:
        dispose(empty)
    # a database it cannot reach is not "migrations pending" (1): a deploy script would migrate
    unreachable = make_app(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", clock)
    try:
        line = one_error(unreachable.test_cli_runner().invoke(cli, ["db", "check"]))
        assert line.startswith("Error: cannot use the database: ")
    finally:
        dispose(unreachable)
