"""Topics and areas: counts by category x area x local week or month, the previous period,
per 10,000 residents, the CSV, the map, the top words and who sees what."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from tests.api.conftest import api as api  # the API clients' fixture
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases.models import Case, CaseDepartment
from workflows.departments.models import Department
from workflows.insight import topics as t
from workflows.insight.areas import seed_demo_areas
from workflows.users.service import by_username

_numbers = itertools.count(1)


def add_case(
    app,
    at: datetime,
    *,
    category="占道经营",
    area="D-PJ",
    description="",
    dept=None,
    confidential=False,
) -> str:
    """A case row created at ``at`` (UTC), led by department ``dept`` (a code) if given."""
    with app.app_context(), unit_of_work(db.session):
        number = f"T{next(_numbers):08d}"
        case = Case(
            number=number,
            case_type="complaint",
            urgency="normal",
            status="received",
            intake_outcome="dispatch",
            category=category,
            area=area,
            description=description,
            confidential=confidential,
            created_at=at,
            updated_at=at,
        )
        db.session.add(case)
        db.session.flush()
        if dept:
            dept_id = db.session.scalar(select(Department.id).where(Department.code == dept))
            db.session.add(CaseDepartment(case_id=case.id, department_id=dept_id, role="lead"))
        return number


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def report(app, username="sup1", **kwargs):
    with app.app_context():
        user = by_username(db.session, username)
        return t.topics(db.session, user=user, tz=app.config["TIMEZONE"], **kwargs)


@pytest.fixture
def areas(hotline_app):
    with hotline_app.app_context(), unit_of_work(db.session):
        seed_demo_areas(db.session, clock=get_hotline().clock)
    return hotline_app


def test_weeks_and_months_are_local(hotline_app):
    # Sunday 22 Feb 23:59 and Monday 23 Feb 00:00 in Shanghai (UTC+8): two weeks
    add_case(hotline_app, utc(2026, 2, 22, 15, 59))
    add_case(hotline_app, utc(2026, 2, 22, 16, 0))
    # 31 Jan 23:59 and 1 Feb 00:00 local: two months
    add_case(hotline_app, utc(2026, 1, 31, 15, 59))
    add_case(hotline_app, utc(2026, 1, 31, 16, 0))
    weeks = report(
        hotline_app, period=t.Period(date(2026, 2, 16), date(2026, 3, 1)), by="week", words=False
    )
    assert weeks.trend == {date(2026, 2, 16): 1, date(2026, 2, 23): 1}
    months = report(
        hotline_app, period=t.Period(date(2026, 1, 1), date(2026, 2, 28)), by="month", words=False
    )
    assert months.trend == {date(2026, 1, 1): 1, date(2026, 2, 1): 3}
    assert [(c.category, c.area, c.bucket, c.count) for c in months.cells] == [
        ("占道经营", "D-PJ", date(2026, 1, 1), 1),
        ("占道经营", "D-PJ", date(2026, 2, 1), 3),
    ]


def test_the_previous_period_and_per_10k(areas):
    app = areas
    for _ in range(4):
        add_case(app, utc(2026, 2, 20, 2), area="D-JH")  # this period
    add_case(app, utc(2026, 2, 20, 2), area="D-XH", category="噪音扰民")
    for _ in range(2):
        add_case(app, utc(2026, 2, 10, 2), area="D-JH")  # the previous one
    r = report(app, period=t.Period(date(2026, 2, 15), date(2026, 2, 28)), by="week", words=False)
    assert r.previous == t.Period(date(2026, 2, 1), date(2026, 2, 14))
    assert (r.total.count, r.total.previous, r.total.change, r.total.percent) == (5, 2, 3, 150.0)
    rows = {row.code: row for row in r.areas}
    assert rows["D-JH"].counts.percent == 100.0
    assert rows["D-XH"].counts.percent is None  # from nothing
    assert rows["D-JH"].per_10k == round(4 * 10_000 / 330_000, 2)
    assert rows["D-PJ"].counts.count == 0  # every known area is listed
    assert dict(r.categories)["噪音扰民"].count == 1


def test_the_page_links_each_count_to_its_cases(areas, as_role):
    add_case(areas, utc(2026, 2, 24, 2), area="D-JH", category="噪音扰民")
    html = (
        as_role("supervisor")
        .get("/insight/topics?from=2026-02-23&to=2026-03-01&by=week")
        .get_data(as_text=True)
    )
    assert (
        "/cases?created_from=2026-02-23&amp;created_to=2026-03-01&amp;category=%E5%99%AA%E9%9F%B3"
        "%E6%89%B0%E6%B0%91&amp;area=D-JH" in html
    )
    assert 'id="chart-topics-trend"' in html and 'id="topics-data"' in html


def test_counts_without_a_category_or_area_are_not_links(areas, as_role):
    """The case list has no filter for "no category": a link would show every case."""
    add_case(areas, utc(2026, 2, 24, 2), area="", category="")
    html = (
        as_role("supervisor")
        .get("/insight/topics?from=2026-02-23&to=2026-03-01&by=week")
        .get_data(as_text=True)
    )
    area_row = html[html.index('<tr data-area="">') :]
    category_row = html[html.index('<tr data-category="">') :]
    for row in (area_row, category_row):
        row = row[: row.index("</tr>")]
        assert "（无）" in row
        assert "<a " not in row and ">1<" in row
    cells = html[html.index('id="cells"') :]
    assert "/cases?" not in cells[: cells.index("</table>")]


def test_the_map_colours_each_area_and_links_it(areas, as_role):
    for _ in range(3):
        add_case(areas, utc(2026, 2, 24, 2), area="D-JH")
    add_case(areas, utc(2026, 2, 24, 2), area="D-PJ")
    html = (
        as_role("lead").get("/insight/topics?from=2026-02-23&to=2026-03-01").get_data(as_text=True)
    )
    figure = html[html.index('id="area-map"') :]
    svg = figure[figure.index("<svg") : figure.index("</svg>")]
    for code, shade, name in (("D-JH", 5, "江海区"), ("D-PJ", 2, "蓬江区"), ("D-XH", 0, "新会区")):
        piece = svg[svg.index(f'data-area="{code}"') :]
        piece = piece[: piece.index("</a>")]
        assert f'class="area area-{shade}"' in piece, code
        assert f"<title>{name}: " in piece
    assert 'href="/cases?created_from=2026-02-23&amp;created_to=2026-03-01&amp;area=D-JH"' in svg
    assert svg.count("M") >= 4  # Xinhui is a MultiPolygon: two rings
    assert 'class="swatch area-5"' in html


def test_the_csv(areas, as_role):
    add_case(areas, utc(2026, 2, 24, 2), area="D-JH", category="噪音扰民")
    add_case(areas, utc(2026, 3, 1, 2), area="D-JH", category="噪音扰民")
    response = as_role("admin").get(
        "/insight/topics?from=2026-02-20&to=2026-03-01&by=month&format=csv"
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["category", "area", "area_name", "by", "from", "to", "cases"]
    assert rows[1:] == [
        ["噪音扰民", "D-JH", "江海区", "month", "2026-02-20", "2026-02-28", "1"],
        ["噪音扰民", "D-JH", "江海区", "month", "2026-03-01", "2026-03-01", "1"],
    ]


def test_a_handler_counts_only_their_departments_cases(hotline_app, as_role):
    add_case(hotline_app, utc(2026, 2, 24, 2), dept="B-MR", description="超市销售过期牛奶")
    add_case(
        hotline_app,
        utc(2026, 2, 24, 2),
        dept="B-HU",
        description="小区电梯故障困人",
        category="物业管理",
    )
    mine = report(
        hotline_app, "h_mr", period=t.Period(date(2026, 2, 23), date(2026, 3, 1)), by="week"
    )
    assert mine.total.count == 1
    assert "电梯" not in dict(mine.words.top)
    html = (
        as_role("handler")
        .get("/insight/topics?from=2026-02-23&to=2026-03-01")
        .get_data(as_text=True)
    )
    assert "物业管理" not in html and "电梯" not in html
    assert "牛奶" in html
    assert "物业管理" in as_role("supervisor").get(
        "/insight/topics?from=2026-02-23&to=2026-03-01"
    ).get_data(as_text=True)


def test_words_are_capped_and_say_so(hotline_app):
    for i in range(12):
        add_case(hotline_app, utc(2026, 2, 24, 2, i), description="小区门口路灯损坏，夜间出行不便")
    add_case(hotline_app, utc(2026, 2, 24, 3), description="机密内容", confidential=True)
    with hotline_app.app_context():
        user = by_username(db.session, "sup1")
        words = t.top_words(
            db.session,
            user=user,
            period=t.Period(date(2026, 2, 23), date(2026, 3, 1)),
            tz="Asia/Shanghai",
            cap=5,
        )
    assert words.sampled and words.total == 12 and 1 <= words.read <= 5
    assert dict(words.top)["路灯"] == words.read
    assert "机密" not in dict(words.top)


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-02-30", "from"),
        ("from=2026-03-01&to=2026-02-01", "to"),
        ("by=day", "by"),
        ("colour=red", "colour"),
    ],
)
def test_bad_parameters(hotline_app, as_role, api, query, field):
    page = as_role("supervisor").get(f"/insight/topics?{query}")
    assert page.status_code == 400
    response = api("supervisor").get(f"/api/v1/insight/topics?{query}")
    assert response.status_code == 422
    assert field in str(response.get_json()["errors"])


def test_the_api(areas, api):
    add_case(areas, utc(2026, 2, 24, 2), area="D-JH", dept="B-MR", description="超市销售过期牛奶")
    body = api("supervisor").get("/api/v1/insight/topics?from=2026-02-23&to=2026-03-01").get_json()
    assert body["from"] == "2026-02-23" and body["previous_to"] == "2026-02-22"
    assert body["cells"] == [
        {"category": "占道经营", "area": "D-JH", "bucket": "2026-02-23", "count": 1}
    ]
    jh = next(a for a in body["areas"] if a["code"] == "D-JH")
    assert jh["population"] == 330_000 and jh["per_10k"] == 0.03
    assert (
        api("other_handler")
        .get("/api/v1/insight/topics?from=2026-02-23")
        .get_json()["total"]["count"]
        == 0
    )
    assert api("operator").get("/api/v1/insight/topics").status_code == 403
