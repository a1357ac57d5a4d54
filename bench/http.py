"""Benchmark: the REST API over HTTP under gunicorn, loaded by locust; peak memory per process.

Makes a fresh database (a SQLite file in a temporary folder, or with ``--database`` a
PostgreSQL URL whose database is dropped and created again: ``hotline_bench_http`` by
default, never ``test``), runs ``hotline init`` and loads the demo city (departments, users)
without the 300 simulated demo cases (``--demo`` loads them too), makes a token per user,
then starts gunicorn (``--workers W`` sync workers, HOTLINE_SCHEDULER=off) and one
``hotline worker`` (the timer scheduler), and runs locust headless with ``--users U``
closed-loop users (each runs one complaint's whole life after the other, see
``bench/api_flow.py``). Meanwhile it reads the RSS of the gunicorn master, of each gunicorn
worker and of the timer worker from /proc every 0.2 s. Then it stops everything and prints
requests/s, lifecycles/s, latency percentiles overall and per endpoint, failures and peak RSS;
the last line is JSON.

``--ceiling PATH`` runs the same processes and the same number of requests per "lifecycle",
but each request is ``GET PATH`` (``/healthz``: no database since issue 15 (``/readyz`` checks it), no token; ``/api/v1/me``: the
token checked, one user read, JSON out). What that reaches is the most lifecycles per second
this machine, gunicorn, Flask and locust allow before the engine does any work; compare it
with a real run.

``--profile N`` instead runs N lifecycles in this process through Flask's test client under
cProfile (after N/4 to warm up) and prints the top functions: where a request's time goes,
without HTTP.

Usage:
  python bench/http.py [--database URL] [--workers 2] [--users 20] [--spawn-rate 20]
                       [--run-time 60s] [--demo]
  python bench/http.py --ceiling /api/v1/me [--database URL] [--workers 2] [--users 20] ...
  python bench/http.py --profile 200 [--database URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named http.py: its folder must not shadow the standard library's ``http``.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))
sys.path.append(str(HERE))  # after the standard library: for api_flow

import argparse  # noqa: E402
import contextlib  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.request  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

BIN = Path(sys.executable).parent
PG_DEFAULT_DB = "hotline_bench_http"
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


# -- the database -----------------------------------------------------------------------------


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


def app_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HOTLINE_DATABASE_URL=url,
        HOTLINE_SCHEDULER="off",
        HOTLINE_SECRET_KEY="bench-http-not-secret",
        PYTHONPATH=str(ROOT),
    )
    return env


def set_up(url: str, demo: bool) -> dict[str, str]:
    """``hotline init`` (and the demo city), then a token per role the lifecycle uses."""
    env = app_env(url)
    command = [str(BIN / "hotline"), "init"] + (["--demo"] if demo else [])
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    os.environ.update(HOTLINE_DATABASE_URL=url, HOTLINE_SCHEDULER="off")
    from api_flow import USERS

    from webapp import create_app
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from webapp.security import hash_password
    from workflows.api.tokens import create_token
    from workflows.seed import seed_demo_city
    from workflows.users.service import by_username

    app = create_app()
    tokens = {}
    with app.app_context():
        if not demo:
            from engine.db import unit_of_work

            with unit_of_work(db.session):
                seed_demo_city(
                    db.session, clock=get_hotline().clock, password_hash=hash_password("demo")
                )
        for role, username in USERS.items():
            user = by_username(db.session, username)
            _row, tokens[role] = create_token(
                db.session, user=user, name="bench", clock=get_hotline().clock
            )
        db.session.remove()
        db.engine.dispose()
    return tokens


# -- processes and their memory -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]
    except OSError:
        return []


def rss_and_cpu(pid: int) -> tuple[int, float] | None:
    """Resident bytes and CPU seconds (user + system) of a live process, or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # after the command: state is field 3, utime 14, stime 15, rss 24 (1-based, man proc)
    return int(fields[21]) * PAGE, (int(fields[11]) + int(fields[12])) / TICKS


