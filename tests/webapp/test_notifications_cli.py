"""`hotline notifications [--failed] [--limit N]` and `hotline notifications retry ID`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.models import OutboxMessage
from tests.webapp.test_messages_admin import CITIZEN, add_message, some_messages
from webapp.cli import cli
from webapp.extensions import db
from workflows.audit.models import AuditEntry
from workflows.notifications.models import Message


def lines(result) -> list[str]:
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output.splitlines()


def test_the_log_newest_first_with_counts_and_masked_citizens(hotline_app, runner):
    assert lines(runner.invoke(cli, ["notifications"])) == [
        "queued 0, held 0, sent 0, failed 0, incident 0, suppressed 0, recorded 0",
        "no messages",
    ]
    number, ids = some_messages(hotline_app)
    out = lines(runner.invoke(cli, ["notifications"]))
    assert out[0] == "queued 0, held 0, sent 1, failed 0, incident 1, suppressed 0, recorded 1"
    assert [int(line.split()[0]) for line in out[1:]] == [
        ids["email"],
        ids["incident"],
        ids["sent"],
    ]
    sent = out[3]
    assert "138****8000" in sent and CITIZEN not in "\n".join(out)
    assert f"case {number} sent" in sent and " sms " in sent and "case_accepted" in sent
    assert "+08:00" in sent  # local time
    incident = out[2]
    assert "0750-3333333" in incident  # a department's duty phone: not a citizen's
    assert "incident, 5 attempts: gateway answered 503" in incident
    assert "recorded (no channel configured)" in out[1] and "case - " in out[1]


def test_failed_shows_only_failed_and_incidents_and_limit_bounds(hotline_app, runner):
    _number, ids = some_messages(hotline_app)
    failing = add_message(
        hotline_app,
        None,
        status="failed",
        attempts=2,
        last_error="timed out\nafter 10 s",
        later=timedelta(minutes=5),
    )
    out = lines(runner.invoke(cli, ["notifications", "--failed"]))
    assert [int(line.split()[0]) for line in out[1:]] == [failing, ids["incident"]]
    assert out[1].endswith("failed, 2 attempts: timed out")  # the error's first line
    out = lines(runner.invoke(cli, ["notifications", "--limit", "1"]))
    assert len(out) == 2 and int(out[1].split()[0]) == failing
    bad = runner.invoke(cli, ["notifications", "--limit", "0"])
    assert bad.exit_code == 2 and "--limit" in bad.output and "Traceback" not in bad.output


def test_retry_requeues_and_is_audited(hotline_app, runner):
    _number, ids = some_messages(hotline_app)
    result = runner.invoke(cli, ["notifications", "retry", str(ids["incident"])])
    assert result.exit_code == 0, result.output
    assert f"message {ids['incident']} (sms dispatched) re-queued" in result.output
    with hotline_app.app_context():
        message = db.session.get(Message, ids["incident"])
        assert message.status == "queued"
        row = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == message.key))
        assert (row.status, row.attempts) == ("pending", 0)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "message.retry"))
        assert (entry.target_type, entry.target_id) == ("message", str(ids["incident"]))
        assert entry.actor_name == "system:cli"
    out = lines(runner.invoke(cli, ["notifications"]))
    assert out[0].startswith("queued 1, held 0, sent 1, failed 0, incident 0")


def test_retry_refuses_unknown_and_sent_messages_naming_them(hotline_app, runner):
    _number, ids = some_messages(hotline_app)
    for message_id in (999999, ids["sent"]):
        result = runner.invoke(cli, ["notifications", "retry", str(message_id)])
        assert result.exit_code != 0
        assert f"message {message_id}" in result.output
        assert "Traceback" not in result.output
    sent = runner.invoke(cli, ["notifications", "retry", str(ids["sent"])])
    assert "sent" in sent.output
    not_a_number = runner.invoke(cli, ["notifications", "retry", "abc"])
    assert not_a_number.exit_code == 2 and "Traceback" not in not_a_number.output
    with hotline_app.app_context():
        assert db.session.get(Message, ids["sent"]).status == "sent"
        assert not db.session.scalar(select(AuditEntry).where(AuditEntry.action == "message.retry"))
