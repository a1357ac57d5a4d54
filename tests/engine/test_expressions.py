"""The restricted evaluator: what conditions and scripts may do, and what they may not."""

from datetime import UTC, datetime

import pytest

from engine.errors import ExpressionError
from engine.expressions import Evaluator, check_expression, check_script


@pytest.fixture
def ev():
    return Evaluator({"workdays": lambda n: datetime(2026, 10, 9, tzinfo=UTC)})


@pytest.mark.parametrize(
    ("source", "names", "expected"),
    [
        ("urgency == 'urgent' and days_left < 2", {"urgency": "urgent", "days_left": 1}, True),
        ("not accepted", {"accepted": False}, True),
        ("case.type in ['complaint', 'report']", {"case": {"type": "report"}}, True),
        ("len(departments) > 1", {"departments": ["a", "b"]}, True),
        ("rating.upper()", {"rating": "ok"}, "OK"),
        ("max(a, b) * 2 + 1", {"a": 3, "b": 5}, 11),
        ("when.year", {"when": datetime(2026, 1, 2, tzinfo=UTC)}, 2026),
        ("workdays(5).day", {}, 9),
        ("{'a': 1}.get('b', 7)", {}, 7),
        ("[x * 2 for x in items]", {"items": [1, 2]}, [2, 4]),
    ],
)
def test_allowed_expressions_evaluate(ev, source, names, expected):
    assert ev.evaluate(source, names) == expected


HOSTILE = [
    "__import__('os').system('touch /tmp/pwned')",
    "().__class__.__base__.__subclasses__()",
    "[c for c in ().__class__.__bases__[0].__subclasses__()]",
    "open('/etc/passwd').read()",
    "eval('1+1')",
    "exec('import os')",
    "getattr(x, 'y')",
    "'{0.__class__}'.format(1)",
    "x.__dict__",
    "(lambda: 1)()",
    "type(x)",
    "globals()",
    "compile('1', 'f', 'eval')",
    "'a'.format_map({})",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_expressions_are_refused_at_check_time(ev, source):
    with pytest.raises(ExpressionError):
        ev.check_expression(source)


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_expressions_are_refused_at_run_time(ev, source, tmp_path):
    with pytest.raises(ExpressionError):
        ev.evaluate(source, {"x": 1})


def test_hostile_code_has_no_effect(ev, tmp_path):
    target = tmp_path / "pwned"
    with pytest.raises(ExpressionError):
        ev.execute(f"__import__('os').system('touch {target}')", {})
    with pytest.raises(ExpressionError):
        ev.execute(f"open('{target}', 'w').write('x')", {})
    assert not target.exists()


def test_resource_bombs_are_refused(ev):
    with pytest.raises(ExpressionError):
        ev.evaluate("9 ** 9 ** 9", {})
    with pytest.raises(ExpressionError):
        ev.evaluate("'x' * 10 ** 9", {})


def test_scripts_assign_into_task_data(ev):
    data = {"count": 1, "case": {"tags": []}}
    ev.execute(
        "count += 1\nif count > 1:\n    escalated = True\nelse:\n    escalated = False\n"
        "case['level'] = 'red'\na, b = 1, 2",
        data,
    )
    assert data == {
        "count": 2,
        "case": {"tags": [], "level": "red"},
        "escalated": True,
        "a": 1,
        "b": 2,
    }


@pytest.mark.parametrize(
    "script",
    [
        "import os",
        "from os import system",
        "def f():\n    pass",
        "while True:\n    pass",
        "for x in range(10):\n    pass",
        "class A:\n    pass",
        "x.attr = 1",
        "del x",
        "with open('f') as f:\n    pass",
        "f = workdays",
        "global x",
    ],
)
def test_disallowed_statements(ev, script):
    with pytest.raises(ExpressionError):
        ev.check_script(script) if script != "f = workdays" else ev.execute(script, {})


def test_unknown_functions_are_named_in_the_error():
    with pytest.raises(ExpressionError, match="'system' is not allowed"):
        check_expression("system('ls')", {"len": len})


def test_syntax_errors_say_so():
    with pytest.raises(ExpressionError, match="does not parse"):
        check_expression("a ==", None)
    with pytest.raises(ExpressionError, match="does not parse"):
        check_script("if x\n  y = 1", None)


def test_undefined_names_are_reported(ev):
    with pytest.raises(ExpressionError, match="'missing' is not defined"):
        ev.evaluate("missing > 1", {})
