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


# -- the budget: every operation that can build a big value or run long is bounded ------------

BIG = {"n": 10**9, "y": 10**7, "s": "ab\t" * 1000, "tabs": "\t" * 1000, "items": [1] * 1000}


@pytest.mark.parametrize(
    ("source", "what"),
    [
        ("2 ** y", "power"),
        ("s * n", "repetition"),
        ("items * n", "repetition"),
        ("[s] * n", "repetition"),
        ("(2 ** 300000) * (2 ** 300000)", "power"),
        ("1 << n", "shift"),
        ("s.ljust(n)", "str.ljust"),
        ("s.rjust(n)", "str.rjust"),
        ("s.center(n)", "str.center"),
        ("s.zfill(n)", "str.zfill"),
        ("s.replace('a', s)", "str.replace"),
        ("s.replace('', s)", "str.replace"),
        ("tabs.expandtabs(n)", "str.expandtabs"),
        ("s.join([s] * 1000)", "str.join"),
        ("f'{y:>999999999}'", "f-string format"),
        ("f'{y:.999999999f}'", "f-string format"),
        ("'%999999999d' % y", "% formatting"),
        ("'%.999999999f' % y", "% formatting"),
        ("'%*d' % (n, 1)", "% formatting"),
        ("'%.*f' % (n, 1.5)", "% formatting"),
        ("round(5, -n)", "round()"),
        ("str([items] * 1000)", "str()"),
        ("f'{[items] * 1000}'", "f-string"),
        ("'%s' % ([items] * 1000,)", "% formatting"),
        ("[s * 30 for i in items]", "total size"),
        ("[s[:] + s for i in items]", "total size"),
    ],
)
def test_values_past_the_size_budget_are_refused_before_they_are_built(ev, source, what):
    from engine.expressions import BudgetExceeded

    with pytest.raises(BudgetExceeded) as caught:
        ev.evaluate(source, BIG)
    assert caught.value.budget in ("size", "total size")
    assert what in str(caught.value) and repr(source) in str(caught.value)


def test_scripts_that_grow_lists_statement_by_statement_are_refused(ev):
    from engine.expressions import BudgetExceeded

    script = "x = [1] * 1000\n" + "x.extend(x)\n" * 30
    names = {}
    with pytest.raises(BudgetExceeded, match="list.extend"):
        ev.execute(script, names)
    assert len(names["x"]) < 200_000


def test_augmented_assignments_count_towards_the_total(ev):
    from engine.expressions import BudgetExceeded

    script = "".join(f"v{i} = ''\nv{i} += s\n" for i in range(20))
    names = {"s": "x" * 90_000}
    with pytest.raises(BudgetExceeded) as caught:
        ev.execute(script, names)
    assert caught.value.budget == "total size"
    copies = [k for k, v in names.items() if k.startswith("v") and v]
    assert len(copies) == 11  # 11 x 90000 fit in 1000000: the 12th copy is refused unbuilt


def test_sum_adds_numbers_only(ev):
    assert ev.evaluate("sum(items)", BIG) == 1000
    with pytest.raises(ExpressionError, match="adds numbers only"):
        ev.evaluate("sum([[1]] * 1000, [])", {})


def test_the_step_budget_stops_a_long_evaluation_early():
    from engine.expressions import Budget, BudgetExceeded

    ev = Evaluator(budget=Budget(steps=500))
    with pytest.raises(BudgetExceeded) as caught:
        ev.evaluate("[[i for i in items] for j in items]", {"items": list(range(90))})
    assert caught.value.budget == "steps" and caught.value.spent == 501
    assert "steps budget of 500" in str(caught.value)
    # the counters start again for every evaluation: a small one still passes afterwards
    assert ev.evaluate("len([i for i in items])", {"items": list(range(90))}) == 90


def test_the_time_budget_is_checked_while_running():
    from engine.expressions import Budget, BudgetExceeded

    ev = Evaluator(budget=Budget(time_ms=0))  # already past the deadline at the first check
    with pytest.raises(BudgetExceeded) as caught:
        ev.evaluate("[i for i in items]", {"items": list(range(1000))})
    assert caught.value.budget == "time" and caught.value.spent == 64


def test_comprehension_counts_start_again_for_every_script_run(ev):
    # simpleeval's comprehension counter was only reset by eval(), never for scripts: after
    # 10000 items in total every script with a comprehension failed in that thread
    for _ in range(30):
        names = {"items": list(range(1000))}
        ev.execute("doubled = [i * 2 for i in items]", names)
        assert len(names["doubled"]) == 1000


