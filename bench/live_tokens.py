"""Benchmark: what the bell and the live lists cost per poll at a million rows.

Every open page asks ``/live`` every few seconds (HOTLINE_LIVE_POLL_SECONDS) for the viewer's
unread count and the version tokens of the lists it shows (docs/notifications.md, "In the
app"). This measures those reads alone, on the real schema and indexes, at the sizes of a
centre with a million cases: 1,000,000 process instances with a completed task each, 30,000
ready tasks (5,000 of them in one large department's sign-for queue, the heaviest handler
inbox), and 1,000,000 notifications over 2,000 people, one of whom has 100,000 (5,000
unread). p50 and p95 over ``--repeat`` calls after a warm-up, and each query's plan.

Usage: python bench/live_tokens.py [--database URL] [--repeat 300]
Default database: SQLite at bench/out/live_tokens.db (made anew). PostgreSQL: a dedicated
database such as postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench_live (made anew).
The last line of output is JSON with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import webapp  # noqa: E402,F401  (every model registered on Base)
from engine.models import Base, Definition, UTCDateTime  # noqa: E402
from workflows.departments.models import Department  # noqa: E402
from workflows.notifications import inapp, live  # noqa: E402
from workflows.users.models import User  # noqa: E402

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
INSTANCES = 1_000_000
READY = 30_000
BIG_QUEUE = 5_000
NOTIFICATIONS = 1_000_000
PEOPLE = 2_000
HEAVY = 100_000
DEPARTMENTS = 40

NUMBERS = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "


def fresh_database(url: str):
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return create_engine(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return create_engine(url)


def fill(engine) -> None:
    Base.metadata.create_all(engine)
    at = bindparam("at", NOW, type_=UTCDateTime())
    with Session(engine) as session:
        session.add(
            Definition(
                key="complaint", version=1, name="c", file_name="c.bpmn", xml="", sha256="",
                deployed_by="bench", deployed_at=NOW,
            )
        )  # fmt: skip
        for d in range(DEPARTMENTS):
            session.add(Department(code=f"D{d}", name=f"D{d}", level="district"))
        session.flush()
        for p in range(PEOPLE):
            session.add(
                User(
                    username=f"u{p}", display_name=f"u{p}", role="handler",
                    department_id=1 + p % DEPARTMENTS, created_at=NOW,
                )
            )  # fmt: skip
        session.flush()
        run = session.execute
        run(
            text(
                NUMBERS + "INSERT INTO process_instances (id, definition_id, key, status, state, "
                "version, created_at, updated_at) SELECT i, 1, 'complaint', 'running', '{}', 1, "
                ":at, :at FROM n"
            ).bindparams(at),
            {"count": INSTANCES},
        )
        # one completed task per instance, then the ready ones on the youngest instances
        run(
            text(
                NUMBERS + "INSERT INTO human_tasks (id, instance_id, task_id, element_id, kind, "
                "name, lane, candidate_group, state, created_at, completed_at) SELECT i, i, "
                "'done-' || i, 'sign_for', 'sign_for', 't', 'handler', 'D' || (i % 40), "
                "'completed', :at, :at FROM n"
            ).bindparams(at),
            {"count": INSTANCES},
        )
        run(
            text(
                NUMBERS + "INSERT INTO human_tasks (id, instance_id, task_id, element_id, kind, "
                "name, lane, candidate_group, state, created_at) SELECT :base + i, "
                ":first + i, 'ready-' || i, 'sign_for', CASE WHEN i % 3 = 0 THEN 'handle' "
                "ELSE 'sign_for' END, 't', CASE WHEN i <= :big THEN 'handler' WHEN i % 10 = 0 "
                "THEN 'dispatcher' WHEN i % 10 = 1 THEN 'callback' ELSE 'handler' END, "
                "CASE WHEN i <= :big THEN 'D0' WHEN i % 10 IN (0, 1) THEN NULL "
                "ELSE 'D' || (1 + i % 39) END, 'ready', :at FROM n"
            ).bindparams(at),
            {"count": READY, "base": INSTANCES, "first": INSTANCES - READY, "big": BIG_QUEUE},
        )
        # the heavy person first (user 1), then everyone's
        run(
            text(
                NUMBERS + "INSERT INTO notifications (id, key, user_id, kind, text, created_at, "
                "delivered_at, read_at) SELECT i, 'n-' || i, CASE WHEN i <= :heavy THEN 1 "
                "ELSE 1 + i % :people END, 'dispatched', 'x', :at, :at, CASE WHEN i % 20 = 0 "
                "THEN NULL ELSE :at END FROM n"
            ).bindparams(at),
            {"count": NOTIFICATIONS, "heavy": HEAVY, "people": PEOPLE},
        )
        session.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()


def timed(session: Session, call, repeat: int) -> dict[str, float]:
    call()  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
        session.rollback()
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples) * 1000, 3),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1] * 1000, 3),
    }


def plans(session: Session, user: User) -> dict[str, str]:
    """The plans of the two index reads (what the engine says it does)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    queries = {
        "unread_count": "SELECT count(*) FROM (SELECT 1 FROM notifications WHERE user_id = 1 "
        "AND read_at IS NULL LIMIT 100) AS s",
        "tasks_version": "SELECT kind, count(*), sum(instance_id) FROM human_tasks WHERE "
        "state = 'ready' AND lane = 'handler' AND (candidate_group IS NULL OR "
        "candidate_group = 'D0') GROUP BY kind",
    }
    out = {}
    for name, sql in queries.items():
        rows = session.execute(text(explain + sql)).all()
        out[name] = " | ".join(str(r[-1]) for r in rows)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=f"sqlite:///{ROOT / 'bench' / 'out' / 'live_tokens.db'}")
    ap.add_argument("--repeat", type=int, default=300)
    args = ap.parse_args()
    engine = fresh_database(args.database)
    start = time.perf_counter()
    fill(engine)
    print(f"filled in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    with Session(engine) as session:
        heavy = session.get(User, 1)  # 100,000 notifications, 5,000 unread; department D1
        big = User(id=999_999, username="big", role="handler", department_id=1)
        big.department_id = session.scalar(text("SELECT id FROM departments WHERE code = 'D0'"))
        dispatcher = User(id=999_998, username="d", role="dispatcher", department_id=None)
        figures = {
            "database": engine.dialect.name,
            "bell unread_count (100,000 rows, 5,000 unread)": timed(
                session, lambda: inapp.unread_count(session, user_id=heavy.id), args.repeat
            ),
            "notifications version": timed(
                session, lambda: inapp.version(session, user_id=heavy.id), args.repeat
            ),
            "tasks version: handler of a 5,000-task department": timed(
                session, lambda: live.tasks_version(session, user=big), args.repeat
            ),
            "tasks version: dispatcher": timed(
                session, lambda: live.tasks_version(session, user=dispatcher), args.repeat
            ),
            "plans": plans(session, big),
        }
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
