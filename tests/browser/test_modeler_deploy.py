"""The modeler's deploy button asks for a comment and shows the diff against the latest
version first; a diagram only moved around is not a new version, and the dialog says so."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from sqlalchemy import select

from engine.models import Definition
from tests.browser.test_e2e import sign_in


def versions(live) -> list[tuple[int, str, str]]:
    from webapp.extensions import db

    with live.app.app_context():
        rows = db.session.scalars(
            select(Definition).where(Definition.key == "complaint").order_by(Definition.version)
        ).all()
        return [(r.version, r.deployed_by, r.comment) for r in rows]


def test_the_modeler_asks_for_a_comment_shows_the_diff_and_deploys(page: Page, live, shot):
    sign_in(page, live, "admin")
    page.goto(f"{live.url}/admin/definitions/complaint/1/edit")
    expect(page.locator("#modeler-status")).to_have_text("")  # loaded
    dialog = page.locator("#deploy-dialog")

    # moving a shape is not a change: the dialog says so and offers nothing to deploy
    page.evaluate(
        """() => {
            const m = window.hotlineModeler.modeler;
            const shape = m.get("elementRegistry").get("sign_for");
            m.get("modeling").moveElements([shape], { x: 40, y: 0 });
        }"""
    )
    page.click("#deploy-button")
    expect(dialog).to_be_visible()
    expect(page.locator("#deploy-preview [data-unchanged=true]")).to_be_visible()
    expect(page.locator("#deploy-confirm")).to_be_hidden()
    page.click("#deploy-cancel")
    expect(dialog).to_be_hidden()
    assert [v for v, _, _ in versions(live)] == [1]

    # a renamed task is: the dialog lists it as changed, with the old and the new name
    page.evaluate(
        """() => {
            const m = window.hotlineModeler.modeler;
            const shape = m.get("elementRegistry").get("sign_for");
            m.get("modeling").updateProperties(shape, { name: "签收（新）Sign for (new)" });
        }"""
    )
    page.click("#deploy-button")
    expect(dialog).to_be_visible()
    changed = page.locator("#deploy-preview tr.changed", has_text="sign_for")
    expect(changed).to_contain_text("签收（新）Sign for (new)")
    expect(page.locator("#deploy-preview")).to_contain_text("v1")
    shot(page, "admin-modeler-deploy-dialog")
    # the comment is required: confirming without one keeps the dialog open
    page.click("#deploy-confirm")
    expect(dialog).to_be_visible()
    assert [v for v, _, _ in versions(live)] == [1]
    page.fill("#deploy-comment", "签收改名 rename sign-for")
    page.click("#deploy-confirm")
    expect(dialog).to_be_hidden()
    expect(page.locator("#modeler-status a")).to_be_visible()
    assert versions(live)[-1] == (2, "admin", "签收改名 rename sign-for")

    # the versions list shows who, when and why
    page.goto(f"{live.url}/admin/definitions/complaint")
    expect(page.locator("tbody tr").first).to_contain_text("签收改名 rename sign-for")
    expect(page.locator("tbody tr").first).to_contain_text("管理员")
