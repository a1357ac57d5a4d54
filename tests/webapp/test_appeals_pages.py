"""Appeals from the pages: the department files from the case page, the centre reviews, the
whole trail shows on the case page and its timeline; another department sees nothing; the
window is the administrators' setting; the figures link to their appeals."""

from __future__ import annotations

from sqlalchemy import select

from tests.webapp.pages import csrf_token
from tests.webapp.test_cases_pages import EN, act, advance, case_row, dispatched
from webapp.extensions import db
from workflows.appeals.models import Appeal
from workflows.audit.models import AuditEntry


def signed_late(app, clock) -> str:
    """A case dispatched to market supervision and signed for three days later (late)."""
    number = dispatched(app)
    advance(app, clock, days=3)
    act(app, number, "sign_for", "h_mr", {"action": "sign"})
    return number


def file(client, number, **data):
    token = csrf_token(client, f"/cases/{number}")
    return client.post(f"/cases/{number}/appeals", data={"csrf_token": token, **data}, headers=EN)


def appeal_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Appeal.id).order_by(Appeal.id.desc()))


def test_filed_by_the_department_upheld_by_the_centre_with_the_trail_on_the_case_page(
    hotline_app, as_role, clock
):
    number = signed_late(hotline_app, clock)
    handler = as_role("handler")
    page = handler.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert 'id="appeal-form"' in page and "Overdue mark" in page
    assert "Rating (unsatisfied or unresolved)" not in page  # not rated: not offered
    response = file(handler, number, ground="overdue", reason="系统故障，无法签收")
    assert response.status_code == 303
    ident = appeal_id(hotline_app)
    assert response.headers["Location"] == f"/appeals/{ident}"
    page = handler.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert "系统故障，无法签收" in page and "Pending review" in page
    assert "Appeal filed: Overdue mark" in page  # the timeline
    assert 'id="appeal-form"' not in page  # one pending appeal per ground
    supervisor = as_role("supervisor")
    queue = supervisor.get("/appeals", headers=EN).get_data(as_text=True)
    assert f'data-appeal="{ident}"' in queue
    token = csrf_token(supervisor, f"/appeals/{ident}")
    response = supervisor.post(
        f"/appeals/{ident}/review",
        data={"csrf_token": token, "decision": "upheld", "reason": "经核实系统故障属实"},
        headers=EN,
    )
    assert response.status_code == 303
    page = handler.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert "经核实系统故障属实" in page and "Upheld" in page
    assert "督办 刘洋 Liu Yang" in page  # the reviewer, by name
    assert "Appeal decided: Upheld (Overdue mark)" in page
    assert case_row(hotline_app, number).appeal_upheld_at == clock.now()
    # a second review is refused, naming the appeal
    again = supervisor.post(
        f"/appeals/{ident}/review",
        data={"csrf_token": token, "decision": "rejected", "reason": "再议"},
        headers=EN,
    )
    assert again.status_code == 422
    assert "Appeal: This appeal was already decided by sup1" in again.get_data(as_text=True)


