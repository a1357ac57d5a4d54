"""The API's permission matrix: every role against every endpoint, with the pages' rules.

A role that may not gets 403 (and nothing changes); a handler of another department gets 404
for a case it may not see. ``test_every_api_route_is_in_the_matrix`` fails when an endpoint is
added without a row here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.api.conftest import USERS
from tests.api.test_calls_api import a_call
from tests.webapp.test_inbox import dispatched, ready_task
from tests.webapp.test_intake import INTAKE

#: the phone system's token (telephony) sends call events, reads calls and itself, no more;
#: an auditor's token reads who it is, no more (the audit log is read on its pages); so does a
#: quality reviewer's (the samples are reviewed on the quality pages)
EVERYONE = frozenset(USERS) - {"telephony", "auditor", "qa"}
WORKERS = frozenset({"dispatcher", "handler", "other_handler", "supervisor", "callback", "lead"})
SUPERVISION = frozenset({"supervisor", "admin"})
ADMIN = frozenset({"admin"})
CALL_READERS = frozenset({"telephony", "operator", "supervisor", "lead", "admin"})
APPEAL_READERS = frozenset({"handler", "other_handler", "supervisor", "lead", "admin"})
EVALUATION_READERS = APPEAL_READERS
DISPATCH_MODEL_ASKERS = frozenset({"operator", "dispatcher", "supervisor", "lead", "admin"})


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    allowed: frozenset[str]
    rule: str
    body: object = None
    hidden_from: frozenset[str] = frozenset()


def R(method, path, allowed, rule=None, body=None, hidden_from=()):  # noqa: N802
    return Row(method, path, frozenset(allowed), rule or path, body, frozenset(hidden_from))


MATRIX = [
    R("GET", "/api/v1/me", EVERYONE | {"telephony", "auditor", "qa"}),
    R("GET", "/api/v1/cases", EVERYONE),
    R("POST", "/api/v1/cases", {"operator"}, body={**INTAKE, "caller_phone": "x"}),
    R("GET", "/api/v1/cases/{case}", EVERYONE, "/api/v1/cases/<number>",
      hidden_from={"other_handler"}),
    R("GET", "/api/v1/cases/{case}/history", EVERYONE, "/api/v1/cases/<number>/history",
      hidden_from={"other_handler"}),
    R("GET", "/api/v1/cases/{case}/attachments", EVERYONE, "/api/v1/cases/<number>/attachments",
      hidden_from={"other_handler"}),
    R("POST", "/api/v1/cases/{case}/attachments", EVERYONE,
      "/api/v1/cases/<number>/attachments", hidden_from={"other_handler"}),
    R("GET", "/api/v1/cases/{case}/attachments/{attachment}", EVERYONE,
      "/api/v1/cases/<number>/attachments/<int:attachment_id>", hidden_from={"other_handler"}),
    R("GET", "/api/v1/cases/{case}/attachments/{attachment}/thumbnail", EVERYONE,
      "/api/v1/cases/<number>/attachments/<int:attachment_id>/thumbnail",
      hidden_from={"other_handler"}),
    R("GET", "/api/v1/cases/{case}/sheets/dispatch", EVERYONE,
      "/api/v1/cases/<number>/sheets/<kind>", hidden_from={"other_handler"}),
    R("POST", "/api/v1/cases/{case}/notes", EVERYONE, "/api/v1/cases/<number>/notes",
      body={"body": "from the matrix"}, hidden_from={"other_handler"}),
    R("GET", "/api/v1/cases/{case}/interim-replies", EVERYONE,
      "/api/v1/cases/<number>/interim-replies", hidden_from={"other_handler"}),
    R("POST", "/api/v1/cases/{case}/merge", {"dispatcher", "supervisor"},
      "/api/v1/cases/<number>/merge", body={"master": ""}),
    R("GET", "/api/v1/tasks", WORKERS),
    R("GET", "/api/v1/tasks/{task}", EVERYONE, "/api/v1/tasks/<task_id>",
      hidden_from={"other_handler"}),
    R("POST", "/api/v1/tasks/{task}/claim", {"handler"}, "/api/v1/tasks/<task_id>/claim",
      hidden_from={"other_handler"}),
    R("POST", "/api/v1/tasks/{task}/release", {"handler"}, "/api/v1/tasks/<task_id>/release",
      hidden_from={"other_handler"}),
    R("POST", "/api/v1/tasks/{task}/complete", {"handler"}, "/api/v1/tasks/<task_id>/complete",
      body={"action": "nope"}, hidden_from={"other_handler"}),
    R("POST", "/api/v1/tasks/{task}/interim-reply", {"handler"},
      "/api/v1/tasks/<task_id>/interim-reply", body={"body": ""}, hidden_from={"other_handler"}),
    R("GET", "/api/v1/definitions", ADMIN),
    R("POST", "/api/v1/definitions", ADMIN, body={"xml": "<broken"}),
    R("GET", "/api/v1/definitions/complaint/versions", ADMIN,
      "/api/v1/definitions/<key>/versions"),
    R("GET", "/api/v1/definitions/complaint/versions/1", ADMIN,
      "/api/v1/definitions/<key>/versions/<int:version>"),
    R("GET", "/api/v1/definitions/complaint/versions/1/xml", ADMIN,
      "/api/v1/definitions/<key>/versions/<int:version>/xml"),
    R("GET", "/api/v1/definitions/complaint/diff", ADMIN, "/api/v1/definitions/<key>/diff"),
    R("GET", "/api/v1/kpis", SUPERVISION),
    R("GET", "/api/v1/kpis/calls", SUPERVISION),
    R("POST", "/api/v1/cases/{case}/supervision", SUPERVISION,
      "/api/v1/cases/<number>/supervision", body={"action": "chase_notice", "note": "matrix"}),
    R("POST", "/api/v1/supervision", SUPERVISION,
      body={"numbers": ["{case}"], "action": "chase_notice", "note": "matrix"}),
    R("GET", "/api/v1/departments", EVERYONE),
    R("GET", "/api/v1/departments/B-MR", EVERYONE, "/api/v1/departments/<code>"),
    R("GET", "/api/v1/calendar/due?amount=1&unit=workdays", EVERYONE, "/api/v1/calendar/due"),
    R("GET", "/api/v1/calendar/days", EVERYONE),
    R("GET", "/api/v1/calendar/days/2026-10-01", EVERYONE, "/api/v1/calendar/days/<day>"),
    R("PUT", "/api/v1/calendar/days/2026-10-01", ADMIN, "/api/v1/calendar/days/<day>",
      body={"kind": "holiday", "name": "国庆节"}),
    R("POST", "/api/v1/calls/events", {"telephony"},
      body={"call_id": "matrix", "event": "ringing", "at": "2026-03-02T08:59:00+08:00"}),
    R("GET", "/api/v1/calls", CALL_READERS),
    R("GET", "/api/v1/calls/{call}", CALL_READERS, "/api/v1/calls/<call_id>",
      hidden_from={"operator"}),
    R("GET", "/api/v1/appeals", APPEAL_READERS),
    R("GET", "/api/v1/appeals/kpis", APPEAL_READERS),
    R("GET", "/api/v1/appeals/{appeal}", APPEAL_READERS, "/api/v1/appeals/<int:appeal_id>",
      hidden_from={"other_handler"}),
    R("POST", "/api/v1/appeals/{appeal}/review", {"supervisor", "lead"},
      "/api/v1/appeals/<int:appeal_id>/review", body={"decision": "", "reason": ""}),
    R("POST", "/api/v1/cases/{case}/appeals", {"handler"}, "/api/v1/cases/<number>/appeals",
      body={"ground": "overdue", "reason": "matrix"}, hidden_from={"other_handler"}),
    R("GET", "/api/v1/evaluation/scorecards", EVALUATION_READERS),
    R("GET", "/api/v1/evaluation/scorecards/B-MR", EVALUATION_READERS,
      "/api/v1/evaluation/scorecards/<code>", hidden_from={"other_handler"}),
    R("GET", "/api/v1/evaluation/bulletins", EVALUATION_READERS),
    R("GET", "/api/v1/evaluation/bulletins/{month}", EVALUATION_READERS,
      "/api/v1/evaluation/bulletins/<month>"),
    R("GET", "/api/v1/evaluation/bulletins/{month}/xlsx", EVALUATION_READERS,
      "/api/v1/evaluation/bulletins/<month>/xlsx"),
    R("GET", "/api/v1/evaluation/bulletins/{month}/pdf", EVALUATION_READERS,
      "/api/v1/evaluation/bulletins/<month>/pdf"),
    # insight (issue 19): duplicate suggestions, topics, the dispatch model (none trained here:
    # its figures are 404 to those who may read them)
    R("GET", "/api/v1/cases/{case}/duplicates", EVERYONE, "/api/v1/cases/<number>/duplicates",
      hidden_from={"other_handler"}),
    R("POST", "/api/v1/duplicates", {"operator", "dispatcher", "supervisor"},
      body={"description": "噪音扰民"}),
    R("GET", "/api/v1/insight/topics", {"supervisor", "lead", "admin", "dispatcher", "handler",
                                        "other_handler"}),
    R("GET", "/api/v1/dispatch-model", DISPATCH_MODEL_ASKERS,
      hidden_from=DISPATCH_MODEL_ASKERS),
    R("POST", "/api/v1/dispatch-model/predict", DISPATCH_MODEL_ASKERS,
      body={"description": "噪音扰民", "category": "噪音扰民", "area": "D-PJ"}),
]  # fmt: skip

#: routes that are not the token-authenticated API: pages (session sign-in, CSRF), the
#: OpenAPI document (public), tested in test_auth.py and test_openapi.py; and the SMS gateway's
#: webhook (its own secret, no user: tests/webapp/test_sms_inbound_api.py)
NOT_API = {
    "/api/tokens",
    "/api/tokens/<int:token_id>/revoke",
    "/api/docs",
    "/api/openapi.json",
    "/api/v1/sms/inbound",
}


def test_every_api_route_is_in_the_matrix(hotline_app):
    covered = {(row.rule, row.method) for row in MATRIX}
    missing = []
    for rule in hotline_app.url_map.iter_rules():
        if not rule.rule.startswith("/api") or rule.rule in NOT_API:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.rule, method) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert missing == [], "API routes without a row in the matrix"


def pending_appeal(app, number: str) -> int:
    from tests.webapp.test_permissions import _pending_appeal

    with app.app_context():
        return _pending_appeal(number)


def an_attachment(app, number: str) -> int:
    from tests.webapp.test_permissions import _attachment

    with app.app_context():
        return _attachment(app, number)


def published_bulletin(app) -> str:
    from tests.api.test_evaluation_api import publish

    return publish(app, "2026-02")


@pytest.mark.parametrize("role", sorted(USERS))
def test_the_matrix(api, hotline_app, role):
    number = dispatched(hotline_app)  # with h_mr's department, waiting for sign-for
    world = {
        "case": number,
        "task": ready_task(hotline_app, number, "sign_for"),
        "call": a_call(hotline_app, agent="op2"),  # another operator's
        "appeal": pending_appeal(hotline_app, number),  # h_mr's department's
        "month": published_bulletin(hotline_app),
        "attachment": an_attachment(hotline_app, number),
    }
    client = api(role)
    wrong = []
    for row in MATRIX:
        path = row.path.format(**world)
        if row.method == "GET":
            response = client.get(path)
        else:
            response = client.open(path, row.method, json=row.body)
        status = response.status_code
        if role not in row.allowed:
            expected, ok = "403", status == 403 or (role in row.hidden_from and status == 404)
        elif role in row.hidden_from:
            expected, ok = "404", status == 404
        else:
            expected, ok = "not refused", status not in (401, 403, 404) and status < 500
        if not ok:
            wrong.append(f"{row.method} {path}: {status}, expected {expected}")
    assert wrong == []
