"""Issue 19's filters on the case list, its CSV and ``GET /api/v1/cases``: category, area,
channel, lead or co department, satisfaction, overdue, reopened, closed dates; combinable,
checked (an unknown name or a value outside a fixed list is 422), and department isolation
kept. Cases are written as rows: the filters read the rows, whatever made them."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import select

from tests.webapp.pages import csrf_token
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases.models import Case, CaseDepartment
from workflows.departments.models import Department
from workflows.users.models import User
from workflows.users.saved_views import SavedView

SEQ = count(1)


def add(app, **fields) -> str:
    """A case row with ``fields``; lead / co name departments by code."""
    with app.app_context():
        now = get_hotline().clock.now()
        code = {d.code: d.id for d in db.session.scalars(select(Department))}
        lead, co = fields.pop("lead", None), fields.pop("co", ())
        number = f"2026030{next(SEQ):05d}"
        values = dict(
            number=number,
            case_type="complaint",
            urgency="normal",
            status="processing",
            intake_outcome="dispatch",
            channel="phone",
            category="噪音扰民",
            area="D-JH",
            created_at=now - timedelta(days=1),
            updated_at=now,
        )
        values.update(fields)
        case = Case(lead_department_id=code[lead] if lead else None, **values)
        db.session.add(case)
        db.session.flush()
        if lead:
            db.session.add(CaseDepartment(case_id=case.id, department_id=code[lead], role="lead"))
        for c in co:
            db.session.add(CaseDepartment(case_id=case.id, department_id=code[c], role="co"))
        db.session.commit()
        return number


def numbers(response) -> set[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {c["number"] for c in response.json["items"]}


def listed(response) -> set[str]:
    assert response.status_code == 200, response.status_code
    return set(re.findall(r'href="/cases/(\d{10,})"', response.get_data(as_text=True)))


def test_the_issues_example_narrows_the_list_page_and_the_api(api, as_role, hotline_app):
    wanted = add(hotline_app, category="药品安全", area="D-PJ", channel="sms")
    others = {
        add(hotline_app, category="药品安全", area="D-PJ", channel="phone"),
        add(hotline_app, category="药品安全", area="D-XH", channel="sms"),
        add(hotline_app, category="食品安全", area="D-PJ", channel="sms"),
    }
    query = "category=药品安全&area=D-PJ&channel=sms"
    assert numbers(api("supervisor").get(f"/api/v1/cases?{query}")) == {wanted}
    page = as_role("supervisor").get(f"/cases?{query}")
    assert listed(page) == {wanted}
    csv = as_role("supervisor").get(f"/cases?{query}&format=csv").get_data(as_text=True)
    assert wanted in csv and not any(n in csv for n in others)
    # the CSV link on the page carries the filters
    assert "format=csv" in page.get_data(as_text=True)
    assert "channel=sms" in page.get_data(as_text=True).split('class="csv" href="')[1][:300]


def test_each_filter_alone(api, hotline_app):
    clock = None
    with hotline_app.app_context():
        clock = get_hotline().clock
    now = clock.now()
    sat = add(hotline_app, status="closed", satisfaction="unsatisfied", closed_at=now)
    reopened = add(hotline_app, reopen_count=1)
    late = add(
        hotline_app, dispatched_at=now - timedelta(days=5), reply_due=now - timedelta(hours=1)
    )
    replied_late = add(
        hotline_app,
        status="closed",
        dispatched_at=now - timedelta(days=5),
        reply_due=now - timedelta(days=2),
        replied_at=now - timedelta(days=1),
        closed_at=now - timedelta(days=10),
    )
    on_time = add(
        hotline_app, dispatched_at=now - timedelta(days=1), reply_due=now + timedelta(days=1)
    )
    led = add(hotline_app, lead="B-UM", co=("B-WA",))
    co = add(hotline_app, lead="B-WA", co=("B-UM",))
    everything = {sat, reopened, late, replied_late, on_time, led, co}
    sup = api("supervisor")
    assert numbers(sup.get("/api/v1/cases?satisfaction=unsatisfied")) == {sat}
    assert numbers(sup.get("/api/v1/cases?reopened=true")) == {reopened}
    assert numbers(sup.get("/api/v1/cases?reopened=false")) == everything - {reopened}
    assert numbers(sup.get("/api/v1/cases?overdue=true")) == {late, replied_late}
    assert numbers(sup.get("/api/v1/cases?overdue=false")) == everything - {late, replied_late}
    today = now.astimezone(get_tz(hotline_app)).date()
    assert numbers(sup.get(f"/api/v1/cases?closed_from={today}&closed_to={today}")) == {sat}
    old = today - timedelta(days=10)
    assert numbers(sup.get(f"/api/v1/cases?closed_to={old}")) == {replied_late}
    assert numbers(sup.get("/api/v1/cases?department=B-UM")) == {led, co}
    assert numbers(sup.get("/api/v1/cases?department=B-UM&department_role=lead")) == {led}
    assert numbers(sup.get("/api/v1/cases?department=B-UM&department_role=co")) == {co}
    # combined: each narrows what the others left
    assert numbers(sup.get("/api/v1/cases?department=B-UM&reopened=false&overdue=false")) == {
        led,
        co,
    }
    assert numbers(sup.get("/api/v1/cases?overdue=true&status=closed")) == {replied_late}


def get_tz(app):
    with app.app_context():
        return get_hotline().tz


def test_the_list_page_filters_the_same(as_role, hotline_app):
    with hotline_app.app_context():
        now = get_hotline().clock.now()
    late = add(
        hotline_app,
        channel="web",
        dispatched_at=now - timedelta(days=5),
        reply_due=now - timedelta(hours=1),
    )
    add(hotline_app, channel="web")
    reopened = add(hotline_app, reopen_count=2, area="D-XH")
    sup = as_role("supervisor")
    assert listed(sup.get("/cases?channel=web&overdue=yes")) == {late}
    assert listed(sup.get("/cases?reopened=yes&area=D-XH")) == {reopened}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("channel=fax", "channel"),
        ("satisfaction=meh", "satisfaction"),
        ("overdue=maybe", "overdue"),
        ("reopened=2", "reopened"),
        ("area=D-NOWHERE", "area"),
        ("department_role=lead", "department_role"),
        ("department=B-UM&department_role=boss", "department_role"),
        ("closed_from=2026-03-05&closed_to=2026-03-01", "closed_to"),
        ("closed_from=soon", "closed_from"),
        ("category=" + "x" * 65, "category"),
        ("colour=red", "colour"),
        ("urgency=whenever", "urgency"),
        ("case_type=gossip", "case_type"),
    ],
)
def test_bad_filters_are_422_naming_the_parameter(api, query, field):
    response = api("supervisor").get(f"/api/v1/cases?{query}")
    assert response.status_code == 422, query
    assert field in response.json["errors"], response.json


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("channel=fax", "channel"),
        ("satisfaction=meh", "satisfaction"),
        ("overdue=maybe", "overdue"),
        ("area=D-NOWHERE", "area"),
        ("department_role=co", "department_role"),
        ("closed_from=2026-03-05&closed_to=2026-03-01", "closed_to"),
    ],
)
def test_the_page_marks_a_bad_filter(as_role, query, field):
    response = as_role("supervisor").get(f"/cases?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    label = html.split(f'name="{field}"')[1][:600]
    assert 'class="field-error"' in label, field


def test_a_handler_filters_only_their_departments_cases(api, as_role, hotline_app):
    mine = add(hotline_app, lead="B-MR", category="药品安全", channel="sms")
    theirs = add(hotline_app, lead="B-HU", category="药品安全", channel="sms")
    assert numbers(api("handler").get("/api/v1/cases?category=药品安全&channel=sms")) == {mine}
    assert listed(as_role("handler").get("/cases?category=药品安全")) == {mine}
    assert numbers(api("supervisor").get("/api/v1/cases?category=药品安全")) == {mine, theirs}
    # asking for another department's cases finds none of them
    assert numbers(api("handler").get("/api/v1/cases?department=B-HU")) == set()


def test_saved_views_belong_to_their_user(as_role, hotline_app):
    wanted = add(hotline_app, category="药品安全", area="D-PJ", channel="sms")
    add(hotline_app, category="药品安全", area="D-PJ", channel="phone")
    sup = as_role("supervisor")
    token = csrf_token(sup, "/cases?category=药品安全&area=D-PJ&channel=sms&page=1")
    saved = sup.post(
        "/cases/views",
        data={
            "csrf_token": token,
            "name": "  短信药品 ",
            "query": "category=药品安全&area=D-PJ&channel=sms&page=3&format=csv",
        },
    )
    assert saved.status_code == 302
    with hotline_app.app_context():
        view = db.session.scalar(select(SavedView))
        assert view.name == "短信药品"
        # the page number and the CSV switch are not filters: not kept
        assert "page" not in view.query and "format" not in view.query
        view_id = view.id
    html = sup.get("/cases").get_data(as_text=True)
    assert "短信药品" in html
    href = re.search(r'href="(/cases\?[^"]*)">短信药品<', html).group(1)
    assert listed(sup.get(href.replace("&amp;", "&"))) == {wanted}
    # the same name again replaces the filters; an empty name is refused on the field
    again = sup.post(
        "/cases/views", data={"csrf_token": token, "name": "短信药品", "query": "channel=sms"}
    )
    assert again.status_code == 302
    empty = sup.post("/cases/views", data={"csrf_token": token, "name": " ", "query": "area=D-PJ"})
    assert empty.status_code == 422 and 'class="field-error"' in empty.get_data(as_text=True)
    nothing = sup.post("/cases/views", data={"csrf_token": token, "name": "all", "query": ""})
    assert nothing.status_code == 422
    with hotline_app.app_context():
        assert db.session.scalar(select(SavedView)).query == "channel=sms"
        assert len(db.session.scalars(select(SavedView)).all()) == 1
    # another user neither sees nor deletes it
    other = as_role("dispatcher")
    assert "短信药品" not in other.get("/cases").get_data(as_text=True)
    other_token = csrf_token(other, "/cases")
    gone = other.post(f"/cases/views/{view_id}/delete", data={"csrf_token": other_token})
    assert gone.status_code == 404
    deleted = sup.post(f"/cases/views/{view_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    with hotline_app.app_context():
        assert db.session.scalar(select(SavedView)) is None
        assert db.session.scalar(select(User).where(User.username == "sup1")) is not None
