"""/api/v1/me, departments, the calendar and the KPIs."""

from __future__ import annotations

from tests.webapp.test_inbox import act, dispatched
from tests.webapp.test_intake import open_case


def test_departments_make_a_tree(api):
    client = api("operator")
    departments = {d["code"]: d for d in client.get("/api/v1/departments").json}
    assert departments["CITY"]["parent"] is None and departments["CITY"]["is_platform"]
    assert departments["B-MR"]["parent"] == "CITY"
    assert departments["B-MR"]["name_en"] == "Market Regulation Bureau"
    one = client.get("/api/v1/departments/B-MR")
    assert one.status_code == 200 and one.json == departments["B-MR"]
    assert client.get("/api/v1/departments/NOPE").status_code == 404
    # the unit's alert contacts; its webhook only as "has one" (the URL and secret stay inside)
    assert departments["B-MR"]["duty_phone"].startswith("1380000")
    assert departments["B-MR"]["duty_email"] == "duty.b-mr@jiangmen12345.example"
    assert departments["B-MR"]["has_webhook"] and not departments["S-BS"]["has_webhook"]
    assert "webhook_url" not in one.json and "webhook_secret" not in one.json


def test_due_dates_follow_the_working_day_calendar(api):
    client = api("handler")
    # Wednesday 30 September 2026, 5 working days: the National Day holiday (1-7 October)
    # is skipped and Saturday 10 October is worked (调休)
    due = client.get("/api/v1/calendar/due?start=2026-09-30T10:00:00&amount=5&unit=workdays")
    assert due.status_code == 200
    assert due.json["due"] == "2026-10-13T23:59:59+08:00"
    assert due.json["start"] == "2026-09-30T10:00:00+08:00"
    hours = client.get("/api/v1/calendar/due?start=2026-03-02T09:00:00%2B08:00&amount=2&unit=hours")
    assert hours.json["due"] == "2026-03-02T11:00:00+08:00"
    default_start = client.get("/api/v1/calendar/due?amount=1&unit=workdays").json
    assert default_start["start"] == "2026-03-02T09:00:00+08:00"  # the test clock's now
    bad = client.get("/api/v1/calendar/due?amount=-1&unit=fortnights")
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"amount", "unit"}
    missing = client.get("/api/v1/calendar/due?unit=workdays")
    assert missing.status_code == 422 and "amount" in missing.json["errors"]


def test_the_calendar_days_and_an_administrators_edit(api):
    days = {d["day"]: d for d in api("operator").get("/api/v1/calendar/days?year=2026").json}
    assert days["2026-10-01"]["kind"] == "holiday" and days["2026-10-01"]["working"] is False
    assert days["2026-10-10"]["kind"] == "workday" and days["2026-10-10"]["working"] is True
    plain = api("operator").get("/api/v1/calendar/days/2026-03-03").json
    assert plain == {"day": "2026-03-03", "working": True, "kind": None, "name": "", "source": None}
    assert api("operator").get("/api/v1/calendar/days/yesterday").status_code == 404
    body = {"kind": "holiday", "name": "台风停工"}
    assert api("supervisor").put("/api/v1/calendar/days/2026-03-03", json=body).status_code == 403
    edited = api("admin").put("/api/v1/calendar/days/2026-03-03", json=body)
    assert edited.status_code == 200
    assert edited.json["working"] is False and edited.json["source"] == "admin"
    due = api("handler").get(
        "/api/v1/calendar/due?start=2026-03-02T10:00:00&amount=1&unit=workdays"
    )
    assert due.json["due"] == "2026-03-04T23:59:59+08:00"  # the new holiday counts at once
    wrong = api("admin").put("/api/v1/calendar/days/2026-03-03", json={"kind": "party"})
    assert wrong.status_code == 422 and "kind" in wrong.json["errors"]


def test_kpis_for_supervisors(api, hotline_app):
    number = dispatched(hotline_app)
    act(hotline_app, number, "sign_for", "h_mr", {"action": "sign"})
    open_case(hotline_app, caller_phone="13900139000")
    for role in ("operator", "dispatcher", "handler"):
        assert api(role).get("/api/v1/kpis").status_code == 403
    totals = api("supervisor").get("/api/v1/kpis")
    assert totals.status_code == 200
    (row,) = totals.json["rows"]
    assert row["cases"] == 2 and row["dispatched"] == 1
    assert row["rates"]["on_time_sign_for"] == {"numerator": 1, "denominator": 1, "rate": 1.0}
    assert totals.json["end"] == "2026-03-02" and totals.json["start"] == "2026-02-01"
    by_department = api("admin").get("/api/v1/kpis?group_by=department").json["rows"]
    assert {r["department"] for r in by_department} == {"B-MR", None}
    trend = (
        api("admin")
        .get("/api/v1/kpis?start=2026-03-01&end=2026-03-03&bucket=day&case_type=complaint")
        .json["rows"]
    )
    assert [r["cases"] for r in sorted(trend, key=lambda r: r["bucket"])] == [2]
    bad = api("admin").get("/api/v1/kpis?start=2026-03-05&end=2026-03-01&group_by=weather")
    assert bad.status_code == 422
    assert bad.json["errors"] == {"group_by": ["Must be one of: department, case_type."]}
    too_many = api("admin").get("/api/v1/kpis?start=2000-01-01&end=2026-01-01&bucket=day")
    assert too_many.status_code == 422 and "bucket" in too_many.json["errors"]
