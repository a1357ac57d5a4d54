"""Reference data services: the policy table, the dispatch catalogue, the knowledge base."""

import pytest
from sqlalchemy.exc import IntegrityError

from engine.db import unit_of_work
from engine.errors import NotFound
from workflows.dispatch.service import suggest_department
from workflows.knowledge.service import search
from workflows.policy.models import DeadlinePolicy
from workflows.policy.service import (
    EDITABLE,
    PolicyConflict,
    create_category_policy,
    delete_category_policy,
    get_policy,
    policy_data,
    policy_label,
    seed_policies,
)
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


# -- category rows: the most specific row wins ----------------------------------------------


def test_a_category_row_wins_over_its_default_row(session):
    consumer = get_policy(session, case_type="complaint", urgency="normal", category="消费维权")
    assert consumer.category == "消费维权"
    limits = policy_data(consumer)
    assert limits["sign"] == {"value": 7, "unit": "workdays"}
    assert limits["reply"] == {"value": 45, "unit": "workdays"}
    # the other limits are the default row's
    assert limits["extension_max"] == {"value": 10, "unit": "workdays"}
    assert limits["row"] == {"case_type": "complaint", "urgency": "normal", "category": "消费维权"}
    assert policy_label(consumer) == "complaint x normal x 消费维权"
    # another category, no category, and a type the row does not name: the default row
    for case_type, category in [
        ("complaint", "物业管理"),
        ("complaint", ""),
        ("report", "消费维权"),
    ]:
        row = get_policy(session, case_type=case_type, urgency="normal", category=category)
        assert row.category == "", (case_type, category)
    # a category row names one urgency: an urgent consumer complaint keeps the hour limits
    urgent = get_policy(session, case_type="complaint", urgency="urgent", category="消费维权")
    assert (urgent.category, urgent.sign_value, urgent.sign_unit) == ("", 2, "hours")
    assert policy_label(urgent) == "complaint x urgent"


def test_the_demo_routes_consumer_complaints_to_market_regulation(session):
    assert suggest_department(session, category="消费维权", area="D-PJ").code == "B-MR"


def test_category_rows_are_added_checked_and_deleted(session):
    base = get_policy(session, case_type="help", urgency="normal")
    values = {name: getattr(base, name) for name in EDITABLE} | {"reply_value": 2}
    row = create_category_policy(
        session, case_type="help", urgency="normal", category="社保医保", values=values
    )
    assert get_policy(session, case_type="help", urgency="normal", category="社保医保") == row
    with pytest.raises(PolicyConflict) as twice:
        create_category_policy(
            session, case_type="help", urgency="normal", category="社保医保", values=values
        )
    assert twice.value.field == "category"
    with pytest.raises(PolicyConflict) as orphan:
        create_category_policy(
            session, case_type="help", urgency="whenever", category="社保医保", values=values
        )
    assert orphan.value.field == "case_type"
    with pytest.raises(PolicyConflict) as unnamed:
        create_category_policy(
            session, case_type="help", urgency="normal", category="  ", values=values
        )
    assert unnamed.value.field == "category"
    with pytest.raises(PolicyConflict, match="default row cannot be deleted"):
        delete_category_policy(session, policy_id=base.id)
    with pytest.raises(NotFound):
        delete_category_policy(session, policy_id=10_000)
    delete_category_policy(session, policy_id=row.id)
    assert get_policy(session, case_type="help", urgency="normal", category="社保医保") == base


def test_one_row_per_type_urgency_and_category_on_every_database(session):
    """ "" is the default row, so the database refuses a second default row (a NULL category
    would not collide) as it refuses a second row for one category."""
    base = get_policy(session, case_type="help", urgency="normal")
    values = {name: getattr(base, name) for name in EDITABLE}
    for category in ("", "消费维权"):
        session.add(
            DeadlinePolicy(case_type="complaint", urgency="normal", category=category, **values)
        )
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_seeding_the_demo_again_keeps_an_edited_category_row(session, clock):
    row = get_policy(session, case_type="complaint", urgency="normal", category="消费维权")
    row.reply_value = 30
    session.commit()
    with unit_of_work(session):
        assert "0 category deadline rows" in seed_demo_city(session, clock=clock)[0]
        assert seed_policies(session) == 0
    again = get_policy(session, case_type="complaint", urgency="normal", category="消费维权")
    assert again.reply_value == 30
