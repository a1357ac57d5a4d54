"""Moving running instances between versions: preview, deadlines kept, finishing on the new one.

Every test runs on both databases and in both modes (``mode``): "straight", where the live
workflow object is cached between steps (so a stale cached old-version workflow would show),
and "restore", where every step restores the workflow from its row.
"""

import re
from datetime import timedelta

import pytest
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select

from engine import instance_moves, version_diff
from engine.errors import NotFound
from engine.models import HumanTask, InstanceEvent, ProcessInstance, Timer

START = {"sign_hours": 24, "escalations": 0}

#: lifecycle.bpmn v2: "Sign for" renamed, a "check" task added after it, "callback" removed
#: (the reply now goes straight to the satisfaction gateway).
V2 = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    id="Defs_lifecycle" targetNamespace="http://hotline.example/test">
  <bpmn:process id="lifecycle" name="Case lifecycle" isExecutable="true">
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_operator" name="operator"><bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>intake</bpmn:flowNodeRef><bpmn:flowNodeRef>accepted</bpmn:flowNodeRef><bpmn:flowNodeRef>end_rejected</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_handler" name="handler"><bpmn:flowNodeRef>sign_for</bpmn:flowNodeRef><bpmn:flowNodeRef>check</bpmn:flowNodeRef><bpmn:flowNodeRef>reply</bpmn:flowNodeRef><bpmn:flowNodeRef>sign_late</bpmn:flowNodeRef><bpmn:flowNodeRef>escalate</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="lane_supervisor" name="supervisor"><bpmn:flowNodeRef>satisfied</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="intake" name="Intake">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="test/intake"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="accepted" name="Accepted?" default="f4"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing><bpmn:outgoing>f4</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end_rejected" name="Not accepted"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>
    <bpmn:userTask id="sign_for" name="Sign for the case">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="test/sign_for"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f4</bpmn:incoming><bpmn:incoming>f9</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="sign_late" name="Sign-for limit" attachedToRef="sign_for" cancelActivity="true">
      <bpmn:outgoing>f8</bpmn:outgoing>
      <bpmn:timerEventDefinition id="sign_late_def"><bpmn:timeDuration>hours(sign_hours)</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:scriptTask id="escalate" name="Escalate"><bpmn:incoming>f8</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing>
      <bpmn:script>escalations += 1</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="check" name="Check the facts">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="test/check"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f5</bpmn:incoming><bpmn:outgoing>f12</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="reply" name="Reply">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="test/reply"/></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>f12</bpmn:incoming><bpmn:incoming>f10</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="satisfied" name="Satisfied?" default="f11"><bpmn:incoming>f6</bpmn:incoming><bpmn:outgoing>f10</bpmn:outgoing><bpmn:outgoing>f11</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="end" name="Closed"><bpmn:incoming>f11</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="intake"/>
    <bpmn:sequenceFlow id="f2" sourceRef="intake" targetRef="accepted"/>
    <bpmn:sequenceFlow id="f3" sourceRef="accepted" targetRef="end_rejected"><bpmn:conditionExpression>not accepted</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="accepted" targetRef="sign_for"/>
    <bpmn:sequenceFlow id="f5" sourceRef="sign_for" targetRef="check"/>
    <bpmn:sequenceFlow id="f12" sourceRef="check" targetRef="reply"/>
    <bpmn:sequenceFlow id="f6" sourceRef="reply" targetRef="satisfied"/>
    <bpmn:sequenceFlow id="f8" sourceRef="sign_late" targetRef="escalate"/>
    <bpmn:sequenceFlow id="f9" sourceRef="escalate" targetRef="sign_for"/>
    <bpmn:sequenceFlow id="f10" sourceRef="satisfied" targetRef="reply"><bpmn:conditionExpression>rating == "unsatisfied"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f11" sourceRef="satisfied" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


@pytest.fixture
def lifecycle(deploy):
    deploy("lifecycle.bpmn")


def deploy_v2(runtime, session, xml: str = V2):
    [outcome] = runtime.deploy(session, xml.encode(), "lifecycle.bpmn", deployed_by="designer")
    assert outcome.created
    return outcome


def at_sign_for(runtime, session, key="A"):
    step = runtime.start(session, "lifecycle", data=START, business_key=key)
    return runtime.complete_task(session, step.ready[0].task_id, data={"accepted": True})


