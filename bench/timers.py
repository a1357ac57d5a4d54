"""Benchmark: timer lag and burst throughput with many pending timers.

For each size of backlog (default 100,000 and 1,000,000 pending timers, due in 2100), on the
chosen database:
1. steady: timers come due at a steady rate (default 20/s for 30 s); worker processes running
   the timer scheduler (APScheduler sweep every second plus wake-ups) fire them; the lag from
   due to fired is read from the timers table (p50, p99);
2. burst: 10,000 timers due at the same moment; the time until the last one fired.

Rows are written in bulk by cloning one real instance of bench/timer_once.bpmn (its timer's task
id and due time replaced), so every row is a valid workflow the workers can fire. Workers run as
separate processes (default 2, one per core), each a TimerScheduler with a TimerService, exactly
as ``hotline worker`` runs them.

Usage: python bench/timers.py [--database URL] [--pending 100000 1000000] [--workers 2]
The last line of output is JSON with the figures of the largest run.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.clock import ManualClock, SystemClock  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.models import Base, ProcessInstance, Timer  # noqa: E402
from engine.runtime import Runtime  # noqa: E402

DIAGRAM = Path(__file__).with_name("timer_once.bpmn")
TEMPLATE_DUE = "2099-12-31T00:00:00+00:00"
FAR = datetime(2100, 1, 1, tzinfo=UTC)
PI, TM = ProcessInstance.__table__, Timer.__table__


# -- worker process ---------------------------------------------------------------------------


def run_worker(url: str, owner: str, sweep: float, group: int | None) -> None:
    from engine.scheduler import TimerScheduler
    from engine.timers import TimerService

    engine = make_engine(url)
    runtime = Runtime(clock=SystemClock(), workflow_cache_size=0)
    options = {} if group is None else {"group_size": group}
    service = TimerService(runtime, lambda: Session(engine), owner=owner, batch_size=100, **options)
    scheduler = TimerScheduler(service, sweep_seconds=sweep)
    done = False

    def stop(*_):
        nonlocal done
        done = True

    signal.signal(signal.SIGTERM, stop)
    scheduler.start()
    while not done:
        time.sleep(0.2)
    scheduler.shutdown()


# -- set-up -----------------------------------------------------------------------------------


class Bench:
    def __init__(self, url: str | None) -> None:
        self.tmp = None
        if url is None:
            self.tmp = tempfile.mkdtemp()
            url = f"sqlite:///{os.path.join(self.tmp, 'timers.db')}"
        self.url = url
        self.engine = make_engine(url)
        Base.metadata.drop_all(self.engine)
        Base.metadata.create_all(self.engine)
        session = Session(self.engine)
        runtime = Runtime(clock=ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
        runtime.deploy(session, DIAGRAM.read_bytes(), DIAGRAM.name, deployed_by="bench")
        step = runtime.start(session, "timer_once", data={"due": TEMPLATE_DUE})
        row = session.get(ProcessInstance, step.instance_id)
        timer = session.scalars(select(Timer).where(Timer.instance_id == step.instance_id)).one()
        self.template = (row.definition_id, row.state, timer.task_id, timer.element_id)
        session.close()

    def clone(self, dues: list[datetime], chunk: int = 10_000) -> None:
        """Insert one instance and its pending timer per due time, cloned from the template."""
        definition_id, state, task_id, element_id = self.template
        now = datetime.now(UTC)
        next_id = self._next_id()
        for start in range(0, len(dues), chunk):
            instances, timers = [], []
            for i, due in enumerate(dues[start : start + chunk]):
                new_task = str(uuid.uuid4())
                iid = next_id + start + i
                instances.append(
                    dict(
                        id=iid,
                        definition_id=definition_id,
                        key="timer_once",
                        business_key=None,
                        status="running",
                        version=1,
                        created_at=now,
                        updated_at=now,
                        state=state.replace(task_id, new_task).replace(
                            TEMPLATE_DUE, due.isoformat()
                        ),
                    )
                )
                timers.append(
                    dict(
                        instance_id=iid,
                        task_id=new_task,
                        element_id=element_id,
                        kind="date",
                        due_at=due,
                        status="pending",
                        created_at=now,
                        attempts=0,
                    )
                )
            with self.engine.begin() as conn:
                conn.execute(insert(PI), instances)
                conn.execute(insert(TM), timers)
        if self.engine.dialect.name == "postgresql":
            with self.engine.begin() as conn:
                conn.execute(text("ANALYZE timers"))
                conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('process_instances', 'id'), "
                        "(SELECT max(id) FROM process_instances))"
                    )
                )

    def _next_id(self) -> int:
        with self.engine.connect() as conn:
            return (conn.scalar(select(func.max(PI.c.id))) or 0) + 1

    def wait_fired(self, since_id: int, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.engine.connect() as conn:
                fired = conn.scalar(
                    select(func.count())
                    .select_from(TM)
                    .where(TM.c.instance_id >= since_id, TM.c.status == "fired")
                )
            if fired >= count:
                return
            time.sleep(0.25)
        raise TimeoutError(f"only {fired} of {count} timers fired in {timeout:.0f} s")

    def lags(self, since_id: int) -> list[float]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(TM.c.due_at, TM.c.fired_at).where(
                    TM.c.instance_id >= since_id, TM.c.status == "fired"
                )
            ).all()
        return sorted((fired - due).total_seconds() for due, fired in rows)

    def close(self) -> None:
        Base.metadata.drop_all(self.engine)
        self.engine.dispose()


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def reap(proc: subprocess.Popen, timeout: float = 60.0) -> float:
    """Wait for a worker to exit; its peak resident memory in MB (from the kernel's rusage)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return round(usage.ru_maxrss / 1024, 1)
        if time.monotonic() > deadline:
            proc.kill()
            deadline = float("inf")
        time.sleep(0.05)


def run(args, pending: int) -> dict:
    bench = Bench(args.database)
    t0 = time.perf_counter()
    bench.clone([FAR] * pending)
    setup_s = time.perf_counter() - t0
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                bench.url,
                f"w{i}",
                str(args.sweep),
                str(args.group_size or 0),
            ]
        )
        for i in range(args.workers)
    ]
    try:
        time.sleep(2)  # let the workers start and settle
        # 1. steady rate
        first = bench._next_id()
        start = datetime.now(UTC) + timedelta(seconds=3)
        n = int(args.rate * args.seconds)
        bench.clone([start + timedelta(seconds=i / args.rate) for i in range(n)])
        bench.wait_fired(first, n, timeout=args.seconds + 120)
        lags = bench.lags(first)
        # 2. burst
        first_burst = bench._next_id()
        at = datetime.now(UTC) + timedelta(seconds=5)
        bench.clone([at] * args.burst)
        bench.wait_fired(first_burst, args.burst, timeout=600)
        burst_lags = bench.lags(first_burst)
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        worker_rss_mb = [reap(w) for w in workers]
    db = bench.engine.dialect.name
    bench.close()
    return {
        "database": db,
        "pending": pending,
        "workers": args.workers,
        "setup_s": round(setup_s, 1),
        "steady_timers": len(lags),
        "rate_per_s": args.rate,
        "p50_lag_s": round(statistics.median(lags), 3),
        "p99_lag_s": round(percentile(lags, 99), 3),
        "max_lag_s": round(lags[-1], 3),
        "burst": args.burst,
        "burst_10000_s": round(burst_lags[-1], 2),
        "burst_per_s": round(args.burst / max(burst_lags[-1], 1e-9), 1),
        "peak_rss_worker_mb": max(worker_rss_mb),
    }


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        run_worker(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]) or None)
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=None, help="SQLAlchemy URL (default: temporary SQLite)")
    ap.add_argument("--pending", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rate", type=float, default=20.0, help="timers due per second (steady)")
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the steady phase")
    ap.add_argument("--burst", type=int, default=10_000)
    ap.add_argument("--sweep", type=float, default=1.0)
    ap.add_argument(
        "--group-size",
        type=int,
        default=None,
        help="instances fired per transaction (default: the service's default for the database)",
    )
    args = ap.parse_args()
    results = [run(args, p) for p in args.pending]
    print(
        f"{'database':<11}{'pending':>10}{'workers':>8}{'p50 lag s':>11}{'p99 lag s':>11}"
        f"{'max lag s':>11}{'burst s':>9}{'burst/s':>9}{'worker RSS MB':>15}"
    )
    for r in results:
        print(
            f"{r['database']:<11}{r['pending']:>10}{r['workers']:>8}{r['p50_lag_s']:>11.3f}"
            f"{r['p99_lag_s']:>11.3f}{r['max_lag_s']:>11.3f}{r['burst_10000_s']:>9.2f}"
            f"{r['burst_per_s']:>9.0f}{r['peak_rss_worker_mb']:>15.1f}"
        )
    print("targets: p99 lag <= 1 s; 10,000 burst <= 20 s")
    print(json.dumps({"benchmark": "timers", **max(results, key=lambda r: r["pending"])}))


if __name__ == "__main__":
    main()
