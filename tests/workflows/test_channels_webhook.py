"""Webhooks against a local HTTP server standing in for a department's system."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.workflows.channel_stubs import Answer, HttpStub, closed_port, http_stub, silent_port
from workflows.notifications.channels.base import DeliveryError, Outgoing
from workflows.notifications.channels.webhook import WebhookSender, sign, verify_signature

NOW = 1_790_000_000
SECRET = "dept-secret"
PAYLOAD = {"event": "dispatched", "case": {"number": "20260101001"}, "text": "新派工单"}


@pytest.fixture
def webhooks():
    sender = WebhookSender(timeout=2, now=lambda: NOW + 0.7)
    yield sender
    sender.close()


def hook(url: str, *, secret=SECRET, id="notify.deliver:9:webhook") -> Outgoing:
    return Outgoing(id=id, channel="webhook", to=url, text="", payload=PAYLOAD, secret=secret)


def test_the_department_receives_the_payload_and_can_verify_it(webhooks):
    with http_stub() as dept:
        webhooks.send(hook(dept.url + "/hotline/events?via=test"))
    (request,) = dept.received
    assert request.path == "/hotline/events?via=test"
    assert json.loads(request.body) == PAYLOAD
    assert request.headers["content-type"].startswith("application/json")
    assert request.headers["x-hotline-event"] == "dispatched"
    assert request.headers["x-hotline-delivery"] == "notify.deliver:9:webhook"
    assert request.headers["x-hotline-timestamp"] == str(NOW)
    header = request.headers["x-hotline-signature"]
    assert header.startswith("sha256=")
    assert verify_signature(
        SECRET, request.headers["x-hotline-timestamp"], request.body, header, now=NOW + 30
    )


def test_a_signature_does_not_verify_with_another_secret_body_or_an_old_timestamp():
    body = b'{"event":"overdue"}'
    header = sign(SECRET, NOW, body)
    assert verify_signature(SECRET, str(NOW), body, header, now=NOW)
    assert not verify_signature("other", str(NOW), body, header, now=NOW)
    assert not verify_signature(SECRET, str(NOW), body + b" ", header, now=NOW)
    assert not verify_signature(SECRET, str(NOW + 1), body, header, now=NOW)
    assert not verify_signature(SECRET, str(NOW), body, header, now=NOW + 301)
    assert verify_signature(SECRET, str(NOW), body, header, now=NOW + 300)
    assert not verify_signature(SECRET, "yesterday", body, header, now=NOW)
    assert not verify_signature(SECRET, str(NOW), body, "", now=NOW)


def test_a_server_error_is_retried_and_the_retry_is_the_same_delivery(webhooks):
    stub = HttpStub(answers=[Answer(500, b"oops", "text/plain")])
    with http_stub(stub) as dept:
        with pytest.raises(DeliveryError, match="500") as failed:
            webhooks.send(hook(dept.url))
        assert failed.value.retry is True
        webhooks.send(hook(dept.url))
    first, second = dept.received
    assert first.headers["x-hotline-delivery"] == second.headers["x-hotline-delivery"]
    assert first.body == second.body


@pytest.mark.parametrize("status", [301, 401, 404])
def test_any_answer_but_2xx_is_a_failure(webhooks, status):
    stub = HttpStub(answers=[Answer(status)])
    with http_stub(stub) as dept, pytest.raises(DeliveryError, match=str(status)):
        webhooks.send(hook(dept.url))


def test_a_department_system_that_does_not_answer_times_out():
    sender = WebhookSender(timeout=0.3)
    try:
        with silent_port() as port, pytest.raises(DeliveryError, match="in time") as failed:
            sender.send(hook(f"http://127.0.0.1:{port}/x?token=abc"))
        assert failed.value.retry is True
        assert "abc" not in str(failed.value)
    finally:
        sender.close()


def test_an_unreachable_system_is_retried(webhooks):
    with pytest.raises(DeliveryError, match="could not be reached") as failed:
        webhooks.send(hook(f"http://127.0.0.1:{closed_port()}/"))
    assert failed.value.retry is True


@pytest.mark.parametrize(
    "url",
    [
        "ftp://dept.example/x",
        "file:///etc/passwd",
        "dept.example",
        "",
        "http://dept.example:port/x",
        "http://dept.example:99999/x",
        "http://:80/x",
    ],
)
def test_only_http_urls_are_posted_to(webhooks, url):
    with pytest.raises(DeliveryError, match="http") as failed:
        webhooks.send(hook(url))
    assert failed.value.retry is False


def test_without_a_secret_the_request_is_sent_unsigned(webhooks):
    with http_stub() as dept:
        webhooks.send(hook(dept.url, secret=""))
    assert "x-hotline-signature" not in dept.received[0].headers


def test_the_receiver_snippet_in_the_docs_verifies_a_real_delivery(webhooks, monkeypatch):
    docs = (Path(__file__).resolve().parents[2] / "docs" / "notifications.md").read_text()
    channels = docs[docs.index("## Channels") :]
    snippet = channels.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(snippet, namespace)  # the department's code, as documented
    with http_stub() as dept:
        webhooks.send(hook(dept.url))
    monkeypatch.setattr(namespace["time"], "time", lambda: NOW + 10)
    request = dept.received[0]
    headers = {
        "X-Hotline-Timestamp": request.headers["x-hotline-timestamp"],
        "X-Hotline-Signature": request.headers["x-hotline-signature"],
    }
    assert namespace["verify"](SECRET, headers, request.body)
    assert not namespace["verify"]("guess", headers, request.body)
    assert not namespace["verify"](SECRET, headers, request.body.replace(b"2026", b"2027"))
