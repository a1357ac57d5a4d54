"""A database of the first released hotline upgrades to today's schema and its cases run on.

The first released schema is Alembic revision 32768b86181d (engine tables b72060f9ff99 plus the
hotline domain), the head of commit 858512f, the first landed code with migrations and a
``hotline init`` whose demo loads cases. ``fixtures/upgrade/32768b86181d.sql`` is what that code
made (scripts/make_upgrade_fixture.py runs it): ``hotline init`` and a demo week of 40 cases at
several steps with their events, tasks and timers, and a note. The test loads it into a database
at that revision, runs today's ``hotline init`` and checks that nothing was lost and that the old
cases still open, move on and fire their timers, next to a new case.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select, text, update

from engine.models import Incident, Timer
from tests.api.conftest import ApiClient, make_token
from tests.webapp.conftest import dispose, make_app
from tests.webapp.pages import PASSWORD_HASH, login
from tests.webapp.test_cases_pages import act, case_row, open_case
from tests.webapp.test_databases import built_afresh
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases.models import Case
from workflows.users.models import User

REVISION = "32768b86181d"
FIXTURE = Path(__file__).parent / "fixtures" / "upgrade" / f"{REVISION}.sql"
#: what today's ``hotline init`` and the migrations may add rows to (reference data)
REFERENCE = {"deadline_policies", "calendar_days", "bpmn_definitions"}


def fixture_rows() -> dict[str, int]:
    rows: dict[str, int] = {}
    for name in re.findall(r'^INSERT INTO "(\w+)"', FIXTURE.read_text(), re.M):
        rows[name] = rows.get(name, 0) + 1
    return rows


def load_old_database(url: str) -> None:
    """Migrate an empty database to the first released schema and load the fixture's rows."""
    from flask_migrate import upgrade

    app = make_app(url, None)
    try:
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory, revision=REVISION)
            db.session.remove()
            engine = db.engine
            sql = FIXTURE.read_text()
            raw = engine.raw_connection()
            try:
                if engine.dialect.name == "sqlite":
                    raw.driver_connection.executescript(sql)
                else:
                    with raw.cursor() as cur:
                        cur.execute("SET TIME ZONE 'UTC'")
                        cur.execute(sql)  # several statements, no parameters
                        # the rows came with their ids: the sequences continue after them
                        found = inspect(engine)
                        for table in found.get_table_names():
                            if "id" not in {c["name"] for c in found.get_columns(table)}:
                                continue
                            cur.execute(
                                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id))"
                                f" FROM {table} HAVING max(id) IS NOT NULL"
                            )
                raw.commit()
            finally:
                raw.close()
    finally:
        dispose(app)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.scalar(text(f'SELECT count(*) FROM "{name}"'))
            for name in inspect(conn).get_table_names()
        }


@pytest.mark.slow
def test_the_first_released_schema_upgrades_and_its_cases_run(database, clock, tmp_path):
    with built_afresh(database.kind, tmp_path / "old", load_old_database) as old:
        at_revision = counts(old.engine)
        old.engine.dispose()
        # the fixture stays honest: every table of that schema has rows
        assert [name for name, n in at_revision.items() if not n] == []
        assert at_revision == {**fixture_rows(), "alembic_version": 1}

        app = make_app(old.url, clock)
        try:
            runner = app.test_cli_runner()
            assert runner.invoke(cli, ["db", "check"]).exit_code == 1
            init = runner.invoke(cli, ["init"])
            assert init.exit_code == 0, init.output
            assert runner.invoke(cli, ["db", "check"]).exit_code == 0
            with app.app_context():
                db.session.remove()
                upgraded = counts(db.engine)
                # the old demo users had no password: give them one to sign in with
                db.session.execute(update(User).values(password_hash=PASSWORD_HASH))
                db.session.commit()
            for name, n in at_revision.items():
                if name in REFERENCE:
                    assert upgraded[name] >= n, name
                else:
                    assert upgraded[name] == n, name
            old_cases_open(app)
            old_cases_move_on(app, clock)
        finally:
            dispose(app)


def old_cases_open(app) -> None:
    with app.app_context():
        numbers = db.session.scalars(select(Case.number).order_by(Case.id)).all()
        db.session.rollback()
    assert len(numbers) == 40
    api = ApiClient(app, make_token(app, "sup1"))
    client = app.test_client()
    assert login(client, "sup1").status_code == 302
    for number in numbers:
        answer = api.get(f"/api/v1/cases/{number}")
        assert answer.status_code == 200, (number, answer.get_data(as_text=True))
        assert answer.get_json()["number"] == number
        page = client.get(f"/cases/{number}")
        assert page.status_code == 200, number
        assert number in page.get_data(as_text=True)


def old_cases_move_on(app, clock) -> None:
    with app.app_context():
        waiting = db.session.scalars(select(Case).where(Case.status == "dispatched")).first()
        handler = db.session.scalars(
            select(User.username).where(
                User.department_id == waiting.lead_department_id, User.role == "handler"
            )
        ).first()
        number = waiting.number
        due = db.session.scalar(select(func.min(Timer.due_at)).where(Timer.status == "pending"))
        db.session.rollback()
    # an old case's open task is completed on its old diagram, and the case moves on
    act(app, number, "sign_for", handler, {"action": "sign"})
    signed = case_row(app, number)
    assert signed.signed_at is not None and signed.status == "in_progress"

    # the old timers fire, without incidents
    clock.set(due.replace(tzinfo=clock.now().tzinfo) + timedelta(minutes=1))
    with app.app_context():
        assert get_hotline().runtime.fire_due_timers(db.session)
        assert not db.session.scalar(select(func.count()).select_from(Incident))
        db.session.rollback()

    # and a new case starts next to them, on today's diagram
    new = open_case(app)
    assert case_row(app, new).status == "awaiting_dispatch"
