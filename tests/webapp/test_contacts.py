"""Where staff and departments are told: contact fields on departments and users (checked,
stored in one form, the webhook secret never shown back), each person's notification settings
on their account page, and the policy's SMS switches."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from tests.webapp.pages import post
from tests.webapp.test_admin import policy_form
from webapp.extensions import db
from workflows.audit.models import AuditEntry
from workflows.departments.models import Department
from workflows.notifications import contacts
from workflows.notifications.notices import Channel, Notice
from workflows.notifications.preferences import channels_for, differences
from workflows.policy.models import DeadlinePolicy
from workflows.seed import DEMO_MAIL_DOMAIN
from workflows.users.models import User

NEW_DEPT = "/admin/departments/new"
NEW_USER = "/admin/users/new"


def text(response) -> str:
    return response.get_data(as_text=True)


def field_errors(page: str) -> dict[str, str]:
    """field name -> its error text, from the admin forms' markup."""
    found = {}
    for block in re.findall(r'<div class="field has-error">.*?</div>', page, re.S):
        name = re.search(r'for="f_([a-z_]+)"', block).group(1)
        found[name] = " ".join(re.findall(r'class="field-error"[^>]*>([^<]*)<', block))
    return found


def department(app, code: str) -> Department:
    with app.app_context():
        row = db.session.scalars(select(Department).where(Department.code == code)).one()
        db.session.expunge(row)
        return row


def user(app, username: str) -> User:
    with app.app_context():
        row = db.session.scalars(select(User).where(User.username == username)).one()
        db.session.expunge(row)
        return row


def dept_form(**overrides) -> dict:
    form = {"code": "S-HT", "name": "荷塘镇", "level": "street", "active": "true"}
    form.update(overrides)
    return form


# -- departments ---------------------------------------------------------------------------------


def test_department_contact_fields_are_checked_each_on_its_field(as_role, hotline_app):
    client = as_role("admin")
    response = post(
        client,
        NEW_DEPT,
        dept_form(
            duty_phone="0750-abc",
            duty_email="duty@",
            webhook_url="ftp://oa.example/hook",
            webhook_secret="short",
        ),
        token_from=NEW_DEPT,
    )
    assert response.status_code == 400
    errors = field_errors(text(response))
    assert set(errors) == {"duty_phone", "duty_email", "webhook_url", "webhook_secret"}
    assert "电话号码" in errors["duty_phone"] and "邮箱" in errors["duty_email"]
    assert "http" in errors["webhook_url"] and "16" in errors["webhook_secret"]
    assert 'value="short"' not in text(response)  # a secret is never sent back
    with hotline_app.app_context():
        assert db.session.scalar(select(Department.id).where(Department.code == "S-HT")) is None
    # a host is needed, and a port must be a number
    for url in ("https://", "http://oa.example:port/x", "oa.example/hook"):
        response = post(client, NEW_DEPT, dept_form(webhook_url=url), token_from=NEW_DEPT)
        assert set(field_errors(text(response))) == {"webhook_url"}, url


