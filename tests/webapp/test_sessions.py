"""Server-side sessions: logout, password changes and deactivation end them everywhere;
idle and absolute expiry; the own account page; the password policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.webapp.pages import PASSWORD, login, post
from webapp import signals
from webapp.extensions import db
from workflows.users.models import User
from workflows.users.sign_in_models import UserSession

NEW_PASSWORD = "Harbour-lights-9"


@pytest.fixture
def real_expiry(hotline_app):
    """The shipped idle and absolute limits (page tests run with long sessions)."""
    hotline_app.config["SESSION_IDLE_MINUTES"] = 30
    hotline_app.config["SESSION_MAX_HOURS"] = 12
    return hotline_app


@pytest.fixture
def sent():
    """The sign-in signals sent during the test, as (signal name, kwargs)."""
    seen: list[tuple[str, dict]] = []
    receivers = []
    for signal in (signals.sign_in_failed, signals.signed_in, signals.sessions_ended):

        def receiver(sender, _name=signal.name, **kwargs):
            if "user" in kwargs:  # read while the request's session is open
                kwargs["username"] = kwargs.pop("user").username
            seen.append((_name, kwargs))

        signal.connect(receiver)
        receivers.append((signal, receiver))
    yield seen
    for signal, receiver in receivers:
        signal.disconnect(receiver)


def signed_in(app, username: str):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def is_signed_in(client) -> bool:
    return client.get("/cases").status_code == 200


def test_logout_ends_the_session_and_the_old_cookie_is_refused(hotline_app, sent):
    client = signed_in(hotline_app, "h_mr")
    cookie = client.get_cookie("session").value
    post(client, "/logout", token_from="/cases")
    assert not is_signed_in(client)
    replay = hotline_app.test_client()
    replay.set_cookie("session", cookie)
    response = replay.get("/cases")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    uid = user_id(hotline_app, "h_mr")
    assert ("sessions-ended", {"user_id": uid, "reason": "logout", "sessions": 1}) in sent
    assert any(
        n == "signed-in" and k["username"] == "h_mr" and k["ip"] == "127.0.0.1" for n, k in sent
    )


def test_the_cookie_carries_only_a_session_id(hotline_app):
    client = signed_in(hotline_app, "h_mr")
    with client.session_transaction() as session:
        assert "user_id" not in session and isinstance(session["sid"], str)
        token = session["sid"]
    with hotline_app.app_context():
        stored = db.session.scalars(select(UserSession.token_hash)).all()
    assert stored and token not in stored  # only its hash is stored


def test_idle_sessions_end(real_expiry, clock):
    client = signed_in(real_expiry, "h_mr")
    for _ in range(4):  # in use every 29 minutes: still signed in after two hours
        clock.advance(timedelta(minutes=29))
        assert is_signed_in(client)
    clock.advance(timedelta(minutes=31))
    response = client.get("/cases")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert "inactivity" in page or "长时间未操作" in page
    with real_expiry.app_context():
        assert db.session.scalars(select(UserSession.end_reason)).all() == ["idle"]


def test_sessions_end_after_their_absolute_lifetime(real_expiry, clock):
    client = signed_in(real_expiry, "h_mr")
    for _ in range(35):  # busy every 20 minutes for 11 h 40 min
        clock.advance(timedelta(minutes=20))
        assert is_signed_in(client)
    clock.advance(timedelta(minutes=20))
    assert not is_signed_in(client)
    with real_expiry.app_context():
        assert db.session.scalars(select(UserSession.end_reason)).all() == ["expired"]


def test_last_seen_is_written_at_most_once_a_minute(hotline_app, clock):
    client = signed_in(hotline_app, "h_mr")

    def last_seen():
        with hotline_app.app_context():
            return db.session.scalars(select(UserSession.last_seen_at)).one()

    first = last_seen()
    clock.advance(timedelta(seconds=30))
    assert is_signed_in(client) and last_seen() == first
    clock.advance(timedelta(seconds=31))
    assert is_signed_in(client) and last_seen() == clock.now()


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def test_an_administrators_password_change_ends_every_session_of_the_user(hotline_app, as_role):
    phone, desk = signed_in(hotline_app, "h_mr"), signed_in(hotline_app, "h_mr")
    admin = as_role("admin")
    uid = user_id(hotline_app, "h_mr")
    response = post(
        admin,
        f"/admin/users/{uid}",
        {"display_name": "H", "role": "handler", "department_id": "", "active": "on",
         "password": NEW_PASSWORD},
        token_from=f"/admin/users/{uid}",
    )  # fmt: skip
    if response.status_code == 400:  # the handler's department, as the form shows it
        with hotline_app.app_context():
            department = db.session.get(User, uid).department_id
        response = post(
            admin,
            f"/admin/users/{uid}",
            {"display_name": "H", "role": "handler", "department_id": str(department),
             "active": "on", "password": NEW_PASSWORD},
            token_from=f"/admin/users/{uid}",
        )  # fmt: skip
    assert response.status_code == 302
    assert not is_signed_in(phone) and not is_signed_in(desk)
    assert is_signed_in(admin)
    assert login(hotline_app.test_client(), "h_mr", NEW_PASSWORD).status_code == 302


def test_deactivation_ends_every_session_of_the_user(hotline_app, as_role):
    other = signed_in(hotline_app, "op2")
    admin = as_role("admin")
    uid = user_id(hotline_app, "op2")
    response = post(
        admin,
        f"/admin/users/{uid}",
        {"display_name": "Op 2", "role": "operator", "department_id": ""},  # active unticked
        token_from=f"/admin/users/{uid}",
    )
    assert response.status_code == 302
    assert not is_signed_in(other)
    with hotline_app.app_context():
        reasons = db.session.scalars(
            select(UserSession.end_reason).where(UserSession.user_id == uid)
        ).all()
    assert reasons == ["deactivated"]


def test_an_administrator_ends_all_sessions_of_a_user(hotline_app, as_role, sent):
    other = signed_in(hotline_app, "op2")
    admin = as_role("admin")
    uid = user_id(hotline_app, "op2")
    response = post(admin, f"/admin/users/{uid}/sessions/end", token_from=f"/admin/users/{uid}")
    assert response.status_code == 302
    assert not is_signed_in(other)
    assert any(n == "sessions-ended" and k["reason"] == "revoked" for n, k in sent)


def change_password(client, current: str, new: str, confirm: str | None = None):
    return post(
        client,
        "/account/password",
        {"current_password": current, "new_password": new,
         "confirm_password": new if confirm is None else confirm},
        token_from="/account",
    )  # fmt: skip


def test_changing_ones_own_password_keeps_this_browser_and_ends_the_others(hotline_app):
    here, there = signed_in(hotline_app, "h_mr"), signed_in(hotline_app, "h_mr")
    response = change_password(here, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert is_signed_in(here) and not is_signed_in(there)
    assert login(hotline_app.test_client(), "h_mr", PASSWORD).status_code == 401
    assert login(hotline_app.test_client(), "h_mr", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "new, field",
    [
        ("Short-1", "new_password"),  # too short
        ("alllowercaseletters", "new_password"),  # one class of four
        ("lowercase-and-other", "new_password"),  # two classes
    ],
)
def test_the_password_policy_refuses_weak_new_passwords(hotline_app, new, field):
    client = signed_in(hotline_app, "h_mr")
    response = change_password(client, PASSWORD, new)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert "At least 10 characters" in page or "至少 10 个字符" in page
    assert login(hotline_app.test_client(), "h_mr", PASSWORD).status_code == 302  # unchanged


def test_a_wrong_current_password_or_a_mismatch_is_named(hotline_app):
    client = signed_in(hotline_app, "h_mr")
    wrong = change_password(client, "not-it", NEW_PASSWORD)
    assert wrong.status_code == 400 and 'id="current_password-error"' in wrong.get_data(
        as_text=True
    )
    differ = change_password(client, PASSWORD, NEW_PASSWORD, "Something-else-1")
    assert differ.status_code == 400 and 'id="confirm_password-error"' in differ.get_data(
        as_text=True
    )


def test_the_policy_applies_to_administrators_too(hotline_app, as_role):
    admin = as_role("admin")
    response = post(
        admin,
        "/admin/users/new",
        {"username": "weak", "display_name": "W", "role": "operator", "password": "password"},
        token_from="/admin/users/new",
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "At least 10 characters" in page or "至少 10 个字符" in page
    with hotline_app.app_context():
        assert db.session.scalar(select(User.id).where(User.username == "weak")) is None


def test_the_policy_is_configurable(hotline_app, as_role):
    hotline_app.config["PASSWORD_MIN_LENGTH"] = 4
    hotline_app.config["PASSWORD_CLASSES"] = 1
    admin = as_role("admin")
    response = post(
        admin,
        "/admin/users/new",
        {"username": "easy", "display_name": "E", "role": "operator", "password": "abcd"},
        token_from="/admin/users/new",
    )
    assert response.status_code == 302


def test_the_account_page_lists_my_sessions_and_ends_another(hotline_app):
    here, there = signed_in(hotline_app, "h_mr"), signed_in(hotline_app, "h_mr")
    page = here.get("/account").get_data(as_text=True)
    assert page.count("/account/sessions/") == 2  # the other's end button, and end-others
    with hotline_app.app_context():
        ids = db.session.scalars(select(UserSession.id).order_by(UserSession.id)).all()
    response = post(here, f"/account/sessions/{ids[1]}/end", token_from="/account")
    assert response.status_code == 302
    assert is_signed_in(here) and not is_signed_in(there)
    # someone else's session is not mine to end
    mine = signed_in(hotline_app, "op1")
    assert post(mine, f"/account/sessions/{ids[0]}/end", token_from="/account").status_code == 404
    assert is_signed_in(here)


def test_signing_in_again_in_one_browser_ends_its_earlier_session(hotline_app):
    client = signed_in(hotline_app, "h_mr")
    again = post(client, "/login", {"username": "op1", "password": PASSWORD}, token_from="/cases")
    assert again.status_code == 302
    with hotline_app.app_context():
        rows = db.session.execute(
            select(UserSession.user_id, UserSession.end_reason).order_by(UserSession.id)
        ).all()
    assert [reason for _uid, reason in rows] == ["logout", None]
    assert client.get("/intake").status_code == 200  # op1 now


def test_an_administrator_changing_their_own_password_stays_signed_in(hotline_app, as_role):
    admin, elsewhere = as_role("admin"), as_role("admin")
    uid = user_id(hotline_app, "admin")
    response = post(
        admin,
        f"/admin/users/{uid}",
        {"display_name": "Admin", "role": "admin", "department_id": "", "active": "on",
         "password": NEW_PASSWORD},
        token_from=f"/admin/users/{uid}",
    )  # fmt: skip
    assert response.status_code == 302
    assert admin.get("/admin").status_code == 200
    assert elsewhere.get("/admin").status_code == 302


def test_sessions_ended_a_month_ago_are_deleted(hotline_app, clock):
    client = signed_in(hotline_app, "h_mr")
    post(client, "/logout", token_from="/cases")
    clock.advance(timedelta(days=29))
    signed_in(hotline_app, "op1")
    clock.advance(timedelta(days=2))
    signed_in(hotline_app, "op2")  # each sign-in deletes what is more than 30 days old
    with hotline_app.app_context():
        users = db.session.scalars(
            select(User.username).join(UserSession, UserSession.user_id == User.id)
        ).all()
    assert sorted(users) == ["op1", "op2"]
