"""``hotline init`` never replaces a version made elsewhere (unless --force) and says what it
kept; ``hotline deploy --comment``; ``hotline export`` writes a version and its forms back."""

import json
import shutil

import pytest
from sqlalchemy import select

from engine.models import Definition
from tests.conftest import ROOT
from webapp.cli import cli

FIXTURES = ROOT / "tests" / "engine" / "fixtures"
FORM_KEYS = ("test/intake", "test/sign_for", "test/reply", "test/callback")


@pytest.fixture
def project(app, tmp_path):
    """A bpmn/ directory with the lifecycle diagram, and its forms, as init reads them."""
    bpmn = tmp_path / "bpmn"
    bpmn.mkdir()
    shutil.copy(FIXTURES / "lifecycle.bpmn", bpmn / "lifecycle.bpmn")
    forms = tmp_path / "forms"
    for key in FORM_KEYS:
        path = forms / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"type": "default", "components": []}')
    from workflows.forms import FormRegistry

    app.extensions["hotline"].forms = FormRegistry(forms)
    app.config["BPMN_DIR"] = str(bpmn)
    return bpmn / "lifecycle.bpmn"


def edit(path, old: str, new: str, out=None):
    text = path.read_text()
    assert old in text
    (out or path).write_text(text.replace(old, new))
    return out or path


def versions(app) -> list[tuple[int, str, str]]:
    from webapp.extensions import db

    with app.app_context():
        rows = db.session.scalars(select(Definition).order_by(Definition.version)).all()
        return [(r.version, r.deployed_by, r.comment) for r in rows]


def run(runner, *args):
    result = runner.invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_init_keeps_a_designers_version_unless_forced(runner, app, project, tmp_path):
    assert run(runner, "init").exit_code == 0
    designed = edit(project, 'name="Reply"', 'name="Reply (designer)"', tmp_path / "d.bpmn")
    out = run(runner, "deploy", str(designed), "--by", "designer", "-m", "clearer reply step")
    assert "deployed lifecycle version 2" in out.output
    # the repository's file moves on too: init must not replace the designer's version 2
    edit(project, 'name="Intake"', 'name="Intake (git)"')
    result = run(runner, "init")
    assert result.exit_code == 0, result.output
    assert "skipped lifecycle from " in result.output
    assert "lifecycle.bpmn: version 2 was deployed by designer at " in result.output
    assert '("clearer reply step")' in result.output and "--force" in result.output
    assert versions(app) == [
        (1, "hotline init", "hotline init"),
        (2, "designer", "clearer reply step"),
    ]
    forced = run(runner, "init", "--force")
    assert "deployed lifecycle version 3" in forced.output
    assert versions(app)[-1] == (3, "hotline init", "hotline init --force")


def test_init_deploys_its_own_files_newer_contents(runner, app, project):
    run(runner, "init")
    edit(project, 'name="Intake"', 'name="Intake v2"')
    assert "deployed lifecycle version 2" in run(runner, "init").output
    # only moved or reformatted: nothing to deploy
    edit(project, "<bpmn:process ", "<!-- a comment -->\n\n   <bpmn:process   ")
    assert "lifecycle is unchanged" in run(runner, "init").output
    assert [v for v, _, _ in versions(app)] == [1, 2]


def test_init_may_replace_a_version_that_is_init_content_again(runner, app, project, tmp_path):
    """A designer who rolled back to init's content has no work of their own to lose."""
    run(runner, "init")
    original = tmp_path / "original.bpmn"
    shutil.copy(project, original)
    designed = edit(project, 'name="Reply"', 'name="Reply (designer)"', tmp_path / "d.bpmn")
    run(runner, "deploy", str(designed), "--by", "designer")
    run(runner, "deploy", str(original), "--by", "designer", "-m", "roll back")
    assert versions(app)[-1] == (3, "designer", "roll back")
    edit(project, 'name="Intake"', 'name="Intake v2"')
    assert "deployed lifecycle version 4" in run(runner, "init").output


def test_deploy_records_its_comment_and_refuses_a_long_one(runner, app, project):
    out = run(runner, "deploy", str(project), "--by", "ann")
    assert "deployed lifecycle version 1" in out.output
    assert versions(app) == [(1, "ann", "hotline deploy")]
    long = run(runner, "deploy", str(project), "--comment", "x" * 501)
    assert long.exit_code == 2 and "--comment" in long.output


def test_export_writes_the_diagram_and_its_forms(runner, app, project, tmp_path):
    run(runner, "init")
    edit(project, 'name="Intake"', 'name="Intake v2"')
    run(runner, "init")
    out_dir = tmp_path / "out"
    result = run(runner, "export", "lifecycle", "--version", "1", "--out", str(out_dir))
    assert result.exit_code == 0, result.output
    assert 'name="Intake"' in (out_dir / "lifecycle.bpmn").read_text()
    for key in FORM_KEYS:
        # the version the definition pinned, as stored (formatted JSON)
        assert json.loads((out_dir / "forms" / f"{key}.json").read_text())["type"] == "default"
    assert "lifecycle version 1: the diagram and 4 form(s)" in result.output
    latest = run(runner, "export", "lifecycle", "--out", str(out_dir))
    assert 'name="Intake v2"' in (out_dir / "lifecycle.bpmn").read_text()
    assert "lifecycle version 2" in latest.output
    # what export wrote deploys as unchanged
    again = run(runner, "deploy", str(out_dir / "lifecycle.bpmn"))
    assert "lifecycle is unchanged" in again.output


def test_export_errors_name_the_key_and_version(runner, app, project, tmp_path):
    unknown = run(runner, "export", "nope", "--out", str(tmp_path))
    assert unknown.exit_code == 1 and "no definition with key 'nope'" in unknown.output
    run(runner, "init")
    missing = run(runner, "export", "lifecycle", "--version", "7", "--out", str(tmp_path))
    assert missing.exit_code == 1 and "lifecycle has no version 7; it has 1" in missing.output
    # the version pinned its forms when it was deployed: a form file deleted since is still
    # exported, from its stored version
    (tmp_path / "forms" / "test" / "reply.json").unlink()
    kept = run(runner, "export", "lifecycle", "--out", str(tmp_path / "x"))
    assert kept.exit_code == 0, kept.output
    assert json.loads((tmp_path / "x" / "forms" / "test" / "reply.json").read_text())["type"]
