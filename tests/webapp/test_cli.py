"""The hotline CLI: validate, deploy, definitions, init; bad input never gives a traceback.

The commands run in this process (click's test runner), as ``hotline`` would run them: an
exception escaping a command, which the real process would print as a traceback, fails the
test (``hotline()``). ``main()``, the console script, is run once as the process runs it.
"""

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import CORPUS, ROOT
from tests.engine.test_validation import BILLION_LAUGHS, XXE
from webapp.cli import cli, main

FIXTURES = ROOT / "tests" / "engine" / "fixtures"


def hotline(*args: str, env: dict | None = None) -> Result:
    """``hotline ARGS``: its exit code, stdout and stderr; no exception may escape it."""
    result = CliRunner().invoke(cli, args, prog_name="hotline", env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"hotline {' '.join(args)} raised (a traceback)") from (
            result.exception
        )
    return result


def test_validate_corpus_and_hostile_files_exit_1_with_located_lines(tmp_path):
    hostile = {
        "bomb.bpmn": BILLION_LAUGHS,
        "xxe.bpmn": XXE,
        "import.bpmn": (FIXTURES / "lifecycle.bpmn")
        .read_bytes()
        .replace(
            b"not accepted",
            b"__import__('os').system('touch " + str(tmp_path / "pwned").encode() + b"')",
        ),
    }
    for name, data in hostile.items():
        (tmp_path / name).write_bytes(data)
    big = tmp_path / "big.bpmn"
    with big.open("wb") as fh:
        fh.seek(50 * 1024 * 1024)
        fh.write(b"x")
    files = [str(p) for p in sorted(CORPUS.glob("*.bpmn"))] + [
        str(tmp_path / n) for n in [*hostile, "big.bpmn"]
    ]
    result = hotline("validate", *files)
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    for f in files:
        assert any(line.startswith(f + ":") for line in out), f
    assert all(line.count(": ") >= 2 for line in out)
    assert not (tmp_path / "pwned").exists()


def test_validate_a_good_file_exits_0(tmp_path):
    forms = tmp_path / "forms" / "test"
    forms.mkdir(parents=True)
    for key in ("intake", "sign_for", "reply", "callback"):
        (forms / f"{key}.json").write_text("{}")
    result = hotline(
        "validate", str(FIXTURES / "lifecycle.bpmn"), "--forms-dir", str(tmp_path / "forms")
    )
    assert result.exit_code == 0, result.output
    missing = hotline("validate", str(FIXTURES / "lifecycle.bpmn"), "--forms-dir", str(tmp_path))
    assert missing.exit_code == 1
    assert "form 'test/intake' does not exist" in missing.stdout


def test_validate_missing_file_and_directory(tmp_path):
    result = hotline("validate", str(tmp_path / "nope.bpmn"))
    assert result.exit_code in (1, 2)
    assert str(tmp_path / "nope.bpmn") in result.output


def test_the_console_script_exits_with_the_commands_status(tmp_path, monkeypatch, capsys):
    """``main()`` (the ``hotline`` script) passes the command's exit status to the process."""
    missing = str(tmp_path / "nope.bpmn")
    monkeypatch.setattr(sys, "argv", ["hotline", "validate", missing])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 1
    assert capsys.readouterr().out.startswith(f"{missing}:0: ")
    monkeypatch.setattr(sys, "argv", ["hotline", "validate", str(ROOT / "bpmn" / "complaint.bpmn")])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 0, capsys.readouterr().out


@pytest.fixture
def forms_for_fixtures(app, tmp_path):
    forms = tmp_path / "forms"
    for key in ("test/intake", "test/sign_for", "test/reply", "test/callback", "test/work"):
        path = forms / f"{key}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    from workflows.forms import FormRegistry

    app.extensions["hotline"].forms = FormRegistry(forms)


def test_deploy_then_definitions(runner, forms_for_fixtures):
    result = runner.invoke(cli, ["deploy", str(FIXTURES / "lifecycle.bpmn"), "--by", "ann"])
    assert result.exit_code == 0, result.output
    assert "deployed lifecycle version 1" in result.output
    result = runner.invoke(cli, ["deploy", str(FIXTURES / "lifecycle.bpmn")])
    assert "unchanged" in result.output and result.exit_code == 0
    result = runner.invoke(cli, ["definitions"])
    assert "lifecycle\tCase lifecycle\tversions 1" in result.output


