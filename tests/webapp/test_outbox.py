"""The outbox in the app: `hotline outbox` and its retry, the scheduler's prompt delivery, and
outbox incidents on the administrator's incidents page."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.outbox import OutboxService
from engine.scheduler import TimerScheduler
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from webapp.scheduler import outbox_service, timer_service
from workflows.audit.models import AuditEntry


def write(app, topic: str, key: str) -> None:
    with app.app_context():
        session = db.session
        with unit_of_work(session):
            get_hotline().runtime.outbox.write(session, topic=topic, key=key, payload={"k": key})


def test_outbox_lists_incidents_and_retry_requeues_one(app, runner, clock):
    calls = {"fail": True}

    def flaky(session, message):
        if calls["fail"]:
            raise RuntimeError("the channel is down")

    with app.app_context():
        get_hotline().runtime.outbox.register("test.flaky", flaky)
    result = runner.invoke(cli, ["outbox"])
    assert result.exit_code == 0, result.output
    assert "pending:    0" in result.output and "incidents:  0" in result.output
    write(app, "test.flaky", "first")
    assert "pending:    1" in runner.invoke(cli, ["outbox"]).output
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    assert outbox_service(app).drain().incidents == 1
    with app.app_context():
        db.session.remove()
    result = runner.invoke(cli, ["outbox"])
    assert "pending:    0" in result.output and "incidents:  1" in result.output
    line = next(x for x in result.output.splitlines() if "first" in x)
    assert "incident test.flaky first" in line
    assert "1 attempts: RuntimeError: the channel is down" in line
    message_id = int(line.split()[0])

    unknown = runner.invoke(cli, ["outbox", "retry", "9999"])
    assert unknown.exit_code == 1
    assert "outbox message 9999 does not exist" in unknown.output
    assert "Traceback" not in unknown.output
    result = runner.invoke(cli, ["outbox", "retry", str(message_id)])
    assert result.exit_code == 0 and "re-queued" in result.output
    assert "pending:    1" in runner.invoke(cli, ["outbox"]).output
    calls["fail"] = False
    assert outbox_service(app).drain().done == 1
    with app.app_context():
        db.session.remove()
    again = runner.invoke(cli, ["outbox", "retry", str(message_id)])
    assert again.exit_code == 1 and "already handled" in again.output
    # the one retry that happened is in the audit log; the refused ones are not
    with app.app_context():
        retries = db.session.scalars(
            select(AuditEntry.target_id).where(AuditEntry.action == "outbox.retry")
        ).all()
    assert retries == [str(message_id)]


def test_the_scheduler_delivers_soon_after_a_commit_not_a_sweep_later(app):
    delivered: list[str] = []
    arrived = threading.Event()

    def handler(session, message):
        delivered.append(message.key)
        arrived.set()

    with app.app_context():
        get_hotline().runtime.outbox.register("test.prompt", handler)
    # an hour between sweeps: only the wake-up after the commit can deliver in time
    scheduler = TimerScheduler(timer_service(app), sweep_seconds=3600, outbox=outbox_service(app))
    scheduler.start()
    try:
        for key in ("a", "b", "c"):
            arrived.clear()
            write(app, "test.prompt", key)
            assert arrived.wait(timeout=20), f"{key} was not delivered"
    finally:
        scheduler.shutdown()
    assert delivered == ["a", "b", "c"]


@pytest.fixture
def incident(app, clock):
    with app.app_context():
        get_hotline().runtime.outbox.register("test.broken", lambda s, m: 1 / 0)
    write(app, "test.broken", "broken-1")
    with app.app_context():
        service = OutboxService(
            get_hotline().runtime.outbox,
            lambda: db.session.session_factory(),
            clock=clock,
            max_attempts=1,
        )
        assert service.drain().incidents == 1
        db.session.remove()


def test_outbox_incidents_show_on_the_incidents_page_and_can_be_retried(
    incident, hotline_app, as_role
):
    admin = as_role("admin")
    html = admin.get("/admin/incidents").get_data(as_text=True)
    assert "test.broken" in html and "broken-1" in html
    assert "ZeroDivisionError: division by zero" in html
    with hotline_app.app_context():
        from engine.outbox import undelivered

        message_id = undelivered(db.session)[0].id
    from tests.webapp.pages import csrf_token

    token = csrf_token(admin, "/admin/incidents")
    response = admin.post(
        f"/admin/incidents/outbox/{message_id}/retry",
        data={"csrf_token": token},
        follow_redirects=True,
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"Outbox message {message_id}" in page or f"消息 {message_id}" in page
    with hotline_app.app_context():
        from engine.outbox import undelivered

        assert [(m.key, m.status) for m in undelivered(db.session)] == [("broken-1", "pending")]
    missing = admin.post(
        "/admin/incidents/outbox/9999/retry", data={"csrf_token": token}, follow_redirects=True
    )
    assert missing.status_code == 200
    assert "outbox message 9999 does not exist" in missing.get_data(as_text=True)
