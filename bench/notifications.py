"""Benchmark: notifications delivered to a local SMS gateway, and what a notice costs a step.

Makes a fresh database (a SQLite file in a temporary folder, or with ``--database`` a
PostgreSQL URL whose database is dropped and created again: ``hotline_bench_notify`` by
default, never ``test``), runs ``hotline init`` and loads the demo city, and starts a real
HTTP SMS gateway in this process (``http.server`` on 127.0.0.1, answering 200 to
``POST {id, to, text}`` with the bearer token) that notes when each id first arrives.

(a) drain: ``--messages`` (10,000) SMS queued as the fan-out queues them (a Message row and its
    ``notify.deliver`` outbox row, event time = when queued), then ``--workers`` ``hotline
    worker`` processes deliver them; throughput (messages/s, from the workers' start to the
    last arrival) and p50/p99 from event time to arrival at the gateway;
(b) steady: with the worker running, intakes (each a case accepted: an SMS receipt to its
    caller, a number of its own) are committed at ``--rate`` per second for ``--seconds``;
    p50/p99/max from each step's commit to the gateway receiving its SMS. ``--worker thread``
    (default) runs the scheduler in this process, as ``hotline serve`` does (a commit wakes
    the outbox at once); ``--worker process`` runs ``hotline worker`` beside it (it sees
    other processes' messages at its sweep, every HOTLINE_TIMER_SWEEP_SECONDS). Target:
    p99 <= 2 s;
(c) cost: the same lifecycle steps (intake with dispatch, then the dispatch: an accepted
    notice and a dispatched notice) with the notification subscribers and without them, in
    interleaved rounds in one run; the median time per case of each and their ratio.

Usage: python bench/notifications.py [--database URL] [--messages 10000] [--workers 1]
                                     [--rate 10] [--seconds 30] [--worker thread|process]
                                     [--cost-cases 200] [--rounds 5] [--only a,b,c]
The last line of output is JSON with every figure.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py is a benchmark: this folder must not shadow the standard library's ``http``.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

BIN = Path(sys.executable).parent
PG_DEFAULT_DB = "hotline_bench_notify"
TOKEN = "bench-gateway-token"
INTAKE = {
    "case_type": "complaint",
    "urgency": "normal",
    "channel": "phone",
    "caller_name": "张三",
    "address": "江门市蓬江区白沙大道1号",
    "area": "D-PJ",
    "category": "食品安全",
    "description": "小区门口餐馆卫生很差",
    "intake_outcome": "dispatch",
}


# -- the gateway ------------------------------------------------------------------------------


class Gateway:
    """A local SMS gateway noting when each id (and each number) first arrived."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}  # id -> time.time() of its first arrival
        self.by_phone: dict[str, float] = {}
        self.posts = 0
        self.refused = 0
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY, as real gateways (nginx...) set it: without it the body, written after
            # the headers, waits ~40 ms for the client's delayed ACK (measured: 44 ms a POST)
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                now = time.time()
                ok = self.headers.get("Authorization") == f"Bearer {TOKEN}"
                if ok:
                    sms = json.loads(body)
                    with gateway.changed:
                        gateway.posts += 1
                        gateway.first.setdefault(sms["id"], now)
                        gateway.by_phone.setdefault(sms["to"], now)
                        gateway.changed.notify_all()
                else:
                    gateway.refused += 1
                answer = b'{"ok": true}' if ok else b"{}"
                self.send_response(200 if ok else 401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def wait(self, predicate, timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(predicate, timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- the database and the app -----------------------------------------------------------------


def fresh_database(url: str | None, tmp: str) -> str:
    """A SQLAlchemy URL of an empty database made for this run."""
    if url is None:
        return f"sqlite:///{os.path.join(tmp, 'bench.db')}"
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)
        return url
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or PG_DEFAULT_DB
    if name in ("test", "postgres", "template0", "template1"):
        sys.exit(f"refusing to use the database {name!r}: give one for this benchmark only")
    host, port, user = parts.hostname or "127.0.0.1", str(parts.port or 5432), parts.username
    common = ["-h", host, "-p", port] + (["-U", user] if user else [])
    subprocess.run(["dropdb", *common, "--if-exists", "--force", name], check=True)
    subprocess.run(["createdb", *common, name], check=True)
    return urlunsplit(parts._replace(path="/" + name))


def app_env(url: str, gateway: Gateway, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_SECRET_KEY": "bench-notify-not-secret",
        "HOTLINE_SMS_URL": gateway.url,
        "HOTLINE_SMS_TOKEN": TOKEN,
        # every hour of the day and any number of receipts: the figures are the delivery's
        "HOTLINE_SMS_QUIET_HOURS": "",
        "HOTLINE_SMS_DAILY_LIMIT": "1000000",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def set_up(url: str, gateway: Gateway) -> None:
    """``hotline init --demo``-like: the schema, reference data and the demo city (no cases)."""
    env = app_env(url, gateway)
    subprocess.run(
        [str(BIN / "hotline"), "init"], env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT
    )
    os.environ.update({k: v for k, v in env.items() if k.startswith("HOTLINE_")})
    from engine.db import unit_of_work
    from webapp import create_app
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from webapp.security import hash_password
    from workflows.seed import seed_demo_city

    app = create_app({"SCHEDULER": "off"})
    with app.app_context():
        with unit_of_work(db.session):
            seed_demo_city(db.session, clock=get_hotline().clock, password_hash=hash_password("x"))
        db.session.remove()
        db.engine.dispose()


def app(**config):
    from webapp import create_app

    return create_app({"SCHEDULER": "off", **config})


#: where the workers' logs go (a pipe nobody reads would fill and stop them)
LOG = Path(tempfile.gettempdir()) / "hotline-bench-notify-worker.log"


def start_workers(url: str, gateway: Gateway, n: int, **extra: str) -> list[subprocess.Popen]:
    env = app_env(url, gateway, **extra)
    log = LOG.open("a")
    return [
        subprocess.Popen(
            [str(BIN / "hotline"), "worker", "--owner", f"bench-{i}"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for i in range(n)
    ]


def stop(processes: list[subprocess.Popen]) -> None:
    for p in processes:
        p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# -- (a) drain --------------------------------------------------------------------------------


def queue_sms(n: int) -> dict[str, float]:
    """``n`` SMS to department duty numbers queued as the fan-out queues them; key -> event
    time (epoch seconds). One transaction per 500, as a burst of steps would write them."""
    from engine.db import unit_of_work
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.notifications.pipeline import enqueue

    events: dict[str, float] = {}
    flask_app = app()
    with flask_app.app_context():
        hotline = get_hotline()
        for start in range(0, n, 500):
            with unit_of_work(db.session):
                for i in range(start, min(n, start + 500)):
                    now = datetime.now(UTC)
                    key = f"bench:{i}:sms:d1"
                    phone = f"0750{3000000 + i}"
                    enqueue(
                        db.session,
                        hotline.runtime.outbox,
                        key=key,
                        channel="sms",
                        notice="dispatched",
                        audience="department",
                        recipient=phone,
                        body=f"【12345热线】派单通知：工单 {i} 已派至贵单位，请及时签收。",
                        event_at=now,
                        now=now,
                    )
                    events[key] = now.timestamp()
        db.session.remove()
        db.engine.dispose()
    return events


def run_drain(args, url: str, gateway: Gateway) -> dict:
    events = queue_sms(args.messages)
    print(f"(a) queued {len(events)} SMS; starting {args.workers} worker(s)", flush=True)
    started = time.time()
    workers = start_workers(url, gateway, args.workers, HOTLINE_TIMER_BATCH_SIZE="100")
    try:
        done = gateway.wait(lambda: len(gateway.first) >= len(events), timeout=args.timeout)
    finally:
        stop(workers)
    arrived = {k: gateway.first[k] for k in events if k in gateway.first}
    if not done:
        print(f"(a) only {len(arrived)} of {len(events)} arrived in {args.timeout} s")
    last = max(arrived.values())
    first = min(arrived.values())
    latency = [arrived[k] - events[k] for k in arrived]
    result = {
        "messages": len(events),
        "arrived": len(arrived),
        "duplicates": gateway.posts - len(gateway.first),
        "workers": args.workers,
        "throughput": round(len(arrived) / (last - started), 1),
        "throughput_sending": round(len(arrived) / max(last - first, 1e-9), 1),
        "first_arrival_s": round(first - started, 2),
        "p50_s": round(pct(latency, 50), 2),
        "p99_s": round(pct(latency, 99), 2),
    }
    print(
        f"(a) drain: {result['arrived']} SMS in {last - started:.1f} s with {args.workers} "
        f"worker(s): {result['throughput']} msg/s from the workers' start "
        f"({result['throughput_sending']} msg/s from the first arrival, which came after "
        f"{result['first_arrival_s']} s); event to gateway p50 {result['p50_s']} s, "
        f"p99 {result['p99_s']} s; {result['duplicates']} sent twice",
        flush=True,
    )
    return result


# -- (b) steady -------------------------------------------------------------------------------


def run_steady(args, url: str, gateway: Gateway) -> dict:
    """Intakes at a fixed rate, each an SMS receipt to its own number; commit -> arrival."""
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from webapp.scheduler import start_scheduler
    from workflows.cases import flows

    flask_app = app(SCHEDULER="on" if args.worker == "thread" else "off")
    scheduler = start_scheduler(flask_app, role="serve") if args.worker == "thread" else None
    workers = start_workers(url, gateway, 1) if args.worker == "process" else []
    committed: dict[str, float] = {}
    step_seconds: list[float] = []
    n = int(args.rate * args.seconds)
    interval = 1.0 / args.rate
    try:
        with flask_app.app_context():
            hotline = get_hotline()
            # one receipt through first: the worker has started (a process takes 2-3 s) and
            # the caches are warm, so that the figures are the steady state's
            warm = "13999999999"
            flows.open_case(db.session, hotline, data={**INTAKE, "caller_phone": warm}, actor="op1")
            if not gateway.wait(lambda: warm in gateway.by_phone, timeout=120):
                sys.exit("(b) the warm-up SMS did not arrive in 120 s: is the worker running?")
            begin = time.monotonic()
            for i in range(n):
                # a fixed rate: each intake at its slot, however long the last one took
                delay = begin + i * interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                phone = f"139{50000000 + i:08d}"
                t0 = time.time()
                flows.open_case(
                    db.session,
                    hotline,
                    data={**INTAKE, "caller_phone": phone},
                    actor="op1",
                )
                t1 = time.time()
                committed[phone] = t1
                step_seconds.append(t1 - t0)
            db.session.remove()
        done = gateway.wait(
            lambda: all(p in gateway.by_phone for p in committed), timeout=args.timeout
        )
    finally:
        if scheduler is not None:
            scheduler.shutdown()
        stop(workers)
    lag = [gateway.by_phone[p] - committed[p] for p in committed if p in gateway.by_phone]
    if not done:
        print(f"(b) only {len(lag)} of {len(committed)} receipts arrived in {args.timeout} s")
    result = {
        "worker": args.worker,
        "rate": args.rate,
        "steps": len(committed),
        "arrived": len(lag),
        "step_p50_s": round(pct(step_seconds, 50), 3),
        "p50_s": round(pct(lag, 50), 3),
        "p99_s": round(pct(lag, 99), 3),
        "max_s": round(max(lag), 3),
    }
    print(
        f"(b) steady ({args.worker} worker): {len(committed)} intakes at {args.rate}/s "
        f"(each {result['step_p50_s']} s p50); commit to gateway p50 {result['p50_s']} s, "
        f"p99 {result['p99_s']} s, max {result['max_s']} s (target p99 <= 2 s: "
        f"{'met' if result['p99_s'] <= 2 else 'MISSED'})",
        flush=True,
    )
    return result


# -- (c) cost ---------------------------------------------------------------------------------


@contextlib.contextmanager
def without_notices(hotline):
    """The hotline's event subscribers minus the notices' (``NoticeSubscribers``), for the
    length of the block: a step as it was before notifications."""
    from workflows.notifications.subscribers import NoticeSubscribers

    table = hotline.events._subscribers  # a benchmark may reach in; the app never does
    saved = {kind: list(subscribers) for kind, subscribers in table.items()}
    for kind in list(table):
        kept = [
            s
            for s in table[kind]
            if not isinstance(getattr(s, "__self__", None), NoticeSubscribers)
        ]
        if kept:
            table[kind] = kept
        else:
            del table[kind]  # nobody wants the event: publishers skip building it
    try:
        yield
    finally:
        table.clear()
        table.update(saved)


def run_cost(args, url: str, gateway: Gateway) -> dict:
    """Intake + dispatch per case, with and without the notice subscribers, interleaved."""
    from sqlalchemy import func, select

    from engine.models import HumanTask, OutboxMessage
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.cases import flows
    from workflows.notifications.pipeline import NOTIFY_TOPIC
    from workflows.users.service import by_username

    flask_app = app()
    per_case: dict[str, list[float]] = {"with": [], "without": []}
    with flask_app.app_context():
        hotline = get_hotline()
        dispatcher = by_username(db.session, "disp1")

        def lifecycle(count: int, offset: int) -> float:
            t0 = time.perf_counter()
            for i in range(count):
                case = flows.open_case(
                    db.session,
                    hotline,
                    data={**INTAKE, "caller_phone": f"137{offset + i:08d}"},
                    actor="op1",
                )
                task_id = db.session.scalar(
                    select(HumanTask.task_id).where(
                        HumanTask.instance_id == case.instance_id,
                        HumanTask.element_id == "dispatch",
                        HumanTask.state == "ready",
                    )
                )
                flows.complete_task(
                    db.session,
                    hotline,
                    task_id=task_id,
                    data={"lead_department": "B-MR"},
                    user=dispatcher,
                )
            return (time.perf_counter() - t0) / count

        def notices() -> int:
            db.session.rollback()
            count = db.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.topic == NOTIFY_TOPIC)
            )
            db.session.rollback()
            return count

        lifecycle(20, 90_000_000)  # warm up (caches, the calendar, the diagram)
        written = {"with": 0, "without": 0}
        for r in range(args.rounds):
            before = notices()
            per_case["with"].append(lifecycle(args.cost_cases, r * 2 * args.cost_cases))
            middle = notices()
            with without_notices(hotline):
                per_case["without"].append(
                    lifecycle(args.cost_cases, (r * 2 + 1) * args.cost_cases)
                )
            written["with"] += middle - before
            written["without"] += notices() - middle
        db.session.remove()
    ratios = [w / wo for w, wo in zip(per_case["with"], per_case["without"], strict=True)]
    result = {
        "cases_per_round": args.cost_cases,
        "rounds": args.rounds,
        "with_ms": round(statistics.median(per_case["with"]) * 1000, 2),
        "without_ms": round(statistics.median(per_case["without"]) * 1000, 2),
        "ratio": round(statistics.median(ratios), 3),
        "ratio_min": round(min(ratios), 3),
        "ratio_max": round(max(ratios), 3),
        "notices_with": written["with"],
        "notices_without": written["without"],
    }
    print(
        f"(c) cost: intake + dispatch {result['with_ms']} ms per case with the notice "
        f"subscribers, {result['without_ms']} ms without (median of {args.rounds} rounds of "
        f"{args.cost_cases}); ratio {result['ratio']} (rounds {result['ratio_min']} to "
        f"{result['ratio_max']}); notices written "
        f"{written['with']} with, {written['without']} without",
        flush=True,
    )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=None, help="SQLAlchemy URL (default: temporary SQLite)")
    ap.add_argument("--messages", type=int, default=10_000, help="(a) SMS queued")
    ap.add_argument("--workers", type=int, default=1, help="(a) hotline worker processes")
    ap.add_argument("--rate", type=float, default=10.0, help="(b) intakes per second")
    ap.add_argument("--seconds", type=float, default=30.0, help="(b) length of the steady run")
    ap.add_argument("--worker", choices=("thread", "process"), default="thread", help="(b)")
    ap.add_argument("--cost-cases", type=int, default=200, help="(c) cases per round")
    ap.add_argument("--rounds", type=int, default=5, help="(c) rounds")
    ap.add_argument("--only", default="a,b,c", help="which parts to run (a,b,c)")
    ap.add_argument("--timeout", type=float, default=600.0, help="most seconds to wait")
    args = ap.parse_args()
    parts = set(args.only.split(","))
    tmp = tempfile.mkdtemp(prefix="hotline-bench-notify-")
    gateway = Gateway()
    results: dict = {"benchmark": "notifications"}
    try:
        url = fresh_database(args.database, tmp)
        results["database"] = url.split(":", 1)[0]
        set_up(url, gateway)
        if "a" in parts:
            results["drain"] = run_drain(args, url, gateway)
        if "b" in parts:
            results["steady"] = run_steady(args, url, gateway)
        if "c" in parts:
            results["cost"] = run_cost(args, url, gateway)
    finally:
        gateway.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("target: p99 from a step's commit to the gateway <= 2 s with the worker running")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
