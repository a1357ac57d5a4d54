"""Duplicate suggestions on the pages (issue 19): the intake's live panel and its
record-and-merge, the dispatch queue's marker, the task page's list and merge."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.webapp.pages import csrf_token, post
from tests.webapp.test_inbox import ready_task
from tests.webapp.test_intake import case_row, open_case
from tests.workflows.conftest import INTAKE
from tests.workflows.dup_pairs import SAME
from webapp.extensions import db
from workflows.cases.models import Case

A, B = SAME[0]
ADDRESS = "幸福路88号阳光小区"


def test_the_intake_panel_lists_a_like_case_with_its_reasons(hotline_app, as_role):
    number = open_case(hotline_app, description=A, address=ADDRESS, caller_phone="13900000001")
    client = as_role("operator")
    page = client.get("/intake").get_data(as_text=True)
    assert 'id="duplicates"' in page and "/intake/duplicates" in page
    html = client.get(
        "/intake/duplicates",
        query_string={"description": B, "address": "幸福路 88号 阳光小区", "caller_phone": ""},
    ).get_data(as_text=True)
    assert number in html
    assert "相似描述" in html and "同一地址" in html
    assert f'name="master" value="{number}"' in html
    html = client.get("/intake/duplicates", query_string={"description": "咨询社保卡补办流程"})
    assert number not in html.get_data(as_text=True)


def test_record_and_merge_at_intake(hotline_app, as_role):
    master = open_case(hotline_app, description=A, address=ADDRESS)
    client = as_role("operator")
    with hotline_app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Case))
    response = post(
        client, "/intake/merge", {**INTAKE, "description": B, "master": master},
        token_from="/intake",
    )  # fmt: skip
    assert response.status_code == 303
    flashed = client.get("/intake").get_data(as_text=True)
    assert master in flashed
    with hotline_app.app_context():
        new = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
        assert db.session.scalar(select(func.count()).select_from(Case)) == before + 1
        assert new.status == "merged" and new.merged_into_id == case_row(hotline_app, master).id
    # refused: the master is closed; nothing recorded, the form comes back with the reason
    closed = open_case(hotline_app, intake_outcome="answered", answer="已解答")
    response = post(
        client, "/intake/merge", {**INTAKE, "description": B, "master": closed},
        token_from="/intake",
    )  # fmt: skip
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "未合并" in html and closed in html and B in html
    # a bad form: the field is named, nothing recorded
    response = post(
        client, "/intake/merge", {**INTAKE, "case_type": "nonsense", "master": master},
        token_from="/intake",
    )  # fmt: skip
    assert response.status_code == 422
    with hotline_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == before + 2


def test_the_queue_marks_and_the_task_page_merges(hotline_app, as_role):
    master = open_case(hotline_app, description=A, address=ADDRESS)
    dup = open_case(hotline_app, description=B, address="幸福路８８号阳光小区")
    lone = open_case(
        hotline_app,
        description="咨询社保卡补办需要带哪些材料",
        address="",
        caller_phone="13600000006",
    )
    client = as_role("dispatcher")
    html = client.get("/queues?queue=dispatch").get_data(as_text=True)
    rows = {n: html[html.index(n) : html.index("</tr>", html.index(n))] for n in (dup, lone)}
    assert "duplicate-mark" in rows[dup] and "duplicate-mark" not in rows[lone]
    assert "duplicate-mark-limit" not in html
    task = ready_task(hotline_app, dup, "dispatch")
    html = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "可能重复" in html and master in html and "同一地址" in html
    assert f'name="master" value="{master}"' in html and "将本工单合并到" in html
    token = csrf_token(client, f"/tasks/{task}")
    # refused: into itself
    response = client.post(
        f"/cases/{dup}/merge-duplicate", data={"master": dup, "csrf_token": token, "task": task}
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task}"
    assert case_row(hotline_app, dup).status == "awaiting_dispatch"
    response = client.post(
        f"/cases/{dup}/merge-duplicate", data={"master": master, "csrf_token": token, "task": task}
    )
    assert response.status_code == 303
    assert case_row(hotline_app, dup).status == "merged"


def test_the_command_line_reindexes_and_prunes(hotline_app, runner):
    from webapp.cli import cli
    from workflows.insight.duplicates import DupKey

    number = open_case(hotline_app, description=A, address=ADDRESS)
    with hotline_app.app_context():
        db.session.execute(DupKey.__table__.delete())
        db.session.commit()
    result = runner.invoke(cli, ["duplicates", "reindex"])
    assert result.exit_code == 0, result.output
    assert "indexed 1 open cases of the last 7 days" in result.output
    with hotline_app.app_context():
        case_id = case_row(hotline_app, number).id
        assert db.session.scalar(
            select(func.count()).select_from(DupKey).where(DupKey.case_id == case_id)
        )
    result = runner.invoke(cli, ["duplicates", "prune"])
    assert result.exit_code == 0 and "deleted 0 keys older than 7 days" in result.output


def test_the_queue_says_which_rows_it_marked(hotline_app, as_role, monkeypatch):
    from webapp.insight import duplicates

    monkeypatch.setattr(duplicates, "MARK_ROWS", 1)  # as if a page were longer than 50 rows
    open_case(hotline_app, description=A, address=ADDRESS)
    open_case(hotline_app, description=B, address="幸福路８８号阳光小区")
    html = as_role("dispatcher").get("/queues?queue=dispatch").get_data(as_text=True)
    assert html.count('duplicate-mark"') == 1  # the newest row only
    assert "疑似重复只在每页的前1行标出" in html


def test_the_calls_photos_go_to_the_case_it_is_merged_into(hotline_app, as_role):
    import io

    from tests.webapp.pages import csrf_token
    from tests.webapp.test_attachments import HTML, jpeg, rows

    master = open_case(hotline_app, description=A, address=ADDRESS)
    client = as_role("operator")
    token = csrf_token(client, "/intake")
    data = {**INTAKE, "description": B, "master": master, "csrf_token": token}
    response = client.post(
        "/intake/merge",
        data={**data, "attachments": [(io.BytesIO(jpeg()), "现场.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:1500]
    (photo,) = rows(hotline_app, master)
    assert (photo.file_name, photo.source, photo.uploaded_by) == ("现场.jpg", "intake", "op1")
    # the master's handler sees it on the master's page
    html = as_role("supervisor").get(f"/cases/{master}").get_data(as_text=True)
    assert "现场.jpg" in html
    # a refused file: neither the record nor the merge nor any file is kept
    with hotline_app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Case))
    token = csrf_token(client, "/intake")
    response = client.post(
        "/intake/merge",
        data={**data, "csrf_token": token, "attachments": [(io.BytesIO(HTML), "x.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "x.jpg" in response.get_data(as_text=True)
    with hotline_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == before
    assert len(rows(hotline_app, master)) == 1