def test_deploy_invalid_file_stores_nothing(runner, forms_for_fixtures, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_bytes(XXE)
    result = runner.invoke(cli, ["deploy", str(bad)])
    assert result.exit_code == 1
    assert "not allowed" in result.output
    assert "no definitions deployed" in runner.invoke(cli, ["definitions"]).output


def test_init_deploys_bundled_diagrams(runner, app):
    result = runner.invoke(cli, ["init"])
    assert result.exit_code == 0, result.output
    bundled = sorted(Path(app.config["BPMN_DIR"]).glob("*.bpmn"))
    for path in bundled:
        assert path.stem in runner.invoke(cli, ["definitions"]).output or bundled == []


def test_timers_report_and_incident_retry(runner, app, clock):
    from datetime import timedelta

    from engine.timers import TimerService
    from webapp.extensions import db
    from webapp.hotline import get_hotline

    with app.app_context():
        hotline = get_hotline()
        runtime = hotline.runtime
        calls = {"fail": True}

        def on_deadline(ctx, data):
            if calls["fail"]:
                raise RuntimeError("SMS gateway down")
            return {}

        runtime.add_services({"on_deadline": on_deadline})
        runtime.deploy(
            db.session, (FIXTURES / "timer_service.bpmn").read_bytes(), "t.bpmn", deployed_by="t"
        )
        due = (clock.now() + timedelta(minutes=5)).isoformat()
        runtime.start(db.session, "timer_service", data={"due": due})
        result = runner.invoke(cli, ["timers"])
        assert "pending timers:   1" in result.output and "open incidents:   0" in result.output
        clock.advance(minutes=6)
        service = TimerService(
            runtime, lambda: db.session.session_factory(), clock=clock, max_attempts=1
        )
        assert service.drain().incidents == 1
        db.session.rollback()
        result = runner.invoke(cli, ["timers"])
        assert "open incidents:   1" in result.output
        assert "SMS gateway down" in result.output
        incident_id = int(result.output.split("incident ")[1].split(":")[0])
        calls["fail"] = False
        result = runner.invoke(cli, ["timers", "retry", str(incident_id)])
        assert result.exit_code == 0 and "re-queued" in result.output
        result = runner.invoke(cli, ["timers", "retry", str(incident_id)])
        assert result.exit_code == 1 and "already resolved" in result.output
        assert service.drain().fired == 1
        db.session.rollback()
        assert "pending timers:   0" in runner.invoke(cli, ["timers"]).output


def test_simulate_checks_its_rates_and_drives_cases_through_the_engine(hotline_app):
    runner = hotline_app.test_cli_runner()
    args = ["simulate", "--cases", "6", "--days", "2", "--starting-now"]

    unknown = runner.invoke(cli, [*args, "--rate", "lateness=0.5"])
    assert unknown.exit_code == 2
    assert "--rate" in unknown.output and "'lateness=0.5'" in unknown.output
    assert "late_reply" in unknown.output  # the names it knows
    out_of_range = runner.invoke(cli, [*args, "--rate", "late_reply=2"])
    assert out_of_range.exit_code == 2 and "from 0 to 1" in out_of_range.output
    assert "Traceback" not in unknown.output + out_of_range.output

    result = runner.invoke(cli, [*args, "--rate", "return=0.5", "--rate", "answered=0"])
    assert result.exit_code == 0, result.output
    assert "simulated 6 cases" in result.output
    with hotline_app.app_context():
        from sqlalchemy import func, select

        from webapp.extensions import db
        from workflows.cases.models import Case

        numbers = db.session.scalar(select(func.count()).where(Case.instance_id.is_not(None)))
    assert numbers == 6


#: every command that reads or writes the database, with arguments that are valid on a ready
#: database (the check must come before anything the command does)
DATABASE_COMMANDS = [
    ["deploy", str(ROOT / "bpmn" / "complaint.bpmn")],
    ["definitions"],
    ["serve", "--port", "1"],
    ["simulate", "--cases", "2", "--days", "1"],
    ["worker", "--until-idle"],
    ["kpi", "rollup"],
    ["kpi", "verify"],
    ["timers"],
    ["timers", "retry", "1"],
    ["outbox"],
    ["outbox", "retry", "1"],
    ["calendar", "due", "2026-11-18T09:00", "--workdays", "3"],
    ["calendar", "seed", "--year", "2026"],
    ["calendar", "list", "--year", "2026"],
    ["calendar", "set", "2026-10-01", "--holiday"],
    ["token"],
    ["token", "list"],
    ["token", "create", "op1"],
    ["token", "revoke", "1"],
    ["channel"],
    ["channel", "list"],
    ["channel", "create", "wechat"],
    ["channel", "revoke", "wechat"],
]


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    return lines[0]


@pytest.fixture
def empty_app(tmp_path, clock):
    """An app on an SQLite file with no tables at all (before ``hotline init``)."""
    from tests.webapp.conftest import dispose, make_app

    app = make_app(f"sqlite:///{tmp_path / 'empty.db'}", clock)
    yield app
    dispose(app)


@pytest.mark.parametrize("args", DATABASE_COMMANDS, ids=" ".join)
def test_each_command_on_a_database_without_tables_says_run_init(empty_app, args):
    result = empty_app.test_cli_runner().invoke(cli, args)
    line = _one_error_line(result)
    assert line == "Error: the database has no hotline tables: run 'hotline init'"


def test_an_older_schema_is_named_with_the_command_that_migrates_it(empty_app):
    from flask_migrate import upgrade

    with empty_app.app_context():
        upgrade(directory=empty_app.extensions["migrate"].directory, revision="e540aa5f146d")
    result = empty_app.test_cli_runner().invoke(cli, ["calendar", "list"])
    line = _one_error_line(result)
    assert "schema (e540aa5f146d) is older than this hotline" in line
    assert line.endswith("run 'hotline init' to migrate it")


def test_commands_on_a_migrated_database_without_seed_data_name_what_is_missing(app):
    runner = app.test_cli_runner()
    simulate = runner.invoke(cli, ["simulate", "--cases", "2", "--days", "1"])
    assert _one_error_line(simulate) == (
        "Error: the database has no deadline policy: run 'hotline init'"
    )
    token = runner.invoke(cli, ["token", "create", "op1"])
    assert _one_error_line(token) == "Error: the database has no users: run 'hotline init --demo'"
    # what needs only the schema works on it
    due = runner.invoke(cli, ["calendar", "due", "2026-11-18T09:00", "--workdays", "1"])
    assert due.exit_code == 0 and due.stdout.startswith("2026-11-19T23:59:59"), due.output
    assert runner.invoke(cli, ["channel", "list"]).exit_code == 0
    assert runner.invoke(cli, ["timers"]).exit_code == 0

    # ``hotline init`` (no demo) gives the reference data; the simulator still needs the city
    assert runner.invoke(cli, ["init"]).exit_code == 0
    simulate = runner.invoke(cli, ["simulate", "--cases", "2", "--days", "1"])
    assert _one_error_line(simulate) == (
        "Error: the database has no departments, users, dispatch rules: run 'hotline init --demo'"
    )
