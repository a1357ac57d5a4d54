"""kill -9 of the worker while 1,000 SMS drain to a real HTTP gateway loses none.

The gateway is a real ``http.server`` on 127.0.0.1 counting the ids it receives. The worker is
``hotline worker`` in its own process (as deployed), killed with SIGKILL once the gateway has
received a third of the messages; another worker then drains the rest. Every message reaches
the gateway at least once (a message sent but not yet recorded when the worker died is sent
again: the gateway deduplicates by id), and every Message row ends ``sent``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from engine.clock import ManualClock
from engine.models import OutboxMessage
from tests.conftest import ROOT
from tests.webapp.test_workers import worker_db  # noqa: F401
from workflows.notifications.models import Message

TOKEN = "gateway-secret"
#: ``hotline worker`` in a process of its own
WORKER = "from webapp.cli import main; main()"


class Gateway:
    """A local SMS gateway: POST JSON {id, to, text} with the bearer token; answers 200."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.refused = 0
        self.changed = threading.Condition()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            # TCP_NODELAY, as real gateways (nginx...) set it: without it the body, written after
            # the headers, waits ~40 ms for the client's delayed ACK (measured: 44 ms a POST)
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    gateway.refused += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                sms = json.loads(body)
                with gateway.changed:
                    gateway.received[sms["id"]] += 1
                    gateway.changed.notify_all()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"ref": f"gw-{sms['id']}"}).encode())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"

    def wait_for(self, count: int, timeout: float) -> int:
        """Block until ``count`` distinct ids arrived (or ``timeout``); how many did."""
        with self.changed:
            self.changed.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return len(self.received)

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def queue_sms(url: str, gateway: str, n: int) -> list[str]:
    """``n`` SMS to department duty phones, queued as the fan-out queues them (a Message row
    and its ``notify.deliver`` outbox row in one transaction); their keys."""
    from engine.db import unit_of_work
    from webapp import create_app
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.notifications.pipeline import enqueue

    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    app = create_app(
        {"TESTING": True, "DATABASE_URL": url, "SMS_URL": gateway, "SMS_TOKEN": TOKEN},
        clock=ManualClock(now),
    )
    keys = [f"crash-test:{i}:sms:d1" for i in range(n)]
    with app.app_context():
        hotline = get_hotline()
        with unit_of_work(db.session):
            for i, key in enumerate(keys):
                phone = f"0750{3000000 + i}"
                enqueue(
                    db.session,
                    hotline.runtime.outbox,
                    key=key,
                    channel="sms",
                    notice="dispatched",
                    audience="department",
                    recipient=phone,
                    body=f"【12345热线】派单通知 {i}",
                    event_at=now,
                    now=now,
                )
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return keys


def worker_forever(url: str, env: dict[str, str], log) -> subprocess.Popen:
    """``hotline worker`` as deployed: runs until it is stopped (here: killed)."""
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, "worker", "--owner", "doomed"],
        cwd=ROOT,
        env={**os.environ, "HOTLINE_DATABASE_URL": url, "HOTLINE_TIMER_BATCH_SIZE": "50", **env},
        stdout=subprocess.DEVNULL,
        stderr=log,  # a file: a pipe read only at the end would fill and stop the worker
    )


def rescue(url: str, env: dict[str, str]) -> str:
    """Another worker an hour later (the dead one's leases have expired), until idle."""
    second = subprocess.Popen(
        [sys.executable, "-c", WORKER, "worker", "--until-idle", "--owner", "rescuer"],
        cwd=ROOT,
        env={
            **os.environ,
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_CLOCK_OFFSET_SECONDS": "3600",
            **env,
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, out + err
    return out


@pytest.mark.slow
def test_a_worker_killed_while_1000_sms_drain_loses_none(worker_db, tmp_path):  # noqa: F811
    url, session = worker_db
    with Gateway() as gateway:
        keys = queue_sms(url, gateway.url, 1000)
        env = {"HOTLINE_SMS_URL": gateway.url, "HOTLINE_SMS_TOKEN": TOKEN}
        log = tmp_path / "worker.log"
        with log.open("w") as out:
            first = worker_forever(url, env, out)
        arrived = gateway.wait_for(300, timeout=120)
        os.kill(first.pid, signal.SIGKILL)  # mid-drain: between any two instructions
        first.wait(timeout=30)
        err = log.read_text()[-2000:]
        assert 300 <= arrived < 1000, f"{arrived} arrived before the kill: {err}"
        with gateway.changed:
            before = len(gateway.received)
        assert before < 1000, "the worker had finished before it was killed"
        out = rescue(url, env)
        assert "delivered" in out, out
        assert gateway.refused == 0
        assert set(gateway.received) == set(keys)  # every id at least once: none lost
        # sent again: at most what the dead worker had claimed and not recorded
        assert sum(gateway.received.values()) - len(keys) <= 50
    session.rollback()
    by_status = dict(
        session.execute(select(Message.status, func.count()).group_by(Message.status)).all()
    )
    assert by_status == {"sent": 1000}
    assert session.scalars(select(OutboxMessage.status).distinct()).all() == ["done"]
    assert session.scalar(select(func.count()).where(Message.sent_at.is_(None))) == 0
