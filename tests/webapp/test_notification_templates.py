"""Administrators edit the notices' texts: a table of every template, an edit form with a
preview and the variables, checks before saving (nothing stored when a variable is unknown or
the syntax is wrong), the SMS length, and the default restored."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from tests.webapp.pages import post
from webapp.extensions import db
from workflows.audit.models import AuditEntry
from workflows.notifications import template_admin
from workflows.notifications.models import NotificationTemplate
from workflows.notifications.notices import DEFAULT_TEMPLATES, Channel, Notice
from workflows.notifications.templates import render

EDIT = "/admin/templates/dispatched/sms/zh"


def text(response) -> str:
    return response.get_data(as_text=True)


def saved(app) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        return [
            (r.notice, r.channel, r.lang, r.body)
            for r in db.session.scalars(select(NotificationTemplate))
        ]


def test_the_table_lists_every_template_marked_default_or_edited(as_role, hotline_app):
    client = as_role("admin")
    page = text(client.get("/admin/templates"))
    listed = re.findall(r'data-template="([^"]+)"', page)
    assert len(listed) == len(DEFAULT_TEMPLATES)
    assert "dispatched/sms/zh" in listed and "survey/email/en" in listed
    # citizens hear nothing in the app: no in-app template for them
    assert "survey/inapp/zh" not in listed and "incident/inapp/en" in listed
    assert "通知模板" in page and "默认" in page and "短信条数" in page
    post(client, EDIT, {"body": "【{{ centre }}】工单{{ case_number }}请签收。"}, token_from=EDIT)
    page = text(client.get("/admin/templates"))
    row = re.search(r'data-template="dispatched/sms/zh">.*?</tr>', page, re.S).group(0)
    assert "已修改" in row and "工单{{ case_number }}请签收" in row and "admin" in row


def test_the_edit_form_lists_the_variables_and_previews_a_sample_case(as_role):
    client = as_role("admin")
    page = text(client.get(EDIT))
    for variable in ("case_number", "sign_due", "department", "summary"):
        assert "{{ " + variable + " }}" in page, variable
    preview = re.search(r"<pre class=\"wrap\" data-preview>(.*?)</pre>", page, re.S).group(1)
    assert preview.startswith("【江门12345】新派工单JM2026120400123（噪音扰民）")
    assert "2026-12-04 17:30" in preview and "{{" not in preview
    # a preview of typed text, not saved
    response = post(
        client,
        EDIT,
        {
            "body": "{{ department }}：请于{{ sign_due }}前签收{{ case_number }}",
            "action": "preview",
        },
        token_from=EDIT,
    )
    assert response.status_code == 200
    assert "城市管理和综合执法局：请于2026-12-04 17:30前签收JM2026120400123" in text(response)
    assert 'data-segments="1"' in text(response)


def test_an_unknown_variable_is_named_and_nothing_is_saved(as_role, hotline_app):
    client = as_role("admin")
    response = post(
        client,
        EDIT,
        {"body": "工单{{ case_number }}，市民{{ caller_name }}", "action": "save"},
        token_from=EDIT,
    )
    assert response.status_code == 400
    page = text(response)
    assert "caller_name" in page and "未保存" in page
    assert "工单{{ case_number }}，市民{{ caller_name }}" in page  # what was typed stays
    assert saved(hotline_app) == []
    # a syntax error names its line
    response = post(
        client,
        EDIT,
        {"body": "第一行\n{% if sign_due %}没有结束", "action": "save"},
        token_from=EDIT,
    )
    assert response.status_code == 400 and "第 2 行" in text(response)
    # an e-mail needs a subject, and its subject is checked too
    email = "/admin/templates/overdue/email/en"
    response = post(
        client,
        email,
        {"subject": "Overdue {{ case_nr }}", "body": "Case {{ case_number }}"},
        token_from=email,
    )
    assert response.status_code == 400 and "case_nr" in text(response)
    assert saved(hotline_app) == []


def test_a_saved_template_is_used_and_audited_and_the_default_comes_back(as_role, hotline_app):
    client = as_role("admin")
    body = "【{{ centre }}】{{ department }}：新工单{{ case_number }}，{{ sign_due }}前签收。"
    response = post(client, EDIT, {"body": body, "action": "save"}, token_from=EDIT)
    assert response.status_code == 302
    assert saved(hotline_app) == [("dispatched", "sms", "zh", body)]
    with hotline_app.app_context():
        _subject, rendered = render(
            db.session,
            Notice.DISPATCHED,
            Channel.SMS,
            "zh",
            {
                "centre": "江门12345",
                "department": "水务局",
                "case_number": "X1",
                "sign_due": "明天",
            },
        )
        assert rendered == "【江门12345】水务局：新工单X1，明天前签收。"
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action.like("template.%"))
        ).all()
        assert actions == ["template.update"]
    page = text(client.get(EDIT))
    assert "/reset" in page and "由 管理员 Administrator 于" in page  # a display name
    response = post(client, EDIT + "/reset", token_from=EDIT)
    assert response.status_code == 302
    assert saved(hotline_app) == []
    page = text(client.get(EDIT))
    assert "/reset" not in page and "当前为默认文本" in page
    with hotline_app.app_context():
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "template.reset")
            )
            == 1
        )


def test_a_long_sms_shows_its_parts(as_role):
    client = as_role("admin")
    body = "【{{ centre }}】工单{{ case_number }}" + "请尽快办理。" * 12
    response = post(client, EDIT, {"body": body, "action": "preview"}, token_from=EDIT)
    page = text(response)
    count = int(re.search(r'data-segments="(\d+)"', page).group(1))
    assert count == template_admin.sms_segments(
        template_admin.preview(Notice.DISPATCHED, "", body, "zh")[1]
    )
    assert count == 2 and "分 2 条发送" in page


def test_unknown_templates_are_404_and_english_labels(as_role):
    client = as_role("admin")
    assert client.get("/admin/templates/survey/inapp/zh").status_code == 404
    assert client.get("/admin/templates/nothing/sms/zh").status_code == 404
    assert client.get("/admin/templates/survey/sms/fr").status_code == 404
    post(client, "/language", {"lang": "en", "next": "/admin"}, token_from="/admin")
    page = text(client.get("/admin/templates"))
    assert "Notification templates" in page and "SMS parts" in page and "default" in page
    assert "Variables" in text(client.get(EDIT))


def test_template_admin_functions_refuse_and_restore():
    errors = template_admin.problems(Notice.INCIDENT, Channel.SMS, "", "{{ what }} {{ nope }}")
    assert [str(p) for p in errors["body"]] == ["unknown variable 'nope'"]
    assert template_admin.problems(Notice.INCIDENT, Channel.SMS, "", "{{ what|nosuch }}")
    values = template_admin.sample_values(Notice.CASE_ACCEPTED, "en")
    assert set(values) >= {"case_number", "reply_due", "centre"} and "sign_due" not in values
    assert template_admin.sms_segments("字" * 70) == 1
    assert template_admin.sms_segments("字" * 71) == 2
    assert template_admin.sms_segments("字" * 135) == 3
    # plain ASCII goes as GSM 7-bit: 160 in one SMS, parts of 153
    assert template_admin.sms_segments("x" * 160) == 1
    assert template_admin.sms_segments("x" * 161) == 2
