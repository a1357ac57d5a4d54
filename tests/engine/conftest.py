"""Engine test fixtures: a runtime in two modes, a session, and deploy helpers.

Every test that runs a diagram runs it twice (``mode``): "straight", where the live workflow
object carries from step to step, and "restore", where every step restores the workflow from
its saved row, as after a restart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.runtime import Runtime

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def runtime(clock, mode) -> Runtime:
    return Runtime(clock=clock, workflow_cache_size=2000 if mode == "straight" else 0)


@pytest.fixture
def session(database):
    s = database.session()
    yield s
    s.close()


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def deploy(runtime, session):
    def _deploy(name: str, **kwargs):
        return runtime.deploy(session, fixture_bytes(name), name, deployed_by="tester", **kwargs)

    return _deploy
