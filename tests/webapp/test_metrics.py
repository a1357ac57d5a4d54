"""``/metrics``: requests by route template, the database's waiting work, sign-in failures, and
who may scrape (issue 15, observability)."""

from __future__ import annotations

import pytest
from flask import current_app
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import Incident
from tests.webapp.conftest import dispose
from tests.webapp.pages import csrf_token
from tests.webapp.test_inbox import dispatched
from tests.webapp.test_intake import open_case
from webapp import signals
from webapp.extensions import db
from workflows.cases.models import Case


def scrape(client, **kwargs) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape from loopback."""
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/plain"
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def requests_of(samples, route: str, method: str = "GET", status: str = "2xx") -> float:
    key = (
        "hotline_http_requests_total",
        (("method", method), ("route", route), ("status", status)),
    )
    return samples.get(key, 0.0)


def test_requests_are_counted_by_route_template_never_by_path(hotline_app, as_role):
    first = open_case(hotline_app)
    second = open_case(hotline_app, caller_phone="13900139000")
    client = as_role("supervisor")
    for number in (first, second):
        assert client.get(f"/cases/{number}").status_code == 200
    assert client.get("/no/such/page/12345").status_code == 404
    assert client.get("/another/random/path").status_code == 404
    samples = scrape(client)
    assert requests_of(samples, "/cases/<number>") == 2
    assert requests_of(samples, "<unmatched>", status="4xx") == 2
    names = {labels for name, labels in samples if name == "hotline_http_requests_total"}
    assert not any(first in str(labels) or "random" in str(labels) for labels in names)
    count = samples[
        (
            "hotline_http_request_duration_seconds_count",
            (("method", "GET"), ("route", "/cases/<number>")),
        )
    ]
    assert count == 2
    # a refused POST (no CSRF token) is counted under its status class too
    assert client.post("/logout").status_code == 400
    assert requests_of(scrape(client), "/logout", "POST", "4xx") == 1


def test_the_waiting_work_comes_from_the_database(hotline_app, as_role, clock):
    client = as_role("admin")
    samples = scrape(client)
    assert samples[("hotline_timers_pending", ())] == 0
    assert samples[("hotline_timer_lag_seconds", ())] == 0
    assert samples[("hotline_worker_heartbeat_age_seconds", ())] == -1  # no worker ever ran
    number = dispatched(hotline_app)  # sign-for deadline armed; a notification to the bureau
    samples = scrape(client)
    pending = samples[("hotline_timers_pending", ())]
    assert pending >= 1
    assert samples[("hotline_timers_overdue", ())] == 0
    # the citizen's receipt, the dispatchers' new task, the bureau's dispatch notice
    assert samples[("hotline_outbox_backlog", ())] == 3
    assert samples[("hotline_incidents_open", (("kind", "outbox"),))] == 0
    # nobody fires the timers: 30 days later every one is due, the oldest very late
    clock.advance(days=30)
    samples = scrape(client)
    assert samples[("hotline_timers_overdue", ())] == pending
    assert samples[("hotline_timer_lag_seconds", ())] > 20 * 86400
    assert samples[("hotline_outbox_oldest_seconds", ())] == 30 * 86400
    with hotline_app.app_context():
        instance_id = db.session.scalar(select(Case.instance_id).where(Case.number == number))
        with unit_of_work(db.session):
            db.session.add(
                Incident(
                    kind="timer",
                    instance_id=instance_id,
                    error="boom",
                    attempts=5,
                    created_at=clock.now(),
                )
            )
    assert scrape(client)[("hotline_incidents_open", (("kind", "timer"),))] == 1


def test_sign_in_failures_are_counted_by_reason(hotline_app):
    client = hotline_app.test_client()
    with hotline_app.test_request_context():
        for reason in ("wrong", "wrong", "throttled", "something new"):
            signals.sign_in_failed.send(
                current_app._get_current_object(), username="x", ip="127.0.0.1", reason=reason
            )
    from webapp import create_app

    other = create_app({"TESTING": True, "DATABASE_URL": hotline_app.config["DATABASE_URL"]})
    with other.test_request_context():  # its audit log records it too, in its app
        signals.sign_in_failed.send(other, username="x", ip="127.0.0.1", reason="wrong")
    dispose(other)
    samples = scrape(client)
    failures = {
        dict(labels)["reason"]: value
        for (name, labels), value in samples.items()
        if name == "hotline_sign_in_failures_total"
    }
    # another app's failure is its own; an unknown reason is "other", not a new label
    assert failures == {"wrong": 2, "throttled": 1, "other": 1}


@pytest.mark.parametrize(
    ("remote", "headers"),
    [
        ("203.0.113.9", {}),  # from another machine
        ("10.0.0.5", {}),  # the private network is not loopback either
        ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}),  # through a proxy on this machine
        ("127.0.0.1", {"Forwarded": "for=203.0.113.9"}),
    ],
)
def test_without_a_token_only_direct_loopback_requests_may_scrape(app, remote, headers):
    client = app.test_client()
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == 404
    assert b"hotline_http_requests" not in response.data
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_with_a_token_every_scrape_must_bear_it(app):
    app.config["METRICS_TOKEN"] = "s3cret-scrape-token"
    client = app.test_client()
    assert client.get("/metrics").status_code == 404  # loopback alone is not enough now
    wrong = {"Authorization": "Bearer not-it"}
    assert client.get("/metrics", headers=wrong).status_code == 404
    right = {"Authorization": "Bearer s3cret-scrape-token"}
    far = {"REMOTE_ADDR": "203.0.113.9"}
    response = client.get("/metrics", headers=right, environ_base=far)
    assert response.status_code == 200
    assert b"hotline_timers_pending" in response.data


def test_each_app_counts_its_own_requests(app, clock):
    client = app.test_client()
    client.get("/healthz")
    from webapp import create_app

    other = create_app({"TESTING": True, "DATABASE_URL": app.config["DATABASE_URL"]}, clock=clock)
    assert requests_of(scrape(other.test_client()), "/healthz") == 0
    assert requests_of(scrape(client), "/healthz") == 1
    dispose(other)


SERVE_AND_SCRAPE = """
import sys
from webapp import create_app
app = create_app({"TESTING": True, "DATABASE_URL": sys.argv[1]})
client = app.test_client()
for _ in range(int(sys.argv[2])):
    client.get("/healthz")
