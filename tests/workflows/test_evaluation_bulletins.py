"""The monthly bulletin: built from the scorecards, frozen when published, revised only for
an upheld appeal; its Excel opened cell by cell, its PDF's text read back."""

# ruff: noqa: F811  (the fixtures session and city are imported from the scorecards tests)
from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from workflows.evaluation.bulletins import (
    BulletinError,
    build_bulletin,
    publish,
    published,
    revise_for_appeal,
)
from workflows.evaluation.documents import bulletin_pdf, bulletin_xlsx

from .test_evaluation_scorecards import MARCH, city, session  # noqa: F401
from .test_kpi import AS_OF

#: 2026-04-02 10:00 in Beijing: March is over
APRIL = datetime(2026, 4, 2, 2, 0, tzinfo=UTC)


def rows(snapshot, level="city"):
    return [(r["code"], r["score"], r["rank"]) for r in snapshot["levels"][level]]


def test_the_bulletin_ranks_names_the_best_and_worst_and_lists_the_trend(session, city):
    units, _ = city
    snapshot = build_bulletin(session, month=MARCH, as_of=APRIL)
    assert rows(snapshot) == [("ua", 100.0, 1), ("uf", 99.0, 2), ("ub", 95.8, 3),
                              ("uc", 95.8, 3), ("ug", 91.6, 5), ("ud", 100.0, None)]  # fmt: skip
    assert snapshot["best"] == {"city": [units["A"].id], "street": [units["S"].id]}
    assert snapshot["worst"] == {"city": [units["G"].id]}  # the street has one unit ranked
    assert [p["month"] for p in snapshot["trend"]][-3:] == ["2026-01", "2026-02", "2026-03"]
    assert len(snapshot["trend"]) == 12
    # February: A alone, 95.8; March: 32 cases, 25 satisfied of 32 rated... by unit:
    # A 5 + F 5 + B 4 + C 4 + G 3 + D 2 + S 5 = 28 of 32
    feb, mar = snapshot["trend"][-2:]
    assert (feb["average"], feb["ranked"]) == (95.8, 1)
    assert mar["satisfaction"] == [28, 32]
    # average of the ranked: (100 + 99 + 95.8 + 95.8 + 91.6 + 95.8) / 6 = 96.33
    assert mar["average"] == 96.3
    assert snapshot["overdue_cases"] == [] and snapshot["reopened_cases"] == []


def test_publishing_freezes_the_month(session, city):
    units, cases = city
    with pytest.raises(BulletinError):
        publish(session, month=MARCH, at=AS_OF, by="lead1")  # March is not over
    bulletin = publish(session, month=MARCH, at=APRIL, by="lead1")
    with pytest.raises(BulletinError):
        publish(session, month=MARCH, at=APRIL, by="lead1")
    frozen = rows(bulletin.snapshot)
    cases["C1"].satisfaction = "unsatisfied"  # a later change to a case
    session.flush()
    # C now ties G: 1, 2, 3, 4, 4
    assert rows(build_bulletin(session, month=MARCH, as_of=APRIL))[3:5] == [
        ("uc", 91.6, 4),
        ("ug", 91.6, 4),
    ]
    session.expire_all()
    assert rows(published(session, month=MARCH).snapshot) == frozen


def test_an_upheld_appeal_revises_only_the_appealed_units_row(session, city):
    units, cases = city
    bulletin = publish(session, month=MARCH, at=APRIL, by="lead1")
    before = {r["code"]: r for r in bulletin.snapshot["levels"]["city"]}
    appealed = cases["B0"]  # B's unsatisfied case
    appealed.appeal_upheld_at = APRIL
    cases["C1"].satisfaction = "unsatisfied"  # not appealed: stays out of the bulletin
    session.flush()
    revised = revise_for_appeal(session, case_id=appealed.id, department_id=units["B"].id,
                                at=APRIL)  # fmt: skip
    assert revised == [bulletin]
    after = {r["code"]: r for r in bulletin.snapshot["levels"]["city"]}
    # B: satisfaction 4/4, every rate 100%: 100.0, sharing first place with A
    assert (after["ub"]["score"], after["ub"]["rank"], after["ub"]["revised"]) == (100.0, 1, True)
    assert after["ub"]["figures"]["satisfaction"] == [4, 4]
    assert {k: v for k, v in after.items() if k != "ub"} == {
        k: v for k, v in before.items() if k != "ub"
    }
    assert bulletin.revisions["items"][0]["before"] == 95.8
    assert bulletin.revisions["items"][0]["after"] == 100.0
    assert bulletin.revised_at == APRIL
    assert set(bulletin.snapshot["best"]["city"]) == {units["A"].id, units["B"].id}


def test_an_appeal_in_a_month_without_a_published_bulletin_revises_nothing(session, city):
    units, cases = city
    assert revise_for_appeal(session, case_id=cases["B0"].id, department_id=units["B"].id,
                             at=APRIL) == []  # fmt: skip


@pytest.fixture
def snapshot(session, city):
    return build_bulletin(session, month=MARCH, as_of=APRIL)


def test_the_excel_workbook_cell_by_cell(snapshot):
    book = load_workbook(io.BytesIO(bulletin_xlsx(snapshot, "zh")))
    assert book.sheetnames == ["排名", "最好与最差单位", "超期工单", "重办工单", "趋势"]
    sheet = book["排名"]
    assert sheet["A1"].value == "2026-03 月度考核通报"
    assert sheet["A3"].value == "市直部门"
    assert [c.value for c in sheet[4]] == ["排名", "单位", "得分", "派单量", "上月得分",
                                           "上月排名", "计算公式"]  # fmt: skip
    assert [c.value for c in sheet[5]][:6] == [1, "一局", 100, 5, 95.8, 1]
    assert [c.value for c in sheet[7]][:4] == [3, "二局", 95.8, 5]
    assert [c.value for c in sheet[8]][:4] == [3, "三局", 95.8, 5]
    assert [c.value for c in sheet[10]][:4] == ["不排名", "四局", 100, 2]
    assert sheet["G7"].value.startswith(
        "(按时签收率 100.0% × 20 + 按时办结率 100.0% × 20 + 满意率 80.0% × 20"
    )
    assert sheet["G7"].value.endswith("× 100/95 = 95.8")
    assert sheet["A12"].value == "街道（镇）"
    assert [c.value for c in sheet[14]][:4] == [1, "白沙街道", 95.8, 5]
    best = book["最好与最差单位"]
    assert [c.value for c in best[2]] == ["市直部门", "一局 (100.0)", "七局 (91.6)"]
    trend = book["趋势"]
    assert [c.value for c in trend[13]][:4] == ["2026-03", 96.3, 6, 32]
    assert trend["G13"].value == "87.5%"  # satisfaction 28/32


def test_the_pdf_has_the_chinese_names_and_scores(snapshot):
    reader = PdfReader(io.BytesIO(bulletin_pdf(snapshot, "zh")))
    text = "".join(page.extract_text() for page in reader.pages)
    for expected in ("2026-03 月度考核通报", "市直部门", "一局", "二局", "白沙街道", "95.8",
                     "91.6", "不排名", "最好与最差单位", "趋势"):  # fmt: skip
        assert expected in text, expected
