"""Form versions (issue 21): stored versions, the pins of a deployed definition, the editor's
save with the server's checks, and who may use it."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import Definition
from tests.webapp.pages import post
from tests.webapp.test_inbox import act, ready_task
from tests.webapp.test_intake import open_case
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.errors import FormInvalid
from workflows.forms import FormRegistry, store
from workflows.forms.models import FormVersion

ROOT = Path(__file__).resolve().parents[2]
DISPATCH = "common/dispatch"
COMPLAINT = (ROOT / "bpmn" / "complaint.bpmn").read_bytes()


def dispatch_form() -> dict:
    return json.loads((ROOT / "forms" / "common" / "dispatch.json").read_text(encoding="utf-8"))


def with_required_field(document: dict) -> dict:
    changed = copy.deepcopy(document)
    changed["components"].append(
        {
            "id": "Field_reason",
            "type": "textfield",
            "key": "dispatch_reason",
            "label": "派单理由",
            "validate": {"required": True},
            "properties": {"en": "Reason"},
        }
    )
    return changed


def save(client, key: str, schema: dict, comment: str = ""):
    return client.post(
        "/admin/forms/save",
        json={"key": key, "schema": schema, "comment": comment},
        headers={"X-CSRFToken": _token(client)},
    )


def _token(client) -> str:
    html = client.get("/admin/forms").get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def versions(app, key: str) -> list[tuple[int, str, str]]:
    with app.app_context():
        return [
            (r.version, r.source, r.author)
            for r in db.session.scalars(
                select(FormVersion).where(FormVersion.key == key).order_by(FormVersion.version)
            )
        ]


def pins(app, key: str = "complaint") -> dict[str, int]:
    with app.app_context():
        row = db.session.scalars(
            select(Definition).where(Definition.key == key).order_by(Definition.version.desc())
        ).first()
        return row.version, store.pinned_versions(row.info)


# -- storage ------------------------------------------------------------------------------------


def test_a_deployment_stores_the_files_as_version_1_and_pins_them(hotline_app):
    version, pinned = pins(hotline_app)
    assert pinned[DISPATCH] == 1
    assert "common/sign_for" in pinned
    assert versions(hotline_app, DISPATCH) == [(1, "file", "forms/")]


def test_save_adds_a_version_and_an_unchanged_save_stores_nothing(hotline_app, as_role):
    client = as_role("admin")
    changed = with_required_field(dispatch_form())
    response = save(client, DISPATCH, changed, "a reason for every dispatch")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version"] == 2 and response.get_json()["created"]
    again = save(client, DISPATCH, json.loads(json.dumps(changed, sort_keys=True)))
    body = again.get_json()
    assert body["ok"] and not body["created"] and body["version"] == 2
    assert "没有改动" in body["message"]
    assert [v for v, _s, _a in versions(hotline_app, DISPATCH)] == [1, 2]
    with hotline_app.app_context():
        row = store.version_row(db.session, key=DISPATCH, version=2)
        assert row.author == "admin" and row.comment == "a reason for every dispatch"
        assert "dispatch_reason" in row.schema
    page = client.get(f"/admin/forms/history?key={DISPATCH}").get_data(as_text=True)
    assert "a reason for every dispatch" in page and "v2" in page
    old = client.get(f"/admin/forms/schema?key={DISPATCH}&version=1").get_json()
    assert old == dispatch_form()


def test_hotline_init_seeds_changed_files_but_never_over_an_editor_version(hotline_app, tmp_path):
    forms_dir = tmp_path / "forms" / "common"
    forms_dir.mkdir(parents=True)
    (forms_dir / "dispatch.json").write_text(json.dumps(dispatch_form()), encoding="utf-8")
    with hotline_app.app_context():
        hotline = get_hotline()
        registry = FormRegistry(tmp_path / "forms")
        with unit_of_work(db.session):
            assert list(store.seed_from_files(db.session, registry, clock=hotline.clock)) == []
        (forms_dir / "dispatch.json").write_text(
            json.dumps(with_required_field(dispatch_form())), encoding="utf-8"
        )
        with unit_of_work(db.session):
            lines = list(store.seed_from_files(db.session, registry, clock=hotline.clock))
        assert lines == [f"form {DISPATCH} version 2 stored from its file"]
        with unit_of_work(db.session):
            store.save(
                db.session,
                key=DISPATCH,
                text=json.dumps(dispatch_form()),
                author="admin",
                clock=hotline.clock,
            )
        (forms_dir / "dispatch.json").write_text(json.dumps(dispatch_form(), indent=4))
        with unit_of_work(db.session):
            lines = list(store.seed_from_files(db.session, registry, clock=hotline.clock))
        assert lines == []  # the file is what version 3 (from the editor) has
        (forms_dir / "dispatch.json").write_text(
            json.dumps({**dispatch_form(), "properties": {"title": "新"}}), encoding="utf-8"
        )
        with unit_of_work(db.session):
            lines = list(store.seed_from_files(db.session, registry, clock=hotline.clock))
        assert "was saved in the editor" in lines[0]
    assert [v for v, _s, _a in versions(hotline_app, DISPATCH)] == [1, 2, 3]


# -- pinning -------------------------------------------------------------------------------------


def test_a_running_case_keeps_its_form_and_a_new_deployment_takes_the_new_one(hotline_app, as_role):
    old_case = open_case(hotline_app)
    response = save(as_role("admin"), DISPATCH, with_required_field(dispatch_form()))
    assert response.get_json()["version"] == 2

    # the running case's dispatch task: shown and validated with version 1
    client = as_role("dispatcher")
    page = client.get(f"/tasks/{ready_task(hotline_app, old_case, 'dispatch')}")
    assert page.status_code == 200 and "dispatch_reason" not in page.get_data(as_text=True)
    act(hotline_app, old_case, "dispatch", "disp1", {"lead_department": "B-MR"})

    # the same diagram deployed again pins version 2: a new version of the definition
    with hotline_app.app_context():
        hotline = get_hotline()
        with unit_of_work(db.session):
            [outcome] = hotline.runtime.deploy(
                db.session, COMPLAINT, "complaint.bpmn", deployed_by="admin"
            )
        assert outcome.created
        with unit_of_work(db.session):
            [again] = hotline.runtime.deploy(
                db.session, COMPLAINT, "complaint.bpmn", deployed_by="admin"
            )
        assert not again.created  # nothing changed since: a no-op
    version, pinned = pins(hotline_app)
    assert version == outcome.version and pinned[DISPATCH] == 2

    new_case = open_case(hotline_app)
    task = ready_task(hotline_app, new_case, "dispatch")
    assert "dispatch_reason" in client.get(f"/tasks/{task}").get_data(as_text=True)
    with pytest.raises(FormInvalid) as refused:
        act(hotline_app, new_case, "dispatch", "disp1", {"lead_department": "B-MR"})
    assert "dispatch_reason" in refused.value.errors
    act(
        hotline_app,
        new_case,
        "dispatch",
        "disp1",
        {"lead_department": "B-MR", "dispatch_reason": "x"},
    )


# -- the server's checks ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "component", "words"),
    [
        (lambda d: d["components"].append({"type": "group", "key": "g", "components": []}),
         "g", "not supported"),
        (lambda d: d["components"].append({"type": "textfield", "key": "lead_department"}),
         "lead_department", "also used"),
        (lambda d: d["components"].append({"type": "textfield", "key": "1x"}), "1x", "key"),
        (lambda d: d["components"].pop(0), "lead_department", "reads this field"),
        (lambda d: d["components"][1].update(validate={"pattern": "("}), "co_departments",
         "validate"),
    ],
)  # fmt: skip
def test_a_bad_form_is_refused_naming_the_field(hotline_app, as_role, change, component, words):
    document = dispatch_form()
    change(document)
    response = save(as_role("admin"), DISPATCH, document)
    assert response.status_code == 400
    [error] = response.get_json()["errors"]
    assert error["component"] == component
    assert words in error["message"] or words in error["text"], error
    assert error["text"].startswith(f"字段 {component}：")
    assert [v for v, _s, _a in versions(hotline_app, DISPATCH)] == [1]


def test_a_missing_domain_field_is_told_in_the_pages_language(as_role):
    document = dispatch_form()
    document["components"].pop(0)
    [error] = save(as_role("admin"), DISPATCH, document).get_json()["errors"]
    assert error["text"] == "字段 lead_department：热线系统要读取这个字段，请在表单中保留"


@pytest.mark.parametrize(
    "body",
    [None, {"key": DISPATCH}, {"key": "../x", "schema": {}}, {"key": DISPATCH, "schema": []}],
)
def test_a_malformed_request_is_a_400_not_a_500(as_role, body):
    client = as_role("admin")
    response = client.post(
        "/admin/forms/save",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": _token(client)},
    )
    assert response.status_code == 400
    assert response.get_json()["ok"] is False


def test_a_new_form_is_a_copy_and_its_key_is_checked(hotline_app, as_role):
    client = as_role("admin")
    response = post(
        client,
        "/admin/forms/new",
        {"key": "consumer/intake", "copy_of": "common/intake", "comment": ""},
        token_from="/admin/forms/new",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/forms/edit?key=consumer/intake")
    assert versions(hotline_app, "consumer/intake") == [(1, "editor", "admin")]
    assert client.get("/admin/forms/edit?key=consumer/intake").status_code == 200
    for key in ("consumer/intake", "../etc", ""):
        again = post(
            client, "/admin/forms/new", {"key": key, "copy_of": "common/intake"},
            token_from="/admin/forms/new",
        )  # fmt: skip
        assert again.status_code == 400
    listing = client.get("/admin/forms").get_data(as_text=True)
    assert "consumer/intake" in listing and "common/dispatch" in listing


def test_pages_answer_404_for_unknown_forms_and_versions(as_role):
    client = as_role("admin")
    for path in (
        "/admin/forms/history?key=nope/nope",
        "/admin/forms/version?key=common/dispatch&version=9",
        "/admin/forms/version?key=common/dispatch&version=x",
        "/admin/forms/edit?key=../x",
        "/admin/forms/schema?key=nope",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/admin/forms/version?key=common/dispatch&version=1").status_code == 200


@pytest.mark.parametrize("role", ["operator", "dispatcher", "handler", "supervisor", "auditor"])
def test_only_administrators_edit_forms(hotline_app, as_role, role):
    client = as_role(role)
    assert client.get("/admin/forms").status_code == 403
    assert client.get("/admin/forms/edit?key=common/dispatch").status_code == 403
    token_page = client.get("/cases" if role != "auditor" else "/audit/").get_data(as_text=True)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', token_page).group(1)
    response = client.post(
        "/admin/forms/save",
        json={"key": DISPATCH, "schema": dispatch_form()},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 403


# -- the command line ----------------------------------------------------------------------------


def test_forms_list_and_export(hotline_app, as_role, tmp_path):
    save(as_role("admin"), DISPATCH, with_required_field(dispatch_form()), "reason")
    runner = hotline_app.test_cli_runner()
    listed = runner.invoke(cli, ["forms", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"{DISPATCH}\tv2\tadmin\t" in listed.output and "reason" in listed.output
    old = runner.invoke(cli, ["forms", "export", DISPATCH, "--version", "1"])
    assert old.exit_code == 0 and json.loads(old.output) == dispatch_form()
    out = tmp_path / "dispatch.json"
    runner.invoke(cli, ["forms", "export", DISPATCH, "--out", str(out)])
    assert "dispatch_reason" in out.read_text(encoding="utf-8")
    missing = runner.invoke(cli, ["forms", "export", DISPATCH, "--version", "7"])
    assert missing.exit_code == 1 and "has no version 7" in missing.output


def test_forms_of_a_definition_are_its_pinned_versions(hotline_app, as_role):
    save(as_role("admin"), DISPATCH, with_required_field(dispatch_form()))
    with hotline_app.app_context():
        row = db.session.scalars(select(Definition).where(Definition.key == "complaint")).first()
        forms = store.forms_of_definition(db.session, get_hotline().forms, row.info)
    by_key = {f.key: f for f in forms}
    assert by_key[DISPATCH].version == 1 and "dispatch_reason" not in by_key[DISPATCH].text
    assert "common/sign_for" in by_key


def test_the_registry_reads_stored_versions_then_files(hotline_app, as_role):
    from workflows.forms import FormNotFound

    with hotline_app.app_context():
        forms = get_hotline().forms
        only_file = "common/resume"  # named by a diagram: stored at deployment
        assert forms.get(only_file).key == only_file
        with unit_of_work(db.session):
            db.session.execute(FormVersion.__table__.delete().where(FormVersion.key == only_file))
        assert forms.latest_version(only_file) is None
        assert forms.get(only_file).file == f"{only_file}.json"  # the file, as before
    save(as_role("admin"), DISPATCH, with_required_field(dispatch_form()))
    with hotline_app.app_context():
        forms = get_hotline().forms
        newest = forms.get(DISPATCH)
        assert "dispatch_reason" in {f["key"] for f in newest.fields}
        assert forms.get(DISPATCH) is newest  # a version is parsed once
        assert "dispatch_reason" not in {f["key"] for f in forms.get(DISPATCH, 1).fields}
        with pytest.raises(FormNotFound):
            forms.get(DISPATCH, 9)
        with pytest.raises(FormNotFound):
            forms.get("../etc/passwd")
        every = forms.keys()
        assert DISPATCH in every and forms.exists(DISPATCH)


def test_a_save_over_a_version_saved_since_the_editor_opened_is_refused(hotline_app, as_role):
    client = as_role("admin")
    page = client.get(f"/admin/forms/edit?key={DISPATCH}").get_data(as_text=True)
    seen = int(re.search(r'data-latest="(\d+)"', page).group(1))
    assert seen == 1
    first = with_required_field(dispatch_form())
    assert save(client, DISPATCH, first).get_json()["version"] == 2
    stale = client.post(
        "/admin/forms/save",
        json={"key": DISPATCH, "schema": {**dispatch_form(), "id": "x"}, "latest": seen},
        headers={"X-CSRFToken": _token(client)},
    )
    assert stale.status_code == 409
    assert "第 2 版" in stale.get_json()["errors"][0]["text"]
    assert [v for v, _s, _a in versions(hotline_app, DISPATCH)] == [1, 2]