def test_a_department_saves_its_contacts_and_its_secret_is_shown_once(as_role, hotline_app):
    client = as_role("admin")
    response = post(
        client,
        NEW_DEPT,
        dept_form(
            duty_phone="+86 139-0000-9999",
            duty_email="duty.ht@jiangmen.example",
            webhook_url="https://oa.hetang.example/hotline",
        ),
        token_from=NEW_DEPT,
    )
    # a webhook URL without a secret gets a generated one, shown on this page only
    assert response.status_code == 200
    row = department(hotline_app, "S-HT")
    assert (row.duty_phone, row.duty_email) == ("13900009999", "duty.ht@jiangmen.example")
    assert row.webhook_url == "https://oa.hetang.example/hotline"
    assert len(row.webhook_secret) >= 32 and row.webhook_secret in text(response)
    first = row.webhook_secret
    edit = f"/admin/departments/{row.id}"
    page = text(client.get(edit))
    assert first not in page and "已设置密钥：••••••••" in page
    assert 'value="13900009999"' in page
    # saving without touching the secret keeps it; "generate" makes a new one, shown once
    form = dept_form(
        duty_phone="13900009999",
        duty_email="duty.ht@jiangmen.example",
        webhook_url="https://oa.hetang.example/hotline",
    )
    assert post(client, edit, form, token_from=edit).status_code == 302
    assert department(hotline_app, "S-HT").webhook_secret == first
    response = post(client, edit, {**form, "webhook_secret_action": "generate"}, token_from=edit)
    second = department(hotline_app, "S-HT").webhook_secret
    assert response.status_code == 200 and second != first and second in text(response)
    # a typed secret is stored as typed and not shown; "remove" clears it
    typed = "a-secret-the-unit-chose-1234"
    response = post(client, edit, {**form, "webhook_secret": typed}, token_from=edit)
    assert response.status_code == 302
    assert department(hotline_app, "S-HT").webhook_secret == typed
    post(
        client,
        edit,
        {**form, "webhook_url": "", "webhook_secret_action": "clear"},
        token_from=edit,
    )
    row = department(hotline_app, "S-HT")
    assert (row.webhook_url, row.webhook_secret) == ("", "")
    # the audit log says the secret changed, never what it is
    with hotline_app.app_context():
        details = [
            str(e.detail)
            for e in db.session.scalars(
                select(AuditEntry).where(AuditEntry.action.like("department.%"))
            )
        ]
    assert details and not any(s in d for d in details for s in (first, second, typed))
    assert any("webhook_secret_changed" in d for d in details)


# -- users ---------------------------------------------------------------------------------------


def test_user_contact_fields_are_checked_and_stored(as_role, hotline_app):
    client = as_role("admin")
    form = {
        "username": "op9",
        "display_name": "接线员 九",
        "role": "operator",
        "password": "long-enough-1",
        "phone": "139 0000 12",
        "email": "op9 @example.gov.cn",
        "lang": "fr",
    }
    response = post(client, NEW_USER, form, token_from=NEW_USER)
    assert response.status_code == 400
    assert set(field_errors(text(response))) == {"phone", "email", "lang"}
    response = post(
        client,
        NEW_USER,
        {**form, "phone": "139-0000-1234", "email": "op9@example.gov.cn", "lang": "en"},
        token_from=NEW_USER,
    )
    assert response.status_code == 302
    row = user(hotline_app, "op9")
    assert (row.phone, row.email, row.lang) == ("13900001234", "op9@example.gov.cn", "en")
    edit = f"/admin/users/{row.id}"
    page = text(client.get(edit))
    assert 'value="13900001234"' in page and 'value="op9@example.gov.cn"' in page
    response = post(
        client,
        edit,
        {"display_name": "接线员 九", "role": "operator", "active": "true", "phone": "0750 1234567",
         "email": "", "lang": "zh"},
        token_from=edit,
    )  # fmt: skip
    assert response.status_code == 302
    row = user(hotline_app, "op9")
    assert (row.phone, row.email, row.lang) == ("07501234567", "", "zh")


