"""Sorting the remaining lists by any column (issue 20, item 4; docs/lists.md): appeals,
notifications, the audit log, a figure's cases, SMS replies, callbacks, a wave's cases, the
admin lists, the API tokens. Every column both ways answers; an unknown one is a 400 naming
the choices; the order is the one asked for; the CSV follows it."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.webapp.test_audit_pages import _new_user
from tests.webapp.test_insight_waves_pages import _wave
from webapp.admin.days import DAY_SORTS
from webapp.admin.definitions import VERSION_SORTS
from webapp.admin.incidents import INCIDENT_SORTS
from webapp.admin.messages import MESSAGE_SORTS
from webapp.admin.notice_templates import TEMPLATE_SORTS
from webapp.api.pages import TOKEN_SORTS
from webapp.appeals.views import APPEAL_SORTS
from webapp.audit.views import AUDIT_SORTS
from webapp.calls.callbacks import CALLBACK_SORTS, OPEN_CALLBACK_SORTS
from webapp.evaluation.views import FIGURE_CASE_SORTS
from webapp.insight.waves import WAVE_CASE_SORTS
from webapp.notifications.views import NOTIFICATION_SORTS
from webapp.sms.views import OPEN_REPLY_SORTS, REPLY_SORTS

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}

#: (role, path, its columns); the definitions list and the policies build theirs per request
LISTS = [
    ("supervisor", "/appeals", list(APPEAL_SORTS)),
    ("handler", "/appeals", list(APPEAL_SORTS)),
    ("handler", "/notifications", list(NOTIFICATION_SORTS)),
    ("auditor", "/audit/", list(AUDIT_SORTS)),
    ("supervisor", "/evaluation/cases/B-MR", list(FIGURE_CASE_SORTS)),
    ("callback", "/sms/replies", list(OPEN_REPLY_SORTS)),
    ("callback", "/sms/replies?show=done", list(REPLY_SORTS)),
    ("operator", "/calls/callbacks", list(OPEN_CALLBACK_SORTS)),
    ("operator", "/calls/callbacks?show=closed", list(CALLBACK_SORTS)),
    ("admin", "/admin/calendar", list(DAY_SORTS)),
    ("admin", "/admin/policies", ["case_type", "urgency", "category", "reply", "warn_share",
                                  "callback_required", "max_returns", "sms_survey"]),
    ("admin", "/admin/definitions", ["key", "name", "version", "versions", "deployed_at"]),
    ("admin", "/admin/definitions/complaint", list(VERSION_SORTS)),
    ("admin", "/admin/incidents", list(INCIDENT_SORTS)),
    ("admin", "/admin/messages", list(MESSAGE_SORTS)),
    ("admin", "/admin/templates", list(TEMPLATE_SORTS)),
    ("operator", "/api/tokens", list(TOKEN_SORTS)),
]  # fmt: skip


def _join(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


@pytest.mark.parametrize(("role", "path", "columns"), LISTS)
def test_every_column_sorts_both_ways(as_role, role, path, columns):
    client = as_role(role)
    for column in columns:
        for direction in ("asc", "desc"):
            response = client.get(_join(path, f"sort={column}&dir={direction}"), headers=EN)
            assert response.status_code == 200, (column, direction)
            html = response.get_data(True)
            if 'class="sort' not in html:  # an empty list shows no headers
                continue
            state = "ascending" if direction == "asc" else "descending"
            assert f'aria-sort="{state}"' in html or "aria-current" in html, column


@pytest.mark.parametrize(("role", "path", "columns"), LISTS)
def test_an_unknown_column_is_a_400_naming_the_choices(as_role, role, path, columns):
    client = as_role(role)
    response = client.get(_join(path, "sort=caller_name"), headers=EN)
    assert response.status_code == 400
    html = response.get_data(True)
    assert "Sort: unknown column caller_name; one of: " + ", ".join(columns[:2]) in html
    response = client.get(_join(path, f"sort={columns[0]}&dir=sideways"), headers=EN)
    assert response.status_code == 400
    assert "Sort direction: unknown value sideways" in response.get_data(True)
    zh = client.get(_join(path, "sort=caller_name"), headers=ZH).get_data(True)
    assert "排序：未知的列 caller_name" in zh
    for query in ("sort=%00", "sort=" + "x" * 5000, "sort=<script>", "dir=%FF&sort=", "sort=&dir="):
        response = client.get(_join(path, query), headers=EN)
        assert response.status_code in (200, 400), (query, response.status_code)


def test_a_waves_cases_sort(hotline_app, as_role):
    wave_id, numbers = _wave(hotline_app)
    client = as_role("supervisor")
    page = f"/insight/waves/{wave_id}?per_page=200"
    for direction, expected in (("asc", sorted(numbers)), ("desc", sorted(numbers)[::-1])):
        html = client.get(f"{page}&sort=number&dir={direction}").get_data(True)
        shown = [n for n in re.findall(r'data-case="([^"]+)"', html) if n in numbers]
        assert shown == expected
    for column in WAVE_CASE_SORTS:
        assert client.get(f"{page}&sort={column}&dir=desc").status_code == 200
    assert client.get(f"{page}&sort=caller_name").status_code == 400


def test_the_audit_log_sorts_and_its_csv_follows(hotline_app, as_role):
    for name in ("op_b", "op_a", "op_c"):  # rows by the administrator
        assert _new_user(as_role("admin"), name).status_code == 302
    client = as_role("auditor")
    client.get("/audit/?format=csv")  # and one by the auditor
    seqs = re.compile(r"<tr>\s*<td>(\d+)</td>")
    ascending = [
        int(s) for s in seqs.findall(client.get("/audit/?sort=seq&dir=asc").get_data(True))
    ]
    assert len(ascending) > 1 and ascending == sorted(ascending)
    html = client.get("/audit/?sort=seq&dir=desc").get_data(True)
    assert [int(s) for s in seqs.findall(html)] == sorted(ascending, reverse=True)[: len(ascending)]
    assert 'name="sort" value="seq"' in html  # the filters keep the order
    html = client.get("/audit/?action=user.create&sort=target&dir=asc").get_data(True)
    created = [n for n in re.findall(r"op_[abc]", html)]
    assert list(dict.fromkeys(created)) == ["op_a", "op_b", "op_c"]
    body = client.get("/audit/?format=csv&sort=seq&dir=asc").get_data(True)
    rows = [int(r[0]) for r in list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))[1:]]
    assert rows == sorted(rows) and len(rows) > 1
    actors = client.get("/audit/?format=csv&sort=actor&dir=desc").get_data(True)
    names = [r[3] for r in list(csv.reader(io.StringIO(actors.lstrip("\ufeff"))))[1:]]
    assert names == sorted(names, reverse=True)


def test_the_admin_lists_order_as_asked(as_role):
    admin = as_role("admin")
    html = admin.get("/admin/policies?sort=max_returns&dir=desc&per_page=200").get_data(True)
    assert '<th aria-sort="descending"' in html
    body = admin.get("/admin/policies?format=csv&sort=max_returns&dir=desc").get_data(True)
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    column = rows[0].index("max_returns")
    values = [int(r[column]) for r in rows[1:]]
    assert values == sorted(values, reverse=True)
    versions = re.compile(r'href="/admin/definitions/complaint/(\d+)"')
    up = admin.get("/admin/definitions/complaint?sort=version&dir=asc").get_data(True)
    down = admin.get("/admin/definitions/complaint?sort=version&dir=desc").get_data(True)
    listed = [int(v) for v in dict.fromkeys(versions.findall(up))]
    assert listed == sorted(listed)
    assert [int(v) for v in dict.fromkeys(versions.findall(down))] == sorted(listed, reverse=True)
    keys = re.compile(r'href="/admin/definitions/([a-z_]+)"')
    html = admin.get("/admin/definitions?sort=key&dir=desc").get_data(True)
    shown = list(dict.fromkeys(keys.findall(html)))
    assert len(shown) > 1 and shown == sorted(shown, reverse=True)
    html = admin.get("/admin/templates?sort=lang&dir=desc", headers=EN).get_data(True)
    langs = re.findall(r'data-template="[^/]+/[^/]+/([a-z]+)"', html)
    assert langs == sorted(langs, reverse=True) and len(set(langs)) == 2


def test_the_call_records_sort_by_every_column(as_role):
    from webapp.calls.records import CALL_SORTS

    client = as_role("supervisor")
    for column in CALL_SORTS:
        for direction in ("asc", "desc"):
            response = client.get(f"/calls/records?sort={column}&dir={direction}")
            assert response.status_code == 200, column
    response = client.get("/calls/records?sort=caller_name", headers=EN)
    assert response.status_code == 400
    assert "Sort: unknown column caller_name; one of: arrived, queue" in response.get_data(True)


def test_the_notifications_sort_and_marking_read_keeps_the_order(hotline_app, as_role):
    from tests.webapp.pages import csrf_token
    from tests.webapp.test_notifications_pages import notify

    first, *_rest, last = notify(hotline_app, "h_mr", 3)
    client = as_role("handler")
    html = client.get("/notifications?sort=received&dir=asc", headers=ZH).get_data(True)
    assert "排序" in html and 'data-sort="received" aria-current="true"' in html
    keys = re.findall(r'data-live-key="(\d+)"', html)
    assert keys.index(str(first)) < keys.index(str(last))
    html = client.get("/notifications?sort=received&dir=desc").get_data(True)
    keys = re.findall(r'data-live-key="(\d+)"', html)
    assert keys.index(str(first)) > keys.index(str(last))
    token = csrf_token(client, "/notifications")
    response = client.post(
        f"/notifications/{first}/read",
        data={"csrf_token": token, "page": "1", "sort": "received", "dir": "asc"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/notifications?sort=received&dir=asc")
