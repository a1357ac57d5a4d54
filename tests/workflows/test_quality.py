"""Operator and dispatcher figures for a month (``workflows/quality/stats.py``), the monthly
sample, the scoring sheet, reviews, disputes and the ranking: hand-built rows, counted by hand.

March 2026 in Beijing is [2026-02-28 16:00, 2026-03-31 16:00) UTC.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from engine.errors import NotFound
from engine.models import Definition, HumanTask, ProcessInstance
from workflows.calls.models import Call
from workflows.errors import FormInvalid
from workflows.quality import reviews, sampling, sheets
from workflows.quality.models import Review, SampledCase, SampleDraw
from workflows.quality.stats import dispatcher_months, operator_months
from workflows.users.models import User

from .test_kpi import D, H, T, add_case

TZ = ZoneInfo("Asia/Shanghai")
MARCH = date(2026, 3, 1)
#: the reviewer draws on 2026-04-02 (Beijing)
APRIL_2 = datetime(2026, 4, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def session(database):
    with database.session() as session:
        yield session


def add_user(session, username: str, role: str, *, active: bool = True) -> User:
    user = User(username=username, display_name=username.upper(), role=role, active=active,
                created_at=T)  # fmt: skip
    session.add(user)
    session.flush()
    return user


def add_instance(session) -> ProcessInstance:
    definition = session.query(Definition).first()
    if definition is None:
        definition = Definition(key="complaint", version=1, name="c", file_name="c.bpmn", xml="",
                                sha256="0" * 64, deployed_by="t", deployed_at=T)  # fmt: skip
        session.add(definition)
        session.flush()
    instance = ProcessInstance(definition_id=definition.id, key="complaint", status="running",
                               state="{}", version=1, created_at=T, updated_at=T)  # fmt: skip
    session.add(instance)
    session.flush()
    return instance


def add_task(session, instance, kind: str, created_at, *, by: str | None = None, done=None):
    """A dispatch-step task; ``by`` and ``done``: completed by whom and when (else ready)."""
    session.add(
        HumanTask(
            instance_id=instance.id,
            task_id=str(uuid.uuid4()),
            element_id=kind,
            kind=kind,
            name=kind,
            lane="dispatcher",
            state="completed" if by else "ready",
            created_at=created_at,
            completed_at=done,
            completed_by=by,
        )  # fmt: skip
    )
    session.flush()


def taken(session, operator: str, *, created_at=T, dispatched: bool = False, **columns):
    """A case ``operator`` recorded; dispatched ones get an instance."""
    extra = {"dispatched_at": created_at + H} if dispatched else {}
    instance = add_instance(session) if dispatched else None
    case = add_case(session, created_at=created_at, created_by=operator,
                    instance_id=instance.id if instance else None, **extra, **columns)  # fmt: skip
    return case, instance


def add_call(session, agent: str, arrived_at, outcome: str, *, talk=None, wrap=None) -> None:
    session.add(
        Call(
            call_id=str(uuid.uuid4()),
            caller="13800138000",
            agent=agent,
            state="ended" if outcome else "answered",
            outcome=outcome,
            arrived_at=arrived_at,
            talk_seconds=talk,
            wrap_seconds=wrap,
            updated_at=arrived_at,
        )  # fmt: skip
    )
    session.flush()


@pytest.fixture
def month(session):
    """The March of two operators and two dispatchers (the expected figures in each test)."""
    for name, role in (("op_a", "operator"), ("op_b", "operator"), ("disp_x", "dispatcher"),
                       ("disp_y", "dispatcher"), ("qa1", "qa")):  # fmt: skip
        add_user(session, name, role)
    add_user(session, "op_gone", "operator", active=False)  # nothing in March: not listed
    # op_a: c1 answered at once; c2 dispatched once by disp_x
    taken(session, "op_a", intake_outcome="answered", status="closed")
    _, i2 = taken(session, "op_a", dispatched=True)
    add_task(session, i2, "dispatch", T, by="disp_x", done=T + H)
    # c3: disp_x dispatches, returned; disp_y re-dispatches, returned again; a third dispatch waits
    _, i3 = taken(session, "op_a", dispatched=True)
    add_task(session, i3, "dispatch", T, by="disp_x", done=T + H)
    add_task(session, i3, "dispatch", T + 10 * H, by="disp_y", done=T + D)
    add_task(session, i3, "dispatch", T + 2 * D)
    # c4: disp_x to a district platform, disp_y's second-level dispatch returned, disp_x again
    _, i4 = taken(session, "op_a", dispatched=True)
    add_task(session, i4, "dispatch", T, by="disp_x", done=T + H)
    add_task(session, i4, "redispatch", T + H, by="disp_y", done=T + 2 * H)
    add_task(session, i4, "dispatch", T + 5 * H, by="disp_x", done=T + D)
    # c5: op_a's in February (not March's), dispatched by disp_x on 2 March (March's dispatch)
    _, i5 = taken(session, "op_a", created_at=datetime(2026, 2, 27, 2, tzinfo=UTC), dispatched=True)
    add_task(session, i5, "dispatch", datetime(2026, 2, 27, 3, tzinfo=UTC), by="disp_x",
             done=datetime(2026, 3, 2, 2, tzinfo=UTC))  # fmt: skip
    # a February dispatch by disp_y: not March's
    _, i6 = taken(session, "op_b", created_at=datetime(2026, 2, 20, 2, tzinfo=UTC), dispatched=True)
    add_task(session, i6, "dispatch", datetime(2026, 2, 20, 3, tzinfo=UTC), by="disp_y",
             done=datetime(2026, 2, 20, 4, tzinfo=UTC))  # fmt: skip
    # op_b: one answered at once; one not accepted at 01:00 on 1 March Beijing (February in UTC)
    taken(session, "op_b", intake_outcome="answered", status="closed")
    taken(session, "op_b", created_at=datetime(2026, 2, 28, 17, tzinfo=UTC),
          intake_outcome="not_accepted", status="closed")  # fmt: skip
    # 00:30 on 1 April Beijing: April's
    taken(session, "op_b", created_at=datetime(2026, 3, 31, 16, 30, tzinfo=UTC))
    # a case from another channel, nobody's
    taken(session, "open311")
    # calls: op_a answered three in March (two timed: 100 + 20 and 200 s), one abandoned while
    # ringing at op_a, one answered in February
    add_call(session, "op_a", T, "answered", talk=100, wrap=20)
    add_call(session, "op_a", T + H, "answered", talk=200)
    add_call(session, "op_a", T + 2 * H, "")  # still talking: counted once it ends
    add_call(session, "op_a", T + 3 * H, "answered")  # ended, no talk time from the phone system
    add_call(session, "op_a", T + 4 * H, "abandoned")
    add_call(session, "op_a", datetime(2026, 2, 10, 2, tzinfo=UTC), "answered", talk=999)
    session.flush()


def test_operator_figures(session, month):
    rows = {r.username: r for r in operator_months(session, month=MARCH, tz=TZ)}
    assert sorted(rows) == ["op_a", "op_b"]
    a, b = rows["op_a"], rows["op_b"]
    # c1..c4; c1 answered at once; c2, c3, c4 dispatched; c3 and c4 returned (an approved
    # return made a second dispatch task); re-dispatches done: c3's second, c4's second
    # (c3's third waits)
    assert (a.cases, a.answered_at_once, a.dispatched, a.returned, a.redispatches) == (
        4,
        1,
        3,
        2,
        2,
    )
    assert (a.calls, a.timed_calls, a.handling_seconds, a.handling_average) == (3, 2, 320, 160)
    assert (b.cases, b.answered_at_once, b.dispatched, b.returned, b.redispatches) == (
        2,
        1,
        0,
        0,
        0,
    )
    assert (b.calls, b.handling_average) == (0, None)


def test_dispatcher_figures(session, month):
    rows = {r.username: r for r in dispatcher_months(session, month=MARCH, tz=TZ)}
    # disp_x: c2, c3, c4 (first), c4 (after the return), c5: five; c3's was returned; c4's
    # second is a re-dispatch. c4's first went to the platform, whose dispatch was returned.
    assert (rows["disp_x"].dispatches, rows["disp_x"].returned, rows["disp_x"].redispatches) == (
        5, 1, 1,
    )  # fmt: skip
    # disp_y: c3's re-dispatch (returned again) and c4's second-level dispatch (returned)
    assert (rows["disp_y"].dispatches, rows["disp_y"].returned, rows["disp_y"].redispatches) == (
        2, 2, 1,
    )  # fmt: skip


def test_the_sample_is_reproducible_and_drawn_once(session, month):
    for i in range(6):  # op_a has 4 + 6 = 10 cases in March
        taken(session, "op_a", created_at=T + i * H)
    first = {r.operator: r for r in sampling.draw_month(session, month=MARCH, size=3, by="qa1",
                                                        now=APRIL_2, tz=TZ)}  # fmt: skip
    assert sorted(first) == ["op_a", "op_b"]
    a_cases = sorted(c for (c,) in session.query(SampledCase.case_id).filter_by(operator="op_a"))
    assert len(a_cases) == 3 and first["op_a"].draw.population == 10
    assert len(first["op_b"].case_ids) == 2  # fewer cases than asked: all of them
    # the same cases and seed give the same pick, wherever it runs
    from workflows.cases.models import Case

    ids = [c for (c,) in session.query(Case.id).filter(Case.created_by == "op_a",
                                                       Case.created_at >= T - H)]  # fmt: skip
    assert sampling.pick(ids, month=MARCH, operator="op_a", size=3) == first["op_a"].case_ids
    assert sampling.pick(list(reversed(ids)), month=MARCH, operator="op_a", size=3) == (
        first["op_a"].case_ids
    )
    # another operator or month: another seed
    assert sampling.seed_of(MARCH, "op_a") != sampling.seed_of(MARCH, "op_b")
    assert sampling.seed_of(MARCH, "op_a") != sampling.seed_of(date(2026, 4, 1), "op_a")
    # drawn again, with another size and a case added meanwhile: unchanged
    taken(session, "op_a", created_at=T + 20 * H)
    again = {r.operator: r for r in sampling.draw_month(session, month=MARCH, size=5, by="qa1",
                                                        now=APRIL_2 + D, tz=TZ)}  # fmt: skip
    assert not any(r.new for r in again.values())
    assert again["op_a"].case_ids == first["op_a"].case_ids
    assert session.query(SampledCase).count() == 5


def test_a_month_is_drawn_once_it_has_ended_and_the_size_is_checked(session, month):
    with pytest.raises(FormInvalid) as caught:
        sampling.draw_month(session, month=MARCH, size=5, by="qa1",
                            now=datetime(2026, 3, 31, 15, tzinfo=UTC), tz=TZ)  # fmt: skip
    assert list(caught.value.errors) == ["month"]
    for size in ("0", "51", "five", ""):
        with pytest.raises(FormInvalid) as caught:
            sampling.draw_month(session, month=MARCH, size=size, by="qa1", now=APRIL_2, tz=TZ)
        assert list(caught.value.errors) == ["size"]


def test_the_sheet_is_checked_and_versions_are_pinned(session, month):
    sheet = sheets.sheet_in_force(session, now=T)
    assert (sheet.version, [i["max_points"] for i in sheet.items]) == (1, [40, 30, 30])
    bad = [
        {"key": "Attitude", "label": "服务态度", "max_points": "40"},
        {"key": "entry", "label": "", "max_points": "0"},
        {"key": "entry", "label": "录入", "max_points": "101"},
    ]
    with pytest.raises(FormInvalid) as caught:
        sheets.save_sheet(session, name="", rows=bad, by="admin", now=T)
    assert sorted(caught.value.errors) == [
        "item0_key", "item1_label", "item1_max_points", "item2_key", "item2_max_points", "name",
    ]  # fmt: skip
    with pytest.raises(FormInvalid) as caught:
        sheets.save_sheet(session, name="空表", rows=[{}, {}], by="admin", now=T)
    assert list(caught.value.errors) == ["items"]
    # a review on version 1
    sampling.draw_month(session, month=MARCH, size=5, by="qa1", now=APRIL_2, tz=TZ)
    sample = session.query(SampledCase).filter_by(operator="op_b").order_by(SampledCase.id).first()
    given = {"score_attitude": "35", "score_data_entry": "30", "score_communication": "20"}
    review = reviews.submit_review(session, sample_id=sample.id, given=given, comment="好",
                                   reviewer="qa1", now=APRIL_2)  # fmt: skip
    assert (review.total, review.max_total, review.sheet_id) == (85, 100, sheet.id)
    # the sheet edited: version 2; the old review keeps version 1 and its scores
    rows = [dict(i, max_points=str(i["max_points"])) for i in sheet.items]
    rows[0]["max_points"] = "50"
    v2 = sheets.save_sheet(session, name=sheet.name, rows=rows, by="admin", now=APRIL_2)
    assert v2.version == 2 and sheets.current_sheet(session).id == v2.id
    assert (
        sheets.save_sheet(session, name=sheet.name, rows=rows, by="admin", now=APRIL_2).id == v2.id
    )
    session.refresh(review)
    assert (review.sheet_id, review.total, review.max_total) == (sheet.id, 85, 100)
    assert sheet.items[0]["max_points"] == 40


def test_scores_are_checked_item_by_item(session, month):
    sampling.draw_month(session, month=MARCH, size=5, by="qa1", now=APRIL_2, tz=TZ)
    sample = session.query(SampledCase).first()
    given = {"score_attitude": "41", "score_data_entry": "-1", "score_communication": "",
             "comment": "x" * 2001}  # fmt: skip
    with pytest.raises(FormInvalid) as caught:
        reviews.submit_review(session, sample_id=sample.id, given=given, comment=given["comment"],
                              reviewer="qa1", now=APRIL_2)  # fmt: skip
    assert sorted(caught.value.errors) == [
        "comment", "score_attitude", "score_communication", "score_data_entry",
    ]  # fmt: skip
    assert session.query(Review).count() == 0
    ok = {"score_attitude": "40", "score_data_entry": "0", "score_communication": "30"}
    reviews.submit_review(session, sample_id=sample.id, given=ok, comment="", reviewer="qa1",
                          now=APRIL_2)  # fmt: skip
    with pytest.raises(reviews.Refused) as refused:
        reviews.submit_review(session, sample_id=sample.id, given=ok, comment="", reviewer="qa1",
                              now=APRIL_2)  # fmt: skip
    assert refused.value.code == "reviewed"


def _review(session, operator: str, scores: tuple[int, int, int], nth: int = 0) -> Review:
    sample = (
        session.query(SampledCase).filter_by(operator=operator).order_by(SampledCase.position)
    ).all()[nth]
    keys = ("score_attitude", "score_data_entry", "score_communication")
    return reviews.submit_review(session, sample_id=sample.id, given=dict(zip(keys, map(str, scores), strict=True)),
                                 comment=f"{operator} {nth}", reviewer="qa1", now=APRIL_2)  # fmt: skip


def test_the_ranking_with_ties(session, month):
    add_user(session, "op_c", "operator")
    add_user(session, "op_d", "operator")
    for op in ("op_c", "op_d"):
        taken(session, op)
        taken(session, op)
    sampling.draw_month(session, month=MARCH, size=5, by="qa1", now=APRIL_2, tz=TZ)
    _review(session, "op_a", (40, 30, 20))  # 90
    _review(session, "op_a", (30, 20, 20), 1)  # 70: op_a's average 80
    _review(session, "op_b", (40, 20, 20))  # 80: ties op_a
    _review(session, "op_c", (40, 30, 30))  # 100
    _review(session, "op_c", (40, 30, 30), 1)
    # op_d has no review: listed, not ranked
    rows = reviews.monthly_report(session, month=MARCH, tz=TZ)
    got = [(r.rank, r.stats.username, r.reviews, r.average) for r in rows]
    assert got == [
        (1, "op_c", 2, Fraction(100)),
        (2, "op_a", 2, Fraction(80)),
        (2, "op_b", 1, Fraction(80)),
        (None, "op_d", 0, None),
    ]
    assert rows[1].stats.cases == 4 and rows[1].average_shown == "80.0"


def test_disputes_only_by_the_operator_and_their_trail(session, month):
    sampling.draw_month(session, month=MARCH, size=5, by="qa1", now=APRIL_2, tz=TZ)
    a1 = _review(session, "op_a", (20, 30, 30))  # 80
    a2 = _review(session, "op_a", (40, 30, 30), 1)  # 100
    b1 = _review(session, "op_b", (40, 30, 30))
    # op_b sees only their own and cannot dispute op_a's
    assert [r.id for r, *_ in reviews.reviews_of_operator(session, operator="op_b")] == [b1.id]
    with pytest.raises(NotFound):
        reviews.file_dispute(
            session, review_id=a1.id, operator="op_b", reason="不公平", now=APRIL_2
        )
    with pytest.raises(FormInvalid) as caught:
        reviews.file_dispute(session, review_id=a1.id, operator="op_a", reason="  ", now=APRIL_2)
    assert list(caught.value.errors) == ["reason"]
    d1 = reviews.file_dispute(session, review_id=a1.id, operator="op_a",
                              reason="态度评分有误，录音可证", now=APRIL_2)  # fmt: skip
    with pytest.raises(reviews.Refused):
        reviews.file_dispute(session, review_id=a1.id, operator="op_a", reason="再议", now=APRIL_2)
    # decided: the reason and a known decision are needed; corrected scores on the review's sheet
    with pytest.raises(FormInvalid) as caught:
        reviews.decide_dispute(session, dispute_id=d1.id, decision="upheld", outcome="",
                               given={}, reason="", by="qa1", now=APRIL_2)  # fmt: skip
    assert sorted(caught.value.errors) == ["decision_reason", "outcome"]
    given = {"score_attitude": "35", "score_data_entry": "30", "score_communication": "30"}
    reviews.decide_dispute(session, dispute_id=d1.id, decision="upheld", outcome="corrected",
                           given=given, reason="录音显示态度良好", by="lead1", now=APRIL_2)  # fmt: skip
    assert (a1.total, d1.status, d1.outcome) == (95, "upheld", "corrected")
    assert (d1.scores_before["total"], d1.scores_after["total"]) == (80, 95)
    with pytest.raises(reviews.Refused):
        reviews.decide_dispute(session, dispute_id=d1.id, decision="rejected", outcome="",
                               given={}, reason="x", by="qa1", now=APRIL_2)  # fmt: skip
    # another dispute voids a review: it leaves the average
    d2 = reviews.file_dispute(session, review_id=a2.id, operator="op_a", reason="非本人受理",
                              now=APRIL_2)  # fmt: skip
    reviews.decide_dispute(session, dispute_id=d2.id, decision="upheld", outcome="voided",
                           given={}, reason="核实为他人受理", by="qa1", now=APRIL_2)  # fmt: skip
    report = {r.stats.username: r for r in reviews.monthly_report(session, month=MARCH, tz=TZ)}
    assert (report["op_a"].reviews, report["op_a"].average) == (1, Fraction(95))
    # a rejected dispute changes nothing but its own state
    d3 = reviews.file_dispute(session, review_id=b1.id, operator="op_b", reason="想再看看",
                              now=APRIL_2)  # fmt: skip
    reviews.decide_dispute(session, dispute_id=d3.id, decision="rejected", outcome="corrected",
                           given={}, reason="评分无误", by="qa1", now=APRIL_2)  # fmt: skip
    assert (b1.total, b1.status, d3.status, d3.outcome) == (100, "scored", "rejected", "")


def test_the_worker_draws_last_month_once(database, session, month):
    from engine.clock import ManualClock
    from workflows.quality.scheduled import MonthlyDraw

    session.commit()
    clock = ManualClock(datetime(2026, 3, 31, 15, 59, tzinfo=UTC))  # 23:59 on 31 March
    job = MonthlyDraw(database.session, clock=clock, tz=TZ, size=2)
    job()  # February's month: its cases are op_a's c5 and op_b's February one
    with database.session() as s:
        assert {(d.month, d.operator, d.size) for d in s.query(SampleDraw)} == {
            (date(2026, 2, 1), "op_a", 2), (date(2026, 2, 1), "op_b", 2),
        }  # fmt: skip
    clock.set(APRIL_2)
    assert job() is True
    assert job() is False  # remembered: no query until the month turns
    again = MonthlyDraw(database.session, clock=clock, tz=TZ, size=2)
    assert again() is False  # another worker: drawn already
    with database.session() as s:
        march = {d.operator: d.drawn_by for d in s.query(SampleDraw).filter_by(month=MARCH)}
        assert march == {"op_a": "worker", "op_b": "worker"}
        assert s.query(SampledCase).filter_by(month=MARCH).count() == 4
