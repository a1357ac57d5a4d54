"""Every path of every case type, driven through the engine on a moved clock.

Each test runs on SQLite (and PostgreSQL when configured), straight and restored at every
step (see ``tests/workflows/conftest.py``). Times are Beijing time; the clock starts on
Monday 2026-03-02 09:00.
"""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from engine.errors import NotFound
from workflows.cases import flows
from workflows.cases import service as cases
from workflows.cases.enums import TRANSITIONS, CaseStatus
from workflows.cases.models import CaseDepartment
from workflows.cases.types import BUILTIN
from workflows.departments.service import by_code
from workflows.errors import DomainError, Forbidden, FormInvalid

from .conftest import TZ


def local(case_dt: datetime) -> str:
    return case_dt.astimezone(TZ).isoformat()


def dispatch(city, case, lead, co=()):
    return city.act(
        case, "dispatch", "disp1", {"lead_department": lead, "co_departments": list(co)}
    )


def sign(city, case, handler):
    return city.act(case, "sign_for", handler, {"action": "sign"})


def reply(city, case, handler, text="已处理完毕，已责令整改"):
    form = city.task(case, "handle").form_key
    data = {"reply_text": text, "result": "resolved"}
    if form != "common/reply":
        data["action"] = "reply"
    return city.act(case, "handle", handler, data)


def accept_reply(city, case):
    return city.act(case, "review_reply", "disp1", {"decision": "accept"})


def call_back(city, case, satisfaction="satisfied", reopen=False):
    return city.act(
        case,
        "callback",
        "cb1",
        {
            "satisfaction": satisfaction,
            "resolved": "yes" if satisfaction != "unsatisfied" else "no",
            "reopen": reopen,
        },
    )


# -- intake ---------------------------------------------------------------------------------


def test_answered_at_once_closes_as_first_contact_resolution(city):
    case = city.intake(
        case_type="consultation",
        intake_outcome="answered",
        answer="社保卡补办请到社保网点，7个工作日制卡",
    )
    case = city.case(case)
    assert case.number == "2026030200001"
    assert (case.status, case.outcome, case.first_contact_resolution) == (
        "closed",
        "answered",
        True,
    )
    assert city.ready(case) == []


def test_not_accepted_closes_with_the_reason(city):
    case = city.case(
        city.intake(intake_outcome="not_accepted", not_accepted_reason="已进入诉讼程序，不予受理")
    )
    assert (case.status, case.outcome, case.first_contact_resolution) == (
        "closed",
        "not_accepted",
        False,
    )
    assert case.not_accepted_reason == "已进入诉讼程序，不予受理"


def test_intake_errors_are_per_field_and_store_nothing(city):
    with pytest.raises(FormInvalid) as info:
        city.intake(caller_phone="abc", description="", intake_outcome="answered")
    assert set(info.value.errors) >= {"caller_phone", "description", "answer"}
    assert city.session.scalar(select(CaseDepartment.id)) is None
    assert city.intake().number == "2026030200001"  # the failed intake took no number


def test_case_numbers_count_per_local_day(city):
    assert city.intake().number == "2026030200001"
    assert city.intake().number == "2026030200002"
    city.clock.advance(hours=15)  # 2026-03-03 00:00 in Beijing
    assert city.intake().number == "2026030300001"


# -- the complaint loop ---------------------------------------------------------------------


