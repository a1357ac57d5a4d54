"""Personal data masked by role and surface (docs/privacy.md), and every full view, reveal and
export recorded in the audit log: one row per request, with the count and filter for lists."""

from __future__ import annotations

from sqlalchemy import select

from tests.webapp.pages import post
from tests.webapp.test_inbox import dispatched, ready_task
from tests.webapp.test_intake import open_case
from webapp.extensions import db
from workflows.audit.models import AuditEntry
from workflows.cases.confidentiality import mask_address, mask_text

FULL_NAME, FULL_PHONE, FULL_ADDRESS = "张三", "13800138000", "江门市蓬江区白沙大道1号"
MASKED_PHONE, MASKED_ADDRESS = "138****8000", "江门市蓬江区**"


def personal(app) -> list[tuple[str, str, str, dict]]:
    """(action, actor, case number, detail) of the personal-data rows of the audit log."""
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.startswith("personal."))
            .order_by(AuditEntry.seq)
        ).all()
        return [(r.action, r.actor_name, r.case_number, r.detail) for r in rows]


def body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_masks_keep_what_a_list_needs():
    assert mask_address(FULL_ADDRESS) == MASKED_ADDRESS
    assert mask_address("建设路88号") == "建设路**"
    assert (
        mask_text(
            "张三说邻居13912345678也投诉过，住江门市蓬江区白沙大道1号",
            name=FULL_NAME,
            phone=FULL_PHONE,
            address=FULL_ADDRESS,
        )
        == "张**说邻居139****5678也投诉过，住江门市蓬江区**"
    )


def test_lists_are_masked_and_record_nothing_detail_is_full_and_recorded(hotline_app, as_role):
    number = dispatched(hotline_app)
    supervisor = as_role("supervisor")
    listed = body(supervisor.get("/cases"))
    assert MASKED_PHONE in listed and FULL_PHONE not in listed
    assert personal(hotline_app) == []  # nothing shown in full, nothing recorded

    page = body(supervisor.get(f"/cases/{number}"))
    assert FULL_PHONE in page and FULL_NAME in page and FULL_ADDRESS in page
    [(action, actor, case, detail)] = personal(hotline_app)
    assert (action, actor, case, detail["channel"]) == ("personal.view", "sup1", number, "page")


def test_the_operator_list_is_full_one_row_with_count_and_filter(hotline_app, as_role):
    first, second = dispatched(hotline_app), dispatched(hotline_app)
    listed = body(as_role("operator").get("/cases?category=食品安全"))
    assert first in listed and second in listed and FULL_PHONE in listed
    [(action, actor, case, detail)] = personal(hotline_app)
    assert (action, actor, case) == ("personal.view", "op1", "")
    assert (detail["rows"], detail["in_full"], detail["filter"]) == (2, 2, {"category": "食品安全"})


def test_a_handler_sees_the_contact_on_its_task_masked_elsewhere_and_may_reveal(
    hotline_app, as_role
):
    number = dispatched(hotline_app)
    handler = as_role("handler")
    task = body(handler.get(f"/tasks/{ready_task(hotline_app, number, 'sign_for')}"))
    assert FULL_PHONE in task and FULL_ADDRESS in task
    inbox = body(handler.get("/inbox"))
    assert number in inbox and FULL_ADDRESS not in inbox and MASKED_ADDRESS in inbox
    page = body(handler.get(f"/cases/{number}"))
    assert FULL_PHONE not in page and MASKED_PHONE in page
    revealed = body(post(handler, f"/cases/{number}/reveal", token_from=f"/cases/{number}"))
    assert FULL_PHONE in revealed and FULL_ADDRESS in revealed
    assert [(a, u, c, d["channel"]) for a, u, c, d in personal(hotline_app)] == [
        ("personal.view", "h_mr", number, "task"),
        ("personal.reveal", "h_mr", number, "reveal"),
    ]


def test_a_confidential_case_cannot_be_revealed_by_a_department(hotline_app, as_role):
    number = dispatched(hotline_app, case_type="report")
    handler = as_role("handler")
    page = body(handler.get(f"/cases/{number}"))
    assert f"/cases/{number}/reveal" not in page
    refused = post(handler, f"/cases/{number}/reveal", token_from=f"/cases/{number}")
    assert refused.status_code == 403
    assert personal(hotline_app) == []


def test_exports_are_recorded_with_their_filter_and_count(hotline_app, as_role):
    number = dispatched(hotline_app)
    csv = body(as_role("supervisor").get("/cases?format=csv&status=dispatched"))
    assert number in csv and MASKED_PHONE in csv and FULL_PHONE not in csv
    assert FULL_ADDRESS not in csv
    csv = body(as_role("callback").get("/cases?format=csv"))
    assert FULL_PHONE in csv
    rows = personal(hotline_app)
    assert [(a, u, d["rows"], d["in_full"]) for a, u, _c, d in rows] == [
        ("personal.export", "sup1", 1, 0),
        ("personal.export", "cb1", 1, 1),
    ]
    assert rows[0][3]["filter"] == {"status": "dispatched"}


def test_queues_and_inboxes_are_masked_and_record_nothing(hotline_app, as_role):
    waiting = open_case(hotline_app)
    queue = body(as_role("dispatcher").get("/queues"))
    assert waiting in queue and MASKED_ADDRESS in queue and FULL_ADDRESS not in queue
    number = dispatched(hotline_app)
    inbox = body(as_role("handler").get("/inbox"))
    assert number in inbox and MASKED_ADDRESS in inbox and FULL_ADDRESS not in inbox
    assert personal(hotline_app) == []
