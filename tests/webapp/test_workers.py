"""Worker processes sharing the timers: 2 and 4 at once, and one killed mid-batch.

Each test runs on SQLite and on PostgreSQL (when configured). Instances are created with a
clock in 2019, so their deadlines (2020) are long past for the workers, which run on the
real clock. "Exactly once" is counted from effects: one ``timer.fired`` event and one
completed instance per case.
"""

import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.clock import ManualClock
from engine.models import InstanceEvent, ProcessInstance, Timer
from engine.runtime import Runtime
from tests.conftest import ROOT
from tests.engine.conftest import fixture_bytes
from tests.webapp.conftest import build_web_template


@pytest.fixture
def worker_db(database):
    """A migrated database URL that other processes can open, and a session on it."""
    database.copy_from(database.template("web:migrated", build_web_template()))
    session = database.session()
    yield database.url, session
    session.close()


def create_due_instances(session, n: int) -> list[int]:
    runtime = Runtime(clock=ManualClock(datetime(2019, 6, 1, tzinfo=UTC)))
    runtime.deploy(session, fixture_bytes("timer_once.bpmn"), "timer_once.bpmn", deployed_by="t")
    return [
        runtime.start(session, "timer_once", data={"due": "2020-01-01T00:00:00+00:00"}).instance_id
        for _ in range(n)
    ]


def worker(url: str, *args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from webapp.cli import main; main()",
            "worker",
            "--until-idle",
            *args,
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_TIMER_BATCH_SIZE": "50",
            **(env or {}),
        },
        **popen,
    )


def assert_each_fired_once(session, ids: list[int]) -> None:
    session.rollback()
    per_instance = dict(
        session.execute(
            select(InstanceEvent.instance_id, func.count())
            .where(InstanceEvent.kind == "timer.fired")
            .group_by(InstanceEvent.instance_id)
        ).all()
    )
    assert len(per_instance) == len(ids)
    assert set(per_instance.values()) == {1}
    completed = session.scalar(
        select(func.count())
        .select_from(ProcessInstance)
        .where(ProcessInstance.status == "completed")
    )
    assert completed == len(ids)
    assert (
        session.scalar(select(func.count()).select_from(Timer).where(Timer.status == "pending"))
        == 0
    )
    assert session.scalar(
        select(func.count()).select_from(Timer).where(Timer.status == "fired")
    ) == len(ids)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [2, 4])
def test_workers_fire_2000_timers_exactly_once(worker_db, workers):
    url, session = worker_db
    ids = create_due_instances(session, 2000)
    procs = [
        worker(url, "--owner", f"w{i}", stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(workers)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0] * workers, outputs
    assert_each_fired_once(session, ids)
    owners = session.scalars(
        select(func.count()).select_from(Timer).where(Timer.lease_owner.is_not(None))
    ).one()
    assert owners == 0  # no lease left behind
    fired_by = [int(out.split()[1]) for out, _ in outputs]
    # Every firing is accounted to one worker (how they shared it depends on start-up times).
    assert sum(fired_by) == 2000, fired_by


@pytest.mark.slow
def test_a_worker_killed_mid_batch_leaves_the_rest_to_another(worker_db, tmp_path):
    url, session = worker_db
    ids = create_due_instances(session, 200)
    first = worker(
        url,
        "--owner",
        "doomed",
        "--pause-after",
        "5",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = wait_for_pause(first)  # the worker is in the middle of its batch
    assert line.startswith("paused after 5"), line
    session.rollback()
    leased = session.scalar(
        select(func.count())
        .select_from(Timer)
        .where(Timer.lease_owner == "doomed", Timer.status == "pending")
    )
    assert leased == 45  # claimed 50, fired 5, holding 45
    out = kill_and_rescue(first, url)
    assert out.startswith("fired 195 instances"), out
    assert_each_fired_once(session, ids)


def wait_for_pause(proc: subprocess.Popen, timeout: float = 300) -> str:
    """The worker's ``paused ...`` line, skipping the lines it prints before (timers, waves).

    A worker that exits, or says nothing for ``timeout`` seconds, is killed and the test fails
    with what it printed: it never hangs the suite (a worker paused where the test does not
    expect it would wait forever to be killed)."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        try:
            for line in proc.stdout:
                lines.put(line)
        except (OSError, ValueError):  # closed by kill_and_rescue
            pass
        lines.put("")

    threading.Thread(target=read, daemon=True).start()
    said = []
    while True:
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            line = ""
        if line.startswith("paused"):
            return line
        if not line:
            proc.kill()
            _, err = proc.communicate(timeout=30)
            pytest.fail(f"the worker never paused; it printed {said!r}, stderr: {err}")
        said.append(line)


def kill_and_rescue(first: subprocess.Popen, url: str) -> str:
    """kill -9 the paused worker, then run another an hour later (the dead worker's leases
    have expired) until idle; its output."""
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    first.stdout.close()
    first.stderr.close()
    second = worker(
        url,
        "--owner",
        "rescuer",
        env={"HOTLINE_CLOCK_OFFSET_SECONDS": "3600"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = second.communicate(timeout=600)
    assert second.returncode == 0, out + err
    return out


def write_notifications(url: str, n: int) -> list[str]:
    """One closed case of the demo city and ``n`` notification messages about it in the
    outbox (their handler is the real one: a notification row per key)."""
    from engine.db import unit_of_work
    from tests.webapp.pages import seed
    from tests.workflows.conftest import INTAKE
    from webapp import create_app
    from webapp.extensions import db
    from webapp.hotline import get_hotline
    from workflows.cases import flows
    from workflows.departments.service import by_code
    from workflows.notifications.service import TOPIC

    app = create_app(
        {"TESTING": True, "DATABASE_URL": url},
        clock=ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)),
    )
    seed(app)
    keys = [f"{TOPIC}:kill-test:{i}" for i in range(n)]
    with app.app_context():
        hotline = get_hotline()
        data = {**INTAKE, "intake_outcome": "answered", "answer": "已当场解答"}
        case = flows.open_case(db.session, hotline, data=data, actor="op1")
        department = by_code(db.session, "B-MR")
        with unit_of_work(db.session):
            for key in keys:
                hotline.runtime.outbox.write(
                    db.session,
                    topic=TOPIC,
                    key=key,
                    payload={
                        "case_id": case.id,
                        "case": case.number,
                        "department_id": department.id,
                        "kind": "dispatched",
                        "at": hotline.clock.now().isoformat(),
                    },
                )
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()
    return keys


@pytest.mark.slow
def test_a_worker_killed_mid_delivery_loses_nothing_and_delivers_nothing_twice(worker_db):
    from engine.models import OutboxMessage
    from workflows.notifications.models import Notification

    url, session = worker_db
    keys = write_notifications(url, 50)
    first = worker(
        url,
        "--owner",
        "doomed",
        "--pause-outbox-after",
        "5",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = wait_for_pause(first)  # the 6th message is handled, not committed
    assert line.startswith("paused after 5 in message"), line
    session.rollback()
    by_status = dict(
        session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    assert by_status == {"done": 5, "pending": 45}
    leased = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.lease_owner == "doomed")
    )
    assert leased == 45  # claimed 50, delivered 5, holding 45 (one of them half-handled)
    out = kill_and_rescue(first, url)
    assert "delivered 45 outbox messages" in out, out
    session.rollback()
    assert session.scalars(select(OutboxMessage.status).distinct()).all() == ["done"]
    delivered = session.scalars(select(Notification.key).order_by(Notification.id)).all()
    assert sorted(delivered) == sorted(keys)  # each key once: nothing lost, nothing twice
