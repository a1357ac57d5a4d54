"""/api/v1/tasks: lists, one task with its form, claim and release, completing with the
task page's validation, ETag and If-Match, and the deadline that fires first."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import event, select

from engine.models import InstanceEvent
from tests.webapp.test_cases_pages import advance
from tests.webapp.test_inbox import act, dispatched, interrupting_sign_for, ready_task
from tests.webapp.test_intake import case_row, open_case
from webapp.extensions import db
from webapp.hotline import get_hotline

EN = {"Accept-Language": "en"}


def test_the_inbox_lists_what_each_user_may_act_on(api, hotline_app):
    waiting = open_case(hotline_app)
    mine = dispatched(hotline_app, lead="B-MR", caller_phone="13900139000")
    dispatcher = api("dispatcher").get("/api/v1/tasks")
    assert dispatcher.status_code == 200
    assert [(t["case"]["number"], t["element_id"]) for t in dispatcher.json["items"]] == [
        (waiting, "dispatch")
    ]
    assert dispatcher.json["items"][0]["actionable"] is True
    handler = api("handler").get("/api/v1/tasks").json
    assert [(t["case"]["number"], t["element_id"]) for t in handler["items"]] == [
        (mine, "sign_for")
    ]
    assert api("other_handler").get("/api/v1/tasks").json["total"] == 0
    assert api("handler").get("/api/v1/tasks?element=dispatch").json["total"] == 0
    for role in ("operator", "admin"):
        assert api(role).get("/api/v1/tasks").status_code == 403


def test_a_task_comes_with_its_form_and_etag(api, hotline_app):
    number = dispatched(hotline_app)
    task_id = ready_task(hotline_app, number, "sign_for")
    response = api("handler").get(f"/api/v1/tasks/{task_id}", headers=EN)
    assert response.status_code == 200 and response.headers["ETag"]
    task = response.json
    assert task["case"]["number"] == number and task["actionable"] is True
    form = task["form"]
    assert form["key"] == "common/sign_for"
    fields = {f["key"]: f for f in form["fields"]}
    assert [o["value"] for o in fields["action"]["options"]] == ["sign", "return"]
    assert fields["return_reason"]["minLength"] == 5
    # the supervisor sees the case, so the task, but may not act on it
    seen = api("supervisor").get(f"/api/v1/tasks/{task_id}").json
    assert seen["actionable"] is False
    # another department: as if it did not exist
    assert api("other_handler").get(f"/api/v1/tasks/{task_id}").status_code == 404
    assert api("handler").get("/api/v1/tasks/not-a-task").status_code == 404


def test_claim_release_and_mine(api, hotline_app):
    number = dispatched(hotline_app)
    task_id = ready_task(hotline_app, number, "sign_for")
    handler = api("handler")
    etag = handler.get(f"/api/v1/tasks/{task_id}").headers["ETag"]
    assert handler.get("/api/v1/tasks?scope=mine").json["total"] == 0
    claimed = handler.post(f"/api/v1/tasks/{task_id}/claim", headers={"If-Match": etag})
    assert claimed.status_code == 200 and claimed.json["assignee"] == "h_mr"
    assert claimed.headers["ETag"] != etag
    mine = handler.get("/api/v1/tasks?scope=mine").json
    assert [t["task_id"] for t in mine["items"]] == [task_id] and mine["total"] == 1
    # claiming again with the old ETag: the task changed
    stale = handler.post(f"/api/v1/tasks/{task_id}/claim", headers={"If-Match": etag})
    assert stale.status_code == 412
    assert handler.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200  # still mine
    released = handler.post(f"/api/v1/tasks/{task_id}/release")
    assert released.status_code == 200 and released.json["assignee"] is None
    assert handler.get("/api/v1/tasks?scope=mine").json["total"] == 0
    history = api("supervisor").get(f"/api/v1/cases/{number}/history").json["events"]
    assert [
        e["kind"] for e in history if e["kind"].startswith("task.c") or e["kind"] == "task.released"
    ][-2:] == ["task.claimed", "task.released"]


def test_someone_elses_claim_is_a_conflict(api, hotline_app):
    from tests.api.conftest import ApiClient, make_token

    number = open_case(hotline_app)
    task_id = ready_task(hotline_app, number, "dispatch")
    disp1 = api("dispatcher")
    other = ApiClient(hotline_app, make_token(hotline_app, "disp1", name="second"))
    assert disp1.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    # the same user through another token holds the same claim
    assert other.post(f"/api/v1/tasks/{task_id}/claim").status_code == 200
    with hotline_app.app_context():
        from engine.models import HumanTask

        row = db.session.scalars(select(HumanTask).where(HumanTask.task_id == task_id)).one()
        row.assignee = "someone_else"
        db.session.commit()
    taken = disp1.post(f"/api/v1/tasks/{task_id}/claim")
    assert taken.status_code == 409 and "someone_else" in taken.json["message"]
    refused = disp1.post(f"/api/v1/tasks/{task_id}/complete", json={"lead_department": "B-MR"})
    assert refused.status_code == 409 and "claimed by someone_else" in refused.json["message"]
    assert disp1.post(f"/api/v1/tasks/{task_id}/release").status_code == 403
    assert case_row(hotline_app, number).status == "awaiting_dispatch"


def test_completing_checks_the_form_like_the_page(api, hotline_app):
    number = dispatched(hotline_app)
    task_id = ready_task(hotline_app, number, "sign_for")
    handler = api("handler")
    bad = handler.post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"action": "return", "return_reason": "no", "colour": "red"},
        headers=EN,
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"return_reason", "colour"}
    assert case_row(hotline_app, number).status == "dispatched"
    not_object = handler.post(f"/api/v1/tasks/{task_id}/complete", json=["sign"])
    assert not_object.status_code == 400
    done = handler.post(f"/api/v1/tasks/{task_id}/complete", json={"action": "sign"})
    assert done.status_code == 200
    assert done.json["task"]["state"] == "completed"
    assert done.json["task"]["completed_by"] == "h_mr"
    assert done.json["case"]["status"] == "in_progress"
    assert [t["element_id"] for t in done.json["next_tasks"]] == ["handle"]
    assert case_row(hotline_app, number).status == "in_progress"
    again = handler.post(f"/api/v1/tasks/{task_id}/complete", json={"action": "sign"})
    assert again.status_code == 409  # not waiting any more


def test_the_hotline_rules_beyond_the_form_apply(api, hotline_app, clock):
    number = dispatched(hotline_app)
    task_id = ready_task(hotline_app, number, "sign_for")
    clock.advance(timedelta(days=5))  # the return window (2 working days) has closed
    late = api("handler").post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"action": "return", "return_reason": "Not our area at all."},
        headers=EN,
    )
    assert late.status_code == 422 and "action" in late.json["errors"]


def test_complete_honours_if_match(api, hotline_app):
    number = dispatched(hotline_app)
    task_id = ready_task(hotline_app, number, "sign_for")
    handler = api("handler")
    etag = handler.get(f"/api/v1/tasks/{task_id}").headers["ETag"]
    api("supervisor").post(f"/api/v1/cases/{number}/notes", json={"body": "not a step"})
    assert handler.get(f"/api/v1/tasks/{task_id}").headers["ETag"] == etag  # a note is no step
    handler.post(f"/api/v1/tasks/{task_id}/claim")
    stale = handler.post(
        f"/api/v1/tasks/{task_id}/complete", json={"action": "sign"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert case_row(hotline_app, number).status == "dispatched"
    fresh = handler.get(f"/api/v1/tasks/{task_id}").headers["ETag"]
    done = handler.post(
        f"/api/v1/tasks/{task_id}/complete", json={"action": "sign"}, headers={"If-Match": fresh}
    )
    assert done.status_code == 200


def test_a_retried_completion_answers_as_the_first(api, hotline_app):
    number = open_case(hotline_app)
    task_id = ready_task(hotline_app, number, "dispatch")
    dispatcher = api("dispatcher")
    headers = {"Idempotency-Key": "dispatch-1"}
    body = {"lead_department": "B-MR"}
    first = dispatcher.post(f"/api/v1/tasks/{task_id}/complete", json=body, headers=headers)
    second = dispatcher.post(f"/api/v1/tasks/{task_id}/complete", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json == second.json and second.headers["Idempotent-Replayed"] == "true"
    without_key = dispatcher.post(f"/api/v1/tasks/{task_id}/complete", json=body)
    assert without_key.status_code == 409


def test_a_deadline_that_fired_first_is_a_recorded_conflict(api, hotline_app, clock):
    interrupting_sign_for(hotline_app)
    number = dispatched(hotline_app)
    task_id = ready_task(hotline_app, number, "sign_for")
    clock.advance(timedelta(days=2))  # no worker ran: the timer fires inside the request
    response = api("handler").post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"action": "sign"},
        headers={"Idempotency-Key": "sign-1", **EN},
    )
    assert response.status_code == 409
    assert response.json["code"] == 409 and "fired first" in response.json["message"]
    # the timer's effect and the rejected input stay, though the answer was an error
    assert case_row(hotline_app, number).status == "return_requested"
    with hotline_app.app_context():
        rejected = db.session.scalars(
            select(InstanceEvent).where(InstanceEvent.kind == "task.rejected")
        ).all()
    assert [e.payload["data"]["action"] for e in rejected] == ["sign"]
    replay = api("handler").post(
        f"/api/v1/tasks/{task_id}/complete",
        json={"action": "sign"},
        headers={"Idempotency-Key": "sign-1", **EN},
    )
    assert replay.status_code == 409 and replay.headers["Idempotent-Replayed"] == "true"


def test_a_completion_reads_each_row_once(api, hotline_app):
    """Signing for a case: the user, the department, the task and the case are each read
    once (they were read two or three times, each read a statement of its own), the case
    row is written with one UPDATE, and the answer still carries the case as it now is."""
    number = dispatched(hotline_app)
    task_id = ready_task(hotline_app, number, "sign_for")
    handler = api("handler")
    assert handler.get(f"/api/v1/tasks/{task_id}").status_code == 200  # the token's first use
    with hotline_app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    try:
        done = handler.post(f"/api/v1/tasks/{task_id}/complete", json={"action": "sign"})
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert done.status_code == 200, done.json
    assert done.json["case"]["status"] == case_row(hotline_app, number).status == "in_progress"
    assert [t["element_id"] for t in done.json["next_tasks"]] == ["handle"]
    assert done.json["task"]["state"] == "completed"
    reads = [s for s in statements if s.startswith("SELECT")]
    assert not [s for s in reads if s.startswith("SELECT users.")], "the user was read again"
    assert not [s for s in reads if s.startswith("SELECT departments.id")], "department again"
    assert len([s for s in reads if " FROM cases" in s or "JOIN cases" in s]) == 1, reads
    assert len([s for s in statements if s.startswith("UPDATE cases")]) == 1, statements
    assert len(statements) <= 10, statements


def test_two_steps_in_one_transaction_keep_one_department_link(hotline_app):
    """A domain service may wrap several steps in one unit of work (``unit_of_work`` nests):
    a dispatch and a sign-for together leave the one lead link the dispatch made, and the
    sign-for's check of the departments (one read, see the case mirror) finds it."""
    from engine.db import unit_of_work
    from engine.models import HumanTask
    from webapp.hotline import get_hotline
    from workflows.cases import flows
    from workflows.cases.models import Case, CaseDepartment
    from workflows.users.service import by_username

    number = open_case(hotline_app)

    def ready(element: str) -> str:
        return db.session.scalar(
            select(HumanTask.task_id)
            .join(Case, Case.instance_id == HumanTask.instance_id)
            .where(Case.number == number, HumanTask.element_id == element)
            .where(HumanTask.state == "ready")
        )

    with hotline_app.app_context():
        hotline, session = get_hotline(), db.session
        with unit_of_work(session):
            flows.complete_task(
                session,
                hotline,
                task_id=ready("dispatch"),
                data={"lead_department": "B-MR"},
                user=by_username(session, "disp1"),
            )
            flows.complete_task(
                session,
                hotline,
                task_id=ready("sign_for"),
                data={"action": "sign"},
                user=by_username(session, "h_mr"),
            )
        links = session.execute(
            select(CaseDepartment.role).join(Case).where(Case.number == number)
        ).all()
    assert [tuple(link) for link in links] == [("lead",)]
    assert case_row(hotline_app, number).status == "in_progress"


