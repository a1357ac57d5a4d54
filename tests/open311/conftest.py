"""Open311 fixtures: the web app's, and a channel with its api_key."""

from __future__ import annotations

import pytest

from tests.webapp import conftest as web
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.open311.service import create_channel

app, client, runner, hotline_app, as_role = (
    web.app,
    web.client,
    web.runner,
    web.hotline_app,
    web.as_role,
)


def make_channel(app, name: str, read_all: bool = False) -> str:
    with app.app_context():
        _channel, key = create_channel(
            db.session, name=name, clock=get_hotline().clock, read_all=read_all
        )
        return key


@pytest.fixture
def api_key(hotline_app) -> str:
    return make_channel(hotline_app, "web form")
