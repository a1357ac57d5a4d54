"""The acceptance test a designer would write (issue 21), in the browser: a sixth case type,
消费投诉 (the 12315 consumer complaint), made from a copy of the complaint diagram with the
12315 deadlines and its own intake fields, then a case of it taken through intake, dispatch,
reply, callback and closure in the pages, and one through Open311."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.test_e2e import case_status, open_task_of, sign_in, submit_task
from tests.browser.test_modeler_panel import choose, deploy, open_group
from tests.webapp.consumer import DETAILS, VALUES


def test_a_consumer_complaint_type_made_in_the_browser(page: Page, live, console_errors, tmp_path):
    # -- the designer makes the form of its own fields in the form editor --------------------
    sign_in(page, live, "admin")
    page.goto(f"{live.url}/admin/forms/new")
    page.fill("#f_key", "consumer/details")
    page.locator("form button.primary").click()
    expect(page.locator("#form-editor-app[data-ready=true]")).to_have_count(1)
    # the fields, from a form file the designer keeps (as `hotline forms export` writes it)
    form_file = tmp_path / "details.json"
    form_file.write_text(json.dumps(DETAILS, ensure_ascii=False), encoding="utf-8")
    page.set_input_files("#form-file", str(form_file))
    expect(page.locator(".fjs-editor-container")).to_contain_text("经营者")
    page.fill("#form-comment", "消费投诉的专属字段")
    page.click("#save-button")
    expect(page.locator("#form-status")).to_contain_text("第 2 版")

    # -- the administrator adds the type: a copy of the complaint diagram, the 12315 limits --
    page.goto(f"{live.url}/admin/case-types")
    page.get_by_role("link", name="新增工单类型").click()
    page.fill("#f_code", "consumer")
    page.fill("#f_label_zh", "消费投诉")
    page.fill("#f_label_en", "Consumer complaint")
    page.fill("#f_open311_group_zh", "市场监管")
    page.fill("#f_open311_group_en", "Market regulation")
    page.select_option("#f_copy_from", "complaint")
    page.select_option("#f_details_form", "consumer/details")
    page.fill("#f_sign_value", "7")  # decide acceptance within 7 working days
    page.select_option("#f_sign_unit", "workdays")
    page.fill("#f_reply_value", "45")  # mediation ends within 45 working days
    page.select_option("#f_reply_unit", "workdays")
    page.get_by_role("button", name="新增此工单类型").click()
    # the designer lands in the modeler on the copy, version 1 of the new process
    expect(page).to_have_url(re.compile(r"/admin/definitions/consumer/1/edit$"))
    expect(page.locator("#canvas .djs-element[data-element-id=dispatch]")).to_be_attached()
    # the designer says in the diagram who accepts, through the properties panel, and deploys
    page.wait_for_function(
        "() => { try { return !!hotlineModeler.modeler.get('config.hotline').catalog; }"
        " catch (e) { return false; } }"
    )
    choose(page, "sign_for")
    open_group(page, "documentation")
    page.locator("#bio-properties-panel-documentation").fill("受理决定：7个工作日内")
    deploy(page)
    page.goto(f"{live.url}/admin/case-types")
    expect(page.locator("body")).to_contain_text("消费投诉")

    # -- the operator records a consumer complaint with its own fields ----------------------
    sign_in(page, live, "op1")
    page.fill("#f_caller_phone", "13800138000")
    page.fill("#f_caller_name", "李四")
    page.fill("#f_address", "江门市蓬江区建设路2号")
    page.select_option("#f_area", "D-PJ")
    page.select_option("#f_category", "食品安全")
    page.fill("#f_description", "在超市买的紫菜里有塑料，要求退款赔偿")
    page.select_option("#f_case_type", "consumer")
    expect(page.locator("#f_merchant")).to_be_visible()  # its own fields appear
    page.fill("#f_merchant", VALUES["merchant"])
    page.fill("#f_product", VALUES["product"])
    page.fill("#f_amount", VALUES["amount"])
    page.fill("#f_purchase_date", VALUES["purchase_date"])
    page.get_by_role("button", name="记录工单").click()
    page.wait_for_load_state("load")
    number = "2026030200001"
    expect(page.locator(".flash").first).to_contain_text(number)
    assert case_status(live, number) == "awaiting_dispatch"

    # -- dispatch, sign for, reply, review, callback, closure --------------------------------
    sign_in(page, live, "disp1")
    open_task_of(page, number)
    page.select_option("#f_lead_department", "B-MR")
    submit_task(page)
    assert case_status(live, number) == "dispatched"
    live.clock.advance(timedelta(hours=2))
    sign_in(page, live, "h_mr")
    open_task_of(page, number)
    page.check("input[name=action][value=sign]")
    submit_task(page)
    live.clock.advance(timedelta(days=3))
    page.goto(f"{live.url}/inbox")
    open_task_of(page, number)
    page.check("input[name=action][value=reply]")
    page.fill("#f_reply_text", "经调解，超市同意退款并赔偿")
    page.check("input[name=result][value=resolved]")
    submit_task(page)
    assert case_status(live, number) == "replied"
    sign_in(page, live, "disp1")
    page.goto(f"{live.url}/queues?queue=review_reply")
    open_task_of(page, number)
    page.check("input[name=decision][value=accept]")
    submit_task(page)
    sign_in(page, live, "cb1")
    open_task_of(page, number)
    page.check("input[name=satisfaction][value=satisfied]")
    page.check("input[name=resolved][value=yes]")
    page.fill("#f_callback_note", "市民满意")
    submit_task(page)
    assert case_status(live, number) == "closed"
    page.goto(f"{live.url}/cases/{number}")
    expect(page.locator("body")).to_contain_text("幸福超市")
    expect(page.locator("body")).to_contain_text("消费投诉")

    # the case kept the 12315 deadlines: sign for within 7, reply within 45 working days
    from engine.models import Definition, ProcessInstance
    from webapp.extensions import db
    from workflows.cases.models import Case

    with live.app.app_context():
        case = db.session.scalars(select(Case).where(Case.number == number)).one()
        assert case.policy["sign"]["value"] == 7 and case.policy["reply"]["value"] == 45
        # it ran on the version the designer deployed from the modeler
        instance = db.session.scalars(
            select(ProcessInstance).where(ProcessInstance.business_key == number)
        ).one()
        assert db.session.get(Definition, instance.definition_id).version == 2

    # -- and through Open311 -------------------------------------------------------------------
    from tests.open311.conftest import make_channel

    key = make_channel(live.app, "12315 app")
    response = page.request.post(
        f"{live.url}/open311/v2/requests.json",
        form={
            "api_key": key,
            "service_code": "consumer",
            "attribute[category]": "食品安全",
            "description": "网购的电饭煲收到就坏了，商家拒绝退货",
            "address_string": "江门市蓬江区建设路3号",
            "phone": "13900139000",
            **{f"attribute[{k}]": v for k, v in VALUES.items()},
        },
    )
    assert response.status == 201, response.text()
    made = response.json()[0]["service_request_id"]
    assert case_status(live, made) == "awaiting_dispatch"
    assert console_errors == []
