"""Hot-topic waves' pages: the list and a wave, bulk tags, merging, the clarification at
intake, the trend report; and the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

from sqlalchemy import select

from engine.db import unit_of_work
from tests.webapp.pages import csrf_token
from tests.webapp.test_intake import open_case
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases.models import Case
from workflows.insight.models import CaseTag, Wave
from workflows.insight.waves import detect
from workflows.knowledge.models import Article

DESCRIPTIONS = [
    "买的紫菜泡水后像塑料袋一样，撕不烂",
    "网上说紫菜是塑料做的，家里的紫菜嚼不动",
    "紫菜煮汤后有塑料味，怀疑是假紫菜",
]


def _wave(app, n: int = 12) -> tuple[int, list[str]]:
    """``n`` cases on 紫菜 in two hours, then a detection: the wave's id and the numbers."""
    numbers = []
    with app.app_context():
        clock = get_hotline().clock
    for i in range(n):
        numbers.append(
            open_case(
                app,
                description=DESCRIPTIONS[i % 3] + f"（{i}）",
                area=("D-PJ", "D-JH")[i % 2],
                category="食品安全",
            )
        )
        clock.advance(timedelta(minutes=10))
    with app.app_context():
        result = detect(db.session, now=clock.now(), publish=get_hotline().events.publish)
        assert len(result.opened) == 1
        return result.opened[0], numbers


def _post(client, path, data, page):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def test_the_centre_sees_a_wave_and_its_cases(hotline_app, as_role):
    wave_id, numbers = _wave(hotline_app)
    for role in ("supervisor", "lead", "admin"):
        listing = as_role(role).get("/insight/waves").get_data(as_text=True)
        assert f'data-wave="{wave_id}"' in listing and "紫菜" in listing
    html = as_role("supervisor").get(f"/insight/waves/{wave_id}").get_data(as_text=True)
    assert all(f'data-case="{n}"' in html for n in numbers)
    assert 'id="wave-data"' in html and "chart.umd.min.js" in html
    for role in ("operator", "dispatcher", "handler", "callback"):
        assert as_role(role).get(f"/insight/waves/{wave_id}").status_code == 403


def test_a_long_wave_lists_its_cases_page_by_page(hotline_app, as_role):
    wave_id, numbers = _wave(hotline_app, n=30)
    client = as_role("supervisor")
    first = client.get(f"/insight/waves/{wave_id}").get_data(as_text=True)
    second = client.get(f"/insight/waves/{wave_id}?page=2").get_data(as_text=True)
    on = [set(re.findall(r'data-case="([^"]+)"', html)) for html in (first, second)]
    # the newest 25 first, the oldest 5 on the second page; the count and the chart say 30
    assert on[0] == set(numbers[5:]) and on[1] == set(numbers[:5])
    assert '<dd id="wave-total">30</dd>' in first and 'rel="next"' in first
    chart = re.search(r'id="wave-data">([^<]*)<', first).group(1)
    assert sum(json.loads(chart)["counts"]) == 30
    # a status in words, not its code
    assert "awaiting_dispatch" not in first.split('id="wave-cases"')[1]
    # a page past the end is the last one; nonsense is the first
    for query, shown in (("page=99999999999999999999", 5), ("page=abc", 25), ("page=-3", 25)):
        html = client.get(f"/insight/waves/{wave_id}?{query}").get_data(as_text=True)
        assert len(re.findall(r'data-case="([^"]+)"', html)) == shown, query


def test_tagging_every_case_in_bulk(hotline_app, as_role):
    wave_id, numbers = _wave(hotline_app)
    client = as_role("lead")
    page = f"/insight/waves/{wave_id}"
    assert _post(client, f"{page}/tag", {"tag": ""}, page).status_code == 302
    assert re.search(r'class="flash error"[^>]*>[^<]*40', client.get(page).get_data(as_text=True))
    with hotline_app.app_context():
        assert db.session.scalars(select(CaseTag)).all() == []
    _post(client, f"{page}/tag", {"tag": "紫菜谣言"}, page)
    _post(client, f"{page}/tag", {"tag": "紫菜谣言"}, page)  # twice: no duplicate
    with hotline_app.app_context():
        tagged = db.session.scalars(
            select(Case.number)
            .join(CaseTag, CaseTag.case_id == Case.id)
            .where(CaseTag.tag == "紫菜谣言")
        ).all()
        assert sorted(tagged) == sorted(numbers)
        assert db.session.get(Wave, wave_id).tag == "紫菜谣言"
    case_page = as_role("supervisor").get(f"/cases/{numbers[0]}").get_data(as_text=True)
    assert 'id="case-tags"' in case_page and "紫菜谣言" in case_page


