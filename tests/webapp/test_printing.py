"""Printing: a case's dispatch sheet (交办单) and closure sheet (办结单) as PDF, read back with
pypdf; who may print them; the caller masked as the viewer sees it (never a confidential one in
full); each print recorded; the case page's print links and stylesheet."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import select

from engine.db import unit_of_work
from tests.webapp.test_cases_pages import EN, close_on_time, dispatched, open_case
from webapp.extensions import db
from workflows.audit.models import AuditEntry
from workflows.cases.models import Case


def pdf_text(response) -> tuple[int, str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), text.replace(" ", "")


def test_the_dispatch_sheet_has_the_centre_the_case_and_a_seal(hotline_app, as_role):
    number = dispatched(hotline_app, co=("B-UM",))
    response = as_role("supervisor").get(f"/cases/{number}/sheets/dispatch.pdf")
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="dispatch-{number}.pdf"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    pages, text = pdf_text(response)
    assert pages == 1
    for wanted in ("12345热线", "交办单", f"工单编号：{number}", "盖章处", "经办人", "审核人"):
        assert wanted in text, wanted
    # the case's record: its description, lead and co-handling units, the deadlines' rows
    assert "小区门口餐馆卫生很差" in text
    assert "市场监督管理局" in text and "协办单位" in text and "答复期限" in text


def test_the_closure_sheet_needs_a_reply_and_says_how_it_ended(hotline_app, as_role):
    number = dispatched(hotline_app)
    client = as_role("supervisor")
    refused = client.get(f"/cases/{number}/sheets/closure.pdf")
    assert refused.status_code == 409
    assert "尚未答复也未办结" in refused.get_data(as_text=True)
    close_on_time(hotline_app, number)
    _pages, text = pdf_text(client.get(f"/cases/{number}/sheets/closure.pdf"))
    for wanted in ("办结单", "已责令餐馆停业整改", "满意", "回访时间", "办结时间", "盖章处"):
        assert wanted in text, wanted


def test_an_undispatched_case_has_no_dispatch_sheet_and_unknown_sheets_are_404(
    hotline_app, as_role
):
    number = open_case(hotline_app)
    client = as_role("supervisor")
    response = client.get(f"/cases/{number}/sheets/dispatch.pdf")
    assert response.status_code == 409 and "尚未派单" in response.get_data(as_text=True)
    assert client.get(f"/cases/{number}/sheets/invoice.pdf").status_code == 404
    english = client.get(f"/cases/{number}/sheets/dispatch.pdf", headers=EN)
    assert "has not been dispatched" in english.get_data(as_text=True)


def test_only_who_may_see_the_case_prints_it(hotline_app, as_role):
    number = dispatched(hotline_app, lead="B-MR")
    assert as_role("handler").get(f"/cases/{number}/sheets/dispatch.pdf").status_code == 200
    # a handler of another department: the case does not exist for them
    other = as_role("handler", username="h_bs")
    assert other.get(f"/cases/{number}/sheets/dispatch.pdf").status_code == 404


def test_a_confidential_caller_is_masked_on_every_sheet_and_each_print_is_recorded(
    hotline_app, as_role
):
    number = dispatched(
        hotline_app, caller_name="王小明", caller_phone="13912345678", confidential=True
    )
    _pages, text = pdf_text(as_role("supervisor").get(f"/cases/{number}/sheets/dispatch.pdf"))
    assert "王小明" not in text and "13912345678" not in text
    assert "王**" in text and "139****5678" in text
    plain = dispatched(hotline_app, caller_name="李大华", caller_phone="13700001111")
    _pages, text = pdf_text(as_role("supervisor").get(f"/cases/{plain}/sheets/dispatch.pdf"))
    assert "李大华" in text  # the centre prints an ordinary caller in full
    _pages, text = pdf_text(as_role("handler").get(f"/cases/{plain}/sheets/dispatch.pdf"))
    assert "李大华" not in text  # a department sees it masked, as on its case page
    with hotline_app.app_context():
        actions = db.session.scalars(
            select(AuditEntry.action).where(AuditEntry.action == "personal.export")
        ).all()
        assert len(actions) == 3


def test_a_long_description_flows_on_to_a_second_page(hotline_app, as_role):
    long = "小区门口的餐馆每天夜里排放油烟，" * 180 + "结尾一句"
    number = dispatched(hotline_app)
    with hotline_app.app_context(), unit_of_work(db.session):
        db.session.scalars(select(Case).where(Case.number == number)).one().description = long
    pages, text = pdf_text(as_role("supervisor").get(f"/cases/{number}/sheets/dispatch.pdf"))
    assert pages >= 2 and "结尾一句" in text and "盖章处" in text


def test_the_case_page_links_its_sheets_and_prints_without_navigation(hotline_app, as_role):
    number = dispatched(hotline_app)
    html = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    assert f"/cases/{number}/sheets/dispatch.pdf" in html
    assert f"/cases/{number}/sheets/closure.pdf" not in html  # not replied yet
    assert 'href="/static/print.css" media="print"' in html and "data-print" in html
    close_on_time(hotline_app, number)
    html = as_role("supervisor").get(f"/cases/{number}").get_data(as_text=True)
    assert f"/cases/{number}/sheets/closure.pdf" in html


def test_the_sheets_follow_the_language(hotline_app, as_role):
    number = dispatched(hotline_app)
    _pages, text = pdf_text(
        as_role("supervisor").get(f"/cases/{number}/sheets/dispatch.pdf", headers=EN)
    )
    assert "Dispatchsheet" in text and "Seal" in text and f"Casenumber:{number}" in text
