"""The callback over the API: the callback agent's tasks, each attempt in the case's
``callback_attempts``, the outcomes that end a case, and the fields a bad submission names."""

from __future__ import annotations

from datetime import timedelta

from tests.webapp.test_callback_pages import awaiting_callback
from tests.webapp.test_inbox import fire_timers, ready_task


def test_a_citizen_not_reached_over_two_working_days_closes_not_reached(api, hotline_app, clock):
    number = awaiting_callback(hotline_app)
    cb1 = api("callback")
    listed = cb1.get("/api/v1/tasks").json["items"]
    (task,) = [t for t in listed if t["case"]["number"] == number]
    assert task["lane"] == "callback" and task["due_at"].startswith("2026-03-05T23:59:59")
    assert number not in {
        t["case"]["number"] for t in api("supervisor").get("/api/v1/tasks").json["items"]
    }

    refused = api("supervisor").post(
        f"/api/v1/tasks/{task['task_id']}/complete", json={"contact_result": "rating_declined"}
    )
    assert refused.status_code == 403

    missing = cb1.post(
        f"/api/v1/tasks/{task['task_id']}/complete", json={"contact_result": "not_reached"}
    )
    assert missing.status_code == 422 and set(missing.json["errors"]) == {"unreached_reason"}
    assert cb1.get(f"/api/v1/cases/{number}").json["callback_attempts"] == []

    for reason in ("no_answer", "busy", "declined"):
        task_id = ready_task(hotline_app, number, "callback")
        done = cb1.post(
            f"/api/v1/tasks/{task_id}/complete",
            json={"contact_result": "not_reached", "unreached_reason": reason},
        )
        assert done.status_code == 200, done.json
        clock.advance(timedelta(days=1))
        fire_timers(hotline_app)
    case = cb1.get(f"/api/v1/cases/{number}").json
    assert (case["status"], case["outcome"], case["satisfaction"]) == (
        "closed",
        "not_reached",
        None,
    )
    assert case["callback_attempts"] == [
        {
            "at": f"2026-03-0{day}T09:00:00+08:00",
            "user": "cb1",
            "result": "not_reached",
            "reason": reason,
            "note": "",
        }
        for day, reason in ((2, "no_answer"), (3, "busy"), (4, "declined"))
    ]
    history = cb1.get(f"/api/v1/cases/{number}/history").json["events"]
    closing = [e for e in history if e["kind"] == "case.status" and e["data"]["to"] == "closed"]
    assert closing[0]["data"]["outcome"] == "not_reached"


def test_rating_declined_and_reached(api, hotline_app):
    declined = awaiting_callback(hotline_app)
    reached = awaiting_callback(hotline_app)
    cb1 = api("callback")
    for number, data in (
        (declined, {"contact_result": "rating_declined", "callback_note": "不愿评价"}),
        (reached, {"satisfaction": "basically_satisfied", "resolved": "no"}),  # reached: default
    ):
        task_id = ready_task(hotline_app, number, "callback")
        done = cb1.post(f"/api/v1/tasks/{task_id}/complete", json=data)
        assert done.status_code == 200, done.json
    case = cb1.get(f"/api/v1/cases/{declined}").json
    assert (case["outcome"], case["satisfaction"], case["resolved"]) == (
        "rating_declined",
        None,
        None,
    )
    assert [(a["result"], a["reason"], a["note"]) for a in case["callback_attempts"]] == [
        ("rating_declined", None, "不愿评价")
    ]
    case = cb1.get(f"/api/v1/cases/{reached}").json
    assert (case["outcome"], case["satisfaction"], case["resolved"]) == (
        "handled",
        "basically_satisfied",
        False,
    )
    assert [a["result"] for a in case["callback_attempts"]] == ["reached"]


def test_the_kpis_api_counts_the_callback_outcomes(api, hotline_app, clock):
    from tests.webapp.test_inbox import act

    declined, unreached = awaiting_callback(hotline_app), awaiting_callback(hotline_app)
    act(hotline_app, declined, "callback", "cb1", {"contact_result": "rating_declined"})
    for _ in range(3):
        data = {"contact_result": "not_reached", "unreached_reason": "busy"}
        act(hotline_app, unreached, "callback", "cb1", data)
        clock.advance(timedelta(days=1))
        fire_timers(hotline_app)
    kpis = api("supervisor").get("/api/v1/kpis").json
    (total,) = kpis["rows"]
    rates = total["rates"]
    assert (rates["callback"]["numerator"], rates["callback"]["denominator"]) == (1, 2)
    assert (rates["not_reached"]["numerator"], rates["not_reached"]["denominator"]) == (1, 2)
    assert rates["not_reached"]["rate"] == 0.5
    assert (rates["closure"]["numerator"], rates["closure"]["denominator"]) == (2, 2)
