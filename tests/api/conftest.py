"""API fixtures: the web app's (a hotline app with the demo city), and tokens per user."""

from __future__ import annotations

import pytest

from tests.webapp import conftest as web
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.api.tokens import create_token
from workflows.users.service import by_username

# the web app's fixtures: an app on the test database, with the demo city and diagrams
app, client, runner, hotline_app, as_role = (
    web.app,
    web.client,
    web.runner,
    web.hotline_app,
    web.as_role,
)

#: one user per role of the demo city; "other_handler" is in another department than h_mr
USERS = {
    "operator": "op1",
    "dispatcher": "disp1",
    "handler": "h_mr",
    "other_handler": "h_hu",
    "supervisor": "sup1",
    "callback": "cb1",
    "lead": "lead1",
    "admin": "admin",
    "telephony": "pbx",
    "auditor": "audit1",
    "qa": "qa1",
}


def make_token(app, username: str, name: str = "tests") -> str:
    with app.app_context():
        user = by_username(db.session, username)
        assert user is not None, username
        _row, token = create_token(db.session, user=user, name=name, clock=get_hotline().clock)
        return token


class ApiClient:
    """A test client that sends a user's bearer token with every request."""

    def __init__(self, app, token: str) -> None:
        self.client = app.test_client()
        self.token = token

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path, headers=None, **kwargs):
        return self.client.get(path, headers=self._headers(headers), **kwargs)

    def post(self, path, json=None, headers=None, **kwargs):
        return self.client.post(path, json=json, headers=self._headers(headers), **kwargs)

    def put(self, path, json=None, headers=None, **kwargs):
        return self.client.put(path, json=json, headers=self._headers(headers), **kwargs)

    def open(self, path, method, headers=None, **kwargs):
        return self.client.open(path, method=method, headers=self._headers(headers), **kwargs)


@pytest.fixture
def api(hotline_app):
    """``api("handler")`` -> a client with a fresh token of that role's demo user."""
    tokens: dict[str, str] = {}

    def client_for(role: str) -> ApiClient:
        if role not in tokens:
            tokens[role] = make_token(hotline_app, USERS[role])
        return ApiClient(hotline_app, tokens[role])

    return client_for
