"""Database plumbing: SQLite pragmas, ``BEGIN IMMEDIATE`` for writes, the unit of work, and
serial reads on PostgreSQL (:func:`serial_reads`).

On SQLite, a read-modify-write that starts with a plain ``BEGIN`` takes its write lock late and
fails with "database is locked" when another process got there first (73% of the time with four
processes, measured). Write transactions therefore begin with ``BEGIN IMMEDIATE``; reads keep
``BEGIN`` (deferred) so they never queue behind writers in WAL mode.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, scoped_session

_WRITE = "hotline_write"
_DEPTH = "hotline_uow_depth"
_AFTER_COMMIT = "hotline_after_commit"
_CONN = "hotline_connection"


class WriteGate:
    """SQLite's writers take turns through a file lock beside the database, taken before
    ``BEGIN IMMEDIATE`` and given back after the commit.

    SQLite's own wait for its write lock (``busy_timeout``) sleeps 1, 2, 5 ... then 50 and 100 ms
    between tries, and whoever tries at the right moment wins: under a steady stream of short
    writes from several processes a writer could lose for seconds (a phone system's call events
    behind the pages' steps, p99 0.2-2.3 s in ``bench/calls.py``). Here a waiter asks again
    every fraction of a millisecond (up to 1 ms), so the lock passes on within about a
    millisecond of its release. One descriptor per thread and process (a lock is shared by the
    users of one open file: threads, or a child forked with it), so every writer is counted.
    After ``timeout`` seconds a writer goes on to SQLite's own wait, as before.

    **Urgent writers go first.** A short write that someone waits on in real time (a call
    event from the phone system: ``unit_of_work(session, urgent=True)``) holds a shared lock on
    a second file, ``<db>-writers-urgent``, while it waits. A writer that wins the turn then
    finds that lock held gives the turn back and waits again, so an urgent writer waits for at
    most the write in progress, never for a queue of case steps. Urgent writers among
    themselves take turns as everyone did before.
    """

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        self.path = path + "-writers"
        self.urgent_path = path + "-writers-urgent"
        self.timeout = timeout
        self._local = threading.local()

    def _fds(self) -> tuple[int, int]:
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:
            self._local.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._local.urgent_fd = os.open(self.urgent_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._local.pid = pid
        return self._local.fd, self._local.urgent_fd

    def _fd(self) -> int:
        return self._fds()[0]

    def acquire(self, urgent: bool = False) -> bool:
        """Wait for the turn; False when it did not come within ``timeout`` (not held)."""
        fd, urgent_fd = self._fds()
        pause = 0.0001
        deadline = None
        waiting_urgently = False
        try:
            while True:
                if urgent and not waiting_urgently:
                    # shared among urgent writers; a normal writer's check holds it exclusively
                    # for a moment only
                    waiting_urgently = _try_flock(urgent_fd, fcntl.LOCK_SH)
                if _try_flock(fd, fcntl.LOCK_EX):
                    if urgent or self._none_urgent(urgent_fd):
                        return True
                    fcntl.flock(fd, fcntl.LOCK_UN)  # an urgent writer waits: its turn
                now = time.monotonic()
                if deadline is None:
                    deadline = now + self.timeout
                elif now >= deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.001)
        finally:
            if waiting_urgently:
                fcntl.flock(urgent_fd, fcntl.LOCK_UN)

    @staticmethod
    def _none_urgent(urgent_fd: int) -> bool:
        if not _try_flock(urgent_fd, fcntl.LOCK_EX):
            return False
        fcntl.flock(urgent_fd, fcntl.LOCK_UN)
        return True

    def release(self) -> None:
        fcntl.flock(self._fd(), fcntl.LOCK_UN)


def _try_flock(fd: int, mode: int) -> bool:
    try:
        fcntl.flock(fd, mode | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _gate_for(engine: Engine) -> WriteGate | None:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return WriteGate(database)


def configure_engine(engine: Engine) -> Engine:
    """Install our connection hooks on an engine (idempotent)."""
    if engine.dialect.name != "sqlite" or getattr(engine, "_hotline_configured", False):
        return engine
    engine._hotline_gate = _gate_for(engine)  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let us emit BEGIN ourselves (the sqlite3 module would emit a deferred one).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    engine._hotline_configured = True  # type: ignore[attr-defined]
    return engine


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with our hooks; used outside Flask (tests, workers, benchmarks)."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
    return configure_engine(create_engine(url, **kwargs))


@contextmanager
def unit_of_work(session: Session, *, urgent: bool = False) -> Iterator[Session]:
    """One write transaction: commit on success, roll back on any exception.

    Nested calls join the outer transaction, so a domain service can wrap several engine calls
    (and its own rows) into one commit. The outermost call ends any read-only transaction the
    session had open, then begins a write transaction (``BEGIN IMMEDIATE`` on SQLite).
    ``urgent``: a short write someone waits on in real time goes before the other writers
    waiting on SQLite (:class:`WriteGate`); nothing changes on PostgreSQL.
    """
    session = real_session(session)
    depth = session.info.get(_DEPTH, 0)
    if depth:
        session.info[_DEPTH] = depth + 1
        try:
            yield session
        finally:
            session.info[_DEPTH] -= 1
        return

    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("unit_of_work started on a session with unsaved changes")
        session.rollback()
    session.info[_DEPTH] = 1
    session.info[_AFTER_COMMIT] = []
    gate: WriteGate | None = getattr(session.get_bind(), "_hotline_gate", None)
    held = gate.acquire(urgent=urgent) if gate is not None else False
    try:
        try:
            session.info[_CONN] = session.connection(execution_options={_WRITE: True})
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            if held:
                gate.release()
                held = False
        for callback in session.info[_AFTER_COMMIT]:
            callback()
    finally:
        if held:
            gate.release()
        session.info[_DEPTH] = 0
        session.info[_AFTER_COMMIT] = []
        session.info.pop(_CONN, None)


def end_read(session: Session) -> None:
    """End the session's read transaction, keeping the objects it loaded.

    A request reads its user (and department) first. The unit of work of a write would roll
    that read transaction back, and a rollback expires every loaded object, so the user and
    department were read again (two statements per write). A transaction that changed nothing
    is committed instead, with expiry off: the database sees no difference. Does nothing
    inside a unit of work, or when the session holds unsaved changes.
    """
    session = real_session(session)
    if not session.in_transaction() or in_unit_of_work(session):
        return
    if session.new or session.dirty or session.deleted:
        return
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def connection(session: Session) -> Connection:
    """The unit of work's connection (looked up once), or the session's for a read."""
    session = real_session(session)
    conn = session.info.get(_CONN)
    return conn if conn is not None else session.connection()


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run ``callback`` once the current unit of work has committed (never if it rolls back)."""
    session = real_session(session)
    if not session.info.get(_DEPTH):
        raise RuntimeError("after_commit needs an open unit_of_work")
    session.info[_AFTER_COMMIT].append(callback)


def in_unit_of_work(session: Session) -> bool:
    return bool(real_session(session).info.get(_DEPTH))


def real_session(session: Session | scoped_session) -> Session:
    """The Session behind a scoped_session (Flask-SQLAlchemy's ``db.session``)."""
    return session() if isinstance(session, scoped_session) else session


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


_SERIAL = "hotline_serial_transaction"


def serial_reads(session: Session | scoped_session) -> None:
    """On PostgreSQL, no parallel workers for the rest of this transaction (``SET LOCAL``,
    once per transaction); nothing elsewhere.

    For reads of a few thousand rows through indexes (a unit's inbox and queues): the
    planner prices a worker at 1,000 cost units and went parallel, but starting one costs
    more on a small busy machine than the work it shares (docs/benchmarks.md, issue 15). Per
    transaction, not per connection: the KPI dashboard's scans of a period do gain from
    workers (about twice as fast).
    """
    session = real_session(session)
    if not is_postgres(session):
        return
    session.connection()  # begins the transaction if none is open
    transaction = session.get_transaction()
    if session.info.get(_SERIAL) is transaction:
        return
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    session.info[_SERIAL] = transaction
