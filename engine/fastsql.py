"""The step's hot statements, run on the DBAPI connection inside SQLAlchemy's transaction.

A step writes five or six small statements. Through SQLAlchemy Core each costs about 20 us of
Python before SQLite does anything; on the DBAPI cursor, 2-4 us (``bench/lifecycle.py``
measured the difference; see docs/benchmarks.md). Only these statements take the short way:
they are fixed, take no user-built SQL, and write exactly what SQLAlchemy would write:

- SQLite: ``?`` parameters, date-times as UTC text ``YYYY-MM-DD HH:MM:SS.ffffff`` (the format
  SQLAlchemy's SQLite ``DateTime`` stores and parses), JSON as text;
- PostgreSQL (psycopg 3): ``%s`` parameters, aware date-times, JSON through ``Jsonb``.

Everything else, reads of whole rows included, goes through SQLAlchemy as usual.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy.engine import Connection

_SQL = {
    "instance_of_task": (
        'SELECT p.id, p.definition_id, p."key", p.business_key, p.status, p.version'
        " FROM human_tasks h JOIN process_instances p ON p.id = h.instance_id"
        " WHERE h.task_id = ?"
    ),
    "instance": (
        'SELECT id, definition_id, "key", business_key, status, version'
        " FROM process_instances WHERE id = ?"
    ),
    "insert_instance": (
        'INSERT INTO process_instances (definition_id, "key", business_key, status, state,'
        " version, created_at, updated_at) VALUES (?, ?, ?, ?, '', 0, ?, ?) RETURNING id"
    ),
    "save_instance": (
        "UPDATE process_instances SET state = ?, version = version + 1, status = ?,"
        " updated_at = ?, completed_at = ? WHERE id = ? AND version = ?"
    ),
    "insert_task": (
        "INSERT INTO human_tasks (instance_id, task_id, element_id, kind, name, lane,"
        " candidate_group, form_key, state, created_at, due_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'ready', ?, ?)"
    ),
    "close_task": (
        "UPDATE human_tasks SET state = ?, completed_at = ?, completed_by = ?"
        " WHERE task_id = ? AND state = 'ready'"
    ),
    "task_due": "UPDATE human_tasks SET due_at = ? WHERE task_id = ?",
    "insert_timer": (
        "INSERT INTO timers (instance_id, task_id, element_id, kind, due_at, status,"
        " created_at, attempts) VALUES (?, ?, ?, ?, ?, 'pending', ?, 0)"
    ),
    "close_timer": (
        "UPDATE timers SET status = ?, fired_at = ?, lease_owner = NULL,"
        " lease_expires_at = NULL WHERE task_id = ? AND status IN ('pending', 'incident')"
    ),
    "move_timer": (
        "UPDATE timers SET due_at = ?, status = 'pending', attempts = 0 WHERE task_id = ?"
    ),
    "state": "SELECT state FROM process_instances WHERE id = ?",
    "projection": (
        "SELECT 't', task_id, due_at FROM human_tasks WHERE instance_id = ? AND state = 'ready'"
        " UNION ALL SELECT 'm', task_id, due_at FROM timers"
        " WHERE instance_id = ? AND status IN ('pending', 'incident')"
    ),
    "insert_event": (
        "INSERT INTO instance_events (instance_id, at, actor, kind, element_id, payload)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    ),
}


class FastSQL:
    """The statements above for one dialect. Stateless; one per engine dialect."""

    def __init__(self, dialect: str) -> None:
        self.postgres = dialect == "postgresql"
        if self.postgres:
            from psycopg.types.json import Jsonb

            self._jsonb = Jsonb
            self.sql = {k: v.replace("?", "%s") for k, v in _SQL.items()}
        elif dialect == "sqlite":
            self.sql = dict(_SQL)
        else:  # pragma: no cover - configuration error
            raise ValueError(f"unsupported database dialect {dialect!r}")

    def ts(self, value: datetime | None) -> Any:
        if value is None or self.postgres:
            return value
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def from_ts(self, value: Any) -> datetime | None:
        """A timestamp column's value as an aware UTC datetime (SQLite gives text)."""
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def rows(self, conn: Connection, name: str, params: tuple) -> list[tuple]:
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(self.sql[name], params)
            return cursor.fetchall()
        finally:
            cursor.close()

    def json(self, value: Any) -> Any:
        return self._jsonb(value) if self.postgres else orjson.dumps(value).decode()

    def one(self, conn: Connection, name: str, params: tuple) -> tuple | None:
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(self.sql[name], params)
            return cursor.fetchone()
        finally:
            cursor.close()

    def run(self, conn: Connection, name: str, params: tuple) -> int:
        """Execute one statement; return the number of rows it changed."""
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(self.sql[name], params)
            return cursor.rowcount
        finally:
            cursor.close()

    def many(self, conn: Connection, name: str, rows: list[tuple]) -> None:
        if not rows:
            return
        cursor = conn.connection.driver_connection.cursor()
        try:
            if len(rows) == 1:
                cursor.execute(self.sql[name], rows[0])
            else:
                cursor.executemany(self.sql[name], rows)
        finally:
            cursor.close()


_BY_DIALECT: dict[str, FastSQL] = {}


def fast_sql(conn: Connection) -> FastSQL:
    name = conn.dialect.name
    fast = _BY_DIALECT.get(name)
    if fast is None:
        fast = _BY_DIALECT[name] = FastSQL(name)
    return fast
