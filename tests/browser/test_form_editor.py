"""The form editor in Chromium: form-js's editor opens a form, offers only the component
types the server accepts, a field dragged in from the palette is saved as version 2, and an
unchanged save says so."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_e2e import sign_in


def drag(page: Page, source: str, target: str) -> None:
    """Drag with real mouse moves: form-js's palette uses dragula, which follows the mouse."""
    start = page.locator(source).bounding_box()
    end = page.locator(f".fjs-editor-container {target}").bounding_box()
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 30, start["y"] + 10, steps=5)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] - 10, steps=20)
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + end["height"] - 5, steps=5)
    page.mouse.up()


def test_add_a_field_and_save_version_2(page: Page, live, console_errors, shot):
    sign_in(page, live, "admin")
    page.goto(f"{live.url}/admin/forms")
    page.get_by_role("link", name="common/dispatch").first.click()
    page.get_by_role("link", name="编辑").first.click()
    expect(page.locator("#form-editor-app[data-ready=true]")).to_have_count(1)
    palette = page.locator(".fjs-palette-field")
    types = palette.evaluate_all("els => els.map(e => e.dataset.fieldType)")
    assert "textfield" in types and "group" not in types and "dynamiclist" not in types, types

    fields_before = page.locator(".fjs-editor-container .fjs-form-field").count()
    drag(page, '.fjs-palette-field[data-field-type="textfield"]', ".fjs-form-field-textarea")
    expect(page.locator(".fjs-editor-container .fjs-form-field")).to_have_count(fields_before + 1)
    page.fill("#form-comment", "一个新的文本字段")
    page.click("#save-button")
    expect(page.locator("#form-status")).to_contain_text("第 2 版")
    shot(page, "form-editor")

    page.click("#save-button")  # nothing changed since
    expect(page.locator("#form-status")).to_contain_text("没有改动")

    page.get_by_role("link", name="版本历史").click()
    expect(page.locator("table")).to_contain_text("v2")
    expect(page.locator("table")).to_contain_text("一个新的文本字段")
    page.get_by_role("link", name="v2").click()
    expect(page.locator("#form-preview[data-ready=true]")).to_have_count(1)
    expect(page.locator("#form-preview")).to_contain_text("主办单位")  # drawn by form-js
    expect(page.locator("pre")).to_contain_text(re.compile(r'"type": "textfield"'))
    assert console_errors == []
