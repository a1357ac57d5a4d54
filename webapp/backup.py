"""Backups of the hotline database and their restore, and where its schema stands.

SQLite is copied with sqlite3's online backup API: a consistent snapshot while the app and the
workers write (WAL included), never a file copy that could catch half a transaction. PostgreSQL
goes through ``pg_dump --format=custom`` on a snapshot this module exports, so the row counts it
reports are those of the archive. Both write a temporary file next to the target and rename it,
so a failed backup never leaves a half-written file under the target's name.

A restore never upgrades the schema by itself: it reports the restored revision and whether
migrations are pending, and the operator runs ``hotline init`` (or passes ``--upgrade``).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import Connection, Engine

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"
SQLITE = "sqlite"
POSTGRES = "postgresql"
KIND_NAMES = {SQLITE: "SQLite", POSTGRES: "PostgreSQL"}
#: the tables a summary names (the rest are counted in the total)
KEY_TABLES = (
    "cases",
    "process_instances",
    "instance_events",
    "human_tasks",
    "timers",
    "outbox",
    "incidents",
    "users",
)


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, in one line."""


@dataclass
class Summary:
    """What a backup holds or a restore brought back."""

    path: Path
    size: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    revision: str | None = None

    def lines(self) -> list[str]:
        total = sum(self.rows.values())
        key = [(name, self.rows[name]) for name in KEY_TABLES if name in self.rows]
        return [
            f"{self.path}: {self.size:,} bytes",
            f"{len(self.rows)} tables, {total:,} rows"
            + (f" ({', '.join(f'{name} {n:,}' for name, n in key)}, ...)" if key else ""),
            f"schema revision {self.revision or '(none)'}",
        ]


def kind_of(url: str) -> str:
    """The kind of a database URL ("sqlite" or "postgresql"); no other can be backed up."""
    backend = make_url(url).get_backend_name()
    if backend not in KIND_NAMES:
        raise BackupError(f"cannot back up a {backend} database (only SQLite and PostgreSQL)")
    return backend


