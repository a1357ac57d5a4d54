"""The audit log in the web app: administrative changes and sign-ins recorded in the change's
transaction, the auditor's page and export, and ``hotline audit verify``."""

from __future__ import annotations

from sqlalchemy import select, text

from tests.webapp.pages import post
from webapp import signals
from webapp.cli import cli
from webapp.extensions import db
from workflows.audit.append_only import drop_triggers
from workflows.audit.models import AuditEntry
from workflows.users.models import User


def _rows(app, action_prefix: str = "") -> list[AuditEntry]:
    with app.app_context():
        stmt = select(AuditEntry).order_by(AuditEntry.seq)
        if action_prefix:
            stmt = stmt.where(AuditEntry.action.startswith(action_prefix))
        rows = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return rows


def _new_user(client, username: str, role: str = "operator"):
    return post(
        client,
        "/admin/users/new",
        {"username": username, "display_name": "新人", "role": role, "password": "long-enough-1"},
        token_from="/admin/users/new",
    )


def test_user_changes_are_recorded_and_a_refused_change_leaves_no_row(as_role, hotline_app):
    admin = as_role("admin")
    assert _new_user(admin, "op_new").status_code == 302
    created = _rows(hotline_app, "user.")
    assert [(r.action, r.actor_name, r.target_id) for r in created] == [
        ("user.create", "admin", "op_new")
    ]
    assert created[0].address == "127.0.0.1"
    # the same username again is refused: nothing recorded
    assert _new_user(admin, "op_new").status_code == 400
    assert len(_rows(hotline_app, "user.")) == 1

    with hotline_app.app_context():
        user_id = db.session.scalars(select(User.id).where(User.username == "op_new")).one()
    response = post(
        admin,
        f"/admin/users/{user_id}",
        {"display_name": "新人", "role": "supervisor", "password": "Another-Passw0rd"},
        token_from=f"/admin/users/{user_id}",
    )
    assert response.status_code == 302
    actions = [r.action for r in _rows(hotline_app, "user.")]
    assert actions == [
        "user.create",
        "user.update",
        "user.role",
        "user.deactivate",
        "user.password",
    ]  # the form had no "active" box ticked: the user was deactivated too
    changed = _rows(hotline_app, "user.role")[0]
    assert changed.detail["before"]["role"] == "operator"
    assert changed.detail["role"] == "supervisor"
    assert "Another-Passw0rd" not in str(changed.detail)


def test_sign_in_signals_are_recorded(hotline_app):
    with hotline_app.test_request_context("/login"):
        signals.sign_in_failed.send(hotline_app, username="nobody", ip="10.1.2.3", reason="wrong")
        lead = db.session.scalars(select(User).where(User.username == "lead1")).one()
        signals.signed_in.send(hotline_app, user=lead, ip="10.1.2.4")
        signals.sessions_ended.send(hotline_app, user_id=lead.id, reason="logout", sessions=1)
    rows = _rows(hotline_app, "session.")
    assert [(r.action, r.actor_name, r.address) for r in rows] == [
        ("session.sign_in_failed", "nobody", "10.1.2.3"),
        ("session.sign_in", "lead1", "10.1.2.4"),
        ("session.end", "lead1", ""),
    ]
    assert rows[0].detail == {"reason": "wrong"}


def test_the_auditor_reads_filters_and_exports_the_log_and_nothing_else(as_role, hotline_app):
    assert _new_user(as_role("admin"), "op_two").status_code == 302
    auditor = as_role("auditor")
    page = auditor.get("/audit/?action=user").get_data(as_text=True)
    assert "user.create" in page and "op_two" in page
    assert "审计日志" in page and "操作人" in page  # in Chinese by default
    assert "user.create" not in auditor.get("/audit/?action=session").get_data(as_text=True)
    assert "user.create" not in auditor.get("/audit/?actor=lead1").get_data(as_text=True)
    assert "user.create" in auditor.get("/audit/?target=op_two").get_data(as_text=True)

    response = auditor.get("/audit/?format=csv&action=user.create")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].lstrip("\ufeff").startswith("seq,at,actor_id,actor,")
    assert len(lines) == 2 and "op_two" in lines[1]
    export = _rows(hotline_app, "audit.export")
    assert len(export) == 1 and export[0].actor_name == "audit1"
    assert export[0].detail["rows"] == 1
    assert export[0].detail["filter"]["action"] == "user.create"

    bad = auditor.get("/audit/?from=yesterday")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)
    for path in ("/cases", "/admin/users", "/inbox", "/kpi"):
        assert auditor.get(path).status_code == 403, path
    assert as_role("supervisor").get("/audit/").status_code == 403


