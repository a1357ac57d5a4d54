"""Pages and the CLI on a diagram drawn with other element ids: queues, labels and the
dispatch suggestion follow the tasks' steps; an unknown step is refused, located, by
``hotline validate`` and the admin pages (the API: ``tests/api/test_steps.py``)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from engine.models import Definition, HumanTask
from tests.diagrams import renamed, with_step
from tests.webapp.test_admin import json_post, upload
from tests.webapp.test_inbox import EN, submit, task_link
from tests.webapp.test_intake import open_case
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline

COMPLAINT = Path(__file__).resolve().parents[2] / "bpmn" / "complaint.bpmn"
UNKNOWN = with_step(COMPLAINT.read_bytes(), "sign_for", "sign_off")
#: where the unknown step is written
UNKNOWN_LINE = next(
    n for n, t in enumerate(UNKNOWN.decode().splitlines(), 1) if 'value="sign_off"' in t
)


def redrawn(app) -> dict[str, str]:
    """Deploy the complaint diagram with other ids and names (version 2)."""
    xml, mapping = renamed(COMPLAINT.read_bytes())
    with app.app_context():
        hotline = get_hotline()
        (outcome,) = hotline.runtime.deploy(
            db.session, xml, "complaint.bpmn", deployed_by="tests", form_exists=hotline.forms.exists
        )
    assert outcome.version == 2
    return mapping


def test_queues_labels_and_the_suggestion_follow_the_steps(hotline_app, as_role):
    ids = redrawn(hotline_app)
    number = open_case(hotline_app)
    disp1 = as_role("dispatcher")
    html = disp1.get("/queues", headers=EN).get_data(as_text=True)
    tabs = dict(re.findall(r'queue=(\w+)"[^>]*>\s*[^<]*<span class="count">(\d+)', html))
    assert tabs["dispatch"] == "1" and number in html
    assert re.search(r'queue=dispatch"[^>]*>\s*Dispatch <span', html)
    page = task_link(html, number)
    task = disp1.get(page, headers=EN).get_data(as_text=True)
    # the dispatch catalogue's suggestion for 食品安全 in 蓬江区: market regulation
    assert re.search(r'<option value="B-MR"\s+selected', task), "no suggestion"
    done = submit(disp1, page, {"lead_department": "B-MR"}, headers=EN)
    assert done.status_code == 303 and "queue=dispatch" in done.headers["Location"]
    with hotline_app.app_context():
        element = db.session.scalar(
            select(HumanTask.element_id).where(HumanTask.kind == "sign_for")
        )
    assert element == ids["sign_for"]

    handler = as_role("handler")
    inbox = handler.get("/inbox?element=sign_for", headers=EN).get_data(as_text=True)
    assert number in inbox and "Sign for" in inbox and ids["sign_for"] not in inbox
    assert "签收" in handler.get("/inbox").get_data(as_text=True)
    assert number not in handler.get("/inbox?element=handle").get_data(as_text=True)


def test_hotline_validate_refuses_an_unknown_step(runner, tmp_path):
    path = tmp_path / "mine.bpmn"
    path.write_bytes(UNKNOWN)
    result = runner.invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line.startswith(f"{path}:{UNKNOWN_LINE}: sign_for: property 'step': unknown step")


def test_the_admin_pages_refuse_an_unknown_step(hotline_app, as_role):
    client = as_role("admin")
    body = {"xml": UNKNOWN.decode(), "file_name": "c.bpmn"}
    checked = json_post(client, "/admin/definitions/validate", body).get_json()
    (issue,) = checked["issues"]
    assert (issue["element"], issue["line"]) == ("sign_for", UNKNOWN_LINE)
    assert "unknown step 'sign_off'" in issue["message"]
    refused = json_post(client, "/admin/definitions/deploy", body)
    assert refused.status_code == 400
    assert [i["text"] for i in refused.get_json()["issues"]] == [issue["text"]]
    assert "unknown step" in upload(client, UNKNOWN.decode()).get_data(as_text=True)
    with hotline_app.app_context():
        assert db.session.query(Definition).filter_by(key="complaint").count() == 1