def test_the_inbox_orders_by_urgency_and_fills_each_tasks_own_deadline(api, hotline_app, clock):
    routine = open_case(hotline_app)
    clock.advance(timedelta(minutes=5))
    critical = open_case(
        hotline_app,
        urgency="critical",
        case_type="help",
        category="药品安全",
        description="独居老人急需救命药，家中无人可去药房",
    )
    items = api("dispatcher").get("/api/v1/tasks").json["items"]
    assert [(t["case"]["number"], t["case"]["urgency"]) for t in items] == [
        (critical, "critical"),
        (routine, "normal"),
    ]
    # each dispatch task is due by its urgency's dispatch limit (critical: 1 hour; normal: 2
    # working hours), so the critical one, recorded later, is also due first
    dues = [datetime.fromisoformat(t["due_at"]) for t in items]
    assert clock.now() < dues[0] < dues[1]

    signed = dispatched(hotline_app, lead="B-MR", caller_phone="13900139000")
    [task] = api("handler").get("/api/v1/tasks").json["items"]
    assert (task["case"]["number"], task["step"]) == (signed, "sign_for")
    due = datetime.fromisoformat(task["due_at"])  # the sign-for deadline, not the reply's
    assert clock.now() < due < datetime.fromisoformat(task["case"]["reply_due"])
    assert api("handler").get(f"/api/v1/tasks/{task['task_id']}").json["due_at"] == task["due_at"]

    # past it, the timer has fired (the case is marked sign-for escalated) and the task still
    # shows when it was due, rather than nothing
    clock.set(due + timedelta(hours=1))
    with hotline_app.app_context():
        get_hotline().runtime.fire_due_timers(db.session)
    assert case_row(hotline_app, signed).sign_escalated
    [late] = api("handler").get("/api/v1/tasks").json["items"]
    assert late["task_id"] == task["task_id"] and late["due_at"] == task["due_at"]


