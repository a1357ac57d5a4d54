"""Benchmark: the call KPIs over a year at a million calls (docs/calls.md, "KPIs").

Fills the ``calls`` table (the real schema and indexes) with ``--calls`` synthetic calls spread
evenly over the year before NOW: two queues, 60 operators, 90% answered, 5% abandoned, 4%
missed, 1% transferred, waits and talk times that vary. No call is linked to a case here, so
"calls per case" and "cases per call type" read no cases (their join is measured empty). Then
times each of the KPI page's queries for the whole year (by month) and for the last 30 days
(by day), ``--repeat`` times each, and prints p50 and max; the last line is JSON.

Usage: python bench/call_kpis.py [--database URL] [--calls 1000000] [--repeat 5] [--reuse]
Default database: SQLite at bench/out/call_kpis.db. PostgreSQL: a dedicated database such as
postgresql+psycopg://postgres@127.0.0.1:5432/hotline_bench_call_kpis (made anew unless
--reuse).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import webapp  # noqa: E402,F401  (every model registered on Base)
from engine.models import Base  # noqa: E402
from workflows.calls import kpi  # noqa: E402
from workflows.calls.models import Call  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_live_tokens", HERE / "live_tokens.py")
bench_live = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_live)

NOW = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
TZ = "Asia/Shanghai"
OUTCOMES = [("answered", 0.90), ("abandoned", 0.05), ("missed", 0.04), ("transferred", 0.01)]


def fill(engine, calls: int, seed: int) -> None:
    Base.metadata.create_all(engine)
    rng = random.Random(seed)
    start = NOW - timedelta(days=365)
    step = timedelta(days=365) / calls
    names = [name for name, _ in OUTCOMES]
    weights = [share for _, share in OUTCOMES]
    batch: list[dict] = []
    with Session(engine) as session:
        for i in range(calls):
            arrived = start + step * i
            outcome = rng.choices(names, weights)[0]
            wait = rng.expovariate(1 / 15)
            answered = outcome == "answered"
            talk = rng.uniform(60, 300) if answered else None
            batch.append(
                {
                    "call_id": f"c{i}",
                    "caller": f"138{rng.randrange(10**8):08d}",
                    "queue": "12345" if i % 5 else "12315",
                    "agent": f"op{rng.randrange(60)}" if answered else "",
                    "state": "ended",
                    "outcome": outcome,
                    "arrived_at": arrived,
                    "ringing_at": arrived,
                    "answered_at": arrived + timedelta(seconds=wait) if answered else None,
                    "ended_at": arrived + timedelta(seconds=wait + (talk or 0)),
                    "wait_seconds": wait,
                    "talk_seconds": talk,
                    "wrap_seconds": rng.uniform(0, 60) if answered else None,
                    "recording_url": "",
                    "ivr_path": "",
                    "no_case_reason": "",
                    "no_case_note": "",
                    "settled_by": "",
                    "updated_at": arrived,
                }
            )
            if len(batch) == 20_000:
                session.execute(insert(Call), batch)
                batch.clear()
        if batch:
            session.execute(insert(Call), batch)
        session.commit()


def timed(fn, repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"p50_s": round(statistics.median(times), 4), "max_s": round(max(times), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=f"sqlite:///{HERE / 'out' / 'call_kpis.db'}")
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--reuse", action="store_true", help="keep the database if it has calls")
    args = ap.parse_args()
    engine = create_engine(args.database)
    with Session(engine) as session:
        try:
            have = session.scalar(select(func.count()).select_from(Call))
        except Exception:  # noqa: BLE001  (no table yet)
            have = 0
    if not (args.reuse and have):
        engine = bench_live.fresh_database(args.database)
        t0 = time.perf_counter()
        fill(engine, args.calls, args.seed)
        print(f"filled {args.calls} calls in {time.perf_counter() - t0:.0f} s")
    year = (NOW - timedelta(days=365), NOW)
    month = (NOW - timedelta(days=30), NOW)
    figures: dict[str, dict] = {}
    with Session(engine) as s:
        cases = {
            "year: totals": lambda: kpi.figures(s, start=year[0], end=year[1]),
            "year: by month": lambda: kpi.call_trend(
                s, start=year[0], end=year[1], bucket="month", tz=TZ
            ),
            "year: by queue": lambda: kpi.call_figures(
                s, start=year[0], end=year[1], group_by=("queue",)
            ),
            "year: by operator": lambda: kpi.call_figures(
                s, start=year[0], end=year[1], group_by=("agent",)
            ),
            "year: cases per type": lambda: kpi.cases_per_call_type(s, start=year[0], end=year[1]),
            "year: the page (all five)": lambda: kpi.call_kpis(
                s, start=year[0], end=year[1], bucket="month", tz=TZ
            ),
            "30 days: the page (by day)": lambda: kpi.call_kpis(
                s, start=month[0], end=month[1], bucket="day", tz=TZ
            ),
        }
        print(f"  {'query (' + engine.dialect.name + ')':32} {'p50 s':>8} {'max s':>8}")
        for name, fn in cases.items():
            fn()  # warm
            figures[name] = timed(fn, args.repeat)
            print(f"  {name:32} {figures[name]['p50_s']:8.4f} {figures[name]['max_s']:8.4f}")
    print(
        json.dumps(
            {
                "benchmark": "call_kpis",
                "database": engine.dialect.name,
                "calls": args.calls,
                "repeat": args.repeat,
                "figures": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