def test_the_services_refuse_a_bad_contact_with_the_field():
    with pytest.raises(contacts.ContactInvalid) as caught:
        contacts.phone("call me", field="duty_phone")
    assert caught.value.field == "duty_phone" and caught.value.problem == "phone"
    assert contacts.phone(" (0750) 000-0101 ") == "07500000101"
    assert contacts.phone("") == "" and contacts.email("  ") == ""
    assert contacts.webhook_url("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080/x"


# -- the demo city -------------------------------------------------------------------------------


def test_the_demo_city_has_fictional_contacts_for_every_alert(hotline_app):
    with hotline_app.app_context():
        departments = db.session.scalars(select(Department)).all()
        everyone = db.session.scalars(select(User)).all()
        # the phone system (pbx) is told nothing: it has no contacts
        users = [u for u in everyone if u.role != "telephony"]
        assert [(u.username, u.phone, u.email) for u in everyone if u.role == "telephony"] == [
            ("pbx", "", "")
        ]
        assert all(d.duty_phone.startswith("13800000") for d in departments)
        assert all(d.duty_email.endswith("@" + DEMO_MAIL_DOMAIN) for d in departments)
        hooks = [d for d in departments if d.webhook_url]
        assert hooks and all(".example/" in d.webhook_url and d.webhook_secret for d in hooks)
        assert all(u.phone.startswith("1390000") for u in users)
        assert all(u.email.endswith("@" + DEMO_MAIL_DOMAIN) for u in users)
        assert len({u.phone for u in users}) == len(users)


def test_the_department_list_shows_which_alerts_a_unit_gets(as_role):
    client = as_role("admin")
    page = text(client.get("/admin/departments?q=B-MR"))
    assert "值班电话 · 值班邮箱 · Webhook" in page
    csv = text(client.get("/admin/departments?format=csv"))
    assert csv.splitlines()[0].endswith("duty_phone,duty_email,webhook_url")
    assert "duty.b-mr@jiangmen12345.example,https://oa.market-regulation.example" in csv


# -- preferences ---------------------------------------------------------------------------------


def person(phone="", email="", prefs=None):
    return SimpleNamespace(phone=phone, email=email, notify_prefs=prefs or {})


def test_channels_for_uses_the_defaults_then_the_preferences():
    reachable = person("13900000001", "a@example.gov.cn")
    assert channels_for(reachable, Notice.OVERDUE) == (Channel.INAPP, Channel.SMS)
    assert channels_for(reachable, Notice.INCIDENT) == (Channel.INAPP, Channel.EMAIL)
    assert channels_for(reachable, Notice.DISPATCHED) == (Channel.INAPP,)
    chose = person(
        "13900000001", "a@example.gov.cn", {"dispatched": ["email", "sms"], "overdue": []}
    )
    assert channels_for(chose, Notice.DISPATCHED) == (Channel.SMS, Channel.EMAIL)
    assert channels_for(chose, Notice.OVERDUE) == ()
    # no phone, no address: SMS and e-mail dropped, whatever was chosen
    assert channels_for(person(), Notice.OVERDUE) == (Channel.INAPP,)
    assert channels_for(person(prefs={"dispatched": ["sms", "email"]}), Notice.DISPATCHED) == ()
    assert differences({Notice.OVERDUE: {Channel.SMS, Channel.INAPP}}) == {}
    assert differences({Notice.OVERDUE: {Channel.INAPP}}) == {"overdue": ["inapp"]}


def test_a_person_sets_contacts_and_notification_channels(as_role, hotline_app):
    client = as_role("operator")
    page = text(client.get("/account"))
    assert 'value="13900000001"' in page and "op1@" + DEMO_MAIL_DOMAIN in page
    overdue = re.search(r'<tr data-notice="overdue">.*?</tr>', page, re.S).group(0)
    assert re.search(r'value="sms"\s+checked', overdue)  # the default: in the app and SMS
    assert "受理回执" not in page  # citizens' notices are not a staff choice
    # choose: overdue by e-mail only; dispatched by SMS too; everything else as it was
    response = post(
        client,
        "/account/notifications",
        {"notice.overdue": "email", "notice.dispatched": ["inapp", "sms"],
         **{f"notice.{n}": "inapp" for n in ("cohandle_requested", "yellow_warning",
            "return_decided", "reopened", "task_assigned", "callback_due",
            "appeal_decided", "appeal_filed", "wave_detected")},
         "notice.supervision_order": ["inapp", "sms"], "notice.incident": ["inapp", "email"]},
        token_from="/account",
    )  # fmt: skip
    assert response.status_code == 302
    row = user(hotline_app, "op1")
    assert row.notify_prefs == {"dispatched": ["inapp", "sms"], "overdue": ["email"]}
    page = text(client.get("/account"))
    overdue = re.search(r'<tr data-notice="overdue">.*?</tr>', page, re.S).group(0)
    assert re.search(r'value="email"\s+checked', overdue)
    assert not re.search(r'value="sms"\s+checked', overdue)
    # a phone that is not one is refused on its field; nothing changes
    response = post(
        client, "/account/contacts", {"phone": "12345abc", "email": "x@y", "lang": "zh"},
        token_from="/account",
    )  # fmt: skip
    assert response.status_code == 400
    page = text(response)
    assert 'id="phone-error"' in page and 'id="email-error"' in page
    assert user(hotline_app, "op1").phone == "13900000001"
    # no phone: SMS cannot be chosen (a hint says why), and the earlier SMS choice is kept
    response = post(
        client, "/account/contacts", {"phone": "", "email": "op1@example.gov.cn", "lang": "en"},
        token_from="/account",
    )  # fmt: skip
    assert response.status_code == 302
    row = user(hotline_app, "op1")
    assert (row.phone, row.email, row.lang) == ("", "op1@example.gov.cn", "en")
    page = text(client.get("/account"))
    assert 'data-hint="sms"' in page
    dispatched = re.search(r'<tr data-notice="dispatched">.*?</tr>', page, re.S).group(0)
    assert re.search(r'value="sms"\s+checked\s+disabled', dispatched)
    post(client, "/account/notifications", {"notice.dispatched": "inapp"}, token_from="/account")
    assert user(hotline_app, "op1").notify_prefs["dispatched"] == ["inapp", "sms"]
    assert channels_for(user(hotline_app, "op1"), Notice.DISPATCHED) == (Channel.INAPP,)


# -- policy switches -----------------------------------------------------------------------------


def test_the_sms_switches_of_a_policy_row_are_saved(as_role, hotline_app):
    client = as_role("admin")
    with hotline_app.app_context():
        row = db.session.scalars(
            select(DeadlinePolicy).where(
                DeadlinePolicy.case_type == "complaint",
                DeadlinePolicy.urgency == "normal",
                DeadlinePolicy.category == "",
            )
        ).one()
        policy_id = row.id
        assert (row.sms_survey, row.sms_unsatisfied_reopens) == (True, False)
    path = f"/admin/policies/{policy_id}"
    page = text(client.get(path))
    assert "短信满意度回访" in page and "短信不满意自动重办" in page
    form = policy_form(sms_survey="false", sms_unsatisfied_reopens="true")
    assert post(client, path, form, token_from=path).status_code == 302
    with hotline_app.app_context():
        row = db.session.get(DeadlinePolicy, policy_id)
        assert (row.sms_survey, row.sms_unsatisfied_reopens) == (False, True)
    listing = text(client.get("/admin/policies"))
    assert "短信回访" in listing and "短信不满意重办" in listing
    csv = text(client.get("/admin/policies?format=csv"))
    assert csv.splitlines()[0].endswith("sms_survey,sms_unsatisfied_reopens")


def test_the_new_fields_are_labelled_in_english_and_chinese(as_role):
    client = as_role("admin")
    assert "值班电话" in text(client.get(NEW_DEPT)) and "消息语言" in text(client.get(NEW_USER))
    assert "联系方式" in text(client.get("/account"))
    assert "通知模板" in text(client.get("/admin"))
    post(client, "/language", {"lang": "en", "next": "/admin"}, token_from="/admin")
    page = text(client.get(NEW_DEPT))
    assert "Duty phone" in page and "Webhook URL" in page and "Generate a new random" in page
    assert "Language of messages" in text(client.get(NEW_USER))
    page = text(client.get("/account"))
    assert "Contact details" in page and "Overdue" in page and "Save notification settings" in page
    assert "SMS satisfaction survey" in text(client.get("/admin/policies/1"))
