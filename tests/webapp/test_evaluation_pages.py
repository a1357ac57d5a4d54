"""The evaluation pages: what each role sees, the cases behind a figure, the scheme's form,
publishing and the downloads. February 2026 in the demo city, cases built by hand."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from tests.api.test_evaluation_api import closed_on_time
from tests.webapp.pages import csrf_token
from webapp.extensions import db
from workflows.evaluation.models import Bulletin

D = timedelta(days=1)
H = timedelta(hours=1)
#: 2026-02-10 10:00 in Beijing (the app's clock is 2026-03-02: February is last month)
FEB = datetime(2026, 2, 10, 2, 0, tzinfo=UTC)


def february(hotline_app, code: str, n: int, unsatisfied: int = 0) -> list[str]:
    """``n`` cases of the unit closed on time in February, ``unsatisfied`` of them rated so."""
    return closed_on_time(hotline_app, code, n, at=FEB, unsatisfied=unsatisfied)


def numbers_on(html: str) -> set[str]:
    return set(re.findall(r">(20260310\d{6})</a>", html))


def test_the_centre_sees_every_unit_ranked_with_its_formula(hotline_app, as_role):
    february(hotline_app, "B-MR", 5, unsatisfied=1)
    february(hotline_app, "B-HU", 5)
    html = as_role("supervisor").get("/evaluation/scorecards?month=2026-02").get_data(as_text=True)
    assert "市直部门" in html
    mr = re.search(r'data-unit="B-MR">(.*?)</tr>', html, re.S).group(1)
    hu = re.search(r'data-unit="B-HU">(.*?)</tr>', html, re.S).group(1)
    # housing 100.0 first; market regulation: 91 of 95 → 95.8, second
    assert '<td class="rank">1</td>' in hu and "100.0" in hu
    assert '<td class="rank">2</td>' in mr and "95.8" in mr
    assert "满意率 80.0% × 20" in mr and "× 100/95 = 95.8" in mr


def test_a_handler_sees_its_own_unit_only(hotline_app, as_role):
    ours = february(hotline_app, "B-MR", 5, unsatisfied=1)
    february(hotline_app, "B-HU", 5)
    h_mr = as_role("handler")
    html = h_mr.get("/evaluation/scorecards?month=2026-02").get_data(as_text=True)
    assert 'data-unit="B-MR"' in html and 'data-unit="B-HU"' not in html
    assert "住房和城乡建设局" not in html.split("<main")[-1]
    assert h_mr.get("/evaluation/scorecards/B-HU?month=2026-02").status_code == 404
    assert h_mr.get("/evaluation/cases/B-HU?month=2026-02&kpi=dispatched").status_code == 404
    unit = h_mr.get("/evaluation/scorecards/B-MR?month=2026-02").get_data(as_text=True)
    assert "第 2 名（共 2 个）" in unit
    listed = h_mr.get("/evaluation/cases/B-MR?month=2026-02&kpi=satisfaction"
                      "&side=denominator").get_data(as_text=True)  # fmt: skip
    assert numbers_on(listed) == set(ours)
    satisfied = h_mr.get("/evaluation/cases/B-MR?month=2026-02&kpi=satisfaction"
                         "&side=numerator").get_data(as_text=True)  # fmt: skip
    assert numbers_on(satisfied) == set(ours[1:])
    assert as_role("operator").get("/evaluation/scorecards").status_code == 403


def test_bad_input_names_the_field(hotline_app, as_role):
    lead = as_role("lead")
    response = lead.get("/evaluation/scorecards?month=2026-2")
    assert response.status_code == 400 and "月份格式为 YYYY-MM。" in response.get_data(as_text=True)
    response = lead.get("/evaluation/cases/B-MR?month=2026-02&kpi=nonsense")
    assert response.status_code == 400 and "kpi: 不是可选项之一。" in response.get_data(
        as_text=True
    )
    admin = as_role("admin")
    token = csrf_token(admin, "/evaluation/scheme")
    response = admin.post("/evaluation/scheme", data={"csrf_token": token, "weight_satisfaction": "-5",
                                                      "effective_from": "2026-03"})  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    field = re.search(r'<div class="field has-error">\s*<label for="f_weight_satisfaction">.*?</div>',
                      html, re.S)  # fmt: skip
    assert field and "不能为负数。" in field.group(0)


def test_the_scheme_is_saved_as_a_new_version(hotline_app, as_role):
    february(hotline_app, "B-MR", 5, unsatisfied=1)
    admin = as_role("admin")
    form = dict(re.findall(r'name="((?:weight|penalty|cap)_\w+|bonus_cap|min_cases)"[^>]*value="([^"]*)"',
                           admin.get("/evaluation/scheme").get_data(as_text=True)))  # fmt: skip
    assert form["weight_satisfaction"] == "20" and form["min_cases"] == "5"
    form.update(weight_satisfaction="0", effective_from="2026-02", note="满意率暂不计分",
                penalty_reopen="2", cap_reopen="6",
                csrf_token=csrf_token(admin, "/evaluation/scheme"))  # fmt: skip
    assert admin.post("/evaluation/scheme", data=form).status_code == 303
    page = admin.get("/evaluation/scheme").get_data(as_text=True)
    assert "满意率暂不计分" in page
    # the history lists each version's penalties (points each, cap) and bonus cap
    penalties = re.search(r'<td class="penalties">(.*?)</td><td>(.*?)</td>', page)
    assert penalties.groups() == ("超期 0.5（上限 10）；督办单 1（上限 10）；重办 2（上限 6）", "5")
    html = admin.get("/evaluation/scorecards/B-MR?month=2026-02").get_data(as_text=True)
    # satisfaction weighs 0: the weights add up to 80, co-handling's 5 (nothing to count) goes
    # to the others: 75 × 80/75 = 80.0
    assert "<strong>得分 80.0</strong>" in html
    assert "未超期率 100.0% × 10) × 80/75 = 80.0" in html


def test_publishing_freezes_and_the_handler_reads_the_published_bulletin(hotline_app, as_role):
    february(hotline_app, "B-MR", 5, unsatisfied=1)
    h_mr = as_role("handler")
    assert h_mr.get("/evaluation/bulletins/2026-02").status_code == 404  # not published yet
    lead = as_role("lead")
    token = csrf_token(lead, "/evaluation/bulletins/2026-02")
    response = lead.post("/evaluation/bulletins/2026-02/publish", data={"csrf_token": token})
    assert response.status_code == 303
    again = lead.post("/evaluation/bulletins/2026-02/publish", data={"csrf_token": token})
    assert "该月通报已发布。" in lead.get(again.headers["Location"]).get_data(as_text=True)
    with hotline_app.app_context():
        assert db.session.scalar(select(Bulletin.month)).isoformat() == "2026-02-01"
    february(hotline_app, "B-MR", 5, unsatisfied=5)  # later cases do not change it
    html = h_mr.get("/evaluation/bulletins/2026-02").get_data(as_text=True)
    assert "数据已冻结" in html and "95.8" in html
    book = load_workbook(io.BytesIO(h_mr.get("/evaluation/bulletins/2026-02?format=xlsx").data))
    sheet = book["排名"]
    assert sheet["A1"].value == "2026-02 月度考核通报"
    assert [c.value for c in sheet[5]][:4] == [1, "市场监督管理局", 95.8, 5]
    pdf = h_mr.get("/evaluation/bulletins/2026-02?format=pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_the_pages_in_english(hotline_app, as_role):
    february(hotline_app, "B-MR", 5, unsatisfied=1)
    lead = as_role("lead")
    en = {"Accept-Language": "en"}
    html = lead.get("/evaluation/scorecards?month=2026-02", headers=en).get_data(as_text=True)
    assert "Satisfaction rate 80.0% × 20" in html and "City bureaus" in html
    html = lead.get("/evaluation/bulletins/2026-02", headers=en).get_data(as_text=True)
    assert "Evaluation bulletin 2026-02 (draft, not published)" in html
    assert "Market Regulation Bureau" in html


def test_the_demo_publishes_the_last_complete_month_when_it_has_a_ranking(hotline_app, as_role):
    from webapp.demo import publish_last_month

    with hotline_app.app_context():
        assert list(publish_last_month()) == [
            "evaluation: no unit is ranked in 2026-02 (the demo's weeks are this month's); "
            "see this month's scores on /evaluation/scorecards?month=2026-03"
        ]
        assert db.session.scalar(select(Bulletin.id)) is None
    february(hotline_app, "B-MR", 5, unsatisfied=1)
    with hotline_app.app_context():
        lines = list(publish_last_month()) + list(publish_last_month())  # once only
        assert lines == ["evaluation: the bulletin of 2026-02 is published: "
                         "/evaluation/bulletins/2026-02"] * 2  # fmt: skip
    html = as_role("handler").get("/evaluation/bulletins/2026-02").get_data(as_text=True)
    assert "数据已冻结" in html and "95.8" in html
