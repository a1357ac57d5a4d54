"""``POST /api/v1/sms/inbound``, the SMS gateway's webhook, as the gateway calls it: the
secret, the body's fields, survey answers closing or reopening a case, TD/KT, text for a
person, unmatched numbers, a repeated post; and the system user nobody signs in as."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from engine.db import unit_of_work
from tests.webapp.pages import PASSWORD_HASH, login
from tests.webapp.test_callback_pages import awaiting_callback
from tests.webapp.test_intake import case_row
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.audit.models import AuditEntry
from workflows.cases.models import CallbackAttempt, Case
from workflows.notifications.models import Message, SmsInbound, SmsOptOut
from workflows.policy.models import DeadlinePolicy
from workflows.users.models import User

URL = "/api/v1/sms/inbound"
SECRET = "gateway-secret-0123456789"
PHONE = "13800138000"  # the caller of the intake the helpers use


@pytest.fixture
def gateway(hotline_app):
    """Post as the SMS gateway: ``gateway({"from": ..., "text": ...})``."""
    hotline_app.config["SMS_INBOUND_SECRET"] = SECRET
    client = hotline_app.test_client()

    def post(body, token=SECRET, **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return client.post(URL, json=body, headers=headers, **kwargs)

    return post


def survey_sent(app, number: str, phone: str = PHONE) -> None:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        now = get_hotline().clock.now()
        with unit_of_work(db.session):
            db.session.add(
                Message(
                    key=str(uuid.uuid4()),
                    channel="sms",
                    notice="survey",
                    audience="citizen",
                    recipient=phone,
                    case_id=case.id,
                    status="sent",
                    event_at=now,
                    created_at=now,
                )
            )


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_1_closes_the_case_as_a_satisfied_callback(hotline_app, gateway, as_role):
    number = awaiting_callback(hotline_app)
    survey_sent(hotline_app, number)
    response = gateway({"from": "+86 138 0013 8000", "text": "1"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["kind"], body["status"], body["case"], body["satisfaction"]) == (
        "survey",
        "done",
        number,
        "satisfied",
    )
    assert body["reopened"] is False and body["duplicate"] is False
    case = case_row(hotline_app, number)
    assert (case.status, case.satisfaction, case.resolved) == ("closed", "satisfied", True)
    with hotline_app.app_context():
        attempt = db.session.scalars(
            select(CallbackAttempt).where(CallbackAttempt.case_id == case.id)
        ).one()
        assert (attempt.user, attempt.result) == ("sms", "reached")
        audit = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "sms.receive")
        ).one()
        assert (audit.actor_name, audit.case_number) == ("sms", number)
    # the case page names the SMS callback
    html = as_role("callback").get(f"/cases/{number}").get_data(as_text=True)
    assert "短信回访：回复1" in html and "短信回访 SMS" in html


def test_a_3_reopens_when_the_policy_says_so(hotline_app, gateway):
    number = awaiting_callback(hotline_app)
    survey_sent(hotline_app, number)
    with hotline_app.app_context(), unit_of_work(db.session):
        for row in db.session.scalars(select(DeadlinePolicy)):
            row.sms_unsatisfied_reopens = True
    body = gateway({"from": PHONE, "text": "３", "received_at": "2026-03-02T09:30:00+08:00"})
    assert body.status_code == 200
    assert (body.json["satisfaction"], body.json["reopened"]) == ("unsatisfied", True)
    case = case_row(hotline_app, number)
    assert (case.status, case.reopen_count) == ("in_progress", 1)


def test_td_and_kt(hotline_app, gateway):
    response = gateway({"from": "139-0223-1234", "text": "td"})
    assert (response.status_code, response.json["kind"]) == (200, "optout")
    assert "opted out" in response.json["result"]
    assert count(hotline_app, SmsOptOut, SmsOptOut.phone == "13902231234") == 1
    response = gateway({"from": "13902231234", "text": "KT"})
    assert (response.json["kind"], response.json["status"]) == ("optin", "done")
    assert "opted back in" in response.json["result"]
    assert count(hotline_app, SmsOptOut) == 0


def test_text_is_a_note_on_the_case_and_waits_for_a_person(hotline_app, gateway, as_role):
    number = awaiting_callback(hotline_app)
    survey_sent(hotline_app, number)
    response = gateway({"from": PHONE, "text": "餐馆又开门了"})
    assert (response.json["kind"], response.json["status"], response.json["case"]) == (
        "text",
        "open",
        number,
    )
    assert case_row(hotline_app, number).status == "awaiting_callback"
    html = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    notes = html[html.index('id="notes"') :]
    assert "餐馆又开门了" in notes and "短信回访 SMS" in notes


def test_an_unknown_number_is_unmatched(hotline_app, gateway):
    response = gateway({"from": "13700001111", "text": "你好"})
    assert response.status_code == 200
    assert (response.json["kind"], response.json["status"], response.json["case"]) == (
        "unmatched",
        "open",
        None,
    )


def test_the_same_sms_twice_is_one_record_and_the_same_answer(hotline_app, gateway):
    number = awaiting_callback(hotline_app)
    survey_sent(hotline_app, number)
    sms = {"from": PHONE, "text": "1", "received_at": "2026-03-02T09:05:00+08:00"}
    first = gateway(sms)
    second = gateway({**sms, "received_at": "2026-03-02T01:05:00Z"})  # the same instant
    assert second.status_code == 200
    assert {**second.json, "duplicate": False} == first.json and second.json["duplicate"]
    assert count(hotline_app, SmsInbound) == 1
    assert count(hotline_app, CallbackAttempt) == 1


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": f"Basic {SECRET}"}, 401),
        ({"Authorization": f"Bearer {SECRET}x"}, 401),
    ],
)
def test_a_wrong_secret_is_refused_and_nothing_recorded(hotline_app, gateway, headers, status):
    client = hotline_app.test_client()
    response = client.post(URL, json={"from": PHONE, "text": "TD"}, headers=headers)
    assert response.status_code == status
    assert response.json["code"] == status and "Bearer" in response.json["message"]
    assert count(hotline_app, SmsInbound) == 0 and count(hotline_app, SmsOptOut) == 0


def test_no_secret_set_refuses_everything(hotline_app, gateway):
    hotline_app.config["SMS_INBOUND_SECRET"] = ""
    for token in ("", "anything", None):
        response = gateway({"from": PHONE, "text": "TD"}, token=token)
        assert response.status_code == 403
        assert "HOTLINE_SMS_INBOUND_SECRET" in response.json["message"]
    assert count(hotline_app, SmsInbound) == 0


def test_an_api_token_is_not_the_secret(hotline_app, gateway):
    from tests.api.conftest import make_token

    response = gateway({"from": PHONE, "text": "TD"}, token=make_token(hotline_app, "admin"))
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "1"}, "from"),
        ({"from": "", "text": "1"}, "from"),
        ({"from": "not a number", "text": "1"}, "from"),
        ({"from": PHONE}, "text"),
        ({"from": PHONE, "text": ""}, "text"),
        ({"from": PHONE, "text": "x" * 2001}, "text"),
        ({"from": PHONE, "text": 1}, "text"),
        ({"from": PHONE, "text": "1", "received_at": "2026-03-02T09:00:00"}, "received_at"),
        ({"from": PHONE, "text": "1", "received_at": "yesterday"}, "received_at"),
        ({"from": PHONE, "text": "1", "received_at": None}, "received_at"),
        ({"from": PHONE, "text": "1", "to": "12345"}, "to"),
    ],
)
def test_bad_bodies_name_the_field(hotline_app, gateway, body, field):
    response = gateway(body)
    assert response.status_code == 422, response.get_json()
    assert field in response.json["errors"], response.json
    assert count(hotline_app, SmsInbound) == 0


def test_a_body_that_is_no_json_object(hotline_app, gateway):
    client = hotline_app.test_client()
    headers = {"Authorization": f"Bearer {SECRET}"}
    response = client.post(URL, data="1", headers=headers, content_type="text/plain")
    assert response.status_code in (400, 415, 422) and response.json["code"] >= 400
    response = client.post(URL, json=["1"], headers=headers)
    assert response.status_code in (400, 422) and response.json["errors"]


def test_nobody_signs_in_as_the_sms_user(hotline_app, gateway):
    gateway({"from": "13700001111", "text": "KT"})  # made on first use
    assert count(hotline_app, User, User.username == "sms") == 1
    client = hotline_app.test_client()
    assert login(client, "sms", "").status_code != 302
    # even with a password set on it by someone
    with hotline_app.app_context(), unit_of_work(db.session):
        user = db.session.scalars(select(User).where(User.username == "sms")).one()
        user.password_hash = PASSWORD_HASH
    assert login(hotline_app.test_client(), "sms").status_code != 302
    assert login(hotline_app.test_client(), "cb1").status_code == 302  # the same password


@pytest.mark.slow
def test_the_webhook_keeps_its_contract_for_any_body(hotline_app, gateway):
    """Schemathesis on this one operation, with the gateway's secret: no server error and no
    answer outside the documented schema, whatever the body."""
    import schemathesis

    from tests.api.test_schemathesis import run_operation

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", hotline_app)
    operation = schema["/api/v1/sms/inbound"]["POST"]
    run_operation(operation, {"Authorization": f"Bearer {SECRET}"}, {})
