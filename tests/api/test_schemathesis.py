"""Schemathesis against /api/openapi.json on the live test app: no server error and no
answer that breaks the documented schema, for every operation, as every role.

Path parameters are generated, and half the time replaced by ones that exist (a case, its
ready task, a definition key and version, a department, a day), so that the answers for real
resources are checked too, not only 404s. Every operation is exercised, writes included: what
they change (cases, notes, claims, calendar days, definitions) lives in the test's own
database. Bounded and derandomized, so a run is repeatable and short.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.api.conftest import USERS, make_token
from tests.api.test_calls_api import a_call
from tests.webapp.test_inbox import dispatched, ready_task
from tests.webapp.test_intake import open_case

MAX_EXAMPLES = 15


def run_operation(operation, headers: dict[str, str], known: dict[str, str]) -> None:
    def with_known(pair):
        case, use_known = pair
        if use_known and case.path_parameters:
            for name in case.path_parameters:
                if name in known:
                    case.path_parameters[name] = known[name]
        return case

    strategy = st.tuples(operation.as_strategy(), st.booleans()).map(with_known)

    @given(case=strategy)
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, response_schema_conformance]
        )

    check()


def published_february(app) -> str:
    """February 2026's bulletin, published with a ranked unit (so its answers are checked)."""
    from tests.api.test_evaluation_api import closed_on_time, publish

    closed_on_time(app, "B-MR", 5, unsatisfied=1, reopens=1)
    return publish(app, "2026-02")


@pytest.mark.slow  # 2 to 4 s a role
@pytest.mark.parametrize(
    "role", ["operator", "dispatcher", "handler", "supervisor", "admin", "telephony"]
)
def test_the_api_keeps_its_contract(hotline_app, role):
    number = dispatched(hotline_app)  # with B-MR (h_mr's department), waiting for sign-for
    waiting = open_case(hotline_app, caller_phone="13900139000")
    task = ready_task(
        hotline_app,
        waiting if role == "dispatcher" else number,
        "dispatch" if role == "dispatcher" else "sign_for",
    )
    known = {
        "number": number,
        "task_id": task,
        "key": "complaint",
        "version": "1",
        "code": "B-MR",
        "day": "2026-10-01",
        "call_id": a_call(hotline_app, agent="op1"),
        "month": published_february(hotline_app),
    }
    headers = {"Authorization": f"Bearer {make_token(hotline_app, USERS[role])}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", hotline_app)
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            run_operation(operation, headers, known)
        except Exception as exc:  # every operation's failure, then fail once
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 20
    assert failures == [], "\n\n".join(failures)
