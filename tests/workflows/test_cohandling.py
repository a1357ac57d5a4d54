"""Co-handling (协办): each co-handling unit gets a task with its own deadline to send its
part; the lead cannot reply before every unit has answered or passed its deadline.

Clock: Monday 2026-03-02 09:00 Beijing. A normal complaint's co-handling limit is 5 working
days (half its reply limit): due Monday 2026-03-09 23:59:59.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflows.cases import service as cases
from workflows.cases.models import Case
from workflows.cohandling.service import cohandling_of
from workflows.errors import Forbidden, FormInvalid
from workflows.events import CaseEventKind
from workflows.kpi.service import cohandling_on_time

from .test_scenarios import accept_reply, call_back, dispatch, local, reply, sign

PART = {"cohandle_text": "已派执法队现场核查，餐馆后厨卫生不达标，已责令整改"}


def cohandle_tasks(city, case):
    return [t for t in city.ready(case) if t.kind == "cohandle"]


def answer(city, case, handler, text=PART["cohandle_text"]):
    user = city.user(handler)
    department = cases._user_department(city.session, user)
    task = next(t for t in cohandle_tasks(city, case) if t.candidate_group == department.code)
    from workflows.cases import flows

    return flows.complete_task(
        city.session,
        city.hotline,
        task_id=task.task_id,
        data={"cohandle_text": text},
        user=user,
    )


def test_each_co_handling_unit_gets_its_own_task_with_the_cohandle_deadline(city):
    case = city.intake()
    dispatch(city, case, "B-MR", co=["B-HU", "B-UM"])
    tasks = cohandle_tasks(city, case)
    assert sorted(t.candidate_group for t in tasks) == ["B-HU", "B-UM"]
    for task in tasks:
        assert (task.lane, task.form_key) == ("handler", "common/cohandle")
        assert local(task.due_at) == "2026-03-09T23:59:59+08:00"
    # the lead's sign-for is on the main path, with its own clock
    assert city.task(case, "sign_for").candidate_group == "B-MR"
    assert city.case(case).status == "dispatched"


def test_a_co_handling_task_is_in_its_own_units_inbox_only(city):
    case = city.intake()
    dispatch(city, case, "B-MR", co=["B-HU", "B-UM"])

    def cohandle_inbox(username):
        rows = cases.inbox(city.session, user=city.user(username), step="cohandle")
        return [(task.candidate_group, c.number) for task, c in rows]

    assert cohandle_inbox("h_hu") == [("B-HU", case.number)]
    assert cohandle_inbox("h_um") == [("B-UM", case.number)]
    assert cohandle_inbox("h_mr") == []
    hu_task = next(t for t in cohandle_tasks(city, case) if t.candidate_group == "B-HU")
    from workflows.cases import flows

    with pytest.raises(Forbidden):
        flows.complete_task(
            city.session, city.hotline, task_id=hu_task.task_id, data=PART, user=city.user("h_um")
        )


def test_a_part_is_required_and_limited_like_the_reply(city):
    case = city.intake()
    dispatch(city, case, "B-MR", co=["B-HU"])
    with pytest.raises(FormInvalid) as info:
        answer(city, case, "h_hu", text="")
    assert "cohandle_text" in info.value.errors
    with pytest.raises(FormInvalid) as info:
        answer(city, case, "h_hu", text="很" * 4001)
    assert "cohandle_text" in info.value.errors
    assert len(cohandle_tasks(city, case)) == 1


def test_the_lead_cannot_reply_while_a_unit_is_pending_and_in_time(city):
    case = city.intake()
    dispatch(city, case, "B-MR", co=["B-HU", "B-UM"])
    sign(city, case, "h_mr")
    answer(city, case, "h_hu")
    with pytest.raises(FormInvalid) as info:
        reply(city, case, "h_mr")
    message = " ".join(info.value.errors["reply_text"])
    assert "城市管理和综合执法局" in message and "2026-03-09 23:59" in message
    assert "住房" not in message  # the unit that answered is not named
    assert city.case(case).status == "in_progress"
    answer(city, case, "h_um", text="城管已对占道经营进行劝导，后续纳入巡查")
    reply(city, case, "h_mr")
    assert city.case(case).status == "replied"


def test_the_lead_may_reply_once_a_silent_unit_is_past_its_deadline(city):
    case = city.intake()
    dispatch(city, case, "B-MR", co=["B-UM"])
    sign(city, case, "h_mr")
    city.advance(days=4, hours=7)  # Friday 16:00: yellow (80% of the five working days)
    assert CaseEventKind.TASK_WARNING in city.events(case)
    with pytest.raises(FormInvalid):
        reply(city, case, "h_mr")
    city.advance(days=3, hours=7, minutes=59)  # Monday 23:59: still in time
    assert CaseEventKind.TASK_OVERDUE not in city.events(case)
    city.advance(minutes=1)  # Tuesday 00:00
    events = city.hotline.runtime.events(city.session, city.case(case).instance_id)
    overdue = [e for e in events if e.kind == CaseEventKind.TASK_OVERDUE]
    assert [e.payload["step"] for e in overdue] == ["cohandle"]
    assert overdue[0].payload["pending"] == ["B-UM"]
    reply(city, case, "h_mr")
    assert city.case(case).status == "replied"
    # the late unit may still send its part; it is stored as late
    answer(city, case, "h_um", text="城管迟到的协办意见：已巡查")
    view = cohandling_of(city.session, case=city.case(case), now=city.clock.now())
    assert [(p.department_code, p.on_time) for p in view.parts] == [("B-UM", False)]


def test_parts_reach_the_lead_with_who_when_and_on_time(city):
    case = city.intake()
    dispatch(city, case, "B-MR", co=["B-HU", "B-UM"])
    city.advance(hours=2)
    answer(city, case, "h_hu")
    view = cohandling_of(city.session, case=city.case(case), now=city.clock.now())
    [part] = view.parts
    assert (part.department_code, part.author, part.on_time) == ("B-HU", "h_hu", True)
    assert part.text == PART["cohandle_text"]
    assert local(part.answered_at) == "2026-03-02T11:00:00+08:00"
    assert local(part.due_at) == "2026-03-09T23:59:59+08:00"
    assert [(p.department_code, p.overdue) for p in view.pending] == [("B-UM", False)]
    assert [p.department_code for p in view.waiting_for] == ["B-UM"]


def test_a_redispatch_after_a_return_does_not_ask_a_unit_twice(city):
    case = city.intake()
    dispatch(city, case, "B-MR", co=["B-HU"])
    city.act(case, "sign_for", "h_mr", {"action": "return", "return_reason": "不属于本单位职责"})
    city.act(case, "review_return", "disp1", {"decision": "approve"})
    first = cohandle_tasks(city, case)
    assert [t.candidate_group for t in first] == ["B-HU"]
    city.advance(hours=1)
    dispatch(city, case, "B-UM", co=["B-HU", "B-WA"])
    tasks = cohandle_tasks(city, case)
    assert sorted(t.candidate_group for t in tasks) == ["B-HU", "B-WA"]
    hu = next(t for t in tasks if t.candidate_group == "B-HU")
    assert hu.task_id == first[0].task_id and hu.due_at == first[0].due_at
    wa = next(t for t in tasks if t.candidate_group == "B-WA")
    assert local(wa.due_at) == "2026-03-09T23:59:59+08:00"


def test_a_pending_co_handler_never_holds_the_case_open(city):
    case = city.intake(case_type="consultation")
    dispatch(city, case, "B-MR", co=["B-HU"])
    sign(city, case, "h_mr")
    city.advance(days=8)  # the co-handling unit is late: the lead may reply
    reply(city, case, "h_mr")
    c = city.case(case)
    if c.status == "replied":
        accept_reply(city, case)
    if city.case(case).status == "awaiting_callback":
        call_back(city, case)
    c = city.case(case)
    assert c.status == "closed"
    assert city.ready(case) == []


def test_cohandling_on_time_per_department(city):
    first = city.intake()
    dispatch(city, first, "B-MR", co=["B-HU", "B-UM"])
    second = city.intake()
    dispatch(city, second, "B-MR", co=["B-HU"])
    answer(city, first, "h_hu")
    city.advance(days=8)  # past every co-handling deadline
    answer(city, second, "h_hu")  # late
    now = city.clock.now()
    figures = cohandling_on_time(city.session, start=now - timedelta(days=30), end=now, as_of=now)
    by_code = {row.department_code: row.on_time for row in figures}
    assert (by_code["B-HU"].numerator, by_code["B-HU"].denominator) == (1, 2)
    assert (by_code["B-UM"].numerator, by_code["B-UM"].denominator) == (0, 1)
    assert "B-MR" not in by_code


@pytest.mark.parametrize("mode", ["straight"])
def test_the_simulator_asks_co_handlers_and_some_answer_late(hotline, database):
    from sqlalchemy import select

    from engine.models import HumanTask
    from workflows.cohandling.models import CohandlingPart
    from workflows.simulation import Rates, Simulation

    rates = Rates(cohandle=1.0, cohandle_late=0.4, answered=0.1, return_=0, duplicate=0)
    report = Simulation(hotline, database.session, seed=3, rates=rates).run(cases=30, days=12)
    assert report.cases == 30
    with database.session() as session:
        parts = list(session.scalars(select(CohandlingPart)))
        tasks = list(session.scalars(select(HumanTask).where(HumanTask.kind == "cohandle")))
    assert len(tasks) >= 10
    assert any(p.on_time for p in parts) and any(not p.on_time for p in parts)
    assert report.statuses["closed"] > 0
    # the leads waited: each reply came after every co-handler's part, or after its deadline
    with database.session() as session:
        replied = dict(
            session.execute(
                select(Case.instance_id, Case.replied_at).where(Case.replied_at.is_not(None))
            ).all()
        )
    checked = [t for t in tasks if t.instance_id in replied]
    assert checked
    for task in checked:
        at = replied[task.instance_id]
        assert (task.completed_at is not None and task.completed_at <= at) or task.due_at <= at
