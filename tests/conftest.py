"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and a moved clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

import workflows.models  # noqa: F401,E402  (domain tables on Base.metadata)
from engine.clock import ManualClock
from engine.db import make_engine
from engine.models import Base

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "bpmn-miwg-reference"
POSTGRES_URL = os.environ.get("HOTLINE_TEST_POSTGRES_URL")

DATABASES = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(
                not POSTGRES_URL, reason="HOTLINE_TEST_POSTGRES_URL is not set (PostgreSQL tests)"
            ),
        ],
    ),
]


class Database:
    """One empty database for one test: a SQLite file, or a fresh PostgreSQL schema."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.url = f"sqlite:///{tmp_path / 'test.db'}"
            self.engine = make_engine(self.url)
            self.schema = None
        else:
            self.schema = f"t_{uuid.uuid4().hex[:12]}"
            admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            admin.dispose()
            self.url = POSTGRES_URL
            self.engine = make_engine(
                POSTGRES_URL, connect_args={"options": f"-csearch_path={self.schema}"}
            )
        Base.metadata.create_all(self.engine)

    def session(self) -> Session:
        return Session(self.engine)

    def drop(self) -> None:
        self.engine.dispose()
        if self.schema:
            admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            admin.dispose()


@pytest.fixture(params=DATABASES)
def database(request, tmp_path) -> Iterator[Database]:
    db = Database(request.param, tmp_path)
    yield db
    db.drop()


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Database]:
    db = Database("sqlite", tmp_path)
    yield db
    db.drop()


@pytest.fixture
def clock() -> ManualClock:
    # A Monday morning in Beijing (01:00 UTC = 09:00 +08:00).
    return ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


@pytest.fixture(params=["straight", "restore"])
def mode(request) -> str:
    """Run a diagram twice: "straight" keeps the live workflow between steps, "restore"
    restores it from its saved row at every step (as after a restart)."""
    return request.param
