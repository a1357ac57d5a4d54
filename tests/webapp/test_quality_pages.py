"""The quality review pages, as the reviewer (qa1), a centre lead, an administrator and the
operators see them: drawing a month, scoring a sampled case, the report and its CSV, each
operator's own scores, a dispute from filing to decision, and the sheet's versions."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.webapp.pages import csrf_token
from tests.webapp.test_inbox import act
from tests.workflows.conftest import INTAKE
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases import flows
from workflows.quality.models import Review, SampledCase

#: 10:00 on 1 April 2026 in Beijing: March has ended
APRIL_1 = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
EN = {"Accept-Language": "en"}
THREE = {"score_attitude": "36", "score_data_entry": "28", "score_communication": "26"}


def take(app, operator: str, n: int, **overrides) -> list[str]:
    with app.app_context():
        return [
            flows.open_case(
                db.session, get_hotline(), data={**INTAKE, **overrides}, actor=operator
            ).number  # fmt: skip
            for _ in range(n)
        ]


def post(client, path: str, data: dict, page: str = "/account"):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)},
                       headers=EN)  # fmt: skip


@pytest.fixture
def march(hotline_app, clock):
    """op1 took 3 cases in March (one answered at once), op2 took 2; disp1 dispatched op1's two,
    one was returned (approved) and dispatched again; the month has ended."""
    first, second = take(hotline_app, "op1", 2)
    for number in (first, second):
        act(hotline_app, number, "dispatch", "disp1", {"lead_department": "B-MR"})
    act(hotline_app, second, "sign_for", "h_mr", {"action": "return",
                                                  "return_reason": "不属于本单位职责范围"})  # fmt: skip
    act(hotline_app, second, "review_return", "disp1", {"decision": "approve"})
    act(hotline_app, second, "dispatch", "disp1", {"lead_department": "B-UM"})
    take(hotline_app, "op1", 1, intake_outcome="answered", answer="已解答")
    take(hotline_app, "op2", 2)
    clock.set(APRIL_1)
    return hotline_app


def samples(app) -> dict[str, list[int]]:
    with app.app_context():
        out: dict[str, list[int]] = {}
        for row in db.session.scalars(select(SampledCase).order_by(SampledCase.position)):
            out.setdefault(row.operator, []).append(row.id)
        return out


def test_drawing_scoring_and_the_report(march, as_role):
    qa = as_role("qa")
    assert qa.get("/").headers["Location"] == "/quality/samples"
    assert qa.get("/cases").status_code == 403  # the reviewer sees sampled cases only
    # a bad month or size names the field; nothing is drawn
    bad = post(qa, "/quality/samples/draw", {"month": "2026-13", "size": "0"}, "/quality/samples")
    assert bad.status_code == 422 and samples(march) == {}
    html = bad.get_data(as_text=True)
    assert (
        "Month: write it as YYYY-MM" in html and "Sample size: a whole number from 1 to 50" in html
    )
    # the month still running cannot be drawn
    assert post(qa, "/quality/samples/draw", {"month": "2026-04", "size": "2"}).status_code == 422
    done = post(qa, "/quality/samples/draw", {"month": "2026-03", "size": "2"})
    assert done.status_code == 303 and done.headers["Location"] == "/quality/samples?month=2026-03"
    drawn = samples(march)
    assert {k: len(v) for k, v in drawn.items()} == {"op1": 2, "op2": 2}
    # drawing again changes nothing
    again = post(qa, "/quality/samples/draw", {"month": "2026-03", "size": "5"})
    assert again.status_code == 303 and samples(march) == drawn
    page = qa.get("/quality/samples?month=2026-03", headers=EN).get_data(as_text=True)
    assert "This month was drawn already" in page and page.count("To review") == 4
    # the sampled case, read-only and masked: no caller's full phone or name
    sample = drawn["op1"][0]
    html = qa.get(f"/quality/samples/{sample}", headers=EN).get_data(as_text=True)
    assert "13800138000" not in html and "张三" not in html and "138****8000" in html
    # scores outside 0..max are named; nothing is saved
    wrong = post(qa, f"/quality/samples/{sample}/review",
                 {**THREE, "score_attitude": "41", "score_communication": "x"})  # fmt: skip
    assert wrong.status_code == 422
    text = wrong.get_data(as_text=True)
    assert "Service attitude: a whole number from 0 to 40." in text
    assert "Communication with the caller: a whole number from 0 to 30." in text
    ok = post(qa, f"/quality/samples/{sample}/review", {**THREE, "comment": "语气平和，录入完整"})
    assert ok.status_code == 303
    twice = post(qa, f"/quality/samples/{sample}/review", THREE)
    assert twice.status_code == 409
    second = drawn["op2"][0]
    post(qa, f"/quality/samples/{second}/review",
         {"score_attitude": "40", "score_data_entry": "30", "score_communication": "20"})  # fmt: skip
    # the report: op2 (90) above op1 (90 too?) no: op1 36+28+26 = 90, op2 40+30+20 = 90: a tie
    lead = as_role("lead")
    report = lead.get("/quality/report?month=2026-03", headers=EN).get_data(as_text=True)
    ranks = re.findall(r'data-operator="(op\d)">\s*<td class="rank">(\S+)</td>', report)
    assert ranks == [("op1", "1"), ("op2", "1")]
    got = lead.get("/quality/report?month=2026-03&format=csv", headers=EN)
    rows = list(csv.reader(io.StringIO(got.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["Rank", "Operator", "Name", "Reviews", "Average score"]
    by = {r[1]: r for r in rows[1:]}
    # op1: 3 cases, 1 answered at once, 2 dispatched, 1 returned as wrong, 1 re-dispatch, no call
    assert by["op1"][3:] == ["1", "90.0", "3", "1", "2", "1", "1", "0", ""]
    # op2: 2 cases waiting for dispatch
    assert by["op2"][3:] == ["1", "90.0", "2", "0", "0", "0", "0", "0", ""]
    # disp1: three dispatches, the first of the returned case returned, one re-dispatch
    row = re.search(r'data-dispatcher="disp1">(.*?)</tr>', report, re.S).group(1)
    assert re.findall(r"<td>([^<]*)</td>", row)[1:] == ["3", "1/3 (33.3%)", "1"]
    # Chinese first
    zh = lead.get("/quality/report?month=2026-03").get_data(as_text=True)
    assert "接线员月度质检报表" in zh and "平均分" in zh


def test_operators_see_their_own_scores_and_dispute_them(march, as_role):
    qa = as_role("qa")
    post(qa, "/quality/samples/draw", {"month": "2026-03", "size": "1"})
    drawn = samples(march)
    post(qa, f"/quality/samples/{drawn['op1'][0]}/review", {**THREE, "comment": "开场白不规范"})
    post(qa, f"/quality/samples/{drawn['op2'][0]}/review", {**THREE, "comment": "给 op2 的评语"})
    with march.app_context():
        review_of = {r.operator: r.id for r in db.session.scalars(select(Review))}
    op1, op2 = as_role("operator"), as_role("operator", username="op2")
    mine = op1.get("/quality/mine", headers=EN).get_data(as_text=True)
    assert "开场白不规范" in mine and "给 op2 的评语" not in mine and "90/100" in mine
    # op2 cannot dispute op1's review (it does not exist for them)
    assert (
        post(op2, f"/quality/reviews/{review_of['op1']}/dispute", {"reason": "x"}).status_code
        == 404
    )
    # a dispute needs a reason
    empty = post(op1, f"/quality/reviews/{review_of['op1']}/dispute", {"reason": " "})
    assert empty.status_code == 422 and "Reason: say why you dispute" in empty.get_data(
        as_text=True
    )
    filed = post(
        op1, f"/quality/reviews/{review_of['op1']}/dispute", {"reason": "开场白符合新规范"}
    )
    assert filed.status_code == 303
    assert (
        post(op1, f"/quality/reviews/{review_of['op1']}/dispute", {"reason": "再议"}).status_code
        == 409
    )
    # the reviewer sees it, decides it: upheld, scores corrected
    listing = qa.get("/quality/disputes", headers=EN).get_data(as_text=True)
    assert "开场白符合新规范" in listing
    with march.app_context():
        from workflows.quality.models import Dispute

        dispute = db.session.scalar(select(Dispute.id))
    page = f"/quality/samples/{drawn['op1'][0]}"
    missing = post(qa, f"/quality/disputes/{dispute}", {"decision": "upheld"}, page)
    assert missing.status_code == 422
    text = missing.get_data(as_text=True)
    assert "Outcome: an upheld dispute" in text and "Reason: give the reason" in text
    decided = post(qa, f"/quality/disputes/{dispute}",
                   {"decision": "upheld", "outcome": "corrected", "decision_reason": "核实录音",
                    **THREE, "score_attitude": "40"}, page)  # fmt: skip
    assert decided.status_code == 303
    html = qa.get(page, headers=EN).get_data(as_text=True)
    assert "90 → 94" in html and "核实录音" in html
    mine = op1.get("/quality/mine", headers=EN).get_data(as_text=True)
    assert "94/100" in mine and "Upheld" in mine and "核实录音" in mine
    # the reviewer's pages are not the operators'
    assert op1.get("/quality/samples").status_code == 403
    assert qa.get("/quality/mine").status_code == 403


def test_editing_the_sheet_keeps_old_scores(march, as_role):
    qa = as_role("qa")
    post(qa, "/quality/samples/draw", {"month": "2026-03", "size": "1"})
    sample = samples(march)["op1"][0]
    post(qa, f"/quality/samples/{sample}/review", THREE)
    admin = as_role("admin")
    bad = post(admin, "/quality/sheet", {"name": "三心", "item0_key": "attitude",
                                         "item0_label": "服务态度", "item0_max_points": "0"},
               "/quality/sheet")  # fmt: skip
    assert bad.status_code == 422
    assert "Maximum points: a whole number from 1 to 100." in bad.get_data(as_text=True)
    saved = post(admin, "/quality/sheet", {
        "name": "质检评分表 2026", "item0_key": "attitude", "item0_label": "服务态度",
        "item0_max_points": "50", "item1_key": "entry", "item1_label": "信息录入",
        "item1_max_points": "50",
    }, "/quality/sheet")  # fmt: skip
    assert saved.status_code == 303
    assert "version 2" in admin.get("/quality/sheet", headers=EN).get_data(as_text=True)
    # the old review shows the sheet it was scored on
    html = qa.get(f"/quality/samples/{sample}", headers=EN).get_data(as_text=True)
    assert "Scored on sheet version 1" in html and "Communication with the caller" in html
    # a new review is on version 2
    other = samples(march)["op2"][0]
    form = qa.get(f"/quality/samples/{other}", headers=EN).get_data(as_text=True)
    assert 'name="score_entry"' in form and 'name="score_communication"' not in form
    # the reviewer may not edit the sheet
    assert post(qa, "/quality/sheet", {"name": "x"}, "/quality/sheet").status_code == 403