def test_verify_passes_then_names_the_tampered_row(as_role, hotline_app, runner):
    admin = as_role("admin")
    for name in ("op_a", "op_b", "op_c"):
        assert _new_user(admin, name).status_code == 302
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output

    target = _rows(hotline_app, "user.create")[1]
    with hotline_app.app_context():
        with db.engine.begin() as conn:
            try:
                conn.execute(text("UPDATE audit_log SET actor_name = 'x'"))
            except Exception as exc:  # the trigger: the row cannot be changed
                assert "append-only" in str(exc)
            else:
                raise AssertionError("the UPDATE was not refused")
        with db.engine.begin() as conn:
            drop_triggers(conn)
            conn.execute(
                text("UPDATE audit_log SET detail = :d WHERE seq = :s"),
                {"d": '{"role": "admin"}', "s": target.seq},
            )
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"seq={target.seq}" in result.output and "edited" in result.output


def test_retention_refuses_an_age_under_six_months(hotline_app, runner):
    hotline_app.config["RETENTION_DAYS"] = 90
    result = runner.invoke(cli, ["retention", "run", "--dry-run"])
    assert result.exit_code == 2
    assert "HOTLINE_RETENTION_DAYS must be at least 180" in result.output
    hotline_app.config["RETENTION_DAYS"] = 400
    result = runner.invoke(cli, ["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "anonymised 0 cases" in result.output
    assert "from 0 calls and 0 missed-call callback tasks" in result.output


def test_calendar_edits_from_the_shell_are_recorded(hotline_app, runner):
    result = runner.invoke(cli, ["calendar", "set", "2026-10-09", "--holiday", "--name", "调休"])
    assert result.exit_code == 0, result.output
    [row] = _rows(hotline_app, "calendar.")
    assert (row.action, row.actor_name, row.target_id) == (
        "calendar.update",
        "system:cli",
        "2026-10-09",
    )
    assert row.detail == {"kind": "holiday", "name": "调休"}
    # a refused edit (bad input) records nothing
    assert runner.invoke(cli, ["calendar", "set", "2026-10-10"]).exit_code == 2
    assert len(_rows(hotline_app, "calendar.")) == 1


def test_api_tokens_and_channels_are_recorded_with_their_change(as_role, hotline_app, runner):
    """Credentials are administrative changes too: made or revoked on the tokens page or on the
    command line, each leaves one row; a refused one (no name) leaves none."""
    from tests.webapp.pages import csrf_token

    browser = as_role("handler")
    token = csrf_token(browser, "/api/tokens")
    assert browser.post("/api/tokens", data={"name": " ", "csrf_token": token}).status_code == 422
    assert _rows(hotline_app, "api_token.") == []
    assert (
        browser.post("/api/tokens", data={"name": "脚本", "csrf_token": token}).status_code == 201
    )
    made = _rows(hotline_app, "api_token.")
    assert [(r.action, r.actor_name, r.detail["name"]) for r in made] == [
        ("api_token.create", "h_mr", "脚本")
    ]
    revoked = browser.post(f"/api/tokens/{made[0].target_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert [r.action for r in _rows(hotline_app, "api_token.")][-1] == "api_token.revoke"

    assert runner.invoke(cli, ["token", "create", "op1", "--name", "pbx"]).exit_code == 0
    assert runner.invoke(cli, ["channel", "create", "wechat"]).exit_code == 0
    assert runner.invoke(cli, ["channel", "revoke", "wechat"]).exit_code == 0
    from_cli = _rows(hotline_app, "api_token.")[-1:] + _rows(hotline_app, "channel.")
    assert [(r.action, r.actor_name) for r in from_cli] == [
        ("api_token.create", "system:cli"),
        ("channel.create", "system:cli"),
        ("channel.revoke", "system:cli"),
    ]
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0