def test_complaint_happy_path_on_time(city):
    case = city.intake()
    assert city.case(case).status == "awaiting_dispatch"
    dispatch(city, case, "B-MR", co=["B-UM"])
    c = city.case(case)
    assert c.status == "dispatched"
    assert local(c.sign_due) == "2026-03-03T23:59:59+08:00"
    assert local(c.return_due) == "2026-03-04T23:59:59+08:00"
    assert local(c.reply_due) == "2026-03-16T23:59:59+08:00"
    assert c.dispatched_at < c.warn_at < c.reply_due
    departments = (
        city.session.execute(
            select(CaseDepartment.role)
            .where(CaseDepartment.case_id == c.id)
            .order_by(CaseDepartment.role.desc())
        )
        .scalars()
        .all()
    )
    assert departments == ["lead", "co"]
    city.advance(hours=2)
    sign(city, case, "h_mr")
    assert city.case(case).status == "in_progress"
    city.advance(days=2)
    # the co-handling unit sends its part first: the lead replies with it (test_cohandling.py)
    city.act(case, "cohandle", "h_um", {"cohandle_text": "城管已对门前占道经营进行劝导"})
    reply(city, case, "h_mr")
    assert city.case(case).status == "replied"
    accept_reply(city, case)
    assert city.case(case).status == "awaiting_callback"
    call_back(city, case)
    c = city.case(case)
    assert (c.status, c.outcome, c.satisfaction, c.resolved) == (
        "closed",
        "handled",
        "satisfied",
        True,
    )
    assert c.replied_at <= c.reply_due and c.due_state == "normal"
    assert c.signed_at <= c.sign_due and not c.sign_escalated
    assert c.first_contact_resolution is True and c.callback_at is not None
    assert "case.status" in city.events(case) and "instance.completed" in city.events(case)


def test_returned_three_times_between_two_departments_then_handled(city):
    case = city.intake()
    for lead, handler in [("B-MR", "h_mr"), ("B-UM", "h_um"), ("B-MR", "h_mr")]:
        dispatch(city, case, lead)
        city.act(
            case, "sign_for", handler, {"action": "return", "return_reason": "不属于本单位职责范围"}
        )
        assert city.case(case).status == "return_requested"
        if lead == "B-MR" and city.case(case).return_count == 3:
            break
        city.act(case, "review_return", "disp1", {"decision": "approve"})
        assert city.case(case).status == "awaiting_dispatch"
    assert city.case(case).return_count == 3
    # The dispatcher stops the ping-pong: the first dispatch stands.
    city.act(case, "review_return", "disp1", {"decision": "reject", "note": "确属市场监管职责"})
    assert city.case(case).status == "dispatched"
    with pytest.raises(FormInvalid) as info:  # no fourth return
        city.act(case, "sign_for", "h_mr", {"action": "return", "return_reason": "再次退回本件"})
    assert "returned 3 times" in " ".join(info.value.errors["action"]) or "已退单 3 次" in " ".join(
        info.value.errors["action"]
    )
    sign(city, case, "h_mr")
    reply(city, case, "h_mr")
    accept_reply(city, case)
    call_back(city, case)
    assert city.case(case).status == "closed"


