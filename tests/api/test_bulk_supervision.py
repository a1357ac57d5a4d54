"""``POST /api/v1/supervision`` runs in the request's one transaction (idempotency): a case
failing there is undone alone (a savepoint per case), the others are sent (issue 20)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.errors import ConflictError
from engine.models import InstanceEvent
from tests.webapp.test_inbox import dispatched
from webapp.extensions import db
from workflows.cases.models import Case
from workflows.supervision import flows as supervision


def chased(app, number: str) -> bool:
    with app.app_context():
        instance = db.session.scalar(select(Case.instance_id).where(Case.number == number))
        return (
            db.session.scalar(
                select(InstanceEvent.id).where(
                    InstanceEvent.instance_id == instance, InstanceEvent.kind == "case.chased"
                )
            )
            is not None
        )


def test_a_failing_case_is_undone_alone_in_the_api(api, hotline_app, clock, monkeypatch):
    first, second, third = (dispatched(hotline_app) for _ in range(3))
    clock.advance(timedelta(days=40))
    real = supervision._act

    def failing(session, hotline, case, action, note, user):
        result = real(session, hotline, case, action, note, user)  # written, then undone
        if case.number == second:
            raise ConflictError("the case moved on")
        return result

    monkeypatch.setattr(supervision, "_act", failing)
    response = api("supervisor").post(
        "/api/v1/supervision",
        json={"numbers": [first, second, third], "action": "chase_notice", "note": "请加快"},
    )
    assert response.status_code == 200, response.json
    assert [(n, chased(hotline_app, n)) for n in (first, second, third)] == [
        (first, True),
        (second, False),
        (third, True),
    ]
    assert "changed" in str(response.json)
