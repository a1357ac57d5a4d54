"""A throwaway database for a try run: the tables, and a copy of the reference data.

The draft's cases run against a temporary SQLite file made from the models, holding a copy of
the installation's departments, users, calendar, deadline policy and dispatch catalogue. The
real database is only read; the file is deleted when the run ends.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import workflows.models  # noqa: F401  (the domain tables on Base.metadata)
from engine.db import make_engine
from engine.models import Base

#: the reference tables copied from the real database, parents first
REFERENCE_TABLES = (
    "departments",
    "users",
    "calendar_days",
    "deadline_policies",
    "dispatch_rules",
)

#: the users' columns blanked in the copy (the run needs the role and the department)
SECRET_COLUMNS = ("password_hash", "phone", "email")


@contextmanager
def sandbox(source: Session) -> Iterator[Engine]:
    """An engine on a new temporary SQLite database with ``source``'s reference rows;
    the file is removed afterwards. ``source`` is read in its own transaction, then rolled
    back (it is never written)."""
    folder = Path(tempfile.mkdtemp(prefix="hotline-try-"))
    engine = make_engine(f"sqlite:///{folder / 'try.sqlite'}")
    try:
        Base.metadata.create_all(engine)
        copy_reference(source, engine)
        yield engine
    finally:
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def copy_reference(source: Session, target: Engine) -> dict[str, int]:
    """Copy the reference tables' rows; returns rows copied per table."""
    counts: dict[str, int] = {}
    try:
        rows = {
            name: [dict(r) for r in source.execute(select(Base.metadata.tables[name])).mappings()]
            for name in REFERENCE_TABLES
        }
    finally:
        source.rollback()
    for row in rows["users"]:  # no secret or contact needs to leave the real database
        row.update({k: "" for k in SECRET_COLUMNS if k in row})
    with target.begin() as conn:
        # checked at commit: a department's parent may come after it
        conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
        for name in REFERENCE_TABLES:
            if rows[name]:
                conn.execute(insert(Base.metadata.tables[name]), rows[name])
            counts[name] = len(rows[name])
    return counts
