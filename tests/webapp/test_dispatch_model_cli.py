"""``hotline dispatch-model train`` / ``show``, and the worker's retraining (every
DISPATCH_MODEL_RETRAIN_HOURS, only when cases closed since the last training), on the moved
clock."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select

from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from webapp.scheduler import dispatch_model_job
from workflows.cases.models import Case
from workflows.departments.models import Department
from workflows.insight.dispatch_table import DispatchModel
from workflows.insight.sim_texts import describe
from workflows.seed import DISPATCH_RULES

_numbers = iter(range(1, 10**6))


def closed_cases(n: int, *, seed: int = 1, ago: timedelta = timedelta(days=3)) -> None:
    """``n`` closed cases as the simulator's citizens describe them, each handled by its true
    unit (no workflow: rows as a long history leaves them)."""
    rng = random.Random(seed)
    ids = dict(db.session.execute(select(Department.code, Department.id)).all())
    now = get_hotline().clock.now()
    for i in range(n):
        category, area, _, _ = rng.choice(DISPATCH_RULES)
        area = area if area != "*" else rng.choice(["D-PJ", "D-JH", "D-XH"])
        text, unit = describe(rng, category, area)
        at = now - ago + timedelta(minutes=i)
        db.session.add(
            Case(
                number=f"DM{next(_numbers):06d}", case_type="complaint", urgency="normal",
                status="closed", intake_outcome="dispatch", category=category, area=area,
                description=text, lead_department_id=ids[unit], created_at=at,
                updated_at=at, closed_at=at + timedelta(hours=1),
            )
        )  # fmt: skip
    db.session.commit()


def models() -> int:
    count = db.session.scalar(select(func.count()).select_from(DispatchModel))
    db.session.rollback()  # no read left open while the job writes
    return count


def test_train_and_show_from_the_shell(hotline_app, runner):
    result = runner.invoke(cli, ["dispatch-model", "show"])
    assert result.exit_code == 0 and "no dispatch model yet" in result.output
    with hotline_app.app_context():
        closed_cases(30)
    result = runner.invoke(cli, ["dispatch-model", "train"])
    assert result.exit_code == 1
    assert "only 30 closed cases to learn from (at least 50 needed)" in result.output

    with hotline_app.app_context():
        closed_cases(470, seed=2)
    result = runner.invoke(cli, ["dispatch-model", "train"])
    assert result.exit_code == 0, result.output
    assert "trained on 500 closed cases" in result.output
    assert "holdout (newest 100 cases, trained on 400)" in result.output
    assert "top-1 " in result.output and "top-3 " in result.output
    assert "catalogue " in result.output and " s" in result.output
    with hotline_app.app_context():
        row = db.session.scalar(select(DispatchModel))
        assert row.active and row.trained_by == "cli" and row.cases == 500
        assert row.metrics["top1"] > row.metrics["baseline_top1"]

    result = runner.invoke(cli, ["dispatch-model", "train", "--min-cases", "100000"])
    assert result.exit_code == 1 and "the current model is kept" in result.output
    result = runner.invoke(cli, ["dispatch-model", "show"])
    assert result.exit_code == 0
    assert f"dispatch model {row.id}, trained" in result.output
    assert "on 500 closed cases" in result.output and "top-1" in result.output


def test_the_worker_retrains_only_when_due_and_cases_closed_since(hotline_app, clock):
    hotline_app.config["DISPATCH_MODEL_MIN_CASES"] = 20
    job = dispatch_model_job(hotline_app)
    job.check = timedelta(0)
    assert job.background  # the worker's: off the sweep thread
    job.background = False  # the outcome in hand; the last step runs it as the worker does
    with hotline_app.app_context():
        assert job.tick() is None  # nothing closed yet
        closed_cases(60)
        first = job.tick()
        assert first is not None and first.cases == 60 and first.model.trained_by == "worker"
        # cases closed since, but the model is not a day old yet
        clock.advance(timedelta(hours=2))
        closed_cases(5, seed=3, ago=timedelta(minutes=90))
        assert job.tick() is None and models() == 1
        clock.advance(timedelta(hours=23))
        second = job.tick()
        assert second is not None and second.cases == 65 and models() == 2
        assert db.session.scalar(select(DispatchModel.id).where(DispatchModel.active)) == (
            second.model.id
        )
        # a day later, no case closed since: no retraining
        clock.advance(timedelta(hours=25))
        assert job.tick() is None and models() == 2 and job.thread is None
        # the worker's job trains in a thread of its own: the sweep goes on meanwhile
        closed_cases(3, seed=4, ago=timedelta(minutes=10))
        clock.advance(timedelta(hours=25))
        job.background = True
        assert job.tick() is None
        job.thread.join(timeout=60)
        assert models() == 3


def test_training_keeps_the_newest_five_models(hotline_app, runner):
    from workflows.insight import dispatch_model

    with hotline_app.app_context():
        closed_cases(60, seed=3)
        now = get_hotline().clock.now()
        ids = [dispatch_model.train(db.session, now=now, by="t").model.id for _ in range(7)]
        rows = db.session.execute(
            select(DispatchModel.id, DispatchModel.active).order_by(DispatchModel.id)
        ).all()
        # the two oldest went; the newest is the one active
        assert rows == [(i, i == ids[-1]) for i in ids[2:]]


def test_the_demo_trains_the_model_from_its_closed_cases(hotline_app):
    from webapp.demo import train_dispatch_model

    with hotline_app.app_context():
        closed_cases(10, seed=4)
        assert list(train_dispatch_model()) == [
            "dispatch model: not trained (only 10 closed cases to learn from (at least 50 "
            "needed); the current model is kept)"
        ]
        assert models() == 0
        closed_cases(80, seed=5)
        (line,) = train_dispatch_model()
        row = db.session.scalar(select(DispatchModel))
        assert line == (
            f"dispatch model {row.id}: trained on 90 closed cases, {row.metrics['classes']} "
            "units (hotline dispatch-model show)"
        )
        assert row.active and row.trained_by == "demo"
