"""Several machines in one test: two web processes (``hotline serve``, scheduler off) and two
``hotline worker`` processes on one database, as docs/deployment.md sets them up.

A complaint goes through its whole life over HTTP, each request to the other web process than
the one before (intake, dispatch, sign-for, reply, review, callback, closed); a case opened 40
days ago has deadlines long past, and one of the workers fires them, once. Both web processes
are ready (database, schema, a worker's recent heartbeat) and their /metrics add up to the
requests sent. Polling has timeouts; nothing sleeps longer than a polling interval.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from itertools import cycle
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from engine.clock import ManualClock, SystemClock
from engine.models import InstanceEvent
from tests.conftest import ROOT
from tests.webapp.conftest import build_web_template, dispose

#: the demo users of the lifecycle, and the steps, as the HTTP benchmark runs them
_spec = importlib.util.spec_from_file_location("api_flow", ROOT / "bench" / "api_flow.py")
api_flow = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api_flow)

POLL = 0.1  # seconds between looks at something another process will do
TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, check, timeout: float = TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(POLL)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


class Processes:
    """The processes of the deployment, their output in files, stopped at the end."""

    def __init__(self, url: str, folder: Path) -> None:
        self.folder = folder
        self.env = {
            **os.environ,
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_SECRET_KEY": "shared-by-every-web-process",
            "HOTLINE_LOG_FORMAT": "json",
            "HOTLINE_HEARTBEAT_SECONDS": "1",
            "PYTHONPATH": str(ROOT),
        }
        self.running: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, *args: str, **env: str) -> None:
        out = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 (closed in stop)
        process = subprocess.Popen(
            [sys.executable, "-c", "from webapp.cli import main; main()", *args],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        self.running.append((name, process))

    def log(self, name: str) -> list[dict]:
        lines = (self.folder / f"{name}.log").read_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]

    def alive(self) -> None:
        for name, process in self.running:
            assert process.poll() is None, f"{name} exited: {self.folder / name}.log"

    def stop(self) -> None:
        for _, process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in self.running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def deployment(database, tmp_path):
    """A seeded database, a token per user of the lifecycle, and a case opened 40 days ago."""
    now = datetime.now(UTC).replace(microsecond=0)
    database.copy_from(database.template(f"web:seeded:{now.isoformat()}", build_web_template(now)))
    from webapp import create_app

    app = create_app({"TESTING": True, "DATABASE_URL": database.url}, clock=SystemClock())
    tokens = make_tokens(app)
    dispose(app)
    past = create_app(
        {"TESTING": True, "DATABASE_URL": database.url},
        clock=ManualClock(now - timedelta(days=40)),
    )
    late_instance = open_late_case(past)
    dispose(past)
    processes = Processes(database.url, tmp_path)
    yield processes, tokens, late_instance, database
    processes.stop()


def make_tokens(app) -> dict[str, str]:
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.api.tokens import create_token
    from workflows.users.service import by_username

    with app.app_context():
        return {
            role: create_token(
                db.session, user=by_username(db.session, name), name="t", clock=get_hotline().clock
            )[1]
            for role, name in api_flow.USERS.items()
        }


def open_late_case(app) -> int:
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.cases import flows

    data = {**api_flow.INTAKE, "caller_phone": "13700137000"}
    with app.app_context():
        return flows.open_case(db.session, get_hotline(), data=data, actor="op1").instance_id


def caller(ports: list[int], tokens: dict[str, str], served: list[int]):
    """``call`` for :func:`api_flow.lifecycle`: each request to the next web process."""
    turn = cycle(ports)

    def call(method, path, *, role, name, expect, json=None, headers=None):
        port = next(turn)
        served.append(port)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}{path}",
            method=method,
            data=None if json is None else _json(json),
            headers={
                "Authorization": f"Bearer {tokens[role]}",
                "Content-Type": "application/json",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, body, answer_headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as exc:
            status, body, answer_headers = exc.code, exc.read(), exc.headers
        if status != expect:
            raise api_flow.Failed(f"{name} on :{port} answered {status}: {body[:500]!r}")
        return (_loads(body) if body else None), answer_headers

    return call


def _json(value) -> bytes:
    return json.dumps(value).encode()


def _loads(body: bytes):
    return json.loads(body)


def samples(port: int) -> list:
    status, body = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200, body
    return [s for f in text_string_to_metric_families(body.decode()) for s in f.samples]


def requests_counted(port: int, method: str, route_end: str) -> float:
    return sum(
        s.value
        for s in samples(port)
        if s.name == "hotline_http_requests_total"
        and s.labels["method"] == method
        and s.labels["route"].endswith(route_end)
        and s.labels["status"] == "2xx"
    )


@pytest.mark.slow
def test_two_web_processes_and_two_workers_run_a_case_through(deployment):
    processes, tokens, late_instance, database = deployment
    ports = [free_port(), free_port()]
    for i, port in enumerate(ports, 1):
        processes.start(f"web{i}", "serve", "--port", str(port), HOTLINE_SCHEDULER="off")
    for i in (1, 2):
        processes.start(f"worker{i}", "worker", "--owner", f"worker{i}")
    for port in ports:
        wait_until(f"web :{port} alive", lambda p=port: get(f"http://127.0.0.1:{p}/healthz")[0])
    for port in ports:
        status, body = wait_until(
            f"web :{port} ready",
            lambda p=port: (r := get(f"http://127.0.0.1:{p}/readyz"))[0] == 200 and r,
        )
        checks = json.loads(body)["checks"]
        assert {name: check["ok"] for name, check in checks.items()} == {
            "database": True,
            "schema": True,
            "worker": True,
        }

    served: list[int] = []
    number = api_flow.lifecycle(caller(ports, tokens, served), retry_share=0)
    assert number and set(served) == set(ports)  # both web processes served the case

    # the late case's deadlines: fired by one of the workers, each instance step once
    session = database.session()
    try:

        def fired() -> int:
            session.rollback()
            return session.scalar(
                select(func.count())
                .select_from(InstanceEvent)
                .where(
                    InstanceEvent.instance_id == late_instance, InstanceEvent.kind == "timer.fired"
                )
            )

        wait_until("a worker fires the late case's timers", fired)
    finally:
        session.close()
    processes.alive()

    # each web process counted what it served; together, the whole case
    intake = [requests_counted(p, "POST", "/cases") for p in ports]
    completions = [requests_counted(p, "POST", "/complete") for p in ports]
    assert sum(intake) == 1 and sum(completions) == len(api_flow.STEPS)
    assert all(completions), completions
    gauges = {s.name: s.value for s in samples(ports[0]) if not s.labels}
    assert 0 <= gauges["hotline_worker_heartbeat_age_seconds"] < 60
    assert gauges["hotline_timer_lag_seconds"] < 60  # the late case's timers are not waiting
    for port in ports:
        assert get(f"http://127.0.0.1:{port}/readyz")[0] == 200

    processes.stop()
    # the workers' JSON lines: the firing of the late case, by the worker that did it
    firings = {
        name: [
            line
            for line in processes.log(name)
            if line.get("instance_id") == late_instance
            and line["message"].startswith("timer fired")
        ]
        for name in ("worker1", "worker2")
    }
    assert sum(len(lines) for lines in firings.values()) >= 1, firings
    assert all(line["request_id"].startswith("timers-") for x in firings.values() for line in x)
    access = [line for line in processes.log("web1") if line["logger"] == "hotline.request"]
    assert access and all(len(line["request_id"]) == 32 for line in access)
