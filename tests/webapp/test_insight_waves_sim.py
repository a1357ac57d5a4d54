"""``hotline simulate --wave``: the options checked, and the injected wave detected."""

from __future__ import annotations

from sqlalchemy import select

from webapp.cli import cli

ARGS = ["simulate", "--cases", "4", "--days", "2", "--starting-now"]


def test_bad_wave_options_name_the_option(hotline_app):
    runner = hotline_app.test_cli_runner()
    for extra, option, says in [
        (["--wave", "  "], "--wave", "words"),
        (["--wave-day", "1"], "--wave-day", "needs --wave"),
        (["--wave", "紫菜 塑料", "--wave-day", "2"], "--wave-day", "0 to 1"),
        (["--wave", "紫菜", "--wave-day", "-1"], "--wave-day", ""),
    ]:
        result = runner.invoke(cli, [*ARGS, *extra])
        assert result.exit_code == 2, (extra, result.output)
        assert option in result.output and says in result.output
        assert "Traceback" not in result.output
    with hotline_app.app_context():
        from webapp.extensions import db
        from workflows.cases.models import Case

        assert db.session.scalar(select(Case.id)) is None  # nothing simulated


def test_the_injected_wave_is_detected_and_supervisors_hear_of_it(hotline_app):
    runner = hotline_app.test_cli_runner()
    result = runner.invoke(cli, [*ARGS, "--wave", "紫菜 塑料", "--wave-day", "0"])
    assert result.exit_code == 0, result.output
    assert "hot-topic wave" in result.output and "/insight/waves/" in result.output
    with hotline_app.app_context():
        from webapp.extensions import db
        from workflows.cases.models import Case
        from workflows.insight.models import Wave
        from workflows.notifications.models import Notification

        wave = db.session.scalars(select(Wave)).one()
        assert wave.kind == "word" and wave.key in ("紫菜", "塑料")
        assert "紫菜" in wave.label and "塑料" in wave.label
        assert f"/insight/waves/{wave.id}" in result.output
        calls = db.session.scalars(select(Case).where(Case.description.contains("紫菜"))).all()
        assert len(calls) >= 30  # the peak day's, at least
        # the supervisors' notice waits in the outbox for the worker: nothing is lost
        from engine.models import OutboxMessage

        notice = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.key == f"notify:wave:{wave.id}")
        ).one()
        assert notice.payload["notice"] == "wave_detected"
        assert notice.payload["role"] == ["supervisor"]
        assert db.session.scalar(select(Notification.id)) is None  # not delivered yet
