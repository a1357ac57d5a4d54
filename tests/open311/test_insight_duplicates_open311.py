"""A request sent by Open311 gets its duplicate keys at intake (issue 19): it goes through
flows.open_case, whose CaseOpened the index subscribes to, and is then suggested."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.open311.test_open311 import post_request
from tests.workflows.dup_pairs import SAME
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases.models import Case
from workflows.insight.duplicates import Draft, DupKey, suggest
from workflows.users.service import by_username


def test_an_open311_request_is_indexed_and_suggested(hotline_app, api_key):
    a, b = SAME[1]
    response = post_request(hotline_app.test_client(), api_key, description=a)
    assert response.status_code == 201, response.get_data(as_text=True)
    number = response.json[0]["service_request_id"]
    with hotline_app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.number == number))
        assert db.session.scalar(
            select(func.count()).select_from(DupKey).where(DupKey.case_id == case_id)
        )
        found = suggest(
            db.session,
            draft=Draft(description=b),
            user=by_username(db.session, "op1"),
            now=get_hotline().clock.now(),
        )
    assert number in [s.case.number for s in found]
