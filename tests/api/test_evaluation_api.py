"""``/api/v1/evaluation``: scorecards and published bulletins, with the pages' rules. The demo
city, cases built by hand in January and February 2026 (the app's clock is 2026-03-02), every
score worked out in the comments."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from engine.db import unit_of_work
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases.models import Case
from workflows.departments.models import Department
from workflows.evaluation import bulletins

from ..workflows.test_kpi import add_dispatched

D = timedelta(days=1)
H = timedelta(hours=1)
#: 10:00 in Beijing on the 10th of January and of February 2026
JAN = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)
FEB = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)


def closed_on_time(app, code: str, n: int, *, at=FEB, unsatisfied: int = 0, reopens: int = 0):
    """``n`` cases of the unit created at ``at`` and closed on time, the first
    ``unsatisfied`` rated so; the first ``reopens`` reopened once. Their numbers."""
    with app.app_context():
        unit = db.session.scalar(select(Department).where(Department.code == code))
        numbers = []
        with unit_of_work(db.session):
            for i in range(n):
                case = add_dispatched(
                    db.session, unit, created_at=at, dispatched_at=at + H,
                    sign_due=at + 25 * H, signed_at=at + 2 * H, reply_due=at + 5 * D,
                    replied_at=at + 3 * D, closed_at=at + 4 * D, status="closed",
                    satisfaction="unsatisfied" if i < unsatisfied else "satisfied",
                    resolved=True, reopen_count=1 if i < reopens else 0,
                )  # fmt: skip
                numbers.append(case.number)
        return numbers


def publish(app, month: str) -> str:
    """Publish the month's bulletin now (the app's clock); the month."""
    with app.app_context(), unit_of_work(db.session):
        bulletins.publish(
            db.session, month=datetime.strptime(month, "%Y-%m").date(),
            at=get_hotline().clock.now(), by="lead1",
            tz=app.config["TIMEZONE"],
        )  # fmt: skip
    return month


def units(body) -> dict[str, dict]:
    return {u["department"]: u for level in body["levels"] for u in level["units"]}


def test_every_unit_scored_ranked_with_its_formula_figures_and_change(hotline_app, api):
    closed_on_time(hotline_app, "B-MR", 5, at=JAN)
    closed_on_time(hotline_app, "B-MR", 5, unsatisfied=1)
    closed_on_time(hotline_app, "B-HU", 5)
    response = api("supervisor").get("/api/v1/evaluation/scorecards?month=2026-02")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["month"] == "2026-02"
    assert body["scheme"]["min_cases"] == 5 and body["scheme"]["weights"]["satisfaction"] == 20
    city = next(level for level in body["levels"] if level["level"] == "city")
    assert city["ranked_units"] == 2
    assert [u["department"] for u in city["units"][:2]] == ["B-HU", "B-MR"]
    hu, mr = units(body)["B-HU"], units(body)["B-MR"]
    # housing: every rate 100%, co-handling nothing to count → 95 × 100/95 = 100.0, first
    assert (hu["score"], hu["ranked"], hu["rank"]) == (100.0, True, 1)
    assert hu["previous_score"] is None and hu["score_change"] is None
    # market regulation: satisfaction 4 of 5 → 20 × 80% = 16; 91 of 95 × 100/95 = 95.8
    assert (mr["score"], mr["rank"], mr["dispatched"]) == (95.8, 2, 5)
    assert mr["rates"]["satisfaction"] == {"numerator": 4, "denominator": 5, "rate": 0.8}
    assert mr["rates"]["cohandling_on_time"] == {"numerator": 0, "denominator": 0, "rate": None}
    assert "满意率 80.0% × 20" in mr["formula_zh"] and mr["formula_zh"].endswith("× 100/95 = 95.8")
    assert mr["formula_en"].endswith("= 95.8")
    # January: market regulation alone, 100.0, first → 4.2 down, one place lost
    assert (mr["previous_score"], mr["previous_rank"]) == (100.0, 1)
    assert (mr["score_change"], mr["rank_change"]) == (-4.2, -1)
    idle = [u for u in city["units"] if u["dispatched"] == 0]
    assert idle and all(u["score"] is None and not u["ranked"] and u["rank"] is None for u in idle)
    assert city["units"][-1]["ranked"] is False  # listed after the ranked ones

    district = api("lead").get("/api/v1/evaluation/scorecards?month=2026-02&level=district")
    assert {level["level"] for level in district.json["levels"]} <= {"district"}
    one = api("admin").get("/api/v1/evaluation/scorecards/B-MR?month=2026-02").json
    assert one["ranked_units"] == 2 and one["units"][0]["score"] == 95.8


def test_a_handler_sees_its_own_unit_only(hotline_app, api):
    closed_on_time(hotline_app, "B-MR", 5, unsatisfied=1)
    closed_on_time(hotline_app, "B-HU", 5)
    h_mr = api("handler")
    body = h_mr.get("/api/v1/evaluation/scorecards").json  # last month: February
    assert body["month"] == "2026-02"
    assert list(units(body)) == ["B-MR"]
    assert body["levels"][0]["ranked_units"] == 2 and units(body)["B-MR"]["rank"] == 2
    assert h_mr.get("/api/v1/evaluation/scorecards/B-MR").json["units"][0]["score"] == 95.8
    assert h_mr.get("/api/v1/evaluation/scorecards/B-HU").status_code == 404
    assert api("other_handler").get("/api/v1/evaluation/scorecards/B-MR").status_code == 404
    assert api("supervisor").get("/api/v1/evaluation/scorecards/NOPE").status_code == 404
    assert api("operator").get("/api/v1/evaluation/scorecards").status_code == 403


def test_bad_input_names_the_field(api):
    client = api("supervisor")
    for query, field in (
        ("month=2026-13", "month"),
        ("month=0000-01", "month"),
        ("month=2026-3", "month"),
        ("level=planet", "level"),
        ("colour=red", "colour"),
    ):
        response = client.get(f"/api/v1/evaluation/scorecards?{query}")
        assert response.status_code == 422, query
        assert list(response.json["errors"]) == [field], query
    assert client.get("/api/v1/evaluation/bulletins/2026-13").status_code == 404
    assert client.get("/api/v1/evaluation/bulletins/2026-02/pdf").status_code == 404


def test_a_published_bulletin_is_frozen_revised_by_an_appeal_and_downloadable(hotline_app, api):
    mr = closed_on_time(hotline_app, "B-MR", 5, unsatisfied=1)
    hu = closed_on_time(hotline_app, "B-HU", 5, reopens=1)
    with hotline_app.app_context():
        HOUSING = db.session.scalar(select(Department.name).where(Department.code == "B-HU"))  # noqa: N806
    lead, h_mr = api("lead"), api("handler")
    assert lead.get("/api/v1/evaluation/bulletins").json["items"] == []
    assert lead.get("/api/v1/evaluation/bulletins/2026-02").status_code == 404  # a draft
    live = units(lead.get("/api/v1/evaluation/scorecards?month=2026-02").json)
    publish(hotline_app, "2026-02")
    listing = lead.get("/api/v1/evaluation/bulletins").json
    assert [(i["month"], i["published_by"], i["revisions"]) for i in listing["items"]] == [
        ("2026-02", "lead1", 0)
    ]
    closed_on_time(hotline_app, "B-HU", 5, unsatisfied=5)  # later cases do not change it
    assert units(lead.get("/api/v1/evaluation/scorecards?month=2026-02").json)["B-HU"][
        "score"] != live["B-HU"]["score"]  # fmt: skip
    body = lead.get("/api/v1/evaluation/bulletins/2026-02").json
    frozen = units(body)
    assert frozen["B-MR"]["score"] == live["B-MR"]["score"] == 95.8
    # housing: every rate 100%, one case reopened: 100 − 1 × 0.5 = 99.5, first
    assert frozen["B-HU"] == live["B-HU"] and (frozen["B-HU"]["score"], frozen["B-HU"]["rank"]) == (
        99.5, 1)  # fmt: skip
    assert body["best"]["city"] == ["B-HU"] and body["worst"]["city"] == ["B-MR"]
    assert [c["case"] for c in body["reopened_cases"]] == [hu[0]]
    assert body["trend"][-1]["month"] == "2026-02" and body["trend"][-1]["dispatched"] == 10
    # a handler reads the rankings, and only its own unit's cases
    mine = h_mr.get("/api/v1/evaluation/bulletins/2026-02").json
    assert mine["reopened_cases"] == [] and units(mine)["B-HU"]["score"] == frozen["B-HU"]["score"]
    assert (
        api("other_handler")
        .get("/api/v1/evaluation/bulletins/2026-02")
        .json["reopened_cases"][0]["case"]
        == hu[0]
    )

    # the unsatisfied case's appeal upheld: satisfaction 4 of 4 → 100.0, first; housing
    # keeps its published 99.5 and rank (an appeal of one unit takes nothing from another)
    with hotline_app.app_context(), unit_of_work(db.session):
        case = db.session.scalar(select(Case).where(Case.number == mr[0]))
        case.appeal_upheld_at = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
        db.session.flush()
        bulletins.revise_for_appeal(db.session, case_id=case.id,
                                    department_id=case.lead_department_id,
                                    at=case.appeal_upheld_at)  # fmt: skip
    body = lead.get("/api/v1/evaluation/bulletins/2026-02").json
    assert (units(body)["B-MR"]["score"], units(body)["B-MR"]["rank"]) == (100.0, 1)
    assert (units(body)["B-HU"]["score"], units(body)["B-HU"]["rank"]) == (99.5, 1)
    assert units(body)["B-MR"]["revised"] is True
    assert [(r["case"], r["department"], r["score_before"], r["score_after"])
            for r in body["revision_items"]] == [(mr[0], "B-MR", 95.8, 100.0)]  # fmt: skip
    assert lead.get("/api/v1/evaluation/bulletins").json["items"][0]["revisions"] == 1

    xlsx = h_mr.get("/api/v1/evaluation/bulletins/2026-02/xlsx")
    assert xlsx.status_code == 200 and "bulletin-2026-02.xlsx" in xlsx.headers[
        "Content-Disposition"]  # fmt: skip
    sheet = load_workbook(io.BytesIO(xlsx.data))["排名"]
    assert sheet["A1"].value == "2026-02 月度考核通报"
    assert sheet["A2"].value == f"2026-03-02T02:00：工单 {mr[0]} 申诉成立，得分 95.8 → 100.0"
    rows = [[c.value for c in row][:4] for row in sheet.iter_rows(min_row=6, max_row=7)]
    assert rows == [[1, "市场监督管理局（申诉后修订）", 100.0, 5], [1, HOUSING, 99.5, 5]]
    pdf = h_mr.get("/api/v1/evaluation/bulletins/2026-02/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
