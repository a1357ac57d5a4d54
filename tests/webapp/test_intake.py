"""The operator's intake page and the panels beside it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.webapp.pages import post
from tests.workflows.conftest import INTAKE  # a typical call, as the operator types it
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases import flows
from workflows.cases.models import Case

ROLES = ("operator", "dispatcher", "handler", "supervisor", "admin")
PAGES = (
    "/intake",
    "/intake/caller?caller_phone=13800138000",
    "/intake/knowledge?q=社保卡",
    "/intake/suggest?category=食品安全",
)


def field_html(html: str, key: str) -> str:
    """The markup of one field of a rendered form (its input, label and errors)."""
    match = re.search(
        rf'<div class="field[^"]*" data-key="{key}".*?(?=<div class="field|</form>)', html, re.S
    )
    assert match, f"no field {key}"
    return match.group(0)


def open_case(app, **overrides) -> str:
    with app.app_context():
        case = flows.open_case(db.session, get_hotline(), data={**INTAKE, **overrides}, actor="op1")
        return case.number


def case_row(app, number: str) -> Case:
    with app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        db.session.expunge(case)
        return case


@pytest.mark.parametrize("path", PAGES)
def test_only_operators_use_intake(hotline_app, as_role, path):
    assert hotline_app.test_client().get(path).status_code == 302
    assert hotline_app.test_client().get(path).headers["Location"].startswith("/login")
    for role in ROLES:
        expected = 200 if role == "operator" else 403
        assert as_role(role).get(path).status_code == expected, role


def test_the_form_starts_with_the_defaults_and_the_phone(as_role):
    html = as_role("operator").get("/intake").get_data(as_text=True)
    assert 'data-first="f_caller_phone"' in html
    # the phone comes first in the tab order
    assert html.index('data-key="caller_phone"') < html.index('data-key="case_type"')
    assert re.search(r'name="urgency" value="normal" checked', field_html(html, "urgency"))
    assert re.search(r'value="phone" selected', field_html(html, "channel"))
    assert re.search(
        r'name="intake_outcome" value="dispatch" checked', field_html(html, "intake_outcome")
    )
    assert 'name="csrf_token"' in html
    # Enter in a one-line field does not submit: the form's default button is disabled
    assert html.index('<button type="submit" disabled') < html.index('class="primary"')
    # the answer only shows for "answered now" (app.js reads data-hide)
    assert 'data-hide="=intake_outcome != &#34;answered&#34;"' in field_html(html, "answer")


def test_a_dispatched_call_becomes_a_case_waiting_for_dispatch(hotline_app, as_role):
    client = as_role("operator")
    response = post(client, "/intake", INTAKE, token_from="/intake")
    assert response.status_code == 303 and response.headers["Location"] == "/intake"
    page = client.get("/intake").get_data(as_text=True)
    assert "2026030200001" in page  # the flash names the case
    case = case_row(hotline_app, "2026030200001")
    assert (case.status, case.intake_outcome, case.created_by) == (
        "awaiting_dispatch",
        "dispatch",
        "op1",
    )
    assert case.caller_phone == "13800138000" and case.category == "食品安全"
    # the next call starts on a fresh form
    assert "张三" not in field_html(page, "caller_name")


def test_answered_now_closes_the_case_on_the_spot(hotline_app, as_role):
    client = as_role("operator", username="op2")
    data = {
        **INTAKE,
        "case_type": "consultation",
        "category": "社保医保",
        "description": "社保卡丢了怎么补办",
        "intake_outcome": "answered",
        "answer": "携带身份证到社保经办网点补办，7个工作日制卡",
    }
    response = post(
        client, "/intake", data, token_from="/intake", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 303
    flash = client.get("/intake").get_data(as_text=True)
    assert "Case 2026030200001 recorded and closed on the spot." in flash
    case = case_row(hotline_app, "2026030200001")
    assert (case.status, case.outcome, case.first_contact_resolution) == (
        "closed",
        "answered",
        True,
    )
    assert case.answer.startswith("携带身份证")


def test_not_accepted_closes_with_the_reason(hotline_app, as_role):
    client = as_role("operator")
    data = {
        **INTAKE,
        "intake_outcome": "not_accepted",
        "not_accepted_reason": "已进入诉讼程序，不予受理",
    }
    assert post(client, "/intake", data, token_from="/intake").status_code == 303
    case = case_row(hotline_app, "2026030200001")
    assert (case.status, case.outcome, case.not_accepted_reason) == (
        "closed",
        "not_accepted",
        "已进入诉讼程序，不予受理",
    )


def test_field_errors_show_next_to_the_fields_and_keep_what_was_typed(hotline_app, as_role):
    client = as_role("operator")
    data = {
        **INTAKE,
        "caller_phone": "12",
        "description": "脏",
        "urgency": "urgent",
        "intake_outcome": "answered",
        "answer": "",
    }
    response = post(
        client, "/intake", data, token_from="/intake", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    for key in ("caller_phone", "description", "answer"):
        assert 'class="field-error"' in field_html(html, key), key
    assert 'class="field-error"' not in field_html(html, "address")
    assert 'value="12"' in field_html(html, "caller_phone")
    assert "江门市蓬江区白沙大道1号" in field_html(html, "address")
    assert ">脏</textarea>" in field_html(html, "description")
    assert re.search(r'value="urgent" checked', field_html(html, "urgency"))
    assert re.search(r'value="answered" checked', field_html(html, "intake_outcome"))
    assert re.search(r'value="食品安全" selected', field_html(html, "category"))
    with hotline_app.app_context():
        assert db.session.scalar(select(Case.id)) is None  # nothing stored


def test_an_unknown_category_is_an_error_on_that_field(as_role):
    response = post(
        as_role("operator"), "/intake", {**INTAKE, "category": "外星人"}, token_from="/intake"
    )
    assert response.status_code == 422
    assert 'class="field-error"' in field_html(response.get_data(as_text=True), "category")


def test_a_post_without_the_csrf_token_is_refused(hotline_app, as_role):
    response = as_role("operator").post("/intake", data=INTAKE)
    assert response.status_code == 400
    with hotline_app.app_context():
        assert db.session.scalar(select(Case.id)) is None


def test_the_callers_earlier_cases(hotline_app, as_role, clock):
    first = open_case(hotline_app)
    clock.advance(timedelta(hours=1))
    second = open_case(hotline_app, description="又去了一次，还是很脏，投诉无果")
    open_case(hotline_app, caller_phone="13900139000")
    client = as_role("operator")
    html = client.get(
        "/intake/caller?caller_phone=13800138000", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "<html" not in html  # a fragment for htmx
    assert f'href="/cases/{first}"' in html and f'href="/cases/{second}"' in html
    assert html.index(second) < html.index(first)  # newest first
    assert "2026030200003" not in html
    none = client.get("/intake/caller?caller_phone=13700000000").get_data(as_text=True)
    assert "13700000000" in none and "/cases/" not in none
    # the intake page asks for them as the phone is typed
    page = client.get("/intake").get_data(as_text=True)
    assert 'hx-get="/intake/caller"' in page and "from:#f_caller_phone" in page


def test_knowledge_base_search(as_role):
    client = as_role("operator")
    html = client.get("/intake/knowledge?q=社保卡 补办").get_data(as_text=True)
    assert "社保卡补办流程" in html and "data-answer=" in html
    assert "计划停水查询" not in html
    nothing = client.get("/intake/knowledge?q=火星").get_data(as_text=True)
    assert "火星" in nothing and "data-answer" not in nothing
    assert client.get("/intake/knowledge?q=").status_code == 200


def test_the_suggested_department_follows_category_and_area(as_role):
    client = as_role("operator")
    html = client.get("/intake/suggest?category=食品安全&area=D-PJ").get_data(as_text=True)
    assert "市场监督管理局" in html
    # an area-specific rule beats the city-wide one
    html = client.get("/intake/suggest?category=占道经营&area=D-PJ").get_data(as_text=True)
    assert "蓬江区政务服务平台" in html
    html = client.get("/intake/suggest?category=占道经营&area=D-XH").get_data(as_text=True)
    assert "城市管理和综合执法局" in html
    english = client.get(
        "/intake/suggest?category=食品安全", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "Market Regulation Bureau" in english
    assert "dispatcher will choose" in client.get(
        "/intake/suggest?category=没有", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)


def test_the_page_speaks_english_when_asked(as_role):
    html = (
        as_role("operator").get("/intake", headers={"Accept-Language": "en"}).get_data(as_text=True)
    )
    assert "Call intake" in html and "Caller phone" in html and "Record the case" in html
    chinese = as_role("operator").get("/intake").get_data(as_text=True)
    assert "来电受理" in chinese and "记录工单" in chinese


def test_a_description_over_the_limit_is_refused_with_its_length_and_kept(hotline_app, as_role):
    client = as_role("operator")
    page = field_html(client.get("/intake").get_data(as_text=True), "description")
    # no maxlength attribute (a browser would cut pasted text silently), a counter instead
    assert " maxlength=" not in page and 'data-maxlength="4000"' in page
    assert '<small class="counter" id="f_description_count" aria-live="polite">' in page
    assert "0 / 4000" in page
    long = "路灯不亮，" * 801  # 4005 characters
    response = post(client, "/intake", {**INTAKE, "description": long}, token_from="/intake")
    assert response.status_code == 422
    html = field_html(response.get_data(as_text=True), "description")
    assert '<p class="field-error" role="alert">最多 4000 字，现在 4005 字</p>' in html
    assert f">{long}</textarea>" in html  # nothing lost, nothing cut
    assert 'class="counter over"' in html and "4005 / 4000" in html
    english = post(
        client,
        "/intake",
        {**INTAKE, "description": long},
        token_from="/intake",
        headers={"Accept-Language": "en"},
    )
    assert "At most 4000 characters; this has 4005." in english.get_data(as_text=True)
    with hotline_app.app_context():
        assert db.session.scalar(select(Case.id)) is None
    exact = post(client, "/intake", {**INTAKE, "description": long[:4000]}, token_from="/intake")
    assert exact.status_code in (302, 303), exact.status_code
    with hotline_app.app_context():
        assert len(db.session.scalar(select(Case.description))) == 4000


def test_one_caller_however_the_phone_is_written(hotline_app, as_role):
    client = as_role("operator")
    response = post(
        client, "/intake", {**INTAKE, "caller_phone": "+86 139 0223 1234"}, token_from="/intake"
    )
    assert response.status_code == 303
    first = "2026030200001"
    assert case_row(hotline_app, first).caller_phone == "13902231234"
    second = open_case(hotline_app, caller_phone="139-0223-1234")
    assert case_row(hotline_app, second).caller_phone == "13902231234"
    # the caller's history at intake, however the operator types the number
    for typed in ("13902231234", "139 0223 1234", "+86-139-0223-1234"):
        html = client.get("/intake/caller", query_string={"caller_phone": typed}).get_data(
            as_text=True
        )
        assert f'href="/cases/{first}"' in html and f'href="/cases/{second}"' in html, typed
    # the case search too
    listing = as_role("supervisor").get("/cases", query_string={"phone": "0223-1234"})
    html = listing.get_data(as_text=True)
    assert first in html and second in html
