"""Web app fixtures: an app on a temporary database (SQLite, or a PostgreSQL schema)."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade

from webapp import create_app
from webapp.extensions import db


@pytest.fixture
def app(database, clock, tmp_path):
    options = {}
    if database.schema:
        options = {
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "connect_args": {"options": f"-csearch_path={database.schema}"}
            }
        }
        # the migrations create the schema's tables themselves
        from engine.models import Base

        Base.metadata.drop_all(database.engine)
    else:
        database.engine.dispose()
        (tmp_path / "test.db").unlink()
    app = create_app({"TESTING": True, "DATABASE_URL": database.url, **options}, clock=clock)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
    yield app
    with app.app_context():
        db.session.remove()
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def hotline_app(app):
    """The app with reference data, the demo city and the bundled diagrams."""
    from tests.webapp.pages import seed

    seed(app)
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
