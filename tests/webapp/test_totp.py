"""The second factor: enrol with a QR code, sign in in two steps, codes used once,
recovery codes, and roles that must have it."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from tests.webapp.pages import login, post
from webapp.extensions import db
from workflows.users.models import User


def code_now(secret: str, clock) -> str:
    return pyotp.TOTP(secret).at(clock.now())


def secret_on(page: str) -> str:
    match = re.search(r'class="totp-secret">([A-Z2-7]+)<', page)
    assert match, "no key on the enrolment page"
    return match.group(1)


def enrol(client, clock, path: str = "/account/totp") -> tuple[str, list[str]]:
    page = client.get(path).get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn here
    assert "onclick" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    secret = secret_on(page)
    wrong = post(client, path, {"code": "000000"}, token_from=path)
    assert wrong.status_code == 400
    right = post(client, path, {"code": code_now(secret, clock)}, token_from=path)
    assert right.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f]{10})</code></li>", right.get_data(as_text=True))
    assert len(codes) == 8
    return secret, codes


def sign_in_with_code(app, username: str, code: str):
    client = app.test_client()
    response = login(client, username)
    assert response.status_code == 302 and response.headers["Location"] == "/login/code"
    return client, post(client, "/login/code", {"code": code}, token_from="/login/code")


def test_enrol_then_sign_in_in_two_steps(hotline_app, as_role, clock):
    client = as_role("supervisor")
    secret, _codes = enrol(client, clock)
    clock.advance(timedelta(seconds=30))
    # the password alone is not a sign-in: every page sends to the code step
    half = hotline_app.test_client()
    assert login(half, "sup1").headers["Location"] == "/login/code"
    assert half.get("/cases").headers["Location"] == "/login/code"
    wrong = post(half, "/login/code", {"code": "123456"}, token_from="/login/code")
    assert wrong.status_code == 401
    assert half.get("/cases").status_code == 302
    code = code_now(secret, clock)
    right = post(half, "/login/code", {"code": code}, token_from="/login/code")
    assert right.status_code == 302 and half.get("/cases").status_code == 200
    # the same code again, in another browser within its window: refused
    _client, replay = sign_in_with_code(hotline_app, "sup1", code)
    assert replay.status_code == 401
    clock.advance(timedelta(seconds=30))
    _client, fresh = sign_in_with_code(hotline_app, "sup1", code_now(secret, clock))
    assert fresh.status_code == 302


def test_a_recovery_code_signs_in_once(hotline_app, as_role, clock):
    client = as_role("handler")
    _secret, codes = enrol(client, clock)
    _client, first = sign_in_with_code(hotline_app, "h_mr", codes[0])
    assert first.status_code == 302
    _client, again = sign_in_with_code(hotline_app, "h_mr", codes[0])
    assert again.status_code == 401


def test_the_code_step_is_throttled_and_ends_after_too_many_wrong_codes(
    hotline_app, as_role, clock
):
    secret, _codes = enrol(as_role("handler"), clock)
    clock.advance(timedelta(seconds=30))
    client = hotline_app.test_client()
    login(client, "h_mr")
    statuses = [
        post(client, "/login/code", {"code": "000000"}, token_from="/login/code").status_code
        for _ in range(3)
    ]
    assert statuses == [401, 401, 401]
    # the third wrong code slows this address down: even the right code waits
    blocked = post(
        client, "/login/code", {"code": code_now(secret, clock)}, token_from="/login/code"
    )
    assert blocked.status_code == 429
    for _ in range(2):
        clock.advance(timedelta(seconds=20))
        post(client, "/login/code", {"code": "000000"}, token_from="/login/code")
    # five wrong codes: the half sign-in is over, the password is asked again
    assert client.get("/login/code").headers["Location"] == "/login"
    assert client.get("/cases").headers["Location"].startswith("/login")


@pytest.fixture
def required(hotline_app):
    hotline_app.config["TOTP_REQUIRED_ROLES"] = "admin, supervisor"
    return hotline_app


def test_a_required_role_must_enrol_before_any_page(required, clock):
    client = required.test_client()
    response = login(client, "admin")
    assert response.headers["Location"] == "/login/enrol"
    assert client.get("/admin").headers["Location"] == "/login/enrol"
    assert client.get("/account").headers["Location"] == "/login/enrol"
    _secret, _codes = enrol(client, clock, "/login/enrol")
    assert client.get("/admin").status_code == 200
    # the second factor cannot then be removed by its user
    page = client.get("/account").get_data(as_text=True)
    assert "/account/totp/disable" not in page
    # other roles sign in with the password alone
    operator = required.test_client()
    assert login(operator, "op1").headers["Location"] == "/"


def test_an_administrator_resets_a_lost_second_factor(hotline_app, as_role, clock):
    secret, _codes = enrol(as_role("handler"), clock)
    with hotline_app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == "h_mr"))
    admin = as_role("admin")
    page = admin.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "second-factor/reset" in page
    response = post(
        admin, f"/admin/users/{uid}/second-factor/reset", token_from=f"/admin/users/{uid}"
    )
    assert response.status_code == 302
    assert login(hotline_app.test_client(), "h_mr").headers["Location"] == "/"


def test_the_user_turns_the_second_factor_off_with_a_code(hotline_app, as_role, clock):
    client = as_role("handler")
    secret, _codes = enrol(client, clock)
    clock.advance(timedelta(seconds=30))
    wrong = post(client, "/account/totp/disable", {"code": "000000"}, token_from="/account")
    assert wrong.status_code == 400
    right = post(
        client, "/account/totp/disable", {"code": code_now(secret, clock)}, token_from="/account"
    )
    assert right.status_code == 302
    assert login(hotline_app.test_client(), "h_mr").headers["Location"] == "/"
