"""Part of a caller's phone finds the caller's cases, through an index on both databases."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from tests.workflows.test_kpi import add_case
from workflows.cases.models import Case
from workflows.cases.phone_search import create_sqlite_index, drop_sqlite_index
from workflows.cases.search import CaseFilters, filter_cases

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def session(database):
    with database.session() as session:
        yield session


def found(session, fragment: str) -> list[str]:
    stmt = filter_cases(select(Case), CaseFilters(phone=fragment), tz=TZ)
    return sorted(case.caller_phone for case in session.scalars(stmt))


def test_part_of_a_phone_finds_exactly_the_cases_that_contain_it(session):
    # stored as intake stores them (workflows/cases/phones.py), searched as people write them
    for phone in ("13800138000", "13912345678", "02088881234", "50%_off"):
        add_case(session, caller_phone=phone)
    session.commit()

    assert found(session, "00138") == ["13800138000"]
    assert found(session, "138") == ["13800138000"]
    assert found(session, "8888 12") == ["02088881234"]  # separators are not part of it
    assert found(session, "020-8888") == ["02088881234"]
    assert found(session, "+86 138 0013 8000") == ["13800138000"]  # a whole number, written
    assert found(session, "45") == ["13912345678"]  # too short for trigrams: still found
    assert found(session, "%_") == ["50%_off"]  # LIKE's wildcards are literal
    assert found(session, "1380013800") == ["13800138000"]
    assert found(session, "999") == []


def test_the_index_follows_changes_and_deletions(session):
    case = add_case(session, caller_phone="13800138000")
    other = add_case(session, caller_phone="13912345678")
    session.commit()
    case.caller_phone = "18612340000"
    session.delete(other)
    session.commit()

    assert found(session, "0013") == []
    assert found(session, "1234") == ["18612340000"]
    assert found(session, "3912") == []


def test_sqlite_reads_the_trigram_index_and_a_migration_indexes_stored_cases(session):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL uses the pg_trgm index ix_cases_caller_phone_trgm")
    add_case(session, caller_phone="13800138000")
    session.commit()
    conn = session.connection()
    drop_sqlite_index(conn)  # a database from before the migration
    create_sqlite_index(conn)  # what migration 0b6f2c8e41d7 runs
    session.commit()

    assert found(session, "0013") == ["13800138000"]
    stmt = filter_cases(select(Case.id), CaseFilters(phone="0013"), tz=TZ)
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(row) for row in session.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "cases_phone_fts VIRTUAL TABLE" in plan


def test_the_search_modules_never_import_the_models():
    """The models import phone_search and text_search (for their indexes); an import back
    would make a circle that only lazy imports inside functions kept from failing."""
    import ast
    from pathlib import Path

    import workflows.cases

    folder = Path(workflows.cases.__file__).parent
    for name in ("phone_search.py", "text_search.py"):
        tree = ast.parse((folder / name).read_text(encoding="utf-8"))
        imported = {
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        }
        assert not any(m == "models" or m.endswith(".models") for m in imported), (name, imported)
