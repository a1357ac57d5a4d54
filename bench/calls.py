"""Benchmark: the phone system's call events over HTTP while the web app runs the lifecycle load.

Sets up as ``bench/http.py`` does (a fresh database, ``hotline init``, the demo city, a token
per role) and makes a token of the demo's phone-system user ``pbx`` (as ``hotline token create
pbx``). Then starts the deployment docs/deployment.md recommends for a phone system: the pages'
gunicorn (``--workers W`` of ``--threads T`` threads, HOTLINE_SCHEDULER=off), one ``hotline
worker``, and a second gunicorn that only the phone system's events go to (``--events-workers``
of ``--events-threads``), the pages and the timer worker at a lower CPU priority
(``--web-nice``, 10; locust too, which stands for browsers on other machines). Locust runs
``--users U`` closed-loop users running complaints' whole lives (the lifecycle load of
``bench/http.py``, with its default of 20 users, which takes the whole of this machine), and
meanwhile the script sends ``POST /api/v1/calls/events`` at a fixed rate (``--rate`` events per
second, open loop: an event is sent at its time whether or not the earlier ones were answered,
by a pool of ``--senders`` threads with a kept-alive connection each) for ``--seconds``. The
events make whole calls: ringing, answered by op1 or op2, ended; a tenth of the calls ringing
then missed (each a callback task). Then prints the events per second achieved, the events'
latency percentiles (from sending to the answer), errors, the lifecycle load's figures; the
last line is JSON.

``--ramp`` looks for the most events per second the app sustains: steps of ``--seconds``
each, from ``--rate`` up by half each step (to ``--ramp-max``), under the same lifecycle load;
a step is sustained when every event was answered and the answers kept up with the rate
(achieved at least 95% of it). The ramp stops at the first step not sustained and prints
each step, the highest sustained rate and the highest rate with p99 within the target.

Usage:
  python bench/calls.py [--rate 50] [--seconds 30] [--users 20] [--workers 2] [--threads 2]
                        [--events-workers 1] [--events-threads 4] [--web-nice 10]
                        [--pacing S] [--database URL] [--ramp [--ramp-max 800]]
  (--events-workers 0 --threads 1 --web-nice 0: the events share the pages' sync workers)
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py lies beside this file: its folder must not shadow the standard library's http
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import contextlib  # noqa: E402
import http.client  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import queue  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_http", HERE / "http.py")
bench_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_http)

#: of the calls: missed (ringing, then missed); the rest are answered and ended
MISSED_SHARE = 0.1
#: calls in progress at once: each slot's event starts a call or moves one on
IN_PROGRESS = 8
#: the target of issue 17: p99 at most this many ms at 50 events/s
TARGET_P99_MS = 100
#: a ramp step is sustained when the answers kept up with at least this share of its rate
SUSTAINED = 0.95


def pbx_token() -> str:
    """A token of the demo's phone-system user (``hotline token create pbx``)."""
    from webapp import create_app
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.api.tokens import create_token
    from workflows.users.service import PBX_USERNAME, by_username

    app = create_app()
    with app.app_context():
        user = by_username(db.session, PBX_USERNAME)
        if user is None:
            raise SystemExit("the demo city has no phone-system user 'pbx'")
        _row, token = create_token(db.session, user=user, name="bench", clock=get_hotline().clock)
        db.session.remove()
        db.engine.dispose()
    return token


def event_stream(rng: random.Random):
    """Endless events of whole calls, a few in progress at once: (call_id, event, fields)."""
    live: list[list] = []  # [call_id, events still to send]
    n = 0
    while True:
        if len(live) < IN_PROGRESS or rng.random() < 0.2:
            n += 1
            call_id = f"bench-{os.getpid()}-{n}"
            caller = f"13{rng.randrange(10**9):09d}"
            if rng.random() < MISSED_SHARE:
                rest = [("missed", {})]
            else:
                agent = rng.choice(["op1", "op2"])
                rest = [("answered", {"agent": agent}), ("ended", {})]
            live.append([call_id, rest])
            yield call_id, "ringing", {"caller": caller, "queue": "12345"}
            continue
        call = live[rng.randrange(len(live))]
        event, fields = call[1].pop(0)
        if not call[1]:
            live.remove(call)
        yield call[0], event, fields


