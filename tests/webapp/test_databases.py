"""The tests' databases: a copy of a session template is what building it afresh makes (same
rows, deployed definitions and sequences), and what a test writes stays in its own copy."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text

from tests.conftest import TEMPLATES, Database
from tests.webapp.conftest import build_web_template


def contents(engine) -> dict[str, list[str]]:
    """Every table's rows (sorted), and every sequence's position."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # sqlite_sequence is SQLite's AUTOINCREMENT positions; the FTS5 index's own
            # tables are listed too
            tables = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            ).scalars()
            sequences = []
        else:
            tables = conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ).scalars()
            sequences = [
                repr(row)
                for row in conn.execute(
                    text(
                        "SELECT sequencename, last_value FROM pg_sequences "
                        "WHERE schemaname = 'public' ORDER BY 1"
                    )
                )
            ]
        found = {
            table: sorted(
                repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))
            )
            for table in list(tables)
        }
    found["(sequences)"] = sequences
    return found


@contextmanager
def built_afresh(kind: str, tmp_path, build) -> Iterator[Database]:
    """An empty database of ``kind`` that ``build(url)`` fills, as a template is built."""
    tmp_path.mkdir()
    fresh = Database(kind, tmp_path)
    if kind == "sqlite":
        fresh.path.unlink()
    else:
        fresh.engine.dispose()
        TEMPLATES.execute(f'DROP DATABASE "{fresh.name}" WITH (FORCE)')
        TEMPLATES.execute(
            f'CREATE DATABASE "{fresh.name}" TEMPLATE template0 {TEMPLATES.creation_options()}'
        )
    build(fresh.url)
    try:
        yield fresh
    finally:
        fresh.drop()


def test_a_seeded_copy_is_what_migrating_and_seeding_make(hotline_app, database, clock, tmp_path):
    copied = contents(database.engine)
    assert copied["users"] and copied["bpmn_definitions"] and copied["alembic_version"]
    with built_afresh(database.kind, tmp_path / "fresh", build_web_template(clock.now())) as fresh:
        assert contents(fresh.engine) == copied


def test_what_a_test_writes_stays_in_its_copy(hotline_app, database, clock, tmp_path):
    template = database.template(
        f"web:seeded:{clock.now().isoformat()}", build_web_template(clock.now())
    )
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE users SET failed_logins = 7 WHERE username = 'op1'"))
        conn.execute(text("DELETE FROM calendar_days"))
    (tmp_path / "other").mkdir()
    other = Database(database.kind, tmp_path / "other")
    try:
        other.copy_from(template)
        with other.engine.connect() as conn:
            assert conn.scalar(text("SELECT failed_logins FROM users WHERE username = 'op1'")) == 0
            assert conn.scalar(text("SELECT count(*) FROM calendar_days")) > 0
    finally:
        other.drop()