def test_return_after_its_window_is_refused(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    city.clock.advance(days=3)  # past the two-working-day return limit (Wed night)
    with pytest.raises(FormInvalid) as info:
        city.act(case, "sign_for", "h_mr", {"action": "return", "return_reason": "不是我们的事"})
    assert "action" in info.value.errors
    assert city.case(case).status == "dispatched"


def test_unsigned_past_the_limit_is_escalated(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    city.advance(hours=38)  # Tuesday 23:00: still in time
    assert not city.case(case).sign_escalated
    city.advance(hours=1)  # past Tuesday 23:59:59
    c = city.case(case)
    assert c.sign_escalated and c.status == "dispatched"
    assert "case.sign_overdue" in city.events(case)
    sign(city, case, "h_mr")
    assert city.case(case).signed_at > city.case(case).sign_due


def test_two_level_dispatch_through_a_district_platform(city):
    case = city.intake(category="道路设施")
    dispatch(city, case, "D-PJ")
    assert city.case(case).status == "awaiting_redispatch"
    with pytest.raises(Forbidden):  # another district's dispatcher cannot take it
        city.act(case, "redispatch", "disp_jh", {"street_department": "S-WH"})
    with pytest.raises(FormInvalid) as info:  # only Pengjiang's own streets are offered
        city.act(case, "redispatch", "disp_pj", {"street_department": "S-WH"})
    assert "street_department" in info.value.errors
    city.act(case, "redispatch", "disp_pj", {"street_department": "S-BS"})
    c = city.case(case)
    assert c.status == "dispatched"
    assert c.lead_department_id == by_code(city.session, "S-BS").id
    sign(city, case, "h_bs")
    assert city.case(case).status == "in_progress"


def test_extension_approved_and_reply_on_time(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    first_due = city.case(case).reply_due
    city.advance(days=7)
    city.act(
        case,
        "handle",
        "h_mr",
        {
            "action": "request_extension",
            "extension_days": 3,
            "extension_reason": "需要检测报告，检测周期较长",
        },
    )
    assert city.case(case).status == "extension_requested"
    with pytest.raises(FormInvalid):  # more than asked
        city.act(case, "review_extension", "disp1", {"decision": "approve", "approved_days": 4})
    city.act(case, "review_extension", "disp1", {"decision": "approve", "approved_days": 3})
    c = city.case(case)
    assert c.status == "in_progress" and c.extension_count == 1
    assert local(c.reply_due) == "2026-03-19T23:59:59+08:00"  # three working days later
    assert c.reply_due > first_due
    city.advance(days=9)  # 2026-03-18: past the first deadline, within the extension
    assert city.case(case).due_state != "red"
    reply(city, case, "h_mr")
    c = city.case(case)
    assert c.replied_at > first_due and c.replied_at <= c.reply_due


def test_extension_refused_keeps_the_deadline(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    due = city.case(case).reply_due
    city.act(
        case,
        "handle",
        "h_mr",
        {
            "action": "request_extension",
            "extension_days": 5,
            "extension_reason": "人手不足需要更多时间",
        },
    )
    city.act(case, "review_extension", "disp1", {"decision": "refuse", "note": "按期办结"})
    c = city.case(case)
    assert (c.status, c.reply_due, c.extension_count) == ("in_progress", due, 0)


def test_suspension_pauses_the_clock(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    due = city.case(case).reply_due  # Mon 2026-03-16 23:59:59
    city.act(
        case,
        "handle",
        "h_mr",
        {"action": "request_suspension", "suspension_reason": "当事人出国，需等待其回国取证"},
    )
    city.act(case, "review_suspension", "disp1", {"decision": "approve"})
    assert city.case(case).status == "suspended"
    city.advance(days=14)  # the old deadline passes while suspended: no red
    c = city.case(case)
    assert c.status == "suspended" and c.due_state == "normal"
    assert city.session.scalars(select(CaseDepartment)).first() is not None
    city.act(case, "resume", "h_mr", {"note": "当事人已回国"})
    c = city.case(case)
    assert c.status == "in_progress" and c.paused_at is None
    # Suspended Mon 09:00 to Mon 09:00 two weeks later: ten working days lost, so the
    # deadline moves ten working days (to Monday 2026-03-30).
    assert local(c.reply_due) == "2026-03-30T23:59:59+08:00"
    assert c.reply_due > due
    city.advance(days=3)
    reply(city, case, "h_mr")
    c = city.case(case)
    assert c.replied_at > due and c.replied_at <= c.reply_due


def test_overdue_turns_red_supervisor_chases_then_reply(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    c = city.case(case)
    city.clock.set(c.warn_at - timedelta(minutes=1))
    city.advance(minutes=1)
    assert city.case(case).due_state == "yellow"
    assert "case.warning" in city.events(case)
    city.clock.set(c.reply_due)
    city.advance(seconds=1)
    c = city.case(case)
    assert c.due_state == "red" and c.escalated
    supervise = city.task(case, "supervise")
    assert supervise.lane == "supervisor"
    city.act(case, "supervise", "sup1", {"action": "chase_notice", "note": "请于今日内答复"})
    assert "supervise" not in [t.element_id for t in city.ready(case)]
    city.advance(hours=3)
    reply(city, case, "h_mr")
    c = city.case(case)
    assert c.replied_at > c.reply_due and c.status == "replied"
    accept_reply(city, case)
    call_back(city, case, "basically_satisfied")
    assert city.case(case).status == "closed"


def test_reply_sent_back_for_redo(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    reply(city, case, "h_mr", "已经处理完毕")
    city.act(
        case, "review_reply", "disp1", {"decision": "redo", "note": "答复过于简单，请补充检查结果"}
    )
    assert city.case(case).status == "in_progress"
    reply(city, case, "h_mr", "经现场检查，餐馆已停业整顿并罚款")
    accept_reply(city, case)
    assert city.case(case).reply_text == "经现场检查，餐馆已停业整顿并罚款"


def test_callback_unsatisfied_reopens_then_satisfied_closes(city):
    case = city.intake()
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    reply(city, case, "h_mr")
    accept_reply(city, case)
    city.advance(days=1)
    call_back(city, case, "unsatisfied", reopen=True)
    c = city.case(case)
    assert c.status == "in_progress" and c.reopen_count == 1 and c.replied_at is None
    assert c.reply_due > city.clock.now()
    reply(city, case, "h_mr", "已再次检查并督促整改到位")
    accept_reply(city, case)
    call_back(city, case, "satisfied")  # the checkbox from the last pass must not linger
    c = city.case(case)
    assert (c.status, c.satisfaction, c.reopen_count) == ("closed", "satisfied", 1)
    assert c.first_contact_resolution is False


def test_a_duplicate_is_merged_into_its_master_and_closed_with_it(city):
    master = city.intake()
    duplicate = city.intake(caller_phone="13900139000", caller_name="李四")
    dispatch(city, master, "B-MR")
    dispatch(city, duplicate, "B-MR")
    flows.merge_case(
        city.session,
        city.hotline,
        duplicate_number=duplicate.number,
        master_number=master.number,
        user=city.user("disp1"),
    )
    d = city.case(duplicate)
    assert d.status == "merged" and d.merged_into_id == city.case(master).id
    assert city.ready(duplicate) == []
    with pytest.raises(DomainError):
        flows.merge_case(
            city.session,
            city.hotline,
            duplicate_number=master.number,
            master_number=master.number,
            user=city.user("disp1"),
        )
    sign(city, master, "h_mr")
    reply(city, master, "h_mr")
    accept_reply(city, master)
    call_back(city, master)
    d = city.case(duplicate)
    assert (d.status, d.outcome) == ("closed", "merged")
    assert "case.closed_with_master" in city.events(duplicate)


# -- the other case types -------------------------------------------------------------------


@pytest.mark.parametrize("case_type", [t.code for t in BUILTIN])
def test_each_case_type_closes_its_loop(city, case_type):
    """Through its diagram, reviewing the reply and calling back as its declaration says."""
    normal = BUILTIN[case_type].policies["normal"]
    review, callback = normal.review_required, normal.callback_required
    case = city.intake(case_type=case_type, category="物业管理")
    dispatch(city, case, "B-HU")
    sign(city, case, "h_hu")
    reply(city, case, "h_hu")
    if review:
        accept_reply(city, case)
    if callback:
        assert city.case(case).status == "awaiting_callback"
        call_back(city, case)
    c = city.case(case)
    assert c.status == "closed" and c.outcome == "handled"
    assert c.callback_required is callback


@pytest.mark.parametrize("case_type", ["report", "help"])
def test_suspension_exists_where_the_diagram_has_it(city, case_type):
    case = city.intake(case_type=case_type)
    dispatch(city, case, "B-MR")
    sign(city, case, "h_mr")
    city.act(
        case,
        "handle",
        "h_mr",
        {"action": "request_suspension", "suspension_reason": "等待司法鉴定结果"},
    )
    assert city.case(case).status == "suspension_requested"


def test_urgent_cases_count_in_hours(city):
    case = city.intake(urgency="urgent", category="供水停水")
    dispatch(city, case, "B-WA")
    c = city.case(case)
    assert c.reply_due - c.dispatched_at == timedelta(hours=24)
    assert c.sign_due - c.dispatched_at == timedelta(hours=2)


# -- department isolation and permissions ---------------------------------------------------


def test_a_handler_sees_and_acts_on_its_own_department_only(city):
    case = city.intake()
    dispatch(city, case, "B-MR", co=["B-HU"])
    mine = cases.inbox(city.session, user=city.user("h_mr"))
    assert [c.number for _, c in mine] == [case.number]
    assert cases.inbox(city.session, user=city.user("h_um")) == []
    with pytest.raises(NotFound):
        cases.get_case(city.session, number=case.number, user=city.user("h_um"))
    assert cases.get_case(city.session, number=case.number, user=city.user("h_hu"))  # co-handler
    with pytest.raises(Forbidden):
        city.act(case, "sign_for", "h_um", {"action": "sign"})
    with pytest.raises(Forbidden):
        city.act(case, "sign_for", "disp1", {"action": "sign"})


def test_earlier_cases_by_phone(city):
    first = city.intake()
    city.intake(caller_phone="13700137000")
    found = cases.earlier_cases_by_phone(city.session, phone="13800138000", user=city.user("op1"))
    assert [c.number for c in found] == [first.number]


def test_the_status_table_refuses_what_it_does_not_list():
    from workflows.cases.enums import can_move

    assert can_move(None, CaseStatus.AWAITING_DISPATCH)
    assert not can_move(CaseStatus.CLOSED, CaseStatus.IN_PROGRESS)
    assert not can_move(CaseStatus.DISPATCHED, CaseStatus.CLOSED)
    for status, targets in TRANSITIONS.items():
        assert status not in targets


# -- deadlines by category ------------------------------------------------------------------


def test_a_consumer_complaint_is_held_to_the_12315_limits(city):
    """The demo's category row: accept or refuse within 7 working days, end within 45."""
    consumer = city.intake(category="消费维权")
    other = city.intake(category="食品安全", caller_phone="13700137000")
    assert city.case(consumer).policy["row"]["category"] == "消费维权"
    dispatch(city, consumer, "B-MR")
    dispatch(city, other, "B-MR")
    c = city.case(consumer)
    # Mon 2026-03-02 + 7 working days: Wed 03-11
    assert local(c.sign_due) == "2026-03-11T23:59:59+08:00"
    # + 45 working days, over Qingming (04-04..06) and Labour Day (05-01..05)
    assert local(c.reply_due) == "2026-05-08T23:59:59+08:00"
    # another category: the complaint's own row (1 and 10 working days)
    o = city.case(other)
    assert local(o.sign_due) == "2026-03-03T23:59:59+08:00"
    assert local(o.reply_due) == "2026-03-16T23:59:59+08:00"
    assert o.policy["row"] == {"case_type": "complaint", "urgency": "normal", "category": ""}
    # signed on the 6th working day: in time, where the default row would have been late
    city.advance(days=8)
    sign(city, consumer, "h_mr")
    c = city.case(consumer)
    assert c.signed_at <= c.sign_due and not c.sign_escalated
    assert local(c.reply_due) == "2026-05-08T23:59:59+08:00"
    reply(city, consumer, "h_mr")
    assert city.case(consumer).status == "replied"


def test_an_urgent_consumer_complaint_falls_back_to_the_hour_limits(city):
    case = city.intake(category="消费维权", urgency="urgent")
    assert city.case(case).policy["row"] == {
        "case_type": "complaint",
        "urgency": "urgent",
        "category": "",
    }
    dispatch(city, case, "B-MR")
    c = city.case(case)
    assert c.sign_due - c.dispatched_at == timedelta(hours=2)
    assert c.reply_due - c.dispatched_at == timedelta(hours=24)