def at_callback(runtime, session, key="C"):
    step = at_sign_for(runtime, session, key)
    for data in ({}, {"reply": "done"}):
        step = runtime.complete_task(session, step.ready[0].task_id, data=data)
    assert [r.element_id for r in step.ready] == ["callback"]
    return step


def instance(session, instance_id) -> ProcessInstance:
    session.expire_all()
    return session.get(ProcessInstance, instance_id)


def test_preview_says_who_can_move_and_why_not(runtime, session, lifecycle, clock):
    a = at_sign_for(runtime, session, "A")
    b = runtime.start(session, "lifecycle", data=START, business_key="B")  # at intake
    c = at_callback(runtime, session, "C")
    deploy_v2(runtime, session)
    clock.advance(hours=2)

    preview = instance_moves.preview(
        session, runtime, key="lifecycle", from_version=1, to_version=2
    )

    plans = {p.business_key: p for p in preview.instances}
    assert [p.instance_id for p in preview.movable] == [a.instance_id, b.instance_id]
    assert [p.instance_id for p in preview.blocked] == [c.instance_id]
    assert plans["C"].reasons == ["it waits at callback (Callback), which version 2 removes"]
    due = (clock.now() - timedelta(hours=2) + timedelta(hours=24)).isoformat()
    assert plans["A"].waiting == ["sign_for (Sign for)", "sign_late (Sign-for limit)"]
    assert f"sign_late (Sign-for limit) keeps its due time {due}" in plans["A"].notes
    assert "sign_for (Sign for) is now named 'Sign for the case'" in plans["A"].notes
    # The preview writes nothing.
    assert instance(session, a.instance_id).definition_id == preview.from_definition_id
    assert instance(session, a.instance_id).version == a.version
    # ... and carries the definition diff.
    assert [e.element_id for e in preview.diff.added] == ["check", "f12"]
    assert [e.element_id for e in preview.diff.removed] == ["callback", "f7"]
    changed = {e.element_id: e.changes for e in preview.diff.changed}
    assert changed["sign_for"] == {"name": ("Sign for", "Sign for the case")}
    assert changed["f5"] == {"target": ("reply", "check")}


def test_migrated_case_keeps_its_deadline_and_completes_on_v2(runtime, session, lifecycle, clock):
    a = at_sign_for(runtime, session, "A")
    c = at_callback(runtime, session, "C")
    started = clock.now()
    sign_for = a.ready[0]
    v2 = deploy_v2(runtime, session)
    clock.advance(hours=2)

    result = instance_moves.move(
        session, runtime, key="lifecycle", from_version=1, to_version=2, actor="admin"
    )

    assert [p.instance_id for p in result.migrated] == [a.instance_id]
    assert [(p.instance_id, p.reasons) for p in result.refused] == [
        (c.instance_id, ["it waits at callback (Callback), which version 2 removes"])
    ]
    row = instance(session, a.instance_id)
    assert (row.definition_id, row.version) == (v2.definition_id, a.version + 1)
    untouched = instance(session, c.instance_id)
    assert (untouched.definition_id, untouched.version) == (c.definition_id, c.version)
    # The open task kept its id and due time and took the new name.
    [task] = runtime.ready_tasks(session, a.instance_id)
    assert (task.task_id, task.name, task.due_at) == (
        sign_for.task_id,
        "Sign for the case",
        started + timedelta(hours=24),
    )
    [timer] = runtime.pending_timers(session, a.instance_id)
    assert timer.due_at == started + timedelta(hours=24)  # not restarted at the migration
    [event] = session.scalars(
        select(InstanceEvent).where(
            InstanceEvent.instance_id == a.instance_id, InstanceEvent.kind == "instance.migrated"
        )
    ).all()
    assert event.actor == "admin"
    assert (event.payload["from_version"], event.payload["to_version"]) == (1, 2)
    assert event.payload["timers_kept"] == [
        {
            "element": "sign_late (Sign-for limit)",
            "due": (started + timedelta(hours=24)).isoformat(),
        }
    ]

    # The deadline falls due when it always would have.
    clock.advance(hours=21, minutes=59)
    assert runtime.fire_due_timers(session) == 0
    clock.advance(minutes=1)
    assert runtime.fire_due_timers(session) == 1
    assert runtime.data(session, a.instance_id)["escalations"] == 1
    assert session.scalars(select(Timer.status).where(Timer.task_id == timer.task_id)).one() == (
        "fired"
    )

    # The case goes on along version 2: sign for, the new check, reply, closed.
    seen = []
    ready = runtime.ready_tasks(session, a.instance_id)
    while ready:
        seen.append(ready[0].element_id)
        step = runtime.complete_task(
            session, ready[0].task_id, data={"reply": "fixed", "rating": "satisfied"}
        )
        ready = runtime.ready_tasks(session, a.instance_id)
    assert seen == ["sign_for", "check", "reply"]
    assert step.status == "completed"
    assert instance(session, a.instance_id).status == "completed"
    assert runtime.pending_timers(session, a.instance_id) == []


