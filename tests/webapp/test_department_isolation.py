"""Another department's case or task does not exist for a handler, on every page that takes a
case number or a task id: the answer is the 404 a number that does not exist gets, word for
word (issue 15, item 8: the task page answered 403 naming the case; the API answered 404).
The routes are enumerated from the app, so a new page with a case number or task id joins."""

from __future__ import annotations

import re

from tests.webapp.pages import post
from tests.webapp.test_inbox import dispatched, ready_task

#: a task id and a case number that exist nowhere
NO_TASK = "00000000-0000-0000-0000-000000000000"
NO_CASE = "209912310001"
FORM = {"action": "sign", "body": "阶段性答复", "text": "note", "into": NO_CASE}


def page_routes(app) -> list[tuple[str, str, str]]:
    """(method, rule, argument) of every page route taking a case number or task id."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/api/v1/", "/open311/")):
            continue  # the API's and Open311's own tests cover them
        for argument in ("number", "task_id") if rule.arguments else ():
            if argument in rule.arguments:
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    out.append((method, rule.rule, argument))
    return out


def answer(client, method: str, rule: str, argument: str, value: str):
    path = rule.replace(f"<{argument}>", value)
    if method == "GET":
        response = client.get(path)
    else:
        response = post(client, path, FORM, token_from="/inbox")
    text = response.get_data(as_text=True).replace(value, "ID")
    text = re.sub(r'"X-CSRFToken": "[^"]*"', "", text)  # signed with the second: may differ
    return response.status_code, re.sub(r'name="csrf[-_]token"[^>]*>', "", text)


def test_another_departments_case_and_task_are_404_like_none_at_all(hotline_app, as_role):
    theirs = dispatched(hotline_app, "B-UM", category="噪音扰民", description="夜里施工很吵")
    task = ready_task(hotline_app, theirs, "sign_for")
    routes = page_routes(hotline_app)
    assert {r for _, r, _ in routes} >= {
        "/tasks/<task_id>",
        "/tasks/<task_id>/interim",
        "/cases/<number>",
        "/cases/<number>/diagram.xml",
        "/cases/<number>/notes",
        "/cases/<number>/merge",
    }
    handler = as_role("handler")  # h_mr: market regulation, not urban management
    for method, rule, argument in routes:
        existing = theirs if argument == "number" else task
        missing = NO_CASE if argument == "number" else NO_TASK
        status, text = answer(handler, method, rule, argument, existing)
        expected = answer(handler, method, rule, argument, missing)
        assert (status, text) == expected, (method, rule)
        # 404, or the 403 of a page the role may not use at all (merging, supervising): the
        # same for any number, so it tells nothing either
        assert status in (403, 404) and theirs not in text, (method, rule, status)
        if rule in ("/tasks/<task_id>", "/tasks/<task_id>/interim", "/cases/<number>"):
            assert status == 404, (method, rule, status)
    # the department that has it opens both
    h_um = as_role("handler", username="h_um")
    assert h_um.get(f"/tasks/{task}").status_code == 200
    assert h_um.get(f"/cases/{theirs}").status_code == 200
