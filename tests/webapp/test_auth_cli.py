"""``hotline users``: end sessions, reset a second factor, set a password from the command line."""

from __future__ import annotations

from sqlalchemy import select

from tests.webapp.pages import PASSWORD, login
from tests.webapp.test_totp import enrol
from webapp.cli import cli
from webapp.extensions import db
from workflows.users.sign_in_models import SecondFactor


def signed_in(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def test_end_sessions(hotline_app, runner):
    client = signed_in(hotline_app, "h_mr")
    result = runner.invoke(cli, ["users", "end-sessions", "h_mr"])
    assert result.exit_code == 0 and "1 sessions of h_mr ended" in result.output
    assert client.get("/cases").status_code == 302
    unknown = runner.invoke(cli, ["users", "end-sessions", "nobody"])
    assert unknown.exit_code == 1 and "no user is named 'nobody'" in unknown.output


def test_reset_a_lost_second_factor(hotline_app, runner, as_role, clock):
    enrol(as_role("admin"), clock)
    result = runner.invoke(cli, ["users", "reset-second-factor", "admin"])
    assert result.exit_code == 0 and "removed" in result.output
    with hotline_app.app_context():
        assert db.session.scalars(select(SecondFactor)).all() == []
    assert login(hotline_app.test_client(), "admin").headers["Location"] == "/"


def test_set_password_applies_the_policy_and_ends_sessions(hotline_app, runner):
    client = signed_in(hotline_app, "op1")
    weak = runner.invoke(cli, ["users", "set-password", "op1", "--password", "short"])
    assert weak.exit_code == 1 and "--password: At least 10 characters" in weak.output
    assert client.get("/intake").status_code == 200  # nothing changed
    good = runner.invoke(cli, ["users", "set-password", "op1", "--password", "Night-shift-42"])
    assert good.exit_code == 0, good.output
    assert client.get("/intake").status_code == 302
    assert login(hotline_app.test_client(), "op1", PASSWORD).status_code == 401
    assert login(hotline_app.test_client(), "op1", "Night-shift-42").status_code == 302
