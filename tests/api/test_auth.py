"""API tokens: bearer only (never the session cookie), hashed, revocable; made and revoked
on the tokens page, by an administrator, and on the command line; bad tokens slow down."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from tests.api.conftest import ApiClient, make_token
from tests.webapp.pages import csrf_token
from webapp.cli import cli
from webapp.extensions import db
from workflows.api.models import ApiToken


def test_no_token_no_api(hotline_app):
    client = hotline_app.test_client()
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["code"] == 401 and response.json["status"] == "Unauthorized"
    wrong_scheme = client.get("/api/v1/me", headers={"Authorization": "Basic b3AxOmRlbW8="})
    assert wrong_scheme.status_code == 401
    unknown = client.get("/api/v1/me", headers={"Authorization": "Bearer hl_nope"})
    assert unknown.status_code == 401 and "unknown" in unknown.json["message"]


def test_a_signed_in_session_is_not_enough(as_role):
    """The API takes no CSRF token, so a browser's cookie must not open it."""
    browser = as_role("operator")
    assert browser.get("/api/v1/me").status_code == 401


def test_tokens_are_stored_hashed_and_know_their_user(hotline_app):
    token = make_token(hotline_app, "h_mr")
    with hotline_app.app_context():
        row = db.session.scalars(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (row.prefix, row.token_hash) and token.startswith(row.prefix)
    me = ApiClient(hotline_app, token).get("/api/v1/me")
    assert me.json == {
        "username": "h_mr",
        "display_name": me.json["display_name"],
        "role": "handler",
        "department": "B-MR",
    }
    with hotline_app.app_context():
        assert db.session.scalars(select(ApiToken)).one().last_used_at is not None


def test_a_revoked_token_or_an_inactive_user_stops_working(hotline_app):
    from workflows.users.models import User

    token = make_token(hotline_app, "h_mr")
    client = ApiClient(hotline_app, token)
    assert client.get("/api/v1/me").status_code == 200
    with hotline_app.app_context():
        db.session.execute(
            User.__table__.update().where(User.username == "h_mr").values(active=False)
        )
        db.session.commit()
    assert client.get("/api/v1/me").status_code == 401
    with hotline_app.app_context():
        db.session.execute(
            User.__table__.update().where(User.username == "h_mr").values(active=True)
        )
        db.session.commit()
    assert client.get("/api/v1/me").status_code == 200
    runner = hotline_app.test_cli_runner()
    with hotline_app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    result = runner.invoke(cli, ["token", "revoke", str(token_id)])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/me").status_code == 401


def test_the_command_line_makes_lists_and_revokes_tokens(hotline_app):
    runner = hotline_app.test_cli_runner()
    made = runner.invoke(cli, ["token", "create", "op1", "--name", "phone system"])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert ApiClient(hotline_app, token).get("/api/v1/me").json["username"] == "op1"
    listed = runner.invoke(cli, ["token", "list", "op1"])
    assert "phone system" in listed.output and "active" in listed.output
    assert token not in listed.output
    assert runner.invoke(cli, ["token", "create", "nobody"]).exit_code == 1
    assert runner.invoke(cli, ["token", "revoke", "999"]).exit_code == 1


def test_bad_tokens_from_one_address_are_slowed_down(hotline_app, clock):
    client = hotline_app.test_client()
    bad = {"Authorization": "Bearer hl_guess"}
    codes = [client.get("/api/v1/me", headers=bad).status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
    refused = client.get("/api/v1/me", headers=bad)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json["code"] == 429
    good = ApiClient(hotline_app, make_token(hotline_app, "op1"))
    assert good.get("/api/v1/me").status_code == 429  # the address waits, whatever it sends
    clock.advance(timedelta(minutes=1, seconds=1))
    assert good.get("/api/v1/me").status_code == 200


def test_the_tokens_page_makes_and_revokes_ones_own_tokens(as_role, hotline_app):
    browser = as_role("handler")
    page = browser.get("/api/tokens")
    assert page.status_code == 200 and "API 令牌" in page.get_data(as_text=True)
    token = csrf_token(browser, "/api/tokens")
    made = browser.post("/api/tokens", data={"name": "my script", "csrf_token": token})
    assert made.status_code == 201
    html = made.get_data(as_text=True)
    secret = html.split('<code id="new-token">')[1].split("</code>")[0]
    assert ApiClient(hotline_app, secret).get("/api/v1/me").json["username"] == "h_mr"
    assert secret not in browser.get("/api/tokens").get_data(as_text=True)  # shown once
    unnamed = browser.post("/api/tokens", data={"name": " ", "csrf_token": token})
    assert unnamed.status_code == 422
    no_csrf = browser.post("/api/tokens", data={"name": "x"})
    assert no_csrf.status_code == 400
    for_someone = browser.post(
        "/api/tokens", data={"name": "x", "username": "op1", "csrf_token": token}
    )
    assert for_someone.status_code == 403
    with hotline_app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    other = as_role("operator")
    other_token = csrf_token(other, "/api/tokens")
    assert (
        other.post(f"/api/tokens/{token_id}/revoke", data={"csrf_token": other_token}).status_code
        == 404
    )
    assert "my script" not in other.get("/api/tokens").get_data(as_text=True)
    revoked = browser.post(f"/api/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert ApiClient(hotline_app, secret).get("/api/v1/me").status_code == 401
    assert hotline_app.test_client().get("/api/tokens").status_code == 302  # sign in first


def test_an_administrator_makes_tokens_for_others(as_role, hotline_app):
    admin = as_role("admin")
    token = csrf_token(admin, "/api/tokens")
    made = admin.post(
        "/api/tokens", data={"name": "switchboard", "username": "op1", "csrf_token": token}
    )
    assert made.status_code == 201
    secret = made.get_data(as_text=True).split('<code id="new-token">')[1].split("</code>")[0]
    assert ApiClient(hotline_app, secret).get("/api/v1/me").json["username"] == "op1"
    nobody = admin.post(
        "/api/tokens", data={"name": "x", "username": "nobody", "csrf_token": token}
    )
    assert (
        nobody.status_code == 422
        and "No such user" in nobody.get_data(as_text=True)
        or ("没有" in nobody.get_data(as_text=True))
    )
    assert "switchboard" in admin.get("/api/tokens").get_data(as_text=True)
    with hotline_app.app_context():
        row = db.session.scalars(select(ApiToken)).one()
        assert row.created_by == "admin"