def test_merging_into_a_master_with_one_case_refused(hotline_app, as_role):
    wave_id, numbers = _wave(hotline_app)
    master, dup, closed = numbers[0], numbers[1], numbers[2]
    with hotline_app.app_context(), unit_of_work(db.session):  # closed: only open cases merge
        case = db.session.scalars(select(Case).where(Case.number == closed)).one()
        case.status = "closed"
    client = as_role("supervisor")
    page = f"/insight/waves/{wave_id}"
    response = _post(client, f"{page}/merge", {"master": master, "cases": [dup, closed]}, page)
    assert response.status_code == 302
    html = client.get(page).get_data(as_text=True)
    # the refused case is named with its reason; the merged one too
    assert re.search(rf'class="flash error"[^>]*>[^<]*{closed}[^<]*closed', html)
    assert re.search(rf'class="flash success"[^>]*>[^<]*{master}[^<]*{dup}', html)
    with hotline_app.app_context():
        rows = {
            c.number: c
            for c in db.session.scalars(select(Case).where(Case.number.in_([dup, closed])))
        }
        assert rows[dup].status == "merged"
        assert rows[closed].status == "closed" and rows[closed].merged_into_id is None
    # a lead does not merge cases
    assert as_role("lead").post(f"{page}/merge").status_code in (400, 403)


def test_the_clarification_is_shown_at_intake_while_the_wave_is_open(hotline_app, as_role):
    wave_id, _ = _wave(hotline_app)
    with hotline_app.app_context():
        now = get_hotline().clock.now()
        with unit_of_work(db.session):
            article = Article(
                title="紫菜不是塑料做的",
                body="紫菜泡水后有韧性属正常现象，可告知市民。",
                keywords="紫菜",
                category="食品安全",
                active=True,
                updated_at=now,
            )
            db.session.add(article)
        article_id = article.id
    operator = as_role("operator")
    assert "wave-banner" not in operator.get("/intake").get_data(as_text=True)
    page = f"/insight/waves/{wave_id}"
    _post(as_role("supervisor"), f"{page}/pin", {"article": "nope"}, page)
    assert "wave-banner" not in operator.get("/intake").get_data(as_text=True)
    _post(as_role("supervisor"), f"{page}/pin", {"article": str(article_id)}, page)
    html = operator.get("/intake").get_data(as_text=True)
    assert "wave-banner" in html and "紫菜不是塑料做的" in html and "属正常现象" in html
    # two quiet days: the wave ends, the banner goes
    with hotline_app.app_context():
        clock = get_hotline().clock
        for _ in range(2):
            clock.advance(timedelta(hours=25))
            detect(db.session, now=clock.now())
        assert db.session.get(Wave, wave_id).status == "ended"
    assert "wave-banner" not in operator.get("/intake").get_data(as_text=True)


def test_the_trend_report(hotline_app, as_role):
    wave_id, numbers = _wave(hotline_app)
    response = as_role("lead").get(f"/insight/waves/{wave_id}/report?format=csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][1].startswith("紫菜")  # the wave's label
    assert rows[5][1] == str(len(numbers))  # its cases
    day = next(r for r in rows if r and r[0][:4] == "2026")
    assert day[1] == str(len(numbers)) and "食品安全 12" in day[2] and "D-PJ 6" in day[3]
    assert any(r and r[0] == "紫菜" for r in rows)  # a top word
    xlsx = as_role("lead").get(f"/insight/waves/{wave_id}/report?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    pdf = as_role("lead").get(f"/insight/waves/{wave_id}/report?format=pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    assert as_role("lead").get(f"/insight/waves/{wave_id}/report?format=doc").status_code == 404


def test_the_cli_detects(hotline_app, runner):
    with hotline_app.app_context():
        clock = get_hotline().clock
    for i in range(11):
        open_case(hotline_app, description=f"紫菜像塑料一样{i}", category="食品安全")
        clock.advance(timedelta(minutes=5))
    result = runner.invoke(cli, ["insight", "detect"])
    assert result.exit_code == 0, result.output
    assert "1 opened" in result.output
    assert "0 opened, 1 still open" in runner.invoke(cli, ["insight", "detect"]).output


def test_the_worker_run_once_detects_and_tells_the_supervisors(hotline_app, runner):
    from workflows.notifications.models import Notification

    _burst_numbers = [
        open_case(hotline_app, description=DESCRIPTIONS[i % 3], category="食品安全")
        for i in range(12)
    ]
    assert len(_burst_numbers) == 12
    result = runner.invoke(cli, ["worker", "--until-idle"])
    assert result.exit_code == 0, result.output
    assert "waves: 1 opened, 0 ended" in result.output
    with hotline_app.app_context():
        bells = db.session.scalars(
            select(Notification).where(Notification.kind == "wave_detected")
        ).all()
        assert bells and all("紫菜" in b.text for b in bells), [b.text for b in bells]
