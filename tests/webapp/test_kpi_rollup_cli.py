"""``hotline kpi rollup`` / ``hotline kpi verify`` and ``hotline worker --until-idle``: the
rollup's dirty days recounted from the shell (the app is migrated: the migration's tables)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from webapp.cli import cli
from webapp.extensions import db
from workflows.cases.models import Case
from workflows.kpi import rollup

T = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def _closed_case(number: str, created_at: datetime) -> None:
    db.session.add(
        Case(
            number=number, case_type="complaint", urgency="normal", status="closed",
            intake_outcome="answered", closed_at=created_at, created_at=created_at,
            updated_at=created_at,
        )
    )  # fmt: skip
    db.session.commit()


def test_rollup_verify_and_the_worker(app, runner):
    with app.app_context():
        _closed_case("R1", T)
        assert rollup.dirty_days(db.session) == [date(2026, 3, 10)]
    result = runner.invoke(cli, ["kpi", "rollup"])
    assert result.exit_code == 0, result.output
    assert "recounted 1 days" in result.output
    result = runner.invoke(cli, ["kpi", "verify", "--days", "3660"])
    assert result.exit_code == 0, result.output
    assert "0 differ" in result.output
    with app.app_context():
        _closed_case("R2", T.replace(day=12))
    result = runner.invoke(cli, ["worker", "--until-idle"])
    assert result.exit_code == 0, result.output
    assert "recounted 1 KPI rollup days" in result.output
    result = runner.invoke(cli, ["kpi", "rollup", "--rebuild"])
    assert "recounted 3 days" in result.output  # 10 to 12 March
    with app.app_context():
        assert rollup.dirty_days(db.session) == []
