"""Benchmark: what the KPI rollup's flush hook (``workflows/kpi/models._mark_changed_days``)
adds to a step's transaction.

A step here is one transaction as a case step writes it: load the case, change it, commit. Two
kinds: an open case's step that leaves it open (the hook looks and marks nothing: most steps),
and a closing step (the hook upserts the case's day into ``kpi_dirty_days``). Each kind runs
with the hook and without it (removed from the Session events), interleaved in rounds on fresh
cases; figures are the medians of the rounds' milliseconds per step.

Usage: python bench/rollup_hook.py [--database URL] [--cases 200] [--rounds 7]
Default database: SQLite at bench/out/rollup_hook.db (recreated). PostgreSQL: a dedicated
database such as postgresql+psycopg://postgres@127.0.0.1:5432/bench18hook (created if missing).
The last line of output is JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import workflows.models  # noqa: E402,F401  (every table, and the hook)
from engine.db import make_engine, unit_of_work  # noqa: E402
from engine.models import Base  # noqa: E402
from workflows.cases.models import Case  # noqa: E402
from workflows.kpi import models as kpi_models  # noqa: E402

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def hook(on: bool) -> None:
    present = event.contains(Session, "before_flush", kpi_models._mark_changed_days)
    if on and not present:
        event.listen(Session, "before_flush", kpi_models._mark_changed_days)
    if not on and present:
        event.remove(Session, "before_flush", kpi_models._mark_changed_days)


_made = [0]


def make_cases(engine, n: int) -> list[int]:
    first, _made[0] = _made[0], _made[0] + n
    with Session(engine) as session, unit_of_work(session):
        rows = [
            Case(
                number=f"B{i:07d}", case_type="complaint", urgency="normal",
                status="in_progress", intake_outcome="dispatch", lead_department_id=None,
                dispatched_at=NOW, created_at=NOW - timedelta(hours=i % 720), updated_at=NOW,
            )
            for i in range(first, first + n)
        ]  # fmt: skip
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]


def steps(engine, ids: list[int], closing: bool) -> float:
    """Milliseconds per step over ``ids``."""
    t0 = time.perf_counter()
    for case_id in ids:
        with Session(engine) as session, unit_of_work(session):
            case = session.get(Case, case_id)
            if closing:
                case.status, case.closed_at = "closed", NOW
            else:
                case.signed_at = NOW
            case.updated_at = NOW
    return (time.perf_counter() - t0) * 1000 / len(ids)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=None)
    ap.add_argument("--cases", type=int, default=200, help="cases per round and path")
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    url = args.database
    if url is None:
        path = ROOT / "bench" / "out" / "rollup_hook.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        from bench.queries import ensure_database

        ensure_database(url)
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    figures: dict[str, list[float]] = {}
    for round_ in range(args.rounds + 1):
        order = [True, False] if round_ % 2 else [False, True]
        for on in order:
            hook(on)
            ids = make_cases(engine, args.cases)
            open_ms = steps(engine, ids, closing=False)
            close_ms = steps(engine, ids, closing=True)
            if round_:  # the first round warms up
                figures.setdefault(f"open step, hook {'on' if on else 'off'}", []).append(open_ms)
                figures.setdefault(f"closing step, hook {'on' if on else 'off'}", []).append(
                    close_ms
                )
    hook(True)
    medians = {name: round(statistics.median(v), 3) for name, v in figures.items()}
    print(f"{args.rounds} rounds of {args.cases} cases per path on {engine.dialect.name}; medians")
    for name, value in medians.items():
        print(f"  {name:<28}{value:>8.3f} ms")
    for kind in ("open step", "closing step"):
        added = medians[f"{kind}, hook on"] - medians[f"{kind}, hook off"]
        print(f"  {kind}: the hook adds {added:+.3f} ms")
    print(json.dumps({"benchmark": "rollup_hook", "database": engine.dialect.name,
                      "ms_per_step": medians}))  # fmt: skip


if __name__ == "__main__":
    main()
