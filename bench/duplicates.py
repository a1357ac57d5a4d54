"""Benchmark: the duplicate suggestion query (issue 19) with a million cases stored.

Data set: ``--cases`` cases (default a million) over the year before NOW, ~2,700 a day; those
of the last ``--open-days`` (default 7: ~19,000) are open, the others closed. Descriptions and
addresses are varied ordinary complaints (``tests/workflows/dup_pairs.background``: a matter
at one of 1,500 places, told in one of several ways), phones from a pool of callers. The
duplicate keys (``insight_dup_keys``: 24 MinHash bands and the address per case) are written
for the cases of the last ``--keyed-days`` (default 14, twice the window: the rows the worker
has not pruned yet, which the query must skip by its index).

Measured, in process on the real function (``workflows.insight.duplicates.suggest``, a
city dispatcher's view, window 7 days): ``--repeat`` drafts (new calls: half retell an open
case in other words, half are new matters), p50/p95/max; the first call's time apart (it
reads the window's IDF sample, kept 15 minutes). Also the queue's marker for a page of 50
rows (median of 5 pages), and the keys of one case (what intake adds).

Usage: python bench/duplicates.py [--database URL] [--cases 1000000] [--repeat 200] [--reuse]
Default database: SQLite at bench/out/duplicates.db. PostgreSQL: a dedicated database such as
postgresql+psycopg://postgres@127.0.0.1:5432/benchdups (created if missing).
The last line of output is JSON with the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.db import make_engine  # noqa: E402
from engine.models import Base  # noqa: E402
from tests.workflows.dup_pairs import background  # noqa: E402
from workflows import models  # noqa: E402,F401  (every table)
from workflows.cases.models import Case  # noqa: E402
from workflows.insight import duplicates as dups  # noqa: E402
from workflows.users.models import Role, User  # noqa: E402

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HERE = Path(__file__).resolve().parent


def ensure_database(url: str) -> None:
    u = make_url(url)
    if not u.drivername.startswith("postgresql"):
        return
    if u.database in (None, "test", "postgres"):
        sys.exit(f"refusing to use the database {u.database!r}: give a dedicated one")
    host, port, user = u.host or "127.0.0.1", str(u.port or 5432), u.username or "postgres"
    exists = subprocess.run(
        ["psql", "-h", host, "-p", port, "-U", user, "-Atc", "SELECT 1", u.database],
        capture_output=True,
    )
    if exists.returncode != 0:
        subprocess.run(["createdb", "-h", host, "-p", port, "-U", user, u.database], check=True)


def fill(engine, *, cases: int, open_days: int, keyed_days: int, seed: int) -> None:
    texts = background(20_000, seed=seed)
    rng = random.Random(seed)
    span = timedelta(days=365).total_seconds()
    batch: list[dict] = []
    keys: list[dict] = []
    with engine.begin() as conn:

        def flush() -> None:
            if batch:
                conn.execute(insert(Case.__table__), batch)
                batch.clear()
            if keys:
                conn.execute(insert(dups.DupKey.__table__), keys)
                keys.clear()

        for i in range(cases):
            # oldest first: ids grow with time, as at a real centre
            at = NOW - timedelta(seconds=span * (1 - (i + 0.5) / cases))
            age = NOW - at
            description, address = texts[rng.randrange(len(texts))]
            is_open = age < timedelta(days=open_days)
            batch.append(
                {
                    "id": i + 1,
                    "number": f"{at:%Y%m%d}{i:07d}",
                    "case_type": "complaint",
                    "urgency": "normal",
                    "status": "awaiting_dispatch" if is_open else "closed",
                    "intake_outcome": "dispatch",
                    "caller_phone": f"139{rng.randrange(10**6, 10**7):08d}",
                    "address": address,
                    "description": description,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            if age < timedelta(days=keyed_days):
                kinds = [(k, dups.KIND_BAND) for k in dict.fromkeys(dups.band_keys(description))]
                if dups.address_key(address):
                    kinds.append((dups.address_hash(dups.address_key(address)), dups.KIND_ADDRESS))
                keys.extend(
                    {"key": k, "case_id": i + 1, "kind": kind, "created_at": at}
                    for k, kind in kinds
                )
            if len(batch) >= 5000:
                flush()
        flush()


def analyze(engine) -> None:
    """The planner's statistics (VACUUM outside a transaction on PostgreSQL)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=f"sqlite:///{HERE / 'out' / 'duplicates.db'}")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--open-days", type=int, default=7)
    ap.add_argument("--keyed-days", type=int, default=14)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reuse", action="store_true", help="keep the database if it has cases")
    args = ap.parse_args()
    (HERE / "out").mkdir(exist_ok=True)
    ensure_database(args.database)
    engine = make_engine(args.database)
    stored = 0
    if args.reuse:
        try:
            with Session(engine) as session:
                stored = session.scalar(select(func.count()).select_from(Case)) or 0
        except Exception:
            stored = 0
    if not stored:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        started = time.perf_counter()
        fill(
            engine,
            cases=args.cases,
            open_days=args.open_days,
            keyed_days=args.keyed_days,
            seed=args.seed,
        )
        print(f"filled {args.cases} cases in {time.perf_counter() - started:.0f} s")
    analyze(engine)
    user = User(username="bench", role=Role.DISPATCHER, department_id=None)
    with Session(engine) as session:
        open_cases = session.scalar(
            select(func.count())
            .select_from(Case)
            .where(Case.created_at >= NOW - timedelta(days=7), Case.status != "closed")
        )
        key_rows = session.scalar(select(func.count()).select_from(dups.DupKey))
        window = session.scalars(
            select(Case).where(Case.created_at >= NOW - timedelta(days=7)).limit(5000)
        ).all()
        rng = random.Random(args.seed + 1)
        drafts, expected = [], {}
        fresh = background(args.repeat, seed=args.seed + 99)
        for n in range(args.repeat):
            if n % 2:
                case = rng.choice(window)
                # the same matter retold: another opening and ending, the address given
                text_ = "来电人称" + case.description[6:] + "请尽快解决"
                expected[n] = case.id
                drafts.append(dups.Draft(text_, case.address, ""))
            else:
                drafts.append(dups.Draft(fresh[n][0], fresh[n][1], f"1380000{n:04d}"))
        started = time.perf_counter()
        dups.suggest(session, draft=drafts[0], user=user, now=NOW)
        first = time.perf_counter() - started
        times, counts, hits = [], [], 0
        for draft in drafts:
            started = time.perf_counter()
            found = dups.suggest(session, draft=draft, user=user, now=NOW)
            times.append(time.perf_counter() - started)
            counts.append(len(found))
            hits += expected.get(len(counts) - 1) in {s.case.id for s in found}
            session.rollback()
        # the queue's marker: a page of 50 open cases of the window
        marks = []
        for start in range(0, 250, 50):
            page = window[start : start + 50]
            started = time.perf_counter()
            dups.marked(session, cases=page, user=user, now=NOW)
            marks.append(time.perf_counter() - started)
            session.rollback()
        keys_time = []
        for draft in drafts[:50]:
            started = time.perf_counter()
            dups.band_keys(draft.description)
            keys_time.append(time.perf_counter() - started)
    figures = {
        "database": engine.dialect.name,
        "cases": args.cases,
        "open_in_window": open_cases,
        "key_rows": key_rows,
        "first_ms": round(first * 1000, 1),
        "p50_ms": round(percentile(times, 50) * 1000, 1),
        "p95_ms": round(percentile(times, 95) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
        "suggestions_mean": round(statistics.mean(counts), 2),
        # the share of retold open cases found among the five suggestions
        "retold_found": round(hits / max(1, len(expected)), 3),
        "queue_marks_50_rows_ms": round(statistics.median(marks) * 1000, 1),
        "keys_of_one_case_ms": round(statistics.median(keys_time) * 1000, 2),
    }
    print(
        f"{figures['database']}: {args.cases} cases, {open_cases} open in the window, "
        f"{key_rows} key rows; suggestion query p50 {figures['p50_ms']} ms, p95 "
        f"{figures['p95_ms']} ms, max {figures['max_ms']} ms (first {figures['first_ms']} ms)"
    )
    print(json.dumps(figures))
    engine.dispose()


if __name__ == "__main__":
    main()