def test_the_moved_tree_is_the_tree_of_a_fresh_case(runtime, session, lifecycle):
    moved = at_sign_for(runtime, session, "A")
    deploy_v2(runtime, session)
    fresh = at_sign_for(runtime, session, "F")
    instance_moves.move(session, runtime, key="lifecycle", from_version=1, to_version=2, actor="a")

    def shape(instance_id):
        row = instance(session, instance_id)
        workflow = runtime._restore(session, instance_id, row.definition_id)
        found = []

        def walk(task, path):
            path = (*path, task.task_spec.name)
            found.append((path, TaskState.get_name(task.state)))
            for child in task.children:
                walk(child, path)

        walk(workflow.task_tree, ())
        return sorted(found)

    assert shape(moved.instance_id) == shape(fresh.instance_id)


def test_history_through_a_removed_element_blocks_the_move(runtime, session, lifecycle):
    step = at_callback(runtime, session, "L")
    step = runtime.complete_task(session, step.ready[0].task_id, data={"rating": "unsatisfied"})
    assert [r.element_id for r in step.ready] == ["reply"]  # back to reply, callback in history
    deploy_v2(runtime, session)

    preview = instance_moves.preview(
        session, runtime, key="lifecycle", from_version=1, to_version=2
    )

    [plan] = preview.blocked
    assert plan.reasons == [
        "its history went through callback (Callback), which version 2 removes "
        "(a saved case needs every element it passed)"
    ]
    result = instance_moves.move(
        session, runtime, key="lifecycle", from_version=1, to_version=2, actor="admin"
    )
    assert result.migrated == [] and len(result.refused) == 1
    assert instance(session, step.instance_id).version == step.version


def test_only_the_chosen_instances_move(runtime, session, lifecycle, mode):
    a = at_sign_for(runtime, session, "A")
    b = at_sign_for(runtime, session, "B")
    v2 = deploy_v2(runtime, session)
    result = instance_moves.move(
        session,
        runtime,
        key="lifecycle",
        from_version=1,
        to_version=2,
        instance_ids=[b.instance_id],
        actor="admin",
    )
    assert [p.instance_id for p in result.migrated] == [b.instance_id]
    assert instance(session, a.instance_id).definition_id == a.definition_id
    assert instance(session, b.instance_id).definition_id == v2.definition_id
    if mode == "straight":
        # The cache holds the moved workflow under the new version, never the old one.
        workflow, _ = runtime.workflows.take(b.instance_id, b.version + 1)
        assert "check" in workflow.spec.task_specs
        assert runtime.workflows.take(a.instance_id, a.version) is not None
    # The instance not chosen still runs on version 1.
    step = runtime.complete_task(session, a.ready[0].task_id)
    assert [r.element_id for r in step.ready] == ["reply"]
    step = runtime.complete_task(session, b.ready[0].task_id)
    assert [r.element_id for r in step.ready] == ["check"]


def test_a_second_run_finds_nothing_left_to_move(runtime, session, lifecycle):
    at_sign_for(runtime, session, "A")
    deploy_v2(runtime, session)
    first = instance_moves.move(
        session, runtime, key="lifecycle", from_version=1, to_version=2, actor="admin"
    )
    second = instance_moves.move(
        session, runtime, key="lifecycle", from_version=1, to_version=2, actor="admin"
    )
    assert len(first.migrated) == 1 and second.migrated == second.refused == []
    preview = instance_moves.preview(
        session, runtime, key="lifecycle", from_version=1, to_version=2
    )
    assert preview.instances == []


def test_migrating_back_to_version_one(runtime, session, lifecycle):
    deploy_v2(runtime, session)
    step = at_sign_for(runtime, session, "N")  # a version 2 case
    result = instance_moves.move(
        session, runtime, key="lifecycle", from_version=2, to_version=1, actor="admin"
    )
    assert [p.instance_id for p in result.migrated] == [step.instance_id]
    [task] = runtime.ready_tasks(session, step.instance_id)
    assert task.name == "Sign for"
    step = runtime.complete_task(session, task.task_id)
    assert [r.element_id for r in step.ready] == ["reply"]


