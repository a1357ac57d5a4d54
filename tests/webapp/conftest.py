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
