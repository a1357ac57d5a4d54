"""Web app fixtures: an app on a temporary database (SQLite, or a PostgreSQL database).

The database is a copy of a session template (tests/conftest.py): migrated, and for tests
that use ``hotline_app`` (directly or through ``as_role``, ``api``, ``api_key``) also seeded
with the reference data, the demo city and the bundled diagrams, as ``seed`` does.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask_migrate import upgrade
from jinja2 import BytecodeCache
from jinja2.bccache import Bucket

from engine.clock import ManualClock
from webapp import create_app
from webapp.extensions import db

#: tests that ask for one of these get the seeded template: they all depend on ``hotline_app``
SEEDED = "hotline_app"


class _TemplateBytecode(BytecodeCache):
    """Compiled page templates, shared by the tests' apps: each app has its own Jinja
    environment, and every test compiled the pages it opened again. A bucket is reused only
    while the template's source is unchanged (Jinja checks it)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_BYTECODE = _TemplateBytecode()


#: page tests move the clock by hours and days with a signed-in client: their sessions neither
#: idle out nor expire (session expiry has its own tests, tests/webapp/test_sessions.py)
LONG_SESSIONS = {"SESSION_IDLE_MINUTES": 10 * 365 * 24 * 60, "SESSION_MAX_HOURS": 10 * 365 * 24}


def make_app(url: str, clock, files_dir=None) -> Flask:
    files = {"FILES_DIR": str(files_dir)} if files_dir else {}
    app = create_app({"TESTING": True, "DATABASE_URL": url, **LONG_SESSIONS, **files}, clock=clock)
    app.jinja_env.bytecode_cache = TEMPLATE_BYTECODE
    return app


def dispose(app) -> None:
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


def build_web_template(now=None):
    """``build(url)`` for a template: migrated, and seeded at ``now`` unless it is None."""

    def build(url: str) -> None:
        from tests.webapp.pages import seed

        app = make_app(url, ManualClock(now) if now else None)
        try:
            with app.app_context():
                upgrade(directory=app.extensions["migrate"].directory)
            if now:
                seed(app)
        finally:
            dispose(app)

    return build


@pytest.fixture
def app(database, clock, request, tmp_path):
    # What the seed writes depends on the time it is written (created_at, deployed_at): a
    # seeded template is one per start time. A clock that moves by itself gets a migrated
    # copy, and ``hotline_app`` seeds it here.
    seeded = SEEDED in request.fixturenames and isinstance(clock, ManualClock)
    if seeded:
        now = clock.now()
        template = database.template(f"web:seeded:{now.isoformat()}", build_web_template(now))
    else:
        template = database.template("web:migrated", build_web_template())
    database.copy_from(template)
    app = make_app(database.url, clock, files_dir=tmp_path / "files")
    app.extensions["tests.seeded"] = seeded
    yield app
    dispose(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def hotline_app(app):
    """The app with reference data, the demo city and the bundled diagrams."""
    if not app.extensions["tests.seeded"]:  # asked for after ``app`` was set up
        from tests.webapp.pages import seed

        seed(app)
        app.extensions["tests.seeded"] = True
    return app


@pytest.fixture
def as_role(hotline_app):
    """``as_role("handler")`` -> a test client signed in as that role's demo user."""
    from tests.webapp.pages import ROLE_USERS, login

    def client_for(role: str, username: str | None = None):
        client = hotline_app.test_client()
        response = login(client, username or ROLE_USERS[role])
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return client_for
