"""In Chromium: an operator attaches a photo of the site at intake; the case page shows its
thumbnail (served under the page policy) and opens the photo."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.test_csp import opened, violations, watched  # noqa: F401
from tests.browser.test_e2e import sign_in
from tests.webapp.test_attachments import jpeg


def test_a_photo_attached_at_intake_shows_on_the_case_page(watched: Page, live, tmp_path):  # noqa: F811
    page = watched
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(jpeg(640, 480))
    sign_in(page, live, "op1")
    expect(page).to_have_url(re.compile(r"/intake$"))
    page.fill("#f_caller_phone", "13800138000")
    page.fill("#f_caller_name", "张三")
    page.fill("#f_address", "江门市蓬江区白沙大道1号")
    page.select_option("#f_area", "D-PJ")
    page.select_option("#f_category", "食品安全")
    page.fill("#f_description", "路口井盖缺失，夜里很危险")
    page.set_input_files("#f_attachments", str(photo))
    page.locator("#f_description").press("Control+Enter")
    page.wait_for_load_state("load")
    flash = page.locator(".flash").first
    expect(flash).to_contain_text("2026030200001")
    sign_in(page, live, "sup1")
    opened(page, f"{live.url}/cases/2026030200001")
    thumb = page.locator("#attachments img.thumb")
    expect(thumb).to_be_visible()
    # the thumbnail loaded: an image 320 wide at most, not a broken one
    width = page.evaluate("document.querySelector('#attachments img.thumb').naturalWidth")
    assert 0 < width <= 320
    expect(page.locator("#attachments")).to_contain_text("现场.jpg")
