"""Try before deploy in Chromium (docs/try-run.md): the designer clicks 试运行 on the
modeler, sees where the synthetic cases ended, the problems marked on the diagram, and a
click on a problem selects its element. Nothing is deployed."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from tests.browser.test_e2e import sign_in
from tests.webapp.test_tryrun import defective_complaint

#: a try runs synthetic cases on the server: allow it its time (not an assertion on time)
RUN = 90_000


def test_the_designer_tries_a_draft_and_sees_the_report(page: Page, live, console_errors, shot):
    from engine.models import Definition
    from webapp.extensions import db

    sign_in(page, live, "admin")
    page.goto(f"{live.url}/admin/definitions/complaint/1/edit")
    expect(page.locator("#modeler-status")).to_have_text("")  # loaded
    expect(page.locator("#try-button")).to_have_text("试运行")

    # the deployed diagram as it is: its cases end at the end events, no problem
    page.fill("#try-cases", "6")
    page.click("#try-button")
    report = page.locator("#try-report")
    expect(report).to_be_visible(timeout=RUN)
    expect(report.locator(".try-ends li[data-element='end_closed']")).to_be_attached()
    expect(page.locator("#try-status")).not_to_have_class(re.compile("error-message"))
    expect(report.locator(".try-problems")).to_have_count(0)

    # a draft with defects, as if drawn: each is listed and marked at its element
    page.evaluate("xml => window.hotlineModeler.modeler.importXML(xml)", defective_complaint())
    page.fill("#try-cases", "8")
    page.click("#try-button")
    problems = report.locator(".try-problems")
    expect(problems).to_be_visible(timeout=RUN)
    for element in ("signed_or_returned", "review_reply", "orphan_a", "orphan_b"):
        expect(problems.locator(f"li[data-element='{element}']")).to_have_count(1)
        marked = page.locator(f"#canvas .djs-element.invalid[data-element-id='{element}']")
        expect(marked).to_be_attached()
    expect(problems).to_contain_text("候选组 X-NOBODY")
    expect(problems).to_contain_text("网关的条件都不成立，也没有默认路径")
    expect(page.locator("#try-status")).to_have_class(re.compile("error-message"))
    shot(page, "admin-modeler-try", full_page=True)

    problems.locator("li[data-element='orphan_a']").click()
    expect(
        page.locator("#canvas .djs-element.selected[data-element-id='orphan_a']")
    ).to_be_attached()

    with live.app.app_context():
        versions = db.session.scalar(
            select(func.max(Definition.version)).where(Definition.key == "complaint")
        )
    assert versions == 1  # tried, not deployed
    assert console_errors == []
