"""Shared fixtures: databases (SQLite always, PostgreSQL when configured) and a moved clock.

Every test gets a database of its own, copied from a template that is built once per test
session: migrating, seeding and deploying the diagrams for each test took about half of the
suite's time. A SQLite template is a file (copied); a PostgreSQL template is a database
(``CREATE DATABASE ... TEMPLATE``). Templates are keyed by what they contain (see
``Templates.get``), so two tests that ask for the same content get identical copies: same rows,
same deployed definitions, same sequences.
"""

from __future__ import annotations

import gc
import itertools
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import workflows.models  # noqa: F401,E402  (domain tables on Base.metadata)
from engine.clock import ManualClock
from engine.db import make_engine
from engine.models import Base

ROOT = Path(__file__).resolve().parent.parent
#: the BPMN MIWG reference files (outside the checkout; HOTLINE_TEST_CORPUS names another place)
CORPUS = Path(
    os.environ.get("HOTLINE_TEST_CORPUS")
    or ROOT.parent / "shared" / "corpus" / "bpmn-miwg-reference"
)
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

#: the template every ``database`` starts from: the tables of ``Base.metadata``, empty
TABLES = "tables"


def postgres_url(name: str) -> str:
    """HOTLINE_TEST_POSTGRES_URL with another database name."""
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def create_tables(url: str) -> None:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()


class Templates:
    """Template databases, built at most once per test session and dropped at its end."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, str], str] = {}
        self._names = itertools.count(1)
        self._dir: Path | None = None
        self._admin: Engine | None = None

    def get(self, kind: str, key: str, build: Callable[[str], None]) -> str:
        """The template ``key`` for ``kind`` ("sqlite": a file path; "postgres": a database
        name). The first call builds it: ``build(url)`` fills an empty database and closes
        every connection it opened. ``key`` must name everything the content depends on."""
        if (kind, key) not in self._built:
            n = next(self._names)
            if kind == "sqlite":
                self._built[kind, key] = self._build_sqlite(n, build)
            else:
                self._built[kind, key] = self._build_postgres(n, build)
        return self._built[kind, key]

    def _build_sqlite(self, n: int, build: Callable[[str], None]) -> str:
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="hotline-templates-"))
        path = self._dir / f"template{n}.db"
        build(f"sqlite:///{path}")
        # Fold the write-ahead log into the file, so that copying the one file copies all
        # (the database stays in WAL mode; a copy opens without a -wal file, as after a
        # clean shutdown).
        conn = sqlite3.connect(path)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        for suffix in ("-wal", "-shm", "-journal"):
            leftover = path.with_name(path.name + suffix)
            if leftover.exists() and leftover.stat().st_size:
                raise RuntimeError(
                    f"{leftover} is not empty: the template build left a connection open"
                )
        return str(path)

    def _build_postgres(self, n: int, build: Callable[[str], None]) -> str:
        # unique per session: other test sessions may use the same server at the same time
        name = f"hotline_template_{uuid.uuid4().hex[:10]}_{n}"
        self.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 {self.creation_options()}')
        try:
            build(postgres_url(name))
        except BaseException:
            self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            raise
        # CREATE DATABASE ... TEMPLATE refuses a template with connections: end any the
        # build left behind
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        return name

    def creation_options(self) -> str:
        """The encoding and locale of the database HOTLINE_TEST_POSTGRES_URL names, for a
        database made from template0 (which has the server's defaults)."""
        (encoding, collate, ctype), *_ = self.execute(
            "SELECT pg_encoding_to_char(encoding), datcollate, datctype "
            "FROM pg_database WHERE datname = current_database()"
        )
        return f"ENCODING '{encoding}' LC_COLLATE '{collate}' LC_CTYPE '{ctype}'"

    def execute(self, sql: str) -> list[tuple]:
        """Run a statement on the PostgreSQL server (autocommit: CREATE/DROP DATABASE)."""
        if self._admin is None:
            self._admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            result = conn.execute(text(sql))
            return [tuple(row) for row in result] if result.returns_rows else []

    def close(self) -> None:
        for (kind, _key), name in self._built.items():
            if kind == "postgres":
                self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._built.clear()
        if self._admin is not None:
            self._admin.dispose()
            self._admin = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


TEMPLATES = Templates()


def pytest_configure(config: pytest.Config) -> None:
    # Hypothesis (under Schemathesis) keeps its caches in ./.hypothesis/ unless told otherwise:
    # a test run writes nothing into the checkout
    if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        from hypothesis.configuration import set_hypothesis_home_dir

        set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "hotline-tests-hypothesis")


def pytest_collection_finish(session: pytest.Session) -> None:
    # The tests allocate a lot (SQLAlchemy, Jinja, SpiffWorkflow); the garbage collector
    # walked the half million objects of the imported modules again and again (a sixth of
    # the suite's time). Those live for the whole run: freeze them, and collect the young
    # generation less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def pytest_sessionfinish(session: pytest.Session) -> None:
    TEMPLATES.close()


class Database:
    """One database for one test: a SQLite file (``tmp_path/test.db``), or a PostgreSQL
    database of its own (``schema`` is then "public"). It starts as a copy of the TABLES
    template (every table, no rows); ``copy_from`` replaces it with a copy of another."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self._copied = False
        if kind == "sqlite":
            self.path = tmp_path / "test.db"
            self.url = f"sqlite:///{self.path}"
            self.schema = None
        else:
            self.name = f"hotline_test_{uuid.uuid4().hex[:12]}"
            self.url = postgres_url(self.name)
            self.schema = "public"
        self._engine = make_engine(self.url)
        if kind == "sqlite":  # a file is there from the start, as before
            self.copy_from(TEMPLATES.get(kind, TABLES, create_tables))

    @property
    def engine(self) -> Engine:
        # on PostgreSQL the empty tables are copied when first used: a web test copies its
        # own template first (a CREATE DATABASE less)
        if not self._copied:
            self.copy_from(TEMPLATES.get(self.kind, TABLES, create_tables))
        return self._engine

    def template(self, key: str, build: Callable[[str], None]) -> str:
        """The session's template ``key`` of this database's kind (see ``Templates.get``)."""
        return TEMPLATES.get(self.kind, key, build)

    def copy_from(self, template: str) -> None:
        """Make this database an exact copy of ``template``; open connections are closed."""
        self._engine.dispose()
        if self.kind == "sqlite":
            # a new file, not the old one overwritten: a connection still open on the old
            # one (another engine) keeps reading that, not a file changed under it
            for suffix in ("", "-wal", "-shm"):
                self.path.with_name(self.path.name + suffix).unlink(missing_ok=True)
            shutil.copyfile(template, self.path)
        else:
            if self._copied:
                TEMPLATES.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            TEMPLATES.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{template}"')
        self._copied = True

    def session(self) -> Session:
        return Session(self.engine)

    def drop(self) -> None:
        self._engine.dispose()
        if self.kind == "postgres" and self._copied:
            TEMPLATES.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


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
