"""Co-handling over the API: the co-handler answers its task, the lead's reply is refused
while another unit is pending and in time (422 on reply_text), and the case detail has the
parts and the units still to answer."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import HumanTask
from tests.webapp.test_cohandling_pages import PART, dispatched
from tests.webapp.test_intake import case_row
from webapp.extensions import db


def cohandle_task(app, number: str, department: str) -> str:
    with app.app_context():
        return db.session.scalars(
            select(HumanTask.task_id).where(
                HumanTask.instance_id == case_row(app, number).instance_id,
                HumanTask.kind == "cohandle",
                HumanTask.candidate_group == department,
                HumanTask.state == "ready",
            )
        ).one()


def test_the_api_case_detail_has_the_parts_and_the_pending_units(hotline_app, api):
    from tests.webapp.test_inbox import ready_task

    number = dispatched(hotline_app, co=("B-HU", "B-UM"))
    h_hu, h_mr = api("other_handler"), api("handler")
    task = cohandle_task(hotline_app, number, "B-HU")
    assert h_mr.post(
        f"/api/v1/tasks/{task}/complete", json={"cohandle_text": PART}
    ).status_code in (
        403,
        404,
    )  # another unit's task
    done = h_hu.post(f"/api/v1/tasks/{task}/complete", json={"cohandle_text": PART})
    assert done.status_code == 200, done.json

    sign = ready_task(hotline_app, number, "sign_for")
    assert h_mr.post(f"/api/v1/tasks/{sign}/complete", json={"action": "sign"}).status_code == 200
    handle = ready_task(hotline_app, number, "handle")
    refused = h_mr.post(
        f"/api/v1/tasks/{handle}/complete",
        json={"action": "reply", "reply_text": "已现场检查，责令整改", "result": "resolved"},
    )
    assert refused.status_code == 422
    assert "城市管理和综合执法局" in " ".join(refused.json["errors"]["reply_text"])

    response = api("supervisor").get(f"/api/v1/cases/{number}")
    assert response.status_code == 200
    body = response.json
    [part] = body["cohandling"]["parts"]
    assert (part["department"], part["author"], part["text"], part["on_time"]) == (
        "B-HU",
        "h_hu",
        PART,
        True,
    )
    assert part["due_at"] == "2026-03-09T23:59:59+08:00"
    assert body["cohandling"]["pending"] == [
        {"department": "B-UM", "due_at": "2026-03-09T23:59:59+08:00", "overdue": False}
    ]
    # the ETag is the case's own representation, as If-Match checks it
    listed = api("supervisor").get("/api/v1/cases").json["items"]
    assert all("cohandling" not in item for item in listed)


def test_the_kpis_have_each_co_handling_units_on_time_figure(hotline_app, api, clock):
    from datetime import timedelta

    answered = dispatched(hotline_app, co=("B-HU",))
    dispatched(hotline_app, co=("B-HU",))  # stays silent
    task = cohandle_task(hotline_app, answered, "B-HU")
    done = api("other_handler").post(f"/api/v1/tasks/{task}/complete", json={"cohandle_text": PART})
    assert done.status_code == 200, done.json
    clock.advance(timedelta(days=8))
    body = api("supervisor").get("/api/v1/kpis?start=2026-03-01&end=2026-03-31").json
    [row] = body["cohandling"]
    assert (row["department"], row["department_name"]) == ("B-HU", "住房和城乡建设局")
    assert row["on_time"] == {"numerator": 1, "denominator": 2, "rate": 0.5}
    other = api("supervisor").get("/api/v1/kpis?start=2026-03-01&end=2026-03-31&department=B-MR")
    assert other.json["cohandling"] == []