def test_bad_requests_say_what_is_wrong(runtime, session, lifecycle):
    with pytest.raises(instance_moves.MoveError, match="same version"):
        instance_moves.preview(session, runtime, key="lifecycle", from_version=1, to_version=1)
    with pytest.raises(NotFound, match="lifecycle has no version 7"):
        instance_moves.move(
            session, runtime, key="lifecycle", from_version=1, to_version=7, actor="admin"
        )
    with pytest.raises(NotFound):
        instance_moves.preview(session, runtime, key="nothing", from_version=1, to_version=2)


def test_diff_names_what_changed(runtime, session, lifecycle):
    changed = (
        V2.replace("hours(sign_hours)", "hours(sign_hours * 2)")
        .replace('rating == "unsatisfied"', 'rating in ("unsatisfied", "basic")')
        .replace('value="test/reply"', 'value="test/reply2"')
    )
    deploy_v2(runtime, session, changed)
    diff = version_diff.diff_versions(session, key="lifecycle", from_version=1, to_version=2)
    by_id = {e.element_id: e for e in diff.changed}
    assert by_id["sign_late"].changes == {
        "timer": ("timeDuration: hours(sign_hours)", "timeDuration: hours(sign_hours * 2)")
    }
    assert by_id["f10"].changes == {
        "condition": ('rating == "unsatisfied"', 'rating in ("unsatisfied", "basic")')
    }
    assert by_id["reply"].changes == {"properties": ("formKey=test/reply", "formKey=test/reply2")}
    assert by_id["sign_for"].kind == "userTask" and by_id["sign_for"].name == "Sign for the case"
    same = version_diff.diff_versions(session, key="lifecycle", from_version=1, to_version=1)
    assert same.empty


def test_a_failing_move_leaves_the_instance_untouched(runtime, session, lifecycle):
    a = at_sign_for(runtime, session, "A")
    # Version 2's new timer on the open task needs data the case does not have.
    broken = V2.replace(
        '<bpmn:scriptTask id="escalate"',
        '<bpmn:boundaryEvent id="remind" name="Reminder" attachedToRef="sign_for" '
        'cancelActivity="false"><bpmn:outgoing>f13</bpmn:outgoing><bpmn:timerEventDefinition '
        'id="remind_def"><bpmn:timeDuration>hours(remind_hours)</bpmn:timeDuration>'
        "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:endEvent id="reminded"><bpmn:incoming>f13</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f13" sourceRef="remind" targetRef="reminded"/>'
        '<bpmn:scriptTask id="escalate"',
    )
    deploy_v2(runtime, session, broken)
    preview = instance_moves.preview(
        session, runtime, key="lifecycle", from_version=1, to_version=2
    )
    [plan] = preview.blocked
    assert plan.reasons == [
        "the workflow failed at remind: name 'remind_hours' is not defined in 'hours(remind_hours)'"
    ]
    result = instance_moves.move(
        session, runtime, key="lifecycle", from_version=1, to_version=2, actor="admin"
    )
    assert [p.instance_id for p in result.refused] == [a.instance_id]
    row = instance(session, a.instance_id)
    assert (row.definition_id, row.version) == (a.definition_id, a.version)
    tasks = session.scalars(select(HumanTask).where(HumanTask.instance_id == a.instance_id))
    assert {t.name for t in tasks} == {"Intake", "Sign for"}
    # The case goes on on version 1.
    step = runtime.complete_task(session, a.ready[0].task_id)
    assert [r.element_id for r in step.ready] == ["reply"]


REMINDER = (
    '<bpmn:boundaryEvent id="remind" name="Reminder" attachedToRef="sign_for" '
    'cancelActivity="false"><bpmn:outgoing>f13</bpmn:outgoing><bpmn:timerEventDefinition '
    'id="remind_def"><bpmn:timeDuration>hours(2)</bpmn:timeDuration>'
    "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
    '<bpmn:endEvent id="reminded"><bpmn:incoming>f13</bpmn:incoming></bpmn:endEvent>'
    '<bpmn:sequenceFlow id="f13" sourceRef="remind" targetRef="reminded"/>'
)