class Sampler(threading.Thread):
    """Peak RSS and last CPU time per process, read every ``interval`` seconds."""

    def __init__(self, kinds: dict[str, callable], interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.kinds = kinds  # kind -> function returning the pids of that kind now
        self.interval = interval
        self.peak: dict[tuple[str, int], int] = {}
        self.cpu: dict[tuple[str, int], float] = {}
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for kind, pids in self.kinds.items():
                for pid in pids():
                    found = rss_and_cpu(pid)
                    if found is None:
                        continue
                    rss, cpu = found
                    key = (kind, pid)
                    self.peak[key] = max(self.peak.get(key, 0), rss)
                    self.cpu[key] = cpu
            self.samples += 1
            self.stop.wait(self.interval)

    def summary(self, kind: str) -> tuple[int, float, float]:
        """(processes, peak RSS of the largest in MB, CPU seconds of all)."""
        peaks = [v for (k, _), v in self.peak.items() if k == kind]
        cpu = sum(v for (k, _), v in self.cpu.items() if k == kind)
        return len(peaks), (max(peaks) / 2**20 if peaks else 0.0), cpu


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer in {timeout} s")
        time.sleep(0.2)


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_locust(
    host: str,
    users: int,
    spawn_rate: float,
    run_time: str,
    prefix: str,
    env: dict,
    log,
    nice: int = 0,
) -> subprocess.Popen:
    """locust running ``bench/locustfile.py`` headless against ``host``, its figures in
    ``prefix``_stats.csv (the environment carries the tokens and the load's options);
    ``nice`` above 0 runs it at that lower CPU priority."""
    return subprocess.Popen(
        [
            *(["nice", "-n", str(nice)] if nice else []),
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(HERE / "locustfile.py"),
            "--headless",
            "--host",
            host,
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate),
            "--run-time",
            run_time,
            "--stop-timeout",
            "10",
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--exit-code-on-error",
            "0",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )


def start_gunicorn(
    workers: int, port: int, env: dict, log, threads: int = 1, nice: int = 0
) -> subprocess.Popen:
    """gunicorn with ``workers`` workers on ``port`` (the web app; the environment says
    whether it runs the scheduler): sync workers, or with ``threads`` above 1 gunicorn's
    threaded workers (gthread), each serving that many requests at once; ``nice`` above 0
    runs it at that lower CPU priority."""
    return subprocess.Popen(
        [
            *(["nice", "-n", str(nice)] if nice else []),
            str(BIN / "gunicorn"),
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "webapp:create_app()",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


# -- the HTTP run ---------------------------------------------------------------------------------


def run_http(args, url: str, tokens: dict[str, str], tmp: str) -> dict:
    env = app_env(url)
    port = free_port()
    host = f"http://127.0.0.1:{port}"
    stack = contextlib.ExitStack()
    logs = {
        name: stack.enter_context(open(os.path.join(tmp, f"{name}.log"), "w"))  # noqa: SIM115
        for name in ("web", "worker", "locust")
    }
    web = start_gunicorn(args.workers, port, env, logs["web"])
    worker = subprocess.Popen(
        [str(BIN / "hotline"), "worker"],
        env=env,
        cwd=ROOT,
        stdout=logs["worker"],
        stderr=subprocess.STDOUT,
    )
    locust = None
    sampler = Sampler(
        {
            "web master": lambda: [web.pid],
            "web worker": lambda: children(web.pid),
            "timer worker": lambda: [worker.pid],
            "locust": lambda: [locust.pid] if locust else [],
        }
    )
    sampler.start()
    try:
        wait_for(host + "/healthz")
        while len(children(web.pid)) < args.workers:
            time.sleep(0.1)
        prefix = os.path.join(tmp, "locust")
        out = os.path.join(tmp, "lifecycles.json")
        locust_env = dict(os.environ, BENCH_TOKENS=json.dumps(tokens), BENCH_OUT=out)
        if args.ceiling:
            locust_env["BENCH_CEILING"] = args.ceiling
        started = time.monotonic()
        locust = start_locust(
            host, args.users, args.spawn_rate, args.run_time, prefix, locust_env, logs["locust"]
        )
        locust.wait()
        elapsed = time.monotonic() - started
        if locust.returncode != 0:
            print(Path(tmp, "locust.log").read_text()[-3000:], file=sys.stderr)
            raise SystemExit(f"locust exited with {locust.returncode}")
    finally:
        stop(web)  # gunicorn: SIGTERM is a graceful stop of master and workers
        stop(worker)
        sampler.stop.set()
        sampler.join()
        stack.close()
    with open(out) as f:
        flow = json.load(f)
    rows = read_stats(prefix + "_stats.csv")
    return {"rows": rows, "flow": flow, "sampler": sampler, "elapsed": elapsed}


def read_stats(path: str) -> list[dict]:
    rows = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            rows.append(
                {
                    "name": row["Name"],
                    "type": row["Type"],
                    "count": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "rps": float(row["Requests/s"]),
                    "p50": _ms(row["50%"]),
                    "p95": _ms(row["95%"]),
                    "p99": _ms(row["99%"]),
                    "max": _ms(row["Max Response Time"]),
                }
            )
    return rows


def _ms(value: str) -> float | None:
    return None if value in ("", "N/A") else float(value)


def report_http(args, url: str, result: dict) -> None:
    from api_flow import REQUESTS_PER_LIFECYCLE

    rows, flow, sampler = result["rows"], result["flow"], result["sampler"]
    total = next(r for r in rows if r["name"] == "Aggregated")
    endpoints = [r for r in rows if r["name"] != "Aggregated"]
    database = url.split(":", 1)[0].split("+")[0]
    lifecycles_per_s = flow["completed"] / flow["seconds"] if flow["seconds"] else 0.0
    if args.ceiling:
        print(
            f"CEILING: each lifecycle is {REQUESTS_PER_LIFECYCLE} x GET {args.ceiling}, "
            "no case is made"
        )
    print(
        f"{database}, gunicorn {args.workers} sync workers + 1 timer worker, "
        f"{args.users} locust users (spawn {args.spawn_rate}/s), {flow['seconds']:.0f} s"
    )
    print(
        f"lifecycles: {flow['completed']} completed ({lifecycles_per_s:.1f}/s), "
        f"{flow['failed']} failed; requests: {total['count']} ({total['rps']:.1f}/s), "
        f"{total['failures']} failures"
    )
    print()
    print(f"{'endpoint':<44}{'requests':>9}{'req/s':>8}{'fail':>6}{'p50':>7}{'p95':>7}{'p99':>7}")
    for row in [*endpoints, total]:
        name = row["name"] if row is not total else "all requests"
        label = name[:43]
        print(
            f"{label:<44}{row['count']:>9}{row['rps']:>8.1f}{row['failures']:>6}"
            f"{_fmt(row['p50']):>7}{_fmt(row['p95']):>7}{_fmt(row['p99']):>7}"
        )
    print("(latencies in ms, as locust reports them: rounded to 2 significant digits over 100 ms)")
    print()
    print(f"{'process':<16}{'count':>6}{'peak RSS MB':>13}{'CPU s':>8}")
    for kind in ("web master", "web worker", "timer worker", "locust"):
        n, peak, cpu = sampler.summary(kind)
        print(f"{kind:<16}{n:>6}{peak:>13.1f}{cpu:>8.1f}")
    print(f"({sampler.samples} samples of /proc, every {sampler.interval} s)")
    _, peak_web, _ = sampler.summary("web worker")
    _, peak_master, _ = sampler.summary("web master")
    _, peak_worker, _ = sampler.summary("timer worker")
    _, _, web_cpu = sampler.summary("web worker")
    print(
        f"web workers' CPU per completed lifecycle: "
        f"{1000 * web_cpu / max(1, flow['completed']):.1f} ms"
    )
    print(
        json.dumps(
            {
                "benchmark": "http-ceiling" if args.ceiling else "http",
                "ceiling_path": args.ceiling,
                "database": database,
                "workers": args.workers,
                "users": args.users,
                "seconds": round(flow["seconds"], 1),
                "lifecycles": flow["completed"],
                "lifecycles_per_s": round(lifecycles_per_s, 1),
                "requests": total["count"],
                "requests_per_s": round(total["rps"], 1),
                "p50_ms": total["p50"],
                "p95_ms": total["p95"],
                "p99_ms": total["p99"],
                "failures": total["failures"] + flow["failed"],
                "web_cpu_ms_per_lifecycle": round(1000 * web_cpu / max(1, flow["completed"]), 1),
                "peak_rss_web_mb": round(peak_web, 1),
                "peak_rss_web_master_mb": round(peak_master, 1),
                "peak_rss_worker_mb": round(peak_worker, 1),
            }
        )
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


# -- in process, under the profiler ---------------------------------------------------------------


def run_profile(args, tokens: dict[str, str]) -> None:
    import cProfile
    import pstats
    import random

    from api_flow import Failed, lifecycle
    from sqlalchemy import event

    from webapp import create_app
    from webapp.extensions import db

    app = create_app()
    client = app.test_client()
    statements = [0]
    per_name: dict[str, list[float]] = {}  # name -> [calls, seconds, statements]
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_args) -> None:
        statements[0] += 1

    def call(method, path, *, role, name, expect, json=None, headers=None):
        before, t0 = statements[0], time.perf_counter()
        response = client.open(
            path,
            method=method,
            json=json,
            headers={"Authorization": f"Bearer {tokens[role]}", **(headers or {})},
        )
        tally = per_name.setdefault(name, [0, 0.0, 0])
        tally[0] += 1
        tally[1] += time.perf_counter() - t0
        tally[2] += statements[0] - before
        if response.status_code != expect:
            raise Failed(f"{name}: {response.status_code} {response.get_data(as_text=True)}")
        return response.get_json(), response.headers

    rng = random.Random(1)
    for _ in range(max(1, args.profile // 4)):
        lifecycle(call, rng=rng)
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    if not args.time_only:
        profiler.enable()
        for _ in range(args.profile):
            lifecycle(call, rng=rng)
        profiler.disable()
    profiled = time.perf_counter() - t0
    per_name.clear()
    t0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(args.profile):
        lifecycle(call, rng=rng)
    plain, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    if not args.time_only:
        stats = pstats.Stats(profiler)
        if args.profile_out:
            stats.dump_stats(args.profile_out)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    print(f"{'request (in process, no profiler)':<44}{'calls':>7}{'ms each':>9}{'SQL each':>10}")
    for name, (calls, seconds, count) in per_name.items():
        print(f"{name:<44}{calls:>7}{1000 * seconds / calls:>9.2f}{count / calls:>10.1f}")
    under = "" if args.time_only else f" ({args.profile / profiled:.1f}/s under it)"
    sql = sum(v[2] for v in per_name.values())
    print(
        f"{args.profile} lifecycles in process: {args.profile / plain:.1f}/s without the "
        f"profiler{under}; {1000 * cpu / args.profile:.1f} ms of CPU and "
        f"{sql / args.profile:.0f} SQL statements per lifecycle"
    )
    print(
        json.dumps(
            {
                "benchmark": "http-in-process",
                "lifecycles": args.profile,
                "lifecycles_per_s": round(args.profile / plain, 1),
                "cpu_ms_per_lifecycle": round(1000 * cpu / args.profile, 1),
                "sql_per_lifecycle": round(sql / args.profile, 1),
                "ms_per_request": {k: round(1000 * v[1] / v[0], 2) for k, v in per_name.items()},
                "sql_per_request": {k: round(v[2] / v[0], 1) for k, v in per_name.items()},
            },
            ensure_ascii=False,
        )
    )


def drop(url: str, names: list[str]) -> None:
    """Drop the named indexes and triggers (what they cost every write shows in the figures)."""
    if not names:
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        for name in names:
            kind = "TRIGGER" if name.startswith("cases_phone_fts_") else "INDEX"
            if kind == "TRIGGER" and engine.dialect.name != "sqlite":
                continue
            conn.execute(text(f"DROP {kind} IF EXISTS {name}"))
            print(f"dropped {kind.lower()} {name}", flush=True)
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default=None, help="SQLAlchemy URL (default: temporary SQLite)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    ap.add_argument("--users", type=int, default=20, help="locust users (concurrent clients)")
    ap.add_argument("--spawn-rate", type=float, default=20, help="users started per second")
    ap.add_argument("--run-time", default="60s", help="locust --run-time (e.g. 15s, 1m)")
    ap.add_argument("--demo", action="store_true", help="hotline init --demo (300 cases first)")
    ap.add_argument(
        "--ceiling",
        default=None,
        metavar="PATH",
        help="instead of lifecycles, the same number of GETs of PATH (e.g. /healthz, /api/v1/me)",
    )
    ap.add_argument("--profile", type=int, default=0, metavar="N", help="profile N lifecycles")
    ap.add_argument("--profile-out", default=None, help="write the pstats file here")
    ap.add_argument(
        "--time-only", action="store_true", help="with --profile: only time, no cProfile pass"
    )
    ap.add_argument(
        "--drop",
        default="",
        metavar="NAMES",
        help="comma-separated indexes and triggers to drop after set-up, to measure what they "
        "cost the writes (e.g. ix_cases_kpi,cases_phone_fts_ai)",
    )
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="hotline-bench-http-")
    try:
        url = fresh_database(args.database, tmp)
        tokens = set_up(url, args.demo)
        drop(url, [name for name in args.drop.split(",") if name])
        if args.profile:
            run_profile(args, tokens)
            return
        report_http(args, url, run_http(args, url, tokens, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
