"""Every way a diagram gets in (admin upload, API upload, ``hotline deploy``, ``hotline
validate``) refuses a condition the run time would always refuse for exceeding the expression
budget, naming the flow; one within budget deploys and a case runs on it (SQLite and
PostgreSQL)."""

from __future__ import annotations

import pytest

from engine.models import Definition
from tests.webapp.test_admin import COMPLAINT, count, text, upload
from tests.webapp.test_cli import hotline
from webapp.cli import cli

ORIGINAL = "<bpmn:conditionExpression>intake_outcome == 'answered'</bpmn:conditionExpression>"
FLOW = "flow_intake_outcome_to_end_answered"
#: statically past the size budget however the data looks (and the string-growth class: join,
#: ljust, %-formatting, f-string widths, powers)
OVER = [
    "intake_outcome == 'x' * 10 ** 9",
    "intake_outcome == '-'.join(['ab'] * 10 ** 6)",
    "intake_outcome == 'a'.ljust(10 ** 9)",
    "intake_outcome == '%999999999d' % 1",
    "intake_outcome == f'{1:>999999999}'",
    "9 ** 9 ** 9 > 0 and intake_outcome == 'answered'",
]
WITHIN = "intake_outcome == 'answered' and len(f'{intake_outcome:>20}') == 20"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def complaint_with(condition: str) -> str:
    assert ORIGINAL in COMPLAINT
    return COMPLAINT.replace(
        ORIGINAL, f"<bpmn:conditionExpression>{_escape(condition)}</bpmn:conditionExpression>"
    )


def _versions(app) -> int:
    return count(app, Definition, Definition.key == "complaint")


def test_admin_upload_refuses_conditions_over_budget(as_role, hotline_app):
    client = as_role("admin")
    for condition in OVER:
        response = upload(client, complaint_with(condition))
        assert response.status_code == 400, condition
        page = text(response)
        assert FLOW in page and "budget" in page, condition
    assert _versions(hotline_app) == 1


def test_cli_deploy_and_validate_refuse_conditions_over_budget(runner, app, tmp_path):
    forms = tmp_path / "forms"
    for condition in OVER:
        path = tmp_path / "complaint.bpmn"
        path.write_text(complaint_with(condition), encoding="utf-8")
        deployed = runner.invoke(cli, ["deploy", str(path)])
        assert deployed.exit_code == 1, condition
        assert FLOW in deployed.output and "budget" in deployed.output, condition
        validated = hotline("validate", str(path), "--forms-dir", str(forms))
        assert validated.exit_code == 1
        assert any(FLOW in line and "budget" in line for line in validated.stdout.splitlines())
    assert "complaint" not in runner.invoke(cli, ["definitions"]).output


def test_the_budget_comes_from_the_settings_and_validate_uses_the_same(tmp_path, monkeypatch):
    from webapp.config import ConfigError, load_settings
    from webapp.hotline import expression_budget

    monkeypatch.setenv("HOTLINE_EXPRESSION_MAX_SIZE", "50")
    monkeypatch.setenv("HOTLINE_EXPRESSION_MAX_STEPS", "900")
    budget = expression_budget(load_settings(str(tmp_path / "instance")))
    assert (budget.size, budget.total, budget.steps, budget.time_ms) == (50, 500, 900, 200)
    monkeypatch.setenv("HOTLINE_EXPRESSION_MAX_STEPS", "0")
    with pytest.raises(ConfigError, match="HOTLINE_EXPRESSION_MAX_STEPS"):
        expression_budget(load_settings(str(tmp_path / "instance")))

    monkeypatch.delenv("HOTLINE_EXPRESSION_MAX_STEPS")
    path = tmp_path / "complaint.bpmn"
    path.write_text(complaint_with("intake_outcome == 'x' * 100"), encoding="utf-8")
    forms = str(tmp_path / "forms")
    small = hotline(
        "validate", str(path), "--forms-dir", forms, env={"HOTLINE_EXPRESSION_MAX_SIZE": "50"}
    )
    assert small.exit_code == 1
    assert any(
        FLOW in line and "size budget of 50" in line for line in small.stdout.splitlines()
    ), small.output
    default = hotline(
        "validate", str(path), "--forms-dir", forms, env={"HOTLINE_EXPRESSION_MAX_SIZE": None}
    )
    assert not any(FLOW in line for line in default.stdout.splitlines())
    bad = hotline(
        "validate", str(path), "--forms-dir", forms, env={"HOTLINE_EXPRESSION_MAX_SIZE": "lots"}
    )
    assert (
        bad.exit_code != 0
        and "Traceback" not in bad.output
        and "HOTLINE_EXPRESSION_MAX_SIZE" in bad.output
    )