def test_a_timer_added_to_the_open_task_is_armed_at_the_move(runtime, session, lifecycle, clock):
    a = at_sign_for(runtime, session, "A")
    started = clock.now()
    deploy_v2(
        runtime,
        session,
        V2.replace('<bpmn:scriptTask id="escalate"', REMINDER + '<bpmn:scriptTask id="escalate"'),
    )
    clock.advance(hours=1)
    result = instance_moves.move(
        session, runtime, key="lifecycle", from_version=1, to_version=2, actor="admin"
    )
    [plan] = result.migrated
    moved_at = clock.now()
    assert (
        f"remind (Reminder) is new in version 2: armed now, due "
        f"{(moved_at + timedelta(hours=2)).isoformat()}" in plan.notes
    )
    timers = {t.element_id: t.due_at for t in runtime.pending_timers(session, a.instance_id)}
    assert timers == {
        "sign_late": started + timedelta(hours=24),
        "remind": moved_at + timedelta(hours=2),
    }
    clock.advance(hours=2)
    assert runtime.fire_due_timers(session) == 1  # the reminder; the case is still at sign_for
    [task] = runtime.ready_tasks(session, a.instance_id)
    assert task.element_id == "sign_for" and task.due_at == started + timedelta(hours=24)
    ready = [task]
    while ready:
        runtime.complete_task(session, ready[0].task_id, data={"rating": "satisfied"})
        ready = runtime.ready_tasks(session, a.instance_id)
    assert instance(session, a.instance_id).status == "completed"


def without_sign_limit(xml: str) -> str:
    """``xml`` without the sign-for limit timer and its escalation."""
    for element in ("sign_late", "escalate"):
        xml = re.sub(rf'<bpmn:(\w+) id="{element}".*?</bpmn:\1>', "", xml, flags=re.S)
        xml = xml.replace(f"<bpmn:flowNodeRef>{element}</bpmn:flowNodeRef>", "")
    xml = re.sub(r'<bpmn:sequenceFlow id="f[89]"[^>]*/>', "", xml)
    return xml.replace("<bpmn:incoming>f9</bpmn:incoming>", "")


def test_a_timer_removed_from_the_open_task_stops_waiting(runtime, session, lifecycle, clock):
    with_reminder = V2.replace(
        '<bpmn:scriptTask id="escalate"', REMINDER + '<bpmn:scriptTask id="escalate"'
    )
    deploy_v2(runtime, session, with_reminder)
    a = at_sign_for(runtime, session, "A")  # on version 2, both timers waiting
    # this one passed sign_for: its timers are cancelled history
    b = runtime.complete_task(session, at_sign_for(runtime, session, "B").ready[0].task_id)
    runtime.deploy(
        session, without_sign_limit(with_reminder).encode(), "lifecycle.bpmn", deployed_by="d"
    )
    result = instance_moves.move(
        session, runtime, key="lifecycle", from_version=2, to_version=3, actor="admin"
    )
    assert [p.instance_id for p in result.migrated] == [a.instance_id, b.instance_id]
    assert "sign_late (Sign-for limit) stops waiting: version 3 removes it" in (
        result.migrated[0].notes
    )
    timers = session.execute(
        select(Timer.element_id, Timer.status)
        .where(Timer.instance_id == a.instance_id)
        .order_by(Timer.element_id)
    ).all()
    assert timers == [("remind", "pending"), ("sign_late", "cancelled")]
    [task] = runtime.ready_tasks(session, a.instance_id)
    assert task.due_at is None  # the reminder does not interrupt: no deadline on the task
    for instance_id in (a.instance_id, b.instance_id):
        ready = runtime.ready_tasks(session, instance_id)
        while ready:
            runtime.complete_task(session, ready[0].task_id, data={"rating": "satisfied"})
            ready = runtime.ready_tasks(session, instance_id)
        assert instance(session, instance_id).status == "completed"
        assert runtime.pending_timers(session, instance_id) == []


def test_a_task_losing_all_its_timers_changes_shape(runtime, session, lifecycle):
    """Without boundary events a task is no longer wrapped in a split and a join: a case that
    went through the wrapped task cannot be restored on the new version."""
    step = runtime.complete_task(session, at_sign_for(runtime, session, "B").ready[0].task_id)
    deploy_v2(runtime, session, without_sign_limit(V2))
    preview = instance_moves.preview(
        session, runtime, key="lifecycle", from_version=1, to_version=2
    )
    [plan] = preview.blocked
    assert plan.instance_id == step.instance_id
    assert plan.reasons[0] == (
        "its history went through the boundary events of sign_for, which version 2 removes "
        "(a saved case needs every element it passed)"
    )
