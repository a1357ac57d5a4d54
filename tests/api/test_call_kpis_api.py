"""``GET /api/v1/kpis/calls``: the call figures of a period, grouped by queue and/or operator
and per day, week or month, the cases per call type; who may read them; 422s naming the
parameter. The calls are those of tests/webapp/test_call_kpis_page.py (Sunday 1 March 23:59 to
Monday 2 March 08:30)."""

from __future__ import annotations

import pytest

from tests.webapp.test_call_kpis_page import make_calls

URL = "/api/v1/kpis/calls"


@pytest.fixture
def calls(hotline_app):
    make_calls(hotline_app)
    return hotline_app


def test_the_totals_of_the_last_30_days(calls, api):
    body = api("supervisor").get(URL)
    assert body.status_code == 200, body.get_data(as_text=True)
    data = body.json
    assert (data["start"], data["end"], data["answer_rate_target"]) == (
        "2026-02-01",
        "2026-03-02",
        0.95,
    )
    (row,) = data["rows"]
    assert row == {
        "queue": None,
        "agent": None,
        "bucket": None,
        "inbound": 4,
        "answered": 2,
        "abandoned": 1,
        "missed": 1,
        "transferred": 0,
        "answer_rate": {"numerator": 2, "denominator": 4, "rate": 0.5},
        "abandon_rate": {"numerator": 1, "denominator": 4, "rate": 0.25},
        "asa_seconds": 15.0,
        "aht_seconds": 75.0,
        "talk_seconds": 75.0,
        "calls_per_case": {"numerator": 1, "denominator": 1, "rate": 1.0},
    }
    assert data["case_types"] == [{"case_type": "complaint", "cases": 1}]


def test_grouped_and_bucketed(calls, api):
    admin = api("admin")
    by_day = admin.get(f"{URL}?start=2026-03-01&end=2026-03-02&bucket=day").json["rows"]
    assert [(r["bucket"], r["inbound"], r["answered"]) for r in by_day] == [
        ("2026-03-01", 1, 1),  # 23:59 on Sunday
        ("2026-03-02", 3, 1),  # 00:01 on Monday
    ]
    by_week = admin.get(f"{URL}?start=2026-02-23&end=2026-03-08&bucket=week").json["rows"]
    assert [(r["bucket"], r["inbound"]) for r in by_week] == [("2026-02-23", 1), ("2026-03-02", 3)]
    by_month = admin.get(f"{URL}?start=2026-01-01&end=2026-03-31&bucket=month").json["rows"]
    assert [(r["bucket"], r["inbound"]) for r in by_month] == [("2026-03-01", 4)]
    by_queue = admin.get(f"{URL}?group_by=queue").json["rows"]
    assert [(r["queue"], r["agent"], r["inbound"], r["missed"]) for r in by_queue] == [
        ("12345", None, 2, 0),
        ("english", None, 2, 1),
    ]
    by_agent = admin.get(f"{URL}?group_by=agent").json["rows"]
    assert [(r["agent"], r["answer_rate"]["rate"]) for r in by_agent] == [
        ("", 0.0),
        ("op1", 1.0),
        ("op2", 1.0),
    ]
    both = admin.get(f"{URL}?group_by=queue&group_by=agent&queue=english").json["rows"]
    assert [(r["queue"], r["agent"], r["inbound"]) for r in both] == [
        ("english", "", 1),
        ("english", "op2", 1),
    ]
    op1 = admin.get(f"{URL}?agent=op1").json
    assert op1["rows"][0]["inbound"] == 1 and op1["rows"][0]["asa_seconds"] == 20.0
    assert op1["case_types"] == [{"case_type": "complaint", "cases": 1}]


def test_an_empty_period(calls, api):
    data = api("supervisor").get(f"{URL}?start=2026-01-01&end=2026-01-31").json
    (row,) = data["rows"]
    assert row["inbound"] == 0 and row["answer_rate"] == {
        "numerator": 0,
        "denominator": 0,
        "rate": None,
    }
    assert row["asa_seconds"] is None and row["calls_per_case"]["rate"] is None
    assert data["case_types"] == []
    grouped = api("supervisor").get(f"{URL}?start=2026-01-01&end=2026-01-31&group_by=queue")
    assert grouped.json["rows"] == []


def test_who_may_read_them(calls, api):
    for role in ("operator", "dispatcher", "handler", "lead", "telephony"):
        assert api(role).get(URL).status_code == 403, role


@pytest.mark.parametrize(
    "query, field",
    [
        ("group_by=department", "group_by"),
        ("bucket=year", "bucket"),
        ("start=yesterday", "start"),
        ("start=2026-03-05&end=2026-03-01", "end"),
        ("start=2000-01-01&end=2026-01-01&bucket=day", "bucket"),
        ("agent=nobody", "agent"),
        ("queue=" + "q" * 33, "queue"),
        ("weather=fine", "weather"),
    ],
)
def test_bad_parameters_are_422_naming_them(calls, api, query, field):
    response = api("supervisor").get(f"{URL}?{query}")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.json["errors"], response.json
