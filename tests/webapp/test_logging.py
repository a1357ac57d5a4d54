"""Request ids and JSON log lines, from the web app and the worker (issue 15, observability)."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest

from tests.webapp.test_inbox import dispatched
from webapp import logs
from webapp.scheduler import outbox_service, timer_service


@pytest.fixture
def lines():
    """The JSON lines logged while the test runs (the handler ``hotline serve`` installs)."""
    stream = io.StringIO()
    handler = logs.configure_logging("json", "INFO", stream=stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logging.getLogger().removeHandler(handler)


def test_a_sane_request_id_is_kept_and_returned(app):
    response = app.test_client().get("/healthz", headers={"X-Request-Id": "lb-7f3a.42_x"})
    assert response.headers["X-Request-Id"] == "lb-7f3a.42_x"


@pytest.mark.parametrize(
    "sent",
    ["", "a" * 65, "id with spaces", "x;Set-Cookie=a", "../../etc", "<script>", "编号"],
)
def test_an_insane_request_id_is_replaced(app, sent):
    response = app.test_client().get("/healthz", headers={"X-Request-Id": sent})
    rid = response.headers["X-Request-Id"]
    assert rid != sent and len(rid) == 32 and int(rid, 16) >= 0


def test_every_request_gets_its_own_id(app):
    client = app.test_client()
    ids = {client.get("/healthz").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3


def test_the_access_line_names_the_route_and_user_never_the_path_or_query(as_role, lines):
    client = as_role("operator")
    response = client.get(
        "/intake/caller?caller_phone=13800138000", headers={"X-Request-Id": "trace-1"}
    )
    assert response.status_code == 200
    access = [x for x in lines() if x["request_id"] == "trace-1"]
    assert len(access) == 1  # the sign-in before it had ids of its own
    line = access[0]
    assert line["logger"] == "hotline.request"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/intake/caller", 200)
    assert isinstance(line["user_id"], int) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["message"] == "GET /intake/caller 200"
    assert datetime.fromisoformat(line["time"]).tzinfo == UTC
    assert "13800138000" not in json.dumps(lines())


def test_an_error_is_one_line_with_its_traceback_and_the_request_id(app, lines):
    @app.get("/_boom")
    def boom():
        raise RuntimeError("kaboom")

    app.testing = False  # answer 500 instead of raising into the test
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/_boom", headers={"X-Request-Id": "trace-500"})
    assert response.status_code == 500
    assert response.headers["X-Request-Id"] == "trace-500"
    errors = [x for x in lines() if x["level"] == "ERROR"]
    assert errors and errors[0]["request_id"] == "trace-500"
    assert "RuntimeError: kaboom" in errors[0]["exception"]
    access = [x for x in lines() if x["logger"] == "hotline.request"]
    assert access[0]["status"] == 500 and access[0]["request_id"] == "trace-500"


def test_the_worker_logs_its_batches_with_ids_of_their_own(hotline_app, clock, lines):
    number = dispatched(hotline_app)  # deadlines armed; a notification waits in the outbox
    clock.advance(days=30)  # every deadline of the case is due
    fired = timer_service(hotline_app, owner="w1").drain()
    assert fired.fired == 1
    delivered = outbox_service(hotline_app, owner="w1").drain()
    worker = [x for x in lines() if x["logger"] == "hotline.worker"]
    timers = [x for x in worker if x["request_id"].startswith("timers-")]
    assert [x["message"] for x in timers][0].startswith("timer fired: instance ")
    summary = timers[-1]
    assert (summary["fired"], summary["owner"]) == (1, "w1")
    assert len({x["request_id"] for x in timers}) == 1  # one drain, one id
    assert delivered.done >= 1
    outbox = [x for x in worker if x["request_id"].startswith("outbox-")]
    assert outbox[-1]["done"] == delivered.done and outbox[-1]["message"].startswith("outbox: ")
    assert number not in json.dumps(lines())  # case numbers are not logged by the worker


def test_text_lines_carry_the_request_id_too(app):
    stream = io.StringIO()
    handler = logs.configure_logging("text", "INFO", stream=stream)
    try:
        app.test_client().get("/healthz", headers={"X-Request-Id": "plain-1"})
    finally:
        logging.getLogger().removeHandler(handler)
    assert "INFO hotline.request [plain-1] GET /healthz 200" in stream.getvalue()


def test_an_open_tabs_polls_stay_out_of_the_log_unless_they_fail(as_role, lines):
    client = as_role("handler")
    assert client.get("/live?views=tasks", headers={"X-Request-Id": "poll-1"}).status_code == 200
    assert client.get("/live?views=nonsense", headers={"X-Request-Id": "poll-2"}).status_code == 400
    logged = {x["request_id"] for x in lines() if x["logger"] == "hotline.request"}
    assert "poll-1" not in logged and "poll-2" in logged
