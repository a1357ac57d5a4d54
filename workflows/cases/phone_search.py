"""Part of a caller's phone number, found through an index on both databases.

An operator types a few digits of a number and expects the caller's cases at once. That is
``caller_phone LIKE '%digits%'``, which no b-tree index serves. PostgreSQL has the trigram GIN
index ``ix_cases_caller_phone_trgm`` (pg_trgm). SQLite gets ``cases_phone_fts``, an FTS5 table
with the trigram tokenizer over ``cases.caller_phone`` (external content: it stores only the
index), kept in step by triggers, whose ``LIKE`` uses that index for three characters or more.

``phone_contains(fragment)`` is the condition to put in a query: on SQLite it reads the FTS
table when the fragment is three or more plain phone characters, otherwise (and on other
databases) it is the plain ``LIKE`` through a subquery on the phone column.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import NullType

from .text_search import is_index

#: the FTS5 table and the prefix of its shadow tables and triggers
PHONE_FTS = "cases_phone_fts"
#: what the FTS path accepts unescaped (no LIKE wildcards, nothing to quote)
_PLAIN = re.compile(r"[0-9+\- ]{3,}")

SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {PHONE_FTS} USING fts5("
    "caller_phone, content='cases', content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {PHONE_FTS}_ai AFTER INSERT ON cases BEGIN "
    f"INSERT INTO {PHONE_FTS}(rowid, caller_phone) VALUES (new.id, new.caller_phone); END",
    f"CREATE TRIGGER IF NOT EXISTS {PHONE_FTS}_ad AFTER DELETE ON cases BEGIN "
    f"INSERT INTO {PHONE_FTS}({PHONE_FTS}, rowid, caller_phone) "
    "VALUES ('delete', old.id, old.caller_phone); END",
    f"CREATE TRIGGER IF NOT EXISTS {PHONE_FTS}_au AFTER UPDATE OF caller_phone ON cases BEGIN "
    f"INSERT INTO {PHONE_FTS}({PHONE_FTS}, rowid, caller_phone) "
    "VALUES ('delete', old.id, old.caller_phone); "
    f"INSERT INTO {PHONE_FTS}(rowid, caller_phone) VALUES (new.id, new.caller_phone); END",
    # index what the table already holds (a migration on a database with cases)
    f"INSERT INTO {PHONE_FTS}({PHONE_FTS}) VALUES ('rebuild')",
)
SQLITE_TRIGGERS = (f"{PHONE_FTS}_ai", f"{PHONE_FTS}_ad", f"{PHONE_FTS}_au")


def create_sqlite_index(conn: Connection) -> None:
    """The FTS table and its triggers on a SQLite database (nothing elsewhere).

    A SQLite built without FTS5, or older than 3.34 (no trigram tokenizer), gets a view of the
    same name and columns instead: the search then scans the phone column, as it would without
    an index, and gives the same answers."""
    if conn.dialect.name != "sqlite":
        return
    if not fts5_trigram_available(conn):
        conn.exec_driver_sql(
            f"CREATE VIEW IF NOT EXISTS {PHONE_FTS}(rowid, caller_phone) "
            "AS SELECT id, caller_phone FROM cases"
        )
        return
    for statement in SQLITE_DDL:
        conn.exec_driver_sql(statement)


def fts5_trigram_available(conn: Connection) -> bool:
    version = conn.exec_driver_sql("SELECT sqlite_version()").scalar_one()
    fts5 = conn.exec_driver_sql("SELECT sqlite_compileoption_used('ENABLE_FTS5')").scalar_one()
    return bool(fts5) and tuple(int(p) for p in version.split(".")[:2]) >= (3, 34)


def drop_sqlite_index(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    for trigger in SQLITE_TRIGGERS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}")
    kind = conn.exec_driver_sql(
        f"SELECT type FROM sqlite_master WHERE name = '{PHONE_FTS}'"
    ).scalar_one_or_none()
    if kind in ("table", "view"):
        conn.exec_driver_sql(f"DROP {kind.upper()} {PHONE_FTS}")


def is_index_table(name: str | None) -> bool:
    """The FTS table and its shadow tables: not in the models (Alembic must leave them be)."""
    return bool(name) and (name == PHONE_FTS or name.startswith(f"{PHONE_FTS}_"))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's ``include_name``: compare everything but the FTS tables and the character
    pairs index of ``text_search.py`` (an expression index the models cannot describe)."""
    if type_ == "index" and is_index(name):
        return False
    return not (type_ == "table" and is_index_table(name))


class _PhoneContains(ColumnElement[bool]):
    """``cases.id IN (cases whose phone contains the fragment)``, compiled per database."""

    type = (
        NullType()
    )  # Boolean would be rendered "(...) = 1" on SQLite, hiding the IN from the planner
    inherit_cache = False  # the fragment may be inlined; every statement compiles afresh

    def __init__(self, id_column: Any, phone_column: Any, fragment: str) -> None:
        self.id_column = id_column
        self.fragment = fragment
        self.plain = id_column.in_(
            select(id_column)
            .where(phone_column.contains(fragment, autoescape=True))
            .scalar_subquery()
        )


@compiles(_PhoneContains)
def _default(element: _PhoneContains, compiler, **kw) -> str:
    return compiler.process(element.plain, **kw)


@compiles(_PhoneContains, "sqlite")
def _sqlite(element: _PhoneContains, compiler, **kw) -> str:
    if not _PLAIN.fullmatch(element.fragment):
        return compiler.process(element.plain, **kw)
    # digits, '+', '-' and spaces only: safe to inline, and an inlined pattern is what lets
    # FTS5 use the trigram index for LIKE
    column = compiler.process(element.id_column, **kw)
    return (
        f"{column} IN (SELECT rowid FROM {PHONE_FTS} "
        f"WHERE caller_phone LIKE '%{element.fragment}%')"
    )


def phone_contains(id_column: Any, phone_column: Any, fragment: str) -> ColumnElement[bool]:
    """The rows (``cases.id``, ``cases.caller_phone``) whose phone contains ``fragment``.
    The columns are passed in: the models import this module for the index, never back."""
    return _PhoneContains(id_column, phone_column, fragment)
