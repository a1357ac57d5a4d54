"""``/healthz`` (alive) and ``/readyz`` (database, schema, a worker's heartbeat), on the injected
clock (issue 15, observability)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from engine.heartbeats import record
from engine.models import WorkerHeartbeat
from tests.webapp.conftest import dispose
from webapp import create_app
from webapp.cli import cli
from webapp.config import ConfigError
from webapp.extensions import db
from webapp.scheduler import heartbeat


def beat(app, clock, owner: str = "w1") -> None:
    with app.app_context():
        record(db.session, owner=owner, role="worker", now=clock.now(), started=clock.now())


def test_ready_when_the_database_the_schema_and_a_worker_are(app, clock):
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["schema"] == {"ok": True}
    assert body["checks"]["worker"]["ok"] is False
    assert "hotline worker" in body["checks"]["worker"]["problem"]

    beat(app, clock)
    clock.advance(seconds=59)
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["checks"]["worker"] == {"ok": True, "age_seconds": 59.0}

    clock.advance(seconds=2)  # past HOTLINE_WORKER_STALE_SECONDS (60)
    response = client.get("/readyz")
    assert response.status_code == 503
    worker = response.get_json()["checks"]["worker"]
    assert worker["ok"] is False and "61 s" in worker["problem"]

    beat(app, clock, owner="w2")  # another worker is enough
    assert client.get("/readyz").status_code == 200


def test_the_worker_check_can_be_turned_off_and_the_stale_age_set(app, clock):
    client = app.test_client()
    app.config["READY_NEEDS_WORKER"] = "off"
    response = client.get("/readyz")
    assert response.status_code == 200
    assert set(response.get_json()["checks"]) == {"database", "schema"}
    app.config["READY_NEEDS_WORKER"] = "on"
    app.config["WORKER_STALE_SECONDS"] = 5
    beat(app, clock)
    clock.advance(seconds=6)
    assert client.get("/readyz").status_code == 503


def test_not_ready_on_an_older_schema_naming_it(app, clock):
    beat(app, clock)
    with app.app_context():
        db.session.execute(text("UPDATE alembic_version SET version_num = 'e8d41c7a9f25'"))
        db.session.commit()
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    schema = response.get_json()["checks"]["schema"]
    assert schema["ok"] is False
    assert "older than this hotline" in schema["problem"] and "hotline init" in schema["problem"]
    assert "worker" not in response.get_json()["checks"]  # not asked of an unknown schema


def test_alive_without_a_database_ready_only_with_one(tmp_path, clock):
    # a database that cannot be opened: its folder does not exist
    url = f"sqlite:///{tmp_path / 'missing' / 'hotline.db'}"
    app = create_app({"TESTING": True, "DATABASE_URL": url}, clock=clock)
    client = app.test_client()
    alive = client.get("/healthz")
    assert alive.status_code == 200 and alive.get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"] == {"database": {"ok": False, "error": "OperationalError"}}
    dispose(app)


def test_a_heartbeat_is_written_at_most_every_few_seconds(app, clock):
    app.config["HEARTBEAT_SECONDS"] = 5
    hb = heartbeat(app, role="worker", owner="w1")
    assert hb.beat() is True
    clock.advance(seconds=4)
    assert hb.beat() is False  # the sweep runs every second; the row is written less often
    clock.advance(seconds=1)
    assert hb.beat() is True
    with app.app_context():
        row = db.session.get(WorkerHeartbeat, "w1")
        assert (row.role, row.beat_at, row.beat_at - row.started_at) == (
            "worker",
            clock.now(),
            timedelta(seconds=5),
        )


def test_workers_silent_for_a_day_are_forgotten(app, clock):
    beat(app, clock, owner="gone")
    clock.advance(days=1, seconds=1)
    beat(app, clock, owner="new")
    with app.app_context():
        assert db.session.scalars(select(WorkerHeartbeat.owner)).all() == ["new"]


def test_a_worker_run_from_cron_counts_as_alive(app, runner, clock):
    assert app.test_client().get("/readyz").status_code == 503
    result = runner.invoke(cli, ["worker", "--until-idle", "--owner", "cron"])
    assert result.exit_code == 0, result.output
    assert app.test_client().get("/readyz").status_code == 200


def test_the_scheduler_beats_after_each_sweep(app, clock):
    """``hotline serve`` with its scheduler on, or ``hotline worker``: the scheduler's sweep
    (run here in this thread) writes the beat."""
    from engine.scheduler import TimerScheduler
    from webapp.scheduler import timer_service

    scheduler = TimerScheduler(timer_service(app, owner="serve-1"))
    scheduler.after_sweep.append(heartbeat(app, role="serve", owner="serve-1").beat)
    scheduler.sweep()
    assert app.test_client().get("/readyz").status_code == 200
    with app.app_context():
        assert db.session.get(WorkerHeartbeat, "serve-1").role == "serve"


@pytest.mark.parametrize(
    ("setting", "value", "variable"),
    [
        ("READY_NEEDS_WORKER", "sometimes", "HOTLINE_READY_NEEDS_WORKER"),
        ("PROXY_FIX", "x_for=one", "HOTLINE_PROXY_FIX"),
        ("LOG_FORMAT", "xml", "HOTLINE_LOG_FORMAT"),
        ("LOG_LEVEL", "LOUD", "HOTLINE_LOG_LEVEL"),
    ],
)
def test_an_unreadable_setting_stops_the_app_naming_its_variable(
    sqlite_db, setting, value, variable
):
    with pytest.raises(ConfigError, match=variable):
        create_app({"TESTING": True, "DATABASE_URL": sqlite_db.url, setting: value})


def test_settings_come_from_the_environment(sqlite_db, monkeypatch):
    monkeypatch.setenv("HOTLINE_WORKER_STALE_SECONDS", "soon")
    with pytest.raises(ConfigError, match="HOTLINE_WORKER_STALE_SECONDS must be a number"):
        create_app({"TESTING": True, "DATABASE_URL": sqlite_db.url})
