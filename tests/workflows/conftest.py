"""Domain fixtures: a hotline on a fresh database with the demo city and the bundled diagrams.

``City`` drives cases as the demo city's people would: ``city.intake(...)`` as an operator,
``city.act(case, "sign_for", "h_mr", {...})`` as the user who holds the task of that step. Every scenario
runs twice (``mode``): with the live workflow between steps, and restored at every step.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import ManualClock
from engine.db import make_engine, unit_of_work
from engine.models import Base, HumanTask
from engine.runtime import Runtime
from tests.conftest import ROOT
from workflows.cases import flows
from workflows.cases.models import Case
from workflows.hotline import Hotline, install
from workflows.seed import seed_demo_city, seed_reference
from workflows.users.service import by_username

TZ = ZoneInfo("Asia/Shanghai")

#: a typical call, as the operator types it (the form's defaults fill the rest); the web
#: tests use it too
INTAKE = {
    "case_type": "complaint",
    "urgency": "normal",
    "channel": "phone",
    "caller_name": "张三",
    "caller_phone": "13800138000",
    "address": "江门市蓬江区白沙大道1号",
    "area": "D-PJ",
    "category": "食品安全",
    "description": "小区门口餐馆卫生很差，吃完腹泻",
    "intake_outcome": "dispatch",
}


class City:
    def __init__(self, hotline: Hotline, session) -> None:
        self.hotline = hotline
        self.session = session
        self.clock = hotline.clock

    def user(self, username: str):
        return by_username(self.session, username)

    def intake(self, **overrides) -> Case:
        data = {**INTAKE, **overrides}
        return flows.open_case(self.session, self.hotline, data=data, actor="op1")

    def case(self, case: Case) -> Case:
        self.session.expire_all()
        return self.session.scalars(select(Case).where(Case.number == case.number)).one()

    def ready(self, case: Case) -> list[HumanTask]:
        case = self.case(case)
        return list(
            self.session.scalars(
                select(HumanTask)
                .where(HumanTask.instance_id == case.instance_id, HumanTask.state == "ready")
                .order_by(HumanTask.id)
            )
        )

    def task(self, case: Case, step: str) -> HumanTask:
        found = [t for t in self.ready(case) if t.kind == step]
        assert found, f"{step} is not ready; ready: {[t.kind for t in self.ready(case)]}"
        return found[0]

    def act(self, case: Case, step: str, username: str, data: dict | None = None):
        task = self.task(case, step)
        return flows.complete_task(
            self.session,
            self.hotline,
            task_id=task.task_id,
            data=data or {},
            user=self.user(username),
        )

    def advance(self, **kwargs) -> None:
        self.clock.advance(timedelta(**kwargs))
        self.hotline.runtime.fire_due_timers(self.session)

    def events(self, case: Case) -> list[str]:
        case = self.case(case)
        return [e.kind for e in self.hotline.runtime.events(self.session, case.instance_id)]


def seed_city(session, runtime: Runtime, hotline: Hotline, clock) -> None:
    """Reference data, the demo city and the bundled diagrams."""
    with unit_of_work(session):
        seed_reference(session, clock=clock, years=[2026, 2027])
        seed_demo_city(session, clock=clock)
    for path in sorted((ROOT / "bpmn").glob("*.bpmn")):
        runtime.deploy(
            session,
            path.read_bytes(),
            path.name,
            deployed_by="tests",
            form_exists=hotline.forms.exists,
        )


def install_hotline(runtime: Runtime, clock, session_factory) -> Hotline:
    return install(
        runtime,
        clock=clock,
        tz=TZ,
        forms_dir=ROOT / "forms",
        session_factory=session_factory,
        calendar_ttl=3600,
    )


def build_city_template(now):
    """``build(url)`` for the session's template of the seeded city at ``now`` (the rows'
    times are the clock's)."""

    def build(url: str) -> None:
        engine = make_engine(url)
        try:
            Base.metadata.create_all(engine)
            clock = ManualClock(now)
            runtime = Runtime(clock=clock, tz=TZ)
            with Session(engine) as session:
                hotline = install_hotline(runtime, clock, lambda: Session(engine))
                seed_city(session, runtime, hotline, clock)
        finally:
            engine.dispose()

    return build


@pytest.fixture
def hotline(database, clock, mode) -> Hotline:
    runtime = Runtime(clock=clock, tz=TZ, workflow_cache_size=2000 if mode == "straight" else 0)
    hotline = install_hotline(runtime, clock, database.session)
    if isinstance(clock, ManualClock):
        now = clock.now()
        database.copy_from(database.template(f"city:{now.isoformat()}", build_city_template(now)))
    else:  # a clock that moves by itself: no two seeds are alike
        with database.session() as session:
            seed_city(session, runtime, hotline, clock)
    return hotline


@pytest.fixture
def city(hotline, database):
    session = database.session()
    yield City(hotline, session)
    session.close()


@pytest.fixture
def deliver(city, database):
    """Deliver what waits in the outbox now (``OutboxService.drain``), as the worker would,
    after ending the test session's read (so the outbox sees what the test committed)."""
    from engine.outbox import OutboxService

    service = OutboxService(
        city.hotline.runtime.outbox,
        database.session,
        clock=city.clock,
        owner="test",
        max_attempts=3,
        backoff_seconds=30,
    )

    def run():
        city.session.rollback()
        return service.drain()

    return run
