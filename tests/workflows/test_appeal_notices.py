"""Appeals (申诉) through the notifications: the centre's reviewers hear of an appeal filed, the
appealing department of the decision and its reason, each in their own language.

The in-app notices (the bell) are checked as a person reads them; the department's duty
e-mail goes out through the same fan-out as every department notice.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import OutboxMessage
from workflows.departments.service import by_code
from workflows.events import AppealFiled, AppealRejected, AppealUpheld
from workflows.notifications.models import Message, Notification
from workflows.notifications.pipeline import NOTIFY_TOPIC
from workflows.users.models import User

from .test_appeals import THU, D, dispatched, file, review


@pytest.fixture
def mode() -> str:
    return "straight"


def bells(city, kind: str) -> dict[str, list[str]]:
    """The in-app notices of ``kind``, per username."""
    city.session.rollback()
    rows = city.session.execute(
        select(User.username, Notification.text)
        .join(User, User.id == Notification.user_id)
        .where(Notification.kind == kind)
        .order_by(Notification.id)
    )
    out: dict[str, list[str]] = {}
    for username, text in rows:
        out.setdefault(username, []).append(text)
    return out


def set_lang(city, username: str, lang: str) -> None:
    with unit_of_work(city.session):
        city.session.scalar(select(User).where(User.username == username)).lang = lang


def test_the_reviewers_hear_of_an_appeal_filed_in_their_language(city, deliver):
    set_lang(city, "lead1", "en")
    city.clock.set(THU + 6 * D)  # the reply deadline (Tuesday 10 March 10:00) passed
    case = dispatched(city)
    deliver()
    appeal = file(city, case, reason="系统故障导致无法按时答复")
    notify = [
        r.payload
        for r in city.session.scalars(
            select(OutboxMessage).where(OutboxMessage.topic == NOTIFY_TOPIC)
        )
        if r.payload["notice"] == "appeal_filed"
    ]
    assert [p["role"] for p in notify] == [["lead", "supervisor"]]
    assert notify[0]["values"]["filed_by"] == "h_mr"
    deliver()
    assert bells(city, "appeal_filed") == {
        "sup1": [
            f"市场监督管理局对工单{case.number}提出申诉（超期），请审核：系统故障导致无法按时答复"
        ],
        "lead1": [
            f"Market Regulation Bureau appealed case {case.number} (overdue), "
            "to review: 系统故障导致无法按时答复"
        ],
    }  # nobody else: not the department, not the administrators
    assert appeal.status == "pending"


def test_the_department_hears_an_upheld_appeal_with_the_reason(city, deliver):
    city.clock.set(THU + 6 * D)
    case = dispatched(city)
    with unit_of_work(city.session):
        department = by_code(city.session, "B-MR")
        department.duty_email = "duty@mr.example.gov.cn"
    appeal = file(city, case)
    review(city, appeal, decision="upheld", who="sup1", reason="经核实系统故障属实")
    deliver()
    assert bells(city, "appeal_decided") == {
        "h_mr": [
            f"工单{case.number}的申诉（超期）：申诉成立，该案件不再计入考核。理由：经核实系统故障属实"
        ]
    }  # the handlers of the appealing unit only
    city.session.rollback()
    [mail] = city.session.scalars(
        select(Message).where(Message.notice == "appeal_decided", Message.channel == "email")
    ).all()
    assert (mail.recipient, mail.audience) == ("duty@mr.example.gov.cn", "department")
    assert mail.subject == f"申诉审核结果：工单{case.number}"
    assert "经核实系统故障属实" in mail.body


def test_the_department_hears_a_rejection_in_english_and_the_bulletin_subscriber_stays(
    city, deliver
):
    set_lang(city, "h_mr", "en")
    events = []
    for event_type in (AppealFiled, AppealUpheld, AppealRejected):
        city.hotline.events.subscribe(event_type, lambda session, e: events.append(e))
    city.clock.set(THU + 6 * D)
    case = dispatched(city)
    appeal = file(city, case)
    review(city, appeal, decision="rejected", who="lead1", reason="答复时限内未见办理记录")
    deliver()
    assert bells(city, "appeal_decided") == {
        "h_mr": [f"Case {case.number}, appeal (overdue): rejected. Reason: 答复时限内未见办理记录"]
    }
    assert [(type(e).__name__, e.appeal_id, e.actor, e.reason) for e in events] == [
        ("AppealFiled", appeal.id, "h_mr", "系统故障导致无法按时答复"),
        ("AppealRejected", appeal.id, "lead1", "答复时限内未见办理记录"),
    ]
    # the bulletin's revision still listens to an upheld appeal
    from workflows.evaluation.bulletins import on_appeal_upheld

    assert on_appeal_upheld in city.hotline.events._subscribers[AppealUpheld]


def test_a_long_reason_is_shortened_in_the_notice_but_kept_whole_on_the_appeal(city, deliver):
    city.clock.set(THU + 6 * D)
    case = dispatched(city)
    reason = "因" + "系统故障" * 100  # 401 characters
    appeal = file(city, case, reason=reason)
    deliver()
    [sup] = bells(city, "appeal_filed")["sup1"]
    assert sup.endswith("：因" + "系统故障" * 49 + "系统…")  # 199 characters and "…"
    assert appeal.reason == reason


def test_the_template_editor_previews_the_appeal_notices_with_appeal_samples():
    from workflows.notifications import template_admin
    from workflows.notifications.notices import DEFAULT_TEMPLATES, Channel, Notice

    _, body = DEFAULT_TEMPLATES[(Notice.APPEAL_DECIDED, Channel.INAPP, "zh")]
    assert template_admin.preview(Notice.APPEAL_DECIDED, "", body, "zh")[1] == (
        "工单JM2026120400123的申诉（超期）：申诉成立，该案件不再计入考核。"
        "理由：该件涉及多部门现场核查，已于时限内电话告知市民办理进度。"
    )
    _, body = DEFAULT_TEMPLATES[(Notice.APPEAL_FILED, Channel.INAPP, "en")]
    assert template_admin.preview(Notice.APPEAL_FILED, "", body, "en")[1] == (
        "Urban Management Bureau appealed case JM2026120400123 (overdue), to review: "
        "Several units had to inspect the site; the citizen was told in time."
    )