sys.stdout.write(client.get("/metrics").get_data(as_text=True))
"""


def test_under_several_processes_a_scrape_adds_up_every_process(sqlite_db, tmp_path):
    """PROMETHEUS_MULTIPROC_DIR (gunicorn with several workers): whichever process a scrape
    reaches, it answers the requests of all of them."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": str(ROOT)}
    outputs = [
        subprocess.run(
            [sys.executable, "-c", SERVE_AND_SCRAPE, sqlite_db.url, str(n)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
        for n in (3, 4)
    ]
    last = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(outputs[-1])
        for s in family.samples
    }
    assert requests_of(last, "/healthz") == 7  # 3 by the first process, 4 by the second
    assert ("hotline_timers_pending", ()) in last  # the database's figures are there too


def test_a_refused_sign_in_page_counts_as_a_failure(hotline_app):
    """The sign-in page's own refusals reach the counter (through webapp.signals)."""
    client = hotline_app.test_client()
    before = scrape(client).get(("hotline_sign_in_failures_total", (("reason", "wrong"),)), 0.0)
    for username in ("admin", "nobody-by-this-name"):
        data = {"username": username, "password": "wrong", "csrf_token": csrf_token(client)}
        response = client.post("/login", data=data)
        assert response.status_code == 401
    after = scrape(client)[("hotline_sign_in_failures_total", (("reason", "wrong"),))]
    assert after - before == 2
