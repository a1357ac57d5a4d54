"""Sign-in throttling: per name and address, per address, per account from strangers' addresses,
per password; refused before the hash; nobody locks a user out from elsewhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

import webapp.security as security
from tests.webapp.pages import PASSWORD, csrf_token
from webapp.extensions import db
from workflows.users.sign_in_models import SignInFailure


def attempt(app, username: str, password: str, ip: str):
    """One sign-in from ``ip`` in a fresh browser."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    token = csrf_token(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def hashes(monkeypatch):
    """The password hashes computed (each call of check_password_hash)."""
    calls: list[str] = []
    real = security.check_password_hash

    def counting(stored: str, password: str) -> bool:
        calls.append(password)
        return real(stored, password)

    monkeypatch.setattr(security, "check_password_hash", counting)
    return calls


def failures(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SignInFailure))


def test_a_stranger_cannot_keep_the_administrator_out(hotline_app, clock):
    # the attacker hammers "admin" from one address, for an hour, with wrong passwords
    statuses = []
    for _ in range(60):
        statuses.append(attempt(hotline_app, "admin", "guess", "203.0.113.9").status_code)
        clock.advance(timedelta(minutes=1))
    assert statuses[:2] == [401, 401] and statuses.count(429) > 40
    # the administrator at their own desk signs in at once, first time
    assert attempt(hotline_app, "admin", PASSWORD, "10.1.1.5").status_code == 302
    # and the attacker is still slowed down
    assert attempt(hotline_app, "admin", "guess", "203.0.113.9").status_code == 429


def test_throttled_attempts_do_not_run_the_hash(hotline_app, hashes):
    codes = [attempt(hotline_app, "h_mr", "nope", "203.0.113.9").status_code for _ in range(13)]
    assert codes == [401, 401] + [429] * 11
    assert len(hashes) == 3  # the three failures that were checked; ten refused cheaply
    refused = attempt(hotline_app, "h_mr", "nope", "203.0.113.9")
    assert int(refused.headers["Retry-After"]) >= 1
    assert "try again in" in refused.get_data(as_text=True) or "秒后" in refused.get_data(
        as_text=True
    )


def test_unknown_user_names_cost_what_real_ones_do(hotline_app, hashes):
    known = attempt(hotline_app, "h_mr", "nope", "198.51.100.1")
    unknown = attempt(hotline_app, "no_such_user", "nope", "198.51.100.2")
    assert known.status_code == unknown.status_code == 401
    assert known.get_data(as_text=True).count("error-message") == 1
    assert len(hashes) == 2 and failures(hotline_app) == 2  # a hash and a row each
    # and unknown names are throttled like real ones
    codes = [
        attempt(hotline_app, "no_such_user", "x", "198.51.100.2").status_code for _ in range(4)
    ]
    assert codes == [401, 429, 429, 429]


def test_wrong_passwords_across_many_accounts_from_one_address(hotline_app, hashes):
    limit = hotline_app.config["SIGNIN_ADDRESS_FAILURES"]
    names = [f"user{i}" for i in range(limit)]  # one try each: no name reaches its own limit
    codes = [
        attempt(hotline_app, name, f"pw{i}", "203.0.113.7").status_code
        for i, name in enumerate(names)
    ]
    assert codes[:-1] == [401] * (limit - 1) and codes[-1] == 429
    calls = len(hashes)
    # now every name from that address waits, a real user's right password included...
    assert attempt(hotline_app, "op1", "another", "203.0.113.7").status_code == 429
    assert attempt(hotline_app, "op1", PASSWORD, "203.0.113.7").status_code == 429
    assert len(hashes) == calls
    # ...while the same user from another address signs in
    assert attempt(hotline_app, "op1", PASSWORD, "10.1.1.6").status_code == 302


def test_one_password_across_many_accounts_from_many_addresses(hotline_app, hashes):
    accounts = hotline_app.config["SIGNIN_PASSWORD_ACCOUNTS"]
    names = ["op1", "op2", "disp1", "sup1", "cb1", "lead1", "h_mr"][: accounts + 1]
    for i, name in enumerate(names[:accounts]):
        assert attempt(hotline_app, name, "Spring2026!", f"192.0.2.{i + 1}").status_code == 401
    calls = len(hashes)
    # the same password, a new account, a new address: refused before the hash
    assert attempt(hotline_app, names[-1], "Spring2026!", "192.0.2.200").status_code == 429
    assert len(hashes) == calls
    # any other password is checked as usual
    assert attempt(hotline_app, names[-1], "Summer2026!", "192.0.2.201").status_code == 401
    assert attempt(hotline_app, names[-1], PASSWORD, "192.0.2.202").status_code == 302


def test_guessing_one_account_from_many_addresses_spares_the_users_own(hotline_app, clock):
    hotline_app.config["SIGNIN_ACCOUNT_FAILURES"] = 5
    assert attempt(hotline_app, "sup1", PASSWORD, "10.1.1.7").status_code == 302  # their desk
    clock.advance(timedelta(hours=1))
    codes = [
        attempt(hotline_app, "sup1", f"guess{i}", f"198.51.100.{i + 10}").status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 401, 429]  # the fifth reaches the limit
    # a sixth address is slowed down, even with the right password...
    assert attempt(hotline_app, "sup1", PASSWORD, "198.51.100.99").status_code == 429
    # ...but not the address sup1 signed in from before
    assert attempt(hotline_app, "sup1", PASSWORD, "10.1.1.7").status_code == 302
    clock.advance(timedelta(minutes=16))  # the window has passed
    assert attempt(hotline_app, "sup1", PASSWORD, "198.51.100.99").status_code == 302


def test_too_many_hashes_at_once_are_refused_quickly(hotline_app, hashes):
    attempt(hotline_app, "op1", PASSWORD, "10.1.1.8")  # the app makes its semaphore
    slots = hotline_app.extensions["hotline_hash_slots"]
    taken = 0
    while slots.acquire(blocking=False):  # every slot busy with other sign-ins
        taken += 1
    try:
        calls = len(hashes)
        busy = attempt(hotline_app, "op1", PASSWORD, "10.1.1.8")
        assert busy.status_code == 503 and busy.headers["Retry-After"] == "1"
        assert len(hashes) == calls
    finally:
        for _ in range(taken):
            slots.release()
    assert taken == hotline_app.config["SIGNIN_CONCURRENT_HASHES"]
    assert attempt(hotline_app, "op1", PASSWORD, "10.1.1.8").status_code == 302


def test_old_failures_are_pruned(hotline_app, clock):
    for i in range(3):
        attempt(hotline_app, f"user{i}", "x", "198.51.100.50")
    assert failures(hotline_app) == 3
    clock.advance(timedelta(minutes=16))
    attempt(hotline_app, "user9", "x", "198.51.100.51")
    assert failures(hotline_app) == 1


def test_refusals_are_announced_for_the_audit_log_and_metrics(hotline_app):
    from webapp import signals

    seen = []

    def receiver(sender, **kwargs):
        seen.append((kwargs["username"], kwargs["ip"], kwargs["reason"]))

    signals.sign_in_failed.connect(receiver)
    try:
        for _ in range(4):
            attempt(hotline_app, "nobody", "x", "198.51.100.60")
    finally:
        signals.sign_in_failed.disconnect(receiver)
    assert seen == [("nobody", "198.51.100.60", "wrong")] * 3 + [
        ("nobody", "198.51.100.60", "throttled")
    ]