def file_kind(path: Path) -> str:
    """What a backup file is, from its first bytes."""
    if not path.exists():
        raise BackupError(f"{path} does not exist")
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc.strerror}") from None
    if head.startswith(SQLITE_MAGIC):
        return SQLITE
    if head.startswith(PGDUMP_MAGIC):
        return POSTGRES
    raise BackupError(
        f"{path} is not a hotline backup (neither a SQLite database nor a pg_dump custom archive)"
    )


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows per table (SQLite's own tables and the shadow tables of FTS indexes left out)."""
    names = inspect(conn).get_table_names()
    shadows: tuple[str, ...] = ()
    if conn.dialect.name == "sqlite":
        virtual = conn.scalars(
            text("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")
        )
        shadows = tuple(f"{name}_" for name in virtual)
    return {
        name: conn.scalar(text(f'SELECT count(*) FROM "{name}"'))
        for name in sorted(names)
        if not name.startswith("sqlite_") and not (shadows and name.startswith(shadows))
    }


def revision_of(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return ", ".join(sorted(conn.scalars(text("SELECT version_num FROM alembic_version")))) or None


def _temporary(target: Path) -> Path:
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory")
    if not os.access(target.parent, os.W_OK):
        raise BackupError(f"cannot write to {target.parent}")
    if target.is_dir():
        raise BackupError(f"{target} is a directory")
    return target.with_name(f".{target.name}.{os.getpid()}.tmp")


# -- backup ------------------------------------------------------------------------------------


def backup(engine: Engine, target: Path) -> Summary:
    """Write a backup of the database behind ``engine`` to ``target`` (replaced atomically)."""
    kind = kind_of(str(engine.url))
    tmp = _temporary(target)
    try:
        summary = _backup_sqlite(engine, tmp) if kind == SQLITE else _backup_postgres(engine, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    summary.path = target
    summary.size = target.stat().st_size
    return summary


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _backup_sqlite(engine: Engine, tmp: Path) -> Summary:
    source = _sqlite_path(engine)
    if not source.exists():
        raise BackupError(f"the database file {source} does not exist: nothing to back up")
    # the copy is one self-contained file: no -wal beside it
    _sqlite_copy(source, tmp, journal_mode="DELETE", what="backup")
    return _sqlite_summary(tmp)


def _sqlite_copy(source: Path, target: Path, *, journal_mode: str, what: str) -> None:
    """Copy ``source`` (opened read-only) into ``target`` with SQLite's online backup API, then
    set the copy's journal mode; backup and restore differ only in those two files and it."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dst)
            dst.execute(f"PRAGMA journal_mode={journal_mode}")
        finally:
            dst.close()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite {what} failed: {exc}") from None
    finally:
        src.close()


def _sqlite_summary(path: Path) -> Summary:
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return Summary(path=path, rows=row_counts(conn), revision=revision_of(conn))
    finally:
        engine.dispose()


def _tool(name: str, engine: Engine, conn: Connection) -> str:
    """The path of pg_dump/pg_restore, refused when absent or older than the server."""
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools (postgresql-client), "
            "of the server's major version or newer"
        )
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    tool_major = int(match.group(1)) if match else 0
    server_major = int(conn.scalar(text("SHOW server_version_num"))) // 10000
    if tool_major < server_major:
        raise BackupError(
            f"{name} is version {tool_major} but the server is PostgreSQL {server_major}: "
            f"install a {name} of version {server_major} or newer"
        )
    return path


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq connection URI (no password: that goes in PGPASSWORD) and the environment."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {_first_error(done)}")


def _first_error(done: subprocess.CompletedProcess) -> str:
    lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower()] or lines
    return errors[0] if errors else f"exit status {done.returncode}"


def _backup_postgres(engine: Engine, tmp: Path) -> Summary:
    uri, env = _libpq(engine)
    with engine.connect() as conn:
        pg_dump = _tool("pg_dump", engine, conn)
        conn.exec_driver_sql("COMMIT")  # leave SQLAlchemy's implicit transaction
        conn.exec_driver_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.scalar(text("SELECT pg_export_snapshot()"))
        rows, revision = row_counts(conn), revision_of(conn)
        # the dump reads the very snapshot the counts were taken in
        _run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={tmp}", uri],
            env,
            "pg_dump",
        )
        conn.exec_driver_sql("ROLLBACK")
    return Summary(path=tmp, rows=rows, revision=revision)


# -- restore -----------------------------------------------------------------------------------


def contents(engine: Engine) -> dict[str, int]:
    """The tables with rows (a migrated database with no other rows than its revision is
    empty)."""
    with engine.connect() as conn:
        return {name: n for name, n in row_counts(conn).items() if n and name != "alembic_version"}


def restore(engine: Engine, source: Path, *, force: bool) -> Summary:
    """Replace the database behind ``engine`` with the backup ``source``."""
    kind = kind_of(str(engine.url))
    found = file_kind(source)
    if found != kind:
        raise BackupError(
            f"{source} is a {KIND_NAMES[found]} backup but the configured database is "
            f"{KIND_NAMES[kind]}: restore it into a {KIND_NAMES[found]} database"
        )
    if kind == SQLITE:
        _check_sqlite_backup(source)
    there = contents(engine) if kind == POSTGRES or _sqlite_path(engine).exists() else {}
    if there and not force:
        shown = ", ".join(f"{name} {n:,}" for name, n in sorted(there.items())[:8])
        raise BackupError(
            f"the database is not empty ({len(there)} tables with rows: {shown}"
            f"{', ...' if len(there) > 8 else ''}): pass --force to replace it"
        )
    engine.dispose()
    if kind == SQLITE:
        _restore_sqlite(engine, source)
    else:
        _restore_postgres(engine, source)
    engine.dispose()
    with engine.connect() as conn:
        summary = Summary(path=source, rows=row_counts(conn), revision=revision_of(conn))
    summary.size = source.stat().st_size
    return summary


def _check_sqlite_backup(source: Path) -> None:
    try:
        conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise BackupError(f"{source} is not a readable SQLite database: {exc}") from None
    if "alembic_version" not in names:
        raise BackupError(f"{source} is a SQLite database but not a hotline backup")


def _restore_sqlite(engine: Engine, source: Path) -> None:
    target = _sqlite_path(engine)
    if not target.parent.is_dir() or not os.access(target.parent, os.W_OK):
        raise BackupError(f"cannot write the database file {target}")
    _sqlite_copy(source, target, journal_mode="WAL", what="restore")


def _restore_postgres(engine: Engine, source: Path) -> None:
    uri, env = _libpq(engine)
    with engine.connect() as conn:
        pg_restore = _tool("pg_restore", engine, conn)
    listed = subprocess.run([pg_restore, "--list", str(source)], capture_output=True, text=True)
    if listed.returncode != 0:  # checked before anything of the database is dropped
        raise BackupError(f"{source} is not a readable pg_dump archive: {_first_error(listed)}")
    # What is there goes (empty tables, or rows with --force; functions and extensions too), so
    # the archive's objects never collide with an older or newer schema's
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    _run(
        [
            pg_restore,
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={uri}",
            str(source),
        ],
        env,
        "pg_restore",
    )
