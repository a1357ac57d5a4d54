"""Reference data services: the policy table, the dispatch catalogue, the knowledge base."""

import pytest

from engine.db import unit_of_work
from workflows.dispatch.service import suggest_department
from workflows.knowledge.service import search
from workflows.policy.service import get_policy, policy_data, seed_policies
from workflows.seed import seed_demo_city


@pytest.fixture
def session(database, clock):
    s = database.session()
    with unit_of_work(s):
        seed_policies(s)
        seed_demo_city(s, clock=clock)
    yield s
    s.close()


def test_policy_defaults_follow_the_domain_examples(session):
    complaint = policy_data(get_policy(session, case_type="complaint", urgency="normal"))
    assert complaint["reply"] == {"value": 10, "unit": "workdays"}
    assert complaint["sign"] == {"value": 1, "unit": "workdays"}
    assert complaint["extension_max"] == {"value": 10, "unit": "workdays"}
    assert complaint["warn_share"] == 0.8 and complaint["callback_required"]
    assert policy_data(get_policy(session, case_type="consultation", urgency="normal"))[
        "reply"
    ] == {"value": 3, "unit": "workdays"}
    assert policy_data(get_policy(session, case_type="help", urgency="critical"))["reply"] == {
        "value": 2,
        "unit": "hours",
    }
    assert not policy_data(get_policy(session, case_type="praise", urgency="normal"))[
        "callback_required"
    ]


def test_seeding_never_overwrites_an_administrators_edit(session):
    row = get_policy(session, case_type="complaint", urgency="normal")
    row.reply_value = 7
    session.commit()
    with unit_of_work(session):
        assert seed_policies(session) == 0
    assert get_policy(session, case_type="complaint", urgency="normal").reply_value == 7
    with pytest.raises(LookupError):
        get_policy(session, case_type="complaint", urgency="whenever")


def test_the_catalogue_prefers_an_area_rule(session):
    assert suggest_department(session, category="占道经营", area="D-JH").code == "B-UM"
    assert suggest_department(session, category="占道经营", area="D-PJ").code == "D-PJ"
    assert suggest_department(session, category="道路设施", area="D-XH").code == "D-XH"
    assert suggest_department(session, category="没有这个分类", area="D-PJ") is None


def test_knowledge_search_matches_every_word(session):
    assert [a.title for a in search(session, query="社保卡")] == ["社保卡补办流程"]
    assert [a.title for a in search(session, query="noise 夜间")] == ["夜间施工噪音"]
    assert search(session, query="社保卡 噪音") == []
    assert search(session, query="   ") == []
    assert search(session, query="100%_") == []  # LIKE wildcards are matched literally
