"""``/metrics`` in Prometheus's text format (prometheus-client), per app.

- Requests: a counter and a latency histogram labelled by route *template* (``url_rule``,
  ``/cases/<number>``, never the raw path: the label set stays bounded whatever URLs clients
  send; anything that matched no route is ``<unmatched>``), method and status class (``2xx``).
- Sign-in failures by reason, counted from ``webapp.signals.sign_in_failed``.
- Work waiting, computed from the database at each scrape (indexed counts, the figures
  ``hotline timers`` reports): timers pending and overdue, the lag of the oldest due timer,
  open incidents by kind, the outbox backlog and its oldest message's age, and the seconds
  since the last worker heartbeat. Every web process sees the same database, so any one of
  them answers these.

Each app has its own registry (tests make many apps in one process). Waitress (``hotline
serve``) is one threaded process, so its registry is the whole picture. Under gunicorn with
several worker processes, set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, emptied at each
start) for the whole server: prometheus-client then writes each process's counts there and a
scrape adds them all up (docs/deployment.md).

Access: with ``HOTLINE_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer
<token>``; without it, only a direct request from the loopback address is answered (not one
a proxy forwarded: it carries ``X-Forwarded-For``). Anything else is 404, as if there were no
such page.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from . import signals

#: a request that matched no route (404s, probes of random paths) is counted under this
UNMATCHED = "<unmatched>"
#: reasons sign-in may give (webapp/signals.py); anything else is counted as "other"
SIGN_IN_REASONS = frozenset({"wrong", "throttled", "inactive", "second_factor"})
#: latency buckets in seconds: the pages' 50 ms target and the API's 200 ms p99 sit inside
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.35, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """One app's registry and the instruments the request hooks and signals update."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "hotline_http_requests",
            "HTTP requests answered, by route template, method and status class",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "hotline_http_request_duration_seconds",
            "Time from a request's start to its answer, by route template and method",
            ["route", "method"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.sign_in_failures = Counter(
            "hotline_sign_in_failures",
            "Sign-ins refused, by reason (wrong, throttled, inactive, second_factor)",
            ["reason"],
            registry=self.registry,
        )
        self.work = WorkCollector(app)
        self.registry.register(self.work)

    def started(self) -> None:
        g._metrics_started = time.perf_counter()

    def answered(self, response: Response) -> Response:
        started = g.pop("_metrics_started", None)
        if started is None:  # a request refused before our before_request ran
            return response
        route = route_label()
        self.requests.labels(route, request.method, f"{response.status_code // 100}xx").inc()
        self.latency.labels(route, request.method).observe(time.perf_counter() - started)
        return response

    def sign_in_failed(self, sender: Any, **kwargs: Any) -> None:
        reason = kwargs.get("reason")
        self.sign_in_failures.labels(reason if reason in SIGN_IN_REASONS else "other").inc()

    def exposition(self) -> bytes:
        """The text a scrape gets: this process's registry, or with PROMETHEUS_MULTIPROC_DIR
        every process's counts added up, and the database's figures."""
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(self.work)
        return generate_latest(registry)


def route_label() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED


class WorkCollector(Collector):
    """The database's figures, read at each scrape (a scrape is one request: a few indexed
    counts; nothing is cached between scrapes)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from engine import heartbeats, outbox, timers

        from .extensions import db
        from .hotline import get_hotline

        with self.app.app_context():
            session = db.session
            try:
                now = get_hotline().clock.now()
                timer = timers.stats(session, now=now)
                box = outbox.stats(session)
                beat = heartbeats.latest(session)
                by_kind = incidents_by_kind(session)
            finally:
                session.rollback()
        yield gauge("hotline_timers_pending", "Timers waiting to fire", timer.pending)
        yield gauge("hotline_timers_overdue", "Timers due and not fired yet", timer.overdue)
        yield gauge(
            "hotline_timer_lag_seconds",
            "How late the oldest due timer is (0 when none is due)",
            _age(now, timer.oldest_overdue),
        )
        incidents = GaugeMetricFamily(
            "hotline_incidents_open",
            "Open incidents: timers that kept failing, outbox messages given up on",
            labels=["kind"],
        )
        by_kind["outbox"] = box.incidents
        for kind, count in sorted(by_kind.items()):
            incidents.add_metric([kind], count)
        yield incidents
        yield gauge(
            "hotline_outbox_backlog",
            "Outbox messages waiting to be handled (new, and failed waiting to retry)",
            box.pending + box.failed,
        )
        yield gauge(
            "hotline_outbox_oldest_seconds",
            "Age of the oldest outbox message waiting (0 when none waits)",
            _age(now, box.oldest_waiting),
        )
        yield gauge(
            "hotline_worker_heartbeat_age_seconds",
            "Seconds since a timer scheduler last recorded it was alive (-1: never)",
            -1.0 if beat is None else max(0.0, (now - beat).total_seconds()),
        )


def incidents_by_kind(session) -> dict[str, int]:
    from sqlalchemy import func, select

    from engine.models import Incident

    rows = session.execute(
        select(Incident.kind, func.count())
        .where(Incident.resolved_at.is_(None))
        .group_by(Incident.kind)
    ).all()
    return {"timer": 0, **{kind: count for kind, count in rows}}


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _age(now, since) -> float:
    return 0.0 if since is None else max(0.0, (now - since).total_seconds())


def may_scrape() -> bool:
    """The bearer token when one is set; otherwise a direct request from loopback."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = request.headers.get("Authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    if request.headers.get("X-Forwarded-For") or request.headers.get("Forwarded"):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def scrape() -> Response:
    if not may_scrape():
        abort(404)
    metrics: Metrics = current_app.extensions["metrics"]
    return Response(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


def init_metrics(app: Flask) -> Metrics:
    metrics = Metrics(app)
    app.extensions["metrics"] = metrics
    # first (before CSRF and the NUL guard, which may refuse it): every request is counted
    app.before_request_funcs.setdefault(None, []).insert(0, metrics.started)
    app.after_request(metrics.answered)
    # sender=app: each app counts its own sign-ins (a test process makes many apps); the
    # Metrics object holds the receiver, which blinker references weakly
    signals.sign_in_failed.connect(metrics.sign_in_failed, sender=app)
    return metrics
