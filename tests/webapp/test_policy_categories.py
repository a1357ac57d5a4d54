"""Deadlines by category on the pages: the admin's category rows and the case's applied row."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.webapp.pages import post
from tests.webapp.test_admin import policy_form, text
from tests.webapp.test_cases_pages import act
from webapp.extensions import db
from workflows.policy.models import DeadlinePolicy


def policy_id(app, case_type: str, urgency: str, category: str = "") -> int | None:
    with app.app_context():
        return db.session.scalar(
            select(DeadlinePolicy.id).where(
                DeadlinePolicy.case_type == case_type,
                DeadlinePolicy.urgency == urgency,
                DeadlinePolicy.category == category,
            )
        )


def rows(html: str) -> list[str]:
    """The policy table's rows as "type urgency category" (the category cell's text)."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    out = []
    for row in re.findall(r"<tr.*?</tr>", body, re.S):
        cells = [re.sub(r"<[^>]+>|↳", "", c).strip() for c in re.findall(r"<td.*?</td>", row, re.S)]
        out.append(" ".join(cells[:3]))
    return out


def test_category_rows_are_listed_under_their_default_row(as_role):
    html = text(as_role("admin").get("/admin/policies?per_page=100"))
    listed = rows(html)
    default = listed.index("投诉 一般 （默认）")  # labels, not codes
    assert listed[default + 1] == "投诉 一般 消费维权"
    assert listed[default + 2].startswith("投诉 紧急")
    assert "分类行列在其默认行之下" in html and "添加分类行" in html
    csv = text(as_role("admin").get("/admin/policies?format=csv"))
    assert "case_type,urgency,category," in csv
    assert "complaint,normal,消费维权,7,workdays,45,workdays" in csv


def test_an_administrator_adds_edits_and_deletes_a_category_row(hotline_app, as_role):
    client = as_role("admin")
    base = policy_id(hotline_app, "help", "normal")
    new = f"/admin/policies/{base}/categories/new"
    page = text(client.get(new))
    assert "新分类行" in page and '<option value="消费维权"' in page
    response = post(client, new, policy_form(category="社保医保", reply_value="4"), token_from=new)
    assert response.status_code == 302
    made = policy_id(hotline_app, "help", "normal", "社保医保")
    with hotline_app.app_context():
        row = db.session.get(DeadlinePolicy, made)
        assert (row.reply_value, row.reply_unit, row.max_returns) == (4, "workdays", 2)
    listed = rows(text(client.get("/admin/policies?per_page=100")))
    assert listed[listed.index("求助 一般 （默认）") + 1] == "求助 一般 社保医保"

    edit = f"/admin/policies/{made}"
    page = text(client.get(edit))
    assert "求助 / 一般 / 社保医保" in page and "删除此分类行" in page
    assert post(client, edit, policy_form(reply_value="6"), token_from=edit).status_code == 302
    with hotline_app.app_context():
        row = db.session.get(DeadlinePolicy, made)
        assert (row.reply_value, row.category) == (6, "社保医保")

    response = post(client, f"{edit}/delete", token_from=edit)
    assert response.status_code == 302
    assert "此后 社保医保 的新工单按默认行办理" in text(client.get("/admin/policies"))
    assert policy_id(hotline_app, "help", "normal", "社保医保") is None


def test_category_row_errors_name_the_field(hotline_app, as_role):
    client = as_role("admin")
    base = policy_id(hotline_app, "complaint", "normal")
    new = f"/admin/policies/{base}/categories/new"
    count = len(rows(text(client.get("/admin/policies?per_page=100"))))
    # no category, a category the catalogue does not know, bad limits
    for category in ("", "没有这个分类"):
        response = post(client, new, policy_form(category=category), token_from=new)
        assert response.status_code == 400
        assert re.search(r'has-error">\s*<label for="f_category"', text(response))
    response = post(client, new, policy_form(category="食品安全", sign_value="0"), token_from=new)
    assert response.status_code == 400
    assert text(response).count('class="field-error"') == 1
    # the category already has its row: named on the category field, never a 500
    response = post(client, new, policy_form(category="消费维权"), token_from=new)
    assert response.status_code == 400
    assert "complaint / normal 已有 消费维权 的分类行，请直接修改。" in text(response)
    assert len(rows(text(client.get("/admin/policies?per_page=100")))) == count
    # a category row is added under a default row only
    consumer = policy_id(hotline_app, "complaint", "normal", "消费维权")
    assert client.get(f"/admin/policies/{consumer}/categories/new").status_code == 404


def test_a_category_row_sets_every_tasks_clock(hotline_app, as_role):
    client = as_role("admin")
    base = policy_id(hotline_app, "complaint", "normal")
    new = f"/admin/policies/{base}/categories/new"
    form = text(client.get(new))
    assert 'name="review_value"' in form and 'name="callback_attempts"' in form
    bad = policy_form(
        category="食品安全", review_value="-2", callback_span_unit="", callback_attempts="x"
    )
    response = post(client, new, bad, token_from=new)
    assert response.status_code == 400
    assert text(response).count('class="field-error"') == 3
    assert policy_id(hotline_app, "complaint", "normal", "食品安全") is None
    good = policy_form(
        category="食品安全", dispatch_value="1", dispatch_unit="workhours", callback_attempts="2"
    )
    assert post(client, new, good, token_from=new).status_code == 302
    made = policy_id(hotline_app, "complaint", "normal", "食品安全")
    with hotline_app.app_context():
        row = db.session.get(DeadlinePolicy, made)
        assert (row.dispatch_value, row.dispatch_unit, row.callback_attempts) == (1, "workhours", 2)


def test_a_default_row_cannot_be_deleted(hotline_app, as_role):
    client = as_role("admin")
    base = policy_id(hotline_app, "complaint", "normal")
    edit = f"/admin/policies/{base}"
    assert "删除此分类行" not in text(client.get(edit))
    response = post(client, f"{edit}/delete", token_from=edit)
    assert response.status_code == 302 and response.headers["Location"] == edit
    assert "默认行不能删除" in text(client.get(edit))
    assert policy_id(hotline_app, "complaint", "normal") == base


def test_the_case_page_names_the_row_that_applied(hotline_app, as_role):
    from tests.webapp.test_cases_pages import dispatched

    consumer = dispatched(hotline_app, category="消费维权")
    other = dispatched(hotline_app, category="食品安全", caller_phone="13700137000")
    client = as_role("dispatcher")
    page = text(client.get(f"/cases/{consumer}"))
    assert "时限策略: 投诉 × 一般 × 消费维权" in page
    # 7 and 45 working days from Mon 2026-03-02
    assert "2026-03-11 23:59" in page and "2026-05-08 23:59" in page
    page = text(client.get(f"/cases/{other}"))
    assert "时限策略: 投诉 × 一般</p>" in page
    act(hotline_app, consumer, "sign_for", "h_mr", {"action": "sign"})
    assert "2026-05-08 23:59" in text(as_role("handler").get(f"/cases/{consumer}"))