def test_every_task_kind_has_its_own_due_at_and_due_state(api, hotline_app, clock):
    """Each step a case meets, read through the API: a deadline of its own, from the case's
    policy, and its state; the lists filter on that state."""
    number = open_case(hotline_app)
    dues: dict[str, datetime] = {}

    def check(role: str, step: str) -> dict:
        items = api(role).get(f"/api/v1/tasks?step={step}").json["items"]
        [task] = [t for t in items if t["case"]["number"] == number]
        assert task["due_at"] is not None and task["due_state"] == "normal", task
        due = datetime.fromisoformat(task["due_at"])
        assert clock.now() < due, step
        dues[step] = due
        one = api(role).get(f"/api/v1/tasks/{task['task_id']}").json
        assert (one["due_at"], one["due_state"]) == (task["due_at"], "normal")
        return task

    check("dispatcher", "dispatch")
    act(hotline_app, number, "dispatch", "disp1", {"lead_department": "B-MR", "co_departments": []})
    check("handler", "sign_for")
    return_reason = {"action": "return", "return_reason": "不属于本单位职责范围"}
    act(hotline_app, number, "sign_for", "h_mr", return_reason)
    check("dispatcher", "review_return")
    act(hotline_app, number, "review_return", "disp1", {"decision": "reject", "note": "确属本单位"})
    act(hotline_app, number, "sign_for", "h_mr", {"action": "sign"})
    check("handler", "handle")
    extension = {"extension_days": 3, "extension_reason": "需要检测报告，检测周期较长"}
    act(hotline_app, number, "handle", "h_mr", {"action": "request_extension", **extension})
    check("dispatcher", "review_extension")
    act(hotline_app, number, "review_extension", "disp1", {"decision": "refuse", "note": "按期"})
    suspension = {"action": "request_suspension", "suspension_reason": "当事人出国，等待回国取证"}
    act(hotline_app, number, "handle", "h_mr", suspension)
    check("dispatcher", "review_suspension")
    act(hotline_app, number, "review_suspension", "disp1", {"decision": "approve"})
    check("handler", "resume")
    act(hotline_app, number, "resume", "h_mr", {"note": "当事人已回国"})
    reply = {"action": "reply", "reply_text": "已处理完毕，已责令整改", "result": "resolved"}
    act(hotline_app, number, "handle", "h_mr", reply)
    review = check("dispatcher", "review_reply")
    # a review's deadline is its own: a working day, not the case's reply deadline
    assert dues["review_reply"] < datetime.fromisoformat(review["case"]["reply_due"])
    assert dues["handle"] == datetime.fromisoformat(review["case"]["reply_due"])

    dispatcher = api("dispatcher")
    advance(hotline_app, clock, hours=30)  # Tuesday 15:00: 80% of the working day has passed
    [task] = dispatcher.get("/api/v1/tasks?due_state=yellow").json["items"]
    assert (task["step"], task["due_state"]) == ("review_reply", "yellow")
    assert dispatcher.get("/api/v1/tasks?due_state=red").json["total"] == 0
    advance(hotline_app, clock, hours=9)
    [task] = dispatcher.get("/api/v1/tasks?due_state=red").json["items"]
    assert (task["step"], task["due_state"]) == ("review_reply", "red")
    assert dispatcher.get(f"/api/v1/tasks/{task['task_id']}").json["due_state"] == "red"
    # the case's own reply deadline is still weeks away: the case is not red, the task is
    assert task["case"]["due_state"] == "normal"
    done = dispatcher.post(
        f"/api/v1/tasks/{task['task_id']}/complete", json={"decision": "accept"}
    ).json
    assert done["task"]["due_state"] == "red"  # finished late