class Sender(threading.Thread):
    """Sends the events put in ``jobs`` on one kept-alive connection; records each latency."""

    def __init__(self, host: str, port: int, token: str, jobs: queue.Queue, out: list) -> None:
        super().__init__(daemon=True)
        self.host, self.port, self.token = host, port, token
        self.jobs, self.out = jobs, out
        self.conn: http.client.HTTPConnection | None = None

    def run(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            self.out.append(self.send(*job))

    def send(self, call_id: str, event: str, fields: dict, due: float) -> tuple:
        body = {"call_id": call_id, "event": event, "at": datetime.now(UTC).isoformat()}
        body.update(fields)
        data = json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        started = time.perf_counter()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            self.conn.request("POST", "/api/v1/calls/events", body=data, headers=headers)
            response = self.conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            self.conn = None
            status = type(exc).__name__
        ended = time.perf_counter()
        return status, ended - started, started - due


def send_events(
    args, port: int, token: str, *, rate: float, stream, seconds: float | None = None
) -> dict:
    """``rate`` events a second from ``stream`` for ``seconds`` (``args.seconds``), open
    loop."""
    jobs: queue.Queue = queue.Queue()
    results: list = []
    senders = [Sender("127.0.0.1", port, token, jobs, results) for _ in range(args.senders)]
    for sender in senders:
        sender.start()
    total = int(rate * (seconds or args.seconds))
    started = time.perf_counter()
    for i in range(total):
        due = started + i / rate
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        call_id, event, fields = next(stream)
        jobs.put((call_id, event, fields, due))
    for _ in senders:
        jobs.put(None)
    for sender in senders:
        sender.join()
    elapsed = time.perf_counter() - started
    return {"rate": rate, "results": results, "elapsed": elapsed}


def ramp_rates(first: float, most: float) -> list[float]:
    """The ramp's rates: ``first``, then half as much again each step, up to ``most``."""
    rates = [first]
    while rates[-1] * 1.5 <= most:
        rates.append(round(rates[-1] * 1.5))
    return rates


def figures(sent: dict) -> dict:
    """What one run of events at one rate gave: achieved rate, latencies (ms), errors."""
    results, elapsed = sent["results"], sent["elapsed"]
    ok = [latency for status, latency, _ in results if status in (200, 201)]
    return {
        "rate": sent["rate"],
        "events": len(results),
        "answered": len(ok),
        "errors": len(results) - len(ok),
        "elapsed": elapsed,
        "events_per_s": len(ok) / elapsed if elapsed else 0.0,
        "p50": 1000 * percentile(ok, 50),
        "p95": 1000 * percentile(ok, 95),
        "p99": 1000 * percentile(ok, 99),
        "max": 1000 * max(ok) if ok else 0.0,
        "lateness_p99": 1000 * percentile([late for _, _, late in results], 99),
        "statuses": dict(Counter(str(status) for status, _, _ in results)),
    }


def sustained(step: dict) -> bool:
    return not step["errors"] and step["events_per_s"] >= SUSTAINED * step["rate"]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def run(args, url: str, tokens: dict[str, str], token: str, tmp: str) -> dict:
    env = bench_http.app_env(url)
    port = bench_http.free_port()
    host = f"http://127.0.0.1:{port}"
    stack = contextlib.ExitStack()
    logs = {
        name: stack.enter_context(open(os.path.join(tmp, f"{name}.log"), "w"))  # noqa: SIM115
        for name in ("web", "worker", "locust")
    }
    binaries = bench_http.BIN
    web = bench_http.start_gunicorn(
        args.workers, port, env, logs["web"], threads=args.threads, nice=args.web_nice
    )
    # the phone system's own pool: a second gunicorn on the same app and database, which the
    # PBX is pointed at, so that its events never queue behind page renders and case steps
    events_port = port
    events_web = None
    if args.events_workers:
        events_port = bench_http.free_port()
        events_web = bench_http.start_gunicorn(
            args.events_workers, events_port, env, logs["web"], threads=args.events_threads
        )
    worker = subprocess.Popen(
        [
            *(["nice", "-n", str(args.web_nice)] if args.web_nice else []),
            str(binaries / "hotline"),
            "worker",
        ],  # fmt: skip
        env=env,
        cwd=ROOT,
        stdout=logs["worker"],
        stderr=subprocess.STDOUT,
    )
    locust = None
    plan = ramp_rates(args.rate, args.ramp_max) if args.ramp else [args.rate]
    # paced users start spread over one pace (else they all start their lifecycles at the
    # same instants: bursts every pace), and all of them before the first event
    spawn_rate = args.users / args.pacing if args.pacing else args.users
    warm_up = max(args.warm_up, args.pacing)
    stopped_early = False
    try:
        bench_http.wait_for(host + "/healthz")
        if events_web is not None:
            bench_http.wait_for(f"http://127.0.0.1:{events_port}/healthz")
        while len(bench_http.children(web.pid)) < args.workers:
            time.sleep(0.1)
        prefix = os.path.join(tmp, "locust")
        out = os.path.join(tmp, "lifecycles.json")
        if args.users:
            locust_env = dict(os.environ, BENCH_TOKENS=json.dumps(tokens), BENCH_OUT=out)
            if args.pacing:
                locust_env["BENCH_PACING"] = str(args.pacing)
            locust = bench_http.start_locust(
                host,
                args.users,
                spawn_rate,
                f"{args.seconds * len(plan) + warm_up + 4:.0f}s",
                prefix,
                locust_env,
                logs["locust"],
                nice=args.web_nice,
            )
            time.sleep(warm_up)  # the lifecycle load running before the first event
        stream = event_stream(random.Random(args.seed))
        if args.warm_up:
            # not counted: each worker's first requests load what a request needs (the
            # earlier figures' no-load p99 of 268 ms was these first events)
            send_events(args, events_port, token, rate=args.rate, stream=stream, seconds=2)
        steps = []
        for rate in plan:
            steps.append(figures(send_events(args, events_port, token, rate=rate, stream=stream)))
            if args.ramp and not sustained(steps[-1]):
                stopped_early = rate != plan[-1]
                break
        if locust is not None and stopped_early:
            bench_http.stop(locust)  # SIGTERM: locust stops its users and writes its figures
        elif locust is not None:
            locust.wait()
            if locust.returncode != 0:
                print(Path(tmp, "locust.log").read_text()[-3000:], file=sys.stderr)
                raise SystemExit(f"locust exited with {locust.returncode}")
    finally:
        if locust is not None and locust.poll() is None:
            bench_http.stop(locust)
        bench_http.stop(web)
        if events_web is not None:
            bench_http.stop(events_web)
        bench_http.stop(worker)
        stack.close()
    load = None
    if args.users and os.path.exists(out) and os.path.exists(prefix + "_stats.csv"):
        rows = bench_http.read_stats(prefix + "_stats.csv")
        with open(out) as f:
            flow = json.load(f)
        load = {"total": next(r for r in rows if r["name"] == "Aggregated"), "flow": flow}
    return {"steps": steps, "load": load}


def report(args, url: str, result: dict) -> None:
    steps, load = result["steps"], result["load"]
    first = steps[0]  # the JSON line's figures: the run at --rate (a ramp's first step)
    database = url.split(":", 1)[0].split("+")[0]
    print(
        f"{database}, gunicorn {args.workers} "
        + (f"workers of {args.threads} threads" if args.threads > 1 else "sync workers")
        + " + 1 timer worker"
        + (
            f" + {args.events_workers} (x{args.events_threads} threads) for the events alone"
            if args.events_workers
            else ""
        )
        + (f", pages, timers and locust at nice {args.web_nice}" if args.web_nice else "")
        + ", "
        f"lifecycle load: {args.users} locust users"
        + (f" each starting a lifecycle every {args.pacing:g} s" if args.pacing else "")
        + f"; call events at {args.rate:g}/s "
        f"for {args.seconds:g} s by {args.senders} senders"
    )
    for step in steps:
        print(
            f"at {step['rate']:g}/s: {step['events']} sent, {step['answered']} answered "
            f"200/201 in {step['elapsed']:.1f} s ({step['events_per_s']:.1f}/s), "
            f"{step['errors']} errors; statuses {step['statuses']}"
        )
        met = "met" if step["p99"] <= TARGET_P99_MS else "NOT met"
        print(
            f"  event latency ms: p50 {step['p50']:.1f}, p95 {step['p95']:.1f}, "
            f"p99 {step['p99']:.1f}, max {step['max']:.1f} (p99 <= {TARGET_P99_MS} ms: {met}); "
            f"sender lateness p99 {step['lateness_p99']:.1f} ms (a send after its time: the "
            "senders all busy)"
        )
    ramp = {}
    if args.ramp:
        kept = [s["rate"] for s in steps if sustained(s)]
        within = [s["rate"] for s in steps if sustained(s) and s["p99"] <= TARGET_P99_MS]
        ramp = {
            "max_sustained_rate": max(kept, default=0),
            "max_rate_within_target": max(within, default=0),
            "steps": [
                {k: round(v, 1) if isinstance(v, float) else v for k, v in s.items()} for s in steps
            ],
        }
        print(
            f"most sustained: {ramp['max_sustained_rate']:g} events/s (all answered, "
            f">= {SUSTAINED:.0%} of the rate kept up); p99 <= {TARGET_P99_MS} ms up to "
            f"{ramp['max_rate_within_target']:g} events/s"
        )
    figures = {}
    if load is not None:
        total, flow = load["total"], load["flow"]
        per_s = flow["completed"] / flow["seconds"] if flow["seconds"] else 0.0
        print(
            f"lifecycle load meanwhile: {flow['completed']} lifecycles ({per_s:.1f}/s), "
            f"{flow['failed']} failed; {total['count']} requests ({total['rps']:.1f}/s), "
            f"p50 {total['p50']} p95 {total['p95']} p99 {total['p99']} ms, "
            f"{total['failures']} failures"
        )
        figures = {
            "lifecycles_per_s": round(per_s, 1),
            "lifecycle_requests_p99_ms": total["p99"],
            "lifecycle_failures": total["failures"] + flow["failed"],
        }
    print(
        json.dumps(
            {
                "benchmark": "calls",
                "database": database,
                "workers": args.workers,
                "threads": args.threads,
                "events_threads": args.events_threads,
                "web_nice": args.web_nice,
                "events_workers": args.events_workers,
                "users": args.users,
                "pacing": args.pacing,
                "rate": args.rate,
                "seconds": round(first["elapsed"], 1),
                "events": first["events"],
                "events_per_s": round(first["events_per_s"], 1),
                "p50_ms": round(first["p50"], 1),
                "p95_ms": round(first["p95"], 1),
                "p99_ms": round(first["p99"], 1),
                "max_ms": round(first["max"], 1),
                "errors": first["errors"],
                **figures,
                **ramp,
            }
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=None, help="SQLAlchemy URL (default: temporary SQLite)")
    ap.add_argument("--rate", type=float, default=50, help="call events per second")
    ap.add_argument("--seconds", type=float, default=30, help="how long to send events")
    ap.add_argument("--senders", type=int, default=8, help="threads sending the events")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    ap.add_argument(
        "--events-threads",
        type=int,
        default=4,
        help="threads per worker of the events' own gunicorn (--events-workers)",
    )
    ap.add_argument(
        "--web-nice",
        type=int,
        default=10,
        help="run the lifecycle load (the pages' gunicorn, the timer worker, and locust, which "
        "stands for browsers elsewhere) at this lower CPU priority (nice); the events' own pool "
        "(--events-workers) and the senders at the normal one",
    )
    ap.add_argument(
        "--threads",
        type=int,
        default=2,
        help="threads per gunicorn worker (above 1: gunicorn's gthread workers)",
    )
    ap.add_argument(
        "--events-workers",
        type=int,
        default=1,
        help="workers of a second gunicorn that only the events are sent to (the phone "
        "system's own pool, as docs/deployment.md sets it up; 0: the events share the pages' "
        "workers)",
    )
    ap.add_argument(
        "--users",
        type=int,
        default=20,
        help="locust users of the lifecycle load, bench/http.py's default (0: none)",
    )
    ap.add_argument(
        "--pacing",
        type=float,
        default=0,
        help="seconds between a locust user's lifecycle starts (0: a closed loop, as "
        "bench/http.py; e.g. --users 10 --pacing 10 offers 1 lifecycle/s)",
    )
    ap.add_argument(
        "--warm-up",
        type=float,
        default=3,
        help="seconds of lifecycle load before the events, then 2 s of events not counted "
        "(0: neither)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--ramp",
        action="store_true",
        help="steps from --rate up by half each (--seconds each) to the most sustained rate",
    )
    ap.add_argument("--ramp-max", type=float, default=800, help="the ramp's highest rate")
    args = ap.parse_args()
    if args.rate <= 0 or args.seconds <= 0:
        ap.error("--rate and --seconds must be positive")
    tmp = tempfile.mkdtemp(prefix="hotline-bench-calls-")
    try:
        url = bench_http.fresh_database(args.database, tmp)
        tokens = bench_http.set_up(url, False)
        token = pbx_token()
        report(args, url, run(args, url, tokens, token, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