def test_refusals_come_back_naming_the_field(hotline_app, as_role, clock):
    number = signed_late(hotline_app, clock)
    handler = as_role("handler")
    response = file(handler, number, ground="overdue", reason="  ")
    assert response.status_code == 303
    page = handler.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Reason: This field is required." in page
    response = file(handler, number, ground="rating", reason="评价不公")
    page = handler.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Ground: The case has no unsatisfied or unresolved rating." in page
    with hotline_app.app_context():
        assert db.session.scalar(select(Appeal.id)) is None
    supervisor = as_role("supervisor")
    file(handler, number, ground="overdue", reason="系统故障")
    ident = appeal_id(hotline_app)
    token = csrf_token(supervisor, f"/appeals/{ident}")
    response = supervisor.post(
        f"/appeals/{ident}/review", data={"csrf_token": token, "decision": "", "reason": ""},
        headers=EN,
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count("This field is required.") == 2


def test_another_department_cannot_see_or_appeal(hotline_app, as_role, clock):
    number = signed_late(hotline_app, clock)
    file(as_role("handler"), number, ground="overdue", reason="系统故障")
    ident = appeal_id(hotline_app)
    other = as_role("handler", username="h_hu")
    assert other.get(f"/cases/{number}").status_code == 404
    assert other.get(f"/appeals/{ident}").status_code == 404
    token = csrf_token(other, "/cases")
    response = other.post(
        f"/cases/{number}/appeals",
        data={"csrf_token": token, "ground": "overdue", "reason": "x"},
    )
    assert response.status_code == 404
    listing = other.get("/appeals", headers=EN).get_data(as_text=True)
    assert f'data-appeal="{ident}"' not in listing and "No appeals." in listing
    figures = other.get("/appeals/kpi", headers=EN).get_data(as_text=True)
    assert 'id="appeal-kpis"' not in figures
    zh = as_role("handler").get("/appeals").get_data(as_text=True)  # Chinese first
    assert "本单位申诉" in zh and "超期" in zh and "待审核" in zh
    own = as_role("handler").get("/appeals/kpi", headers=EN).get_data(as_text=True)
    assert 'class="filed"><a href="/appeals?department=B-MR&amp;month=2026-03">1</a>' in own
    # only reviewers decide
    response = as_role("handler").post(
        f"/appeals/{ident}/review", data={"csrf_token": token, "decision": "upheld"}
    )
    assert response.status_code in (400, 403)


def test_the_window_setting_is_the_administrators(hotline_app, as_role):
    admin = as_role("admin")
    token = csrf_token(admin, "/appeals/settings")
    bad = admin.post(
        "/appeals/settings", data={"csrf_token": token, "window_workdays": "0"}, headers=EN
    )
    assert bad.status_code == 400 and "From 1 to 60." in bad.get_data(as_text=True)
    good = admin.post(
        "/appeals/settings", data={"csrf_token": token, "window_workdays": "3"}, headers=EN
    )
    assert good.status_code == 303
    assert 'value="3"' in admin.get("/appeals/settings").get_data(as_text=True)
    with hotline_app.app_context():
        actions = db.session.scalars(select(AuditEntry.action)).all()
    assert "appeal_settings.update" in actions
    assert as_role("supervisor").get("/appeals/settings").status_code == 403


def test_documents_filed_with_an_appeal_go_with_it_or_not_at_all(hotline_app, as_role, clock):
    import io

    from tests.webapp.test_attachments import HTML, png, rows, stored

    number = signed_late(hotline_app, clock)
    handler = as_role("handler")
    token = csrf_token(handler, f"/cases/{number}")
    refused = handler.post(
        f"/cases/{number}/appeals",
        data={
            "csrf_token": token,
            "ground": "overdue",
            "reason": "系统故障",
            "attachments": [(io.BytesIO(HTML), "截图.png")],
        },  # fmt: skip
        content_type="multipart/form-data",
        headers=EN,
    )
    assert refused.status_code == 303
    page = handler.get(f"/cases/{number}", headers=EN).get_data(as_text=True)
    assert "Documents: 截图.png: this kind of file is not accepted" in page
    assert appeal_id(hotline_app) is None and stored(hotline_app) == []  # nothing filed
    token = csrf_token(handler, f"/cases/{number}")
    response = handler.post(
        f"/cases/{number}/appeals",
        data={
            "csrf_token": token,
            "ground": "overdue",
            "reason": "系统故障",
            "attachments": [(io.BytesIO(png()), "截图.png")],
        },  # fmt: skip
        content_type="multipart/form-data",
        headers=EN,
    )
    assert response.status_code == 303 and appeal_id(hotline_app) is not None
    (row,) = rows(hotline_app, number)
    assert row.source == "appeal" and row.uploaded_by == "h_mr"