@pytest.mark.parametrize(
    ("source", "names", "expected"),
    [
        ("'x' * 10 + s.ljust(5)", {"s": "ab"}, "xxxxxxxxxxab   "),
        ("2 ** 100", {}, 2**100),
        ("', '.join(names)", {"names": ["a", "b"]}, "a, b"),
        ("f'{n:>5}'", {"n": 7}, "    7"),
        ("'%05d' % n", {"n": 7}, "00007"),
        ("str(items)", {"items": [1, 2]}, "[1, 2]"),
        ("s.replace('a', 'bb')", {"s": "aa"}, "bbbb"),
    ],
)
def test_ordinary_values_stay_within_budget(ev, source, names, expected):
    assert ev.evaluate(source, names) == expected


# -- deploy time and run time agree -------------------------------------------------------------

NAMES = {"x": 3, "s": "ab", "items": [1, 2], "case": {"urgency": "urgent"}}

#: (source, is it an expression (condition) or a script, allowed?) : refusals here never
#: depend on the data, so the deploy-time validator and the run-time evaluator must agree
AGREEMENT = [
    ("x + 1 > 2", "expression", True),
    ("case.urgency == 'urgent'", "expression", True),
    ("s.upper()", "expression", True),
    ("[i * 2 for i in items]", "expression", True),
    ("{k: 1 for k in items}", "expression", True),
    ("f'{x:>4}'", "expression", True),
    ("2 ** 64", "expression", True),
    ("'ab' * 100", "expression", True),
    ("len(s.ljust(50)) == 50", "expression", True),
    ("().__class__", "expression", False),
    ("x.__class__", "expression", False),
    ("__import__('os')", "expression", False),
    ("_secret", "expression", False),
    ("open('/etc/passwd')", "expression", False),
    ("eval('1')", "expression", False),
    ("(lambda: 1)()", "expression", False),
    ("(y := 1)", "expression", False),
    ("{i for i in items}", "expression", False),
    ("[*items]", "expression", False),
    ("s.format(1)", "expression", False),
    ("s.encode()", "expression", False),
    ("x.to_bytes(10**9, 'big')", "expression", False),
    ("case.nothing()", "expression", False),
    ("9 ** 9 ** 9", "expression", False),
    ("'x' * 10 ** 9", "expression", False),
    ("x > 1 and 2 ** 10 ** 8 > 0", "expression", False),
    ("[i for i in items] + ['ab'.ljust(10 ** 9)]", "expression", False),
    ("f'{1:>999999999}'", "expression", False),
    ("'%999999999d' % 1", "expression", False),
    ("'-'.join(['ab'] * 10 ** 6)", "expression", False),
    ("x ==", "expression", False),
    ("x = 1", "expression", False),
    ("y = x + 1\nz = [y] * 3", "script", True),
    ("if x > 1:\n    y = 'big'\nelse:\n    y = 'small'", "script", True),
    ("items[0] = 5", "script", True),
    ("import os", "script", False),
    ("for i in items:\n    y = i", "script", False),
    ("def f():\n    pass", "script", False),
    ("x.y = 1", "script", False),
    ("y = 9 ** 9 ** 9", "script", False),
    ("y = x\nz = 'x' * 10 ** 9", "script", False),
    ("y = (", "script", False),
]


@pytest.mark.parametrize(("source", "kind", "allowed"), AGREEMENT)
def test_deploy_and_run_time_agree(ev, source, kind, allowed):
    from engine.validation import validate_bytes

    from .test_validation import START_END, _process

    if kind == "expression":
        body = START_END.format(cond=_escape(source))
    else:
        body = SCRIPT_TASK.format(script=_escape(source))
    issues = validate_bytes(_process(body), "t.bpmn").issues
    deploy_ok = not issues
    try:
        if kind == "expression":
            ev.evaluate(source, dict(NAMES))
        else:
            ev.execute(source, {**NAMES, "items": [1, 2]})
        run_ok = True
    except ExpressionError:
        run_ok = False
    assert (deploy_ok, run_ok) == (allowed, allowed), issues
    if not deploy_ok:  # the issue names the element that holds the expression
        assert issues[0].element in ("f2", "script")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


SCRIPT_TASK = """
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="script"/>
    <bpmn:scriptTask id="script" scriptFormat="python"><bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="script" targetRef="end"/>
    <bpmn:endEvent id="end"/>
"""
