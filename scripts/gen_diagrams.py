"""Bootstrap the case-type diagrams in bpmn/ from shared building blocks.

The .bpmn files are the source of truth: process designers edit them in any BPMN editor, and
this script is only how their first versions were drawn consistently (same lanes, same steps,
same names), with a simple hand-placed layout for the diagram interchange (DI). Running it
again overwrites bpmn/*.bpmn: only do that when no one has edited them by hand since, or to
add a new case type, and review the diff.

    python scripts/gen_diagrams.py            # writes bpmn/*.bpmn
    python scripts/gen_diagrams.py --check    # exit 1 if a file differs from what it would write
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

ROOT = Path(__file__).resolve().parent.parent
LANES = [
    ("operator", "接线员 Operator"),
    ("dispatcher", "派单员 Dispatcher"),
    ("handler", "承办单位 Handler"),
    ("supervisor", "督办 Supervisor"),
    ("callback", "回访员 Callback agent"),
    ("lead", "中心领导 Centre lead"),
]


def lanes_of(d: Diagram) -> list[tuple[str, str]]:
    """The lanes a diagram draws: those of LANES that hold one of its nodes."""
    used = {n.lane for n in d.nodes.values()}
    return [(lane, label) for lane, label in LANES if lane in used]


SIZES = {"task": (100, 80), "event": (36, 36), "gateway": (50, 50)}
COL_W, ROW_H, LANE_X, POOL_LABEL_W = 150, 110, 160, 30


@dataclass
class Node:
    id: str
    kind: str  # startEvent, endEvent, userTask, scriptTask, exclusiveGateway, boundaryEvent
    name: str
    lane: str
    col: float
    row: int = 0
    props: dict[str, str] = field(default_factory=dict)
    script: str | None = None
    timer: tuple[str, str] | None = None  # (timeDate|timeDuration|timeCycle, expression)
    attached_to: str | None = None
    interrupting: bool = False
    default: str | None = None  # gateways: id of the default flow
    terminate: bool = False
    #: a parallel multi-instance task: (the process variable holding the collection, the
    #: name each instance's item gets in its data)
    each: tuple[str, str] | None = None
    signal: str | None = None  # signal events: the signal's name
    parent: str | None = None  # id of the (event) sub-process holding the node


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str = ""
    condition: str | None = None
    route: str = "auto"  # auto, below, above


class Diagram:
    def __init__(self, key: str, name: str) -> None:
        self.key, self.name = key, name
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.signals: list[str] = []

    def node(self, *args, **kwargs) -> Node:
        n = Node(*args, **kwargs)
        self.nodes[n.id] = n
        return n

    def flow(
        self,
        source: str,
        target: str,
        name: str = "",
        condition: str | None = None,
        route: str = "auto",
        id: str | None = None,
    ) -> Flow:
        f = Flow(id or f"flow_{source}_to_{target}", source, target, name, condition, route)
        self.flows.append(f)
        return f


def user_task(
    d: Diagram,
    id: str,
    name: str,
    lane: str,
    col: float,
    *,
    step: str,
    form: str,
    status: str | None,
    group: str | None,
    row: int = 0,
) -> Node:
    """A user task; ``step`` says what it is (the hotline's rules, queues and labels key on
    it, never on the id)."""
    props = {"step": step, "formKey": form}
    if status:
        props["status"] = status
    if group:
        props["candidateGroups"] = group
    return d.node(id, "userTask", name, lane, col, row, props=props)


def clock(d: Diagram, task_id: str, limit: str, *, due: str | None = None) -> None:
    """Give a user task its own clock from the case's policy: a yellow warning when
    ``warn_share`` of the limit has passed and a red overdue at the limit, both
    non-interrupting (the task stays with its owner; the timeline, the lists and the
    notifications learn of it). The limit counts from when the task starts, unless ``due``
    names a process variable holding the deadline (set by a script before the task, so that
    the task keeps one deadline however often it is entered, e.g. callback attempts).

    The overdue timer is the task's ``due_at`` (``effect`` task_overdue); ``clock`` names the
    policy limit for the timeline and the events."""
    host = d.nodes[task_id]
    due_expr = due or f"after(policy['{limit}'])"
    warn_expr = f"warn_time(now(), {due_expr}, policy['warn_share'], policy['{limit}']['unit'])"
    for suffix, name, expr, effect, offset in (
        ("warn", "预警 Warning", warn_expr, "task_warn", -0.25),
        ("late", "超时 Late", due_expr, "task_overdue", 0.25),
    ):
        event_id = f"{task_id}_{suffix}"
        d.node(
            event_id,
            "boundaryEvent",
            name,
            host.lane,
            host.col + offset,
            host.row,
            attached_to=task_id,
            timer=("timeDate", expr),
            props={"effect": effect, "clock": limit},
        )
        end_id = f"end_{task_id}_{suffix}"
        end_name = "已预警 Warned" if suffix == "warn" else "已超时 Overdue"
        d.node(end_id, "endEvent", end_name, host.lane, host.col + offset + 0.45, host.row + 1)
        d.flow(event_id, end_id)


# -- the building blocks --------------------------------------------------------------------


def intake(d: Diagram) -> None:
    d.node(
        "start",
        "startEvent",
        "来电受理 Call taken",
        "operator",
        0,
        props={"formKey": "common/intake"},
    )
    d.node(
        "intake_outcome",
        "exclusiveGateway",
        "受理结果? Intake outcome?",
        "operator",
        1,
        default="flow_intake_dispatch",
    )
    d.node(
        "end_answered",
        "endEvent",
        "当场解答办结 Answered at once",
        "operator",
        2,
        props={"outcome": "answered"},
    )
    d.node(
        "end_not_accepted",
        "endEvent",
        "不予受理 Not accepted",
        "operator",
        2,
        row=1,
        props={"outcome": "not_accepted"},
    )
    d.flow("start", "intake_outcome")
    d.flow(
        "intake_outcome",
        "end_answered",
        "当场解答 answered",
        condition="intake_outcome == 'answered'",
    )
    d.flow(
        "intake_outcome",
        "end_not_accepted",
        "不予受理 not accepted",
        condition="intake_outcome == 'not_accepted'",
    )


DISPATCH_SCRIPT = """dispatched_at = now()
sign_due = after(policy['sign'])
return_due = after(policy['return'])
reply_due = after(policy['reply'])
warn_at = warn_time(dispatched_at, reply_due, policy['warn_share'], policy['reply']['unit'])"""


def dispatch(d: Diagram, col: float) -> float:
    """Dispatch by the platform, two-level re-dispatch by a district platform."""
    user_task(
        d,
        "dispatch",
        "派单 Dispatch",
        "dispatcher",
        col,
        step="dispatch",
        form="common/dispatch",
        status="awaiting_dispatch",
        group="platform",
    )
    d.flow("intake_outcome", "dispatch", "派单 dispatch", id="flow_intake_dispatch")
    clock(d, "dispatch", "dispatch")
    d.node(
        "set_deadlines",
        "scriptTask",
        "计算时限 Set deadlines",
        "dispatcher",
        col + 1,
        script=DISPATCH_SCRIPT,
    )
    d.node(
        "lead_is_platform",
        "exclusiveGateway",
        "区级平台? District platform?",
        "dispatcher",
        col + 2,
        default="flow_to_sign_for",
    )
    user_task(
        d,
        "redispatch",
        "二级派单 Re-dispatch",
        "dispatcher",
        col + 3,
        row=1,
        step="redispatch",
        form="common/redispatch",
        status="awaiting_redispatch",
        group="lead_department",
    )
    clock(d, "redispatch", "dispatch")
    d.node(
        "set_street",
        "scriptTask",
        "转街镇 To street office",
        "dispatcher",
        col + 4,
        row=1,
        script="district_department = lead_department\nlead_department = street_department",
    )
    d.flow("dispatch", "set_deadlines")
    d.flow("set_deadlines", "lead_is_platform")
    d.flow("lead_is_platform", "redispatch", "是 yes", condition="lead_is_platform")
    d.flow("redispatch", "set_street")
    return col + 5


def sign_and_return(d: Diagram, col: float) -> float:
    """Sign-for within a limit (escalated when late), or return with a reason."""
    user_task(
        d,
        "sign_for",
        "签收 Sign for",
        "handler",
        col,
        step="sign_for",
        form="common/sign_for",
        status="dispatched",
        group="lead_department",
    )
    d.flow("lead_is_platform", "sign_for", "否 no", id="flow_to_sign_for")
    d.flow("set_street", "sign_for")
    d.node(
        "sign_late",
        "boundaryEvent",
        "签收超时 Sign-for late",
        "handler",
        col,
        attached_to="sign_for",
        timer=("timeDate", "sign_due"),
        props={"effect": "sign_overdue"},
    )
    d.node("end_sign_escalated", "endEvent", "已升级 Escalated", "handler", col + 1, row=1)
    d.flow("sign_late", "end_sign_escalated")
    # the sign-for deadline's yellow card, like every other task's (its red is sign_late)
    d.node(
        "sign_warn",
        "boundaryEvent",
        "签收预警 Sign-for warning",
        "handler",
        col - 0.3,
        attached_to="sign_for",
        timer=(
            "timeDate",
            "warn_time(dispatched_at, sign_due, policy['warn_share'], policy['sign']['unit'])",
        ),
        props={"effect": "task_warn", "clock": "sign"},
    )
    d.node("end_sign_warned", "endEvent", "已预警 Warned", "handler", col + 0.2, row=1)
    d.flow("sign_warn", "end_sign_warned")
    d.node(
        "signed_or_returned",
        "exclusiveGateway",
        "签收或退单? Sign or return?",
        "handler",
        col + 1,
        default="flow_signed",
    )
    d.node(
        "record_return",
        "scriptTask",
        "记录退单 Record return",
        "dispatcher",
        col + 2,
        row=1,
        script="return_count = return_count + 1\nreturned_by = lead_department",
    )
    user_task(
        d,
        "review_return",
        "退单审核 Review return",
        "dispatcher",
        col + 3,
        row=1,
        step="review_return",
        form="common/review_return",
        status="return_requested",
        group="platform",
    )
    clock(d, "review_return", "review")
    d.node(
        "return_decision",
        "exclusiveGateway",
        "同意退单? Approve return?",
        "dispatcher",
        col + 4,
        row=1,
        default="flow_return_rejected",
    )
    d.node(
        "record_sign",
        "scriptTask",
        "记录签收 Record sign-for",
        "handler",
        col + 2,
        script="signed_at = now()",
    )
    d.flow("sign_for", "signed_or_returned")
    d.flow("signed_or_returned", "record_return", "退单 return", condition="action == 'return'")
    d.flow("signed_or_returned", "record_sign", "签收 sign", id="flow_signed")
    d.flow("record_return", "review_return")
    d.flow("review_return", "return_decision")
    d.flow(
        "return_decision",
        "dispatch",
        "同意, 改派 approve: re-dispatch",
        condition="decision == 'approve'",
        route="above",
    )
    d.flow("return_decision", "sign_for", "驳回 reject", id="flow_return_rejected", route="below")
    return col + 3


EXTEND_SCRIPT = """reply_due = after_from(reply_due, {'value': approved_days, 'unit': 'workdays'})
warn_at = warn_time(now(), reply_due, policy['warn_share'], policy['reply']['unit'])
extension_count = extension_count + 1
extension_days_total = extension_days_total + approved_days"""
RESUME_SCRIPT = """reply_due = resume_due(reply_due, paused_at, policy['reply']['unit'])
warn_at = warn_time(now(), reply_due, policy['warn_share'], policy['reply']['unit'])
paused_at = None"""


def handle(d: Diagram, col: float, *, extension: bool, suspension: bool) -> float:
    """Handling with yellow/red timers, supervision, extension and suspension side paths."""
    form = {
        (True, True): "common/handle",
        (True, False): "common/handle_extension",
        (False, False): "common/reply",
    }[(extension, suspension)]
    user_task(
        d,
        "handle",
        "办理答复 Handle and reply",
        "handler",
        col,
        step="handle",
        form=form,
        status="in_progress",
        group="lead_department",
    )
    d.flow("record_sign", "handle")
    d.node(
        "warn",
        "boundaryEvent",
        "黄牌预警 Yellow warning",
        "handler",
        col - 0.25,
        attached_to="handle",
        timer=("timeDate", "warn_at"),
        props={"effect": "warn"},
    )
    d.node("end_warned", "endEvent", "已预警 Warned", "handler", col + 0.6, row=1)
    d.flow("warn", "end_warned")
    d.node(
        "overdue",
        "boundaryEvent",
        "红牌超期 Overdue",
        "handler",
        col + 0.25,
        attached_to="handle",
        timer=("timeDate", "reply_due"),
        props={"effect": "overdue"},
    )
    user_task(
        d,
        "supervise",
        "督办 Supervise",
        "supervisor",
        col + 1,
        step="supervise",
        form="common/supervise",
        status=None,
        group=None,
    )
    clock(d, "supervise", "review")
    d.node(
        "supervise_action",
        "exclusiveGateway",
        "督办单? Order?",
        "supervisor",
        col + 1.65,
        default="flow_chased",
    )
    d.node(
        "send_supervision_order",
        "intermediateThrowEvent",
        "发督办单 Send order",
        "supervisor",
        col + 2.1,
        row=1,
        signal=SUPERVISION_ORDER,
    )
    d.node("end_supervised", "endEvent", "已督办 Supervised", "supervisor", col + 2.3)
    d.flow("overdue", "supervise")
    d.flow("supervise", "supervise_action")
    d.flow(
        "supervise_action",
        "send_supervision_order",
        "督办单 order",
        condition="action == 'supervision_order'",
    )
    d.flow("supervise_action", "end_supervised", "催办 chase", id="flow_chased")
    d.flow("send_supervision_order", "end_supervised")
    supervision_order(d, col)
    d.node(
        "handle_action",
        "exclusiveGateway",
        "答复或申请? Reply or request?",
        "handler",
        col + 1,
        default="flow_reply",
    )
    d.flow("handle", "handle_action")
    if extension:
        user_task(
            d,
            "review_extension",
            "延期审核 Review extension",
            "dispatcher",
            col + 1,
            row=2,
            step="review_extension",
            form="common/review_extension",
            status="extension_requested",
            group="platform",
        )
        clock(d, "review_extension", "review")
        d.node(
            "extension_decision",
            "exclusiveGateway",
            "同意延期? Approve?",
            "dispatcher",
            col + 2,
            row=2,
            default="flow_extension_refused",
        )
        d.node(
            "extend",
            "scriptTask",
            "延长时限 Extend deadline",
            "dispatcher",
            col + 3,
            row=2,
            script=EXTEND_SCRIPT,
        )
        d.flow(
            "handle_action",
            "review_extension",
            "申请延期 extension",
            condition="action == 'request_extension'",
        )
        d.flow("review_extension", "extension_decision")
        d.flow("extension_decision", "extend", "同意 approve", condition="decision == 'approve'")
        d.flow("extend", "handle", route="above")
        d.flow(
            "extension_decision",
            "handle",
            "不同意 refuse",
            id="flow_extension_refused",
            route="above",
        )
    if suspension:
        user_task(
            d,
            "review_suspension",
            "挂起审核 Review suspension",
            "dispatcher",
            col + 1,
            row=3,
            step="review_suspension",
            form="common/review_suspension",
            status="suspension_requested",
            group="platform",
        )
        clock(d, "review_suspension", "review")
        d.node(
            "suspension_decision",
            "exclusiveGateway",
            "同意挂起? Approve?",
            "dispatcher",
            col + 2,
            row=3,
            default="flow_suspension_refused",
        )
        d.node(
            "pause",
            "scriptTask",
            "暂停计时 Pause clock",
            "dispatcher",
            col + 3,
            row=3,
            script="paused_at = now()",
        )
        user_task(
            d,
            "resume",
            "恢复办理 Resume",
            "handler",
            col + 3,
            row=2,
            step="resume",
            form="common/resume",
            status="suspended",
            group="lead_department",
        )
        clock(d, "resume", "suspension_max")
        d.node(
            "unpause",
            "scriptTask",
            "顺延时限 Shift deadline",
            "handler",
            col + 4,
            row=2,
            script=RESUME_SCRIPT,
        )
        d.flow(
            "handle_action",
            "review_suspension",
            "申请挂起 suspension",
            condition="action == 'request_suspension'",
        )
        d.flow("review_suspension", "suspension_decision")
        d.flow("suspension_decision", "pause", "同意 approve", condition="decision == 'approve'")
        d.flow("pause", "resume")
        d.flow("resume", "unpause")
        d.flow("unpause", "handle", route="below")
        d.flow(
            "suspension_decision",
            "handle",
            "不同意 refuse",
            id="flow_suspension_refused",
            route="below",
        )
    d.node(
        "record_reply",
        "scriptTask",
        "记录答复 Record reply",
        "handler",
        col + 2,
        script="replied_at = now()",
    )
    d.flow("handle_action", "record_reply", "答复 reply", id="flow_reply")
    return col + 3


SUPERVISION_ORDER = "supervision_order"


def supervision_order(d: Diagram, col: float) -> None:
    """A supervision order (督办单), from the supervise task or sent to the case by a
    supervisor at any time (the signal ``supervision_order``): a non-interrupting event
    sub-process, one per order, so the case stays where it is. The lead department answers
    in writing before the order's deadline (policy ``supervision``); an order ignored past
    it also goes to the centre's lead (policy ``review``), while the answer stays due.
    Drawn left of the handling task, below sign-for, where the lanes it crosses are empty."""
    d.signals.append(SUPERVISION_ORDER)
    sub = "supervision_order_process"
    d.node(sub, "subProcess", "督办单 Supervision order", "handler", col)
    d.node(
        "supervision_order_received",
        "startEvent",
        "收到督办单 Order received",
        "handler",
        col - 4.4,
        row=2,
        signal=SUPERVISION_ORDER,
        parent=sub,
    )
    d.node(
        "record_supervision_order",
        "scriptTask",
        "记录督办 Record order",
        "handler",
        col - 3.6,
        row=2,
        script="ordered_at = now()\norder_note = note",
        parent=sub,
    )
    user_task(
        d,
        "answer_supervision",
        "督办回复 Answer supervision",
        "handler",
        col - 2.6,
        row=2,
        step="answer_supervision",
        form="common/answer_supervision",
        status=None,
        group="lead_department",
    ).parent = sub
    clock(d, "answer_supervision", "supervision")
    # the red clock of an ignored order leads to the centre's lead instead of an end
    d.nodes.pop("end_answer_supervision_late")
    d.flows = [f for f in d.flows if f.source != "answer_supervision_late"]
    d.node("end_supervision_answered", "endEvent", "已回复 Answered", "handler", col - 1.6, row=2)
    user_task(
        d,
        "lead_supervise",
        "领导督办 Lead supervision",
        "lead",
        col - 1.6,
        step="lead_supervise",
        form="common/lead_supervise",
        status=None,
        group=None,
    ).parent = sub
    clock(d, "lead_supervise", "review")
    d.node("end_lead_supervised", "endEvent", "已批示 Instructed", "lead", col - 0.8)
    d.flow("supervision_order_received", "record_supervision_order")
    d.flow("record_supervision_order", "answer_supervision")
    d.flow("answer_supervision", "end_supervision_answered")
    d.flow("answer_supervision_late", "lead_supervise")
    d.flow("lead_supervise", "end_lead_supervised")
    for node_id in list(d.nodes):
        node = d.nodes[node_id]
        if node.attached_to in ("answer_supervision", "lead_supervise") or node_id in (
            "end_answer_supervision_warn",
            "end_lead_supervise_warn",
            "end_lead_supervise_late",
            "end_supervision_answered",
            "end_lead_supervised",
        ):
            node.parent = sub


def review_callback_close(d: Diagram, col: float, *, review: bool) -> None:
    prev = "record_reply"
    if review:
        d.node(
            "review_required",
            "exclusiveGateway",
            "需审核? Review?",
            "dispatcher",
            col,
            default="flow_no_review",
        )
        user_task(
            d,
            "review_reply",
            "答复审核 Review reply",
            "dispatcher",
            col + 1,
            step="review_reply",
            form="common/review_reply",
            status="replied",
            group="platform",
        )
        clock(d, "review_reply", "review")
        d.node(
            "review_decision",
            "exclusiveGateway",
            "通过? Accepted?",
            "dispatcher",
            col + 2,
            default="flow_reply_accepted",
        )
        d.flow(prev, "review_required")
        d.flow("review_required", "review_reply", "是 yes", condition="policy['review_required']")
        d.flow("review_reply", "review_decision")
        d.flow(
            "review_decision",
            "handle",
            "退回重办 redo",
            condition="decision == 'redo'",
            route="above",
        )
        col += 3
    d.node(
        "callback_required",
        "exclusiveGateway",
        "需回访? Callback?",
        "callback",
        col,
        default="flow_no_callback",
    )
    if review:
        d.flow("review_decision", "callback_required", "通过 accept", id="flow_reply_accepted")
        d.flow("review_required", "callback_required", "否 no", id="flow_no_review")
    else:
        d.flow(prev, "callback_required")
    callback(d, col + 1)


CALLBACK_DUE_SCRIPT = """callback_due = after(policy['callback'])
unreached_count = 0
first_unreached_at = None"""
#: an unreached attempt: counted, and whether the attempts now span ``callback_span`` (the
#: working day of this attempt is at least that many working days after the first's)
UNREACHED_SCRIPT = """unreached_count = unreached_count + 1
first_unreached_at = first_unreached_at or now()
span_covered = after_from(first_unreached_at, policy['callback_span']) <= after_from(now(), {'value': 0, 'unit': policy['callback_span']['unit']})"""
REOPEN_SCRIPT = (
    "reopen_count = reopen_count + 1\n"
    "reply_due = after(policy['reopen'])\n"
    "warn_at = warn_time(now(), reply_due, policy['warn_share'], policy['reopen']['unit'])\n"
    "replied_at = None"
)


def callback(d: Diagram, col: float) -> None:
    """The callback team calls the citizen back, against one deadline set before the first
    attempt: reached (rated, maybe reopened), rating declined (closes), or not reached (tried
    again until ``callback_attempts`` attempts spanning ``callback_span``, then closes)."""
    d.node(
        "set_callback_due",
        "scriptTask",
        "回访时限 Callback deadline",
        "callback",
        col,
        script=CALLBACK_DUE_SCRIPT,
    )
    user_task(
        d,
        "callback",
        "回访 Call back",
        "callback",
        col + 1,
        step="callback",
        form="common/callback",
        status="awaiting_callback",
        group=None,
    )
    clock(d, "callback", "callback", due="callback_due")
    d.node(
        "record_callback",
        "scriptTask",
        "记录回访 Record callback",
        "callback",
        col + 2,
        script="callback_at = now()",
    )
    d.node(
        "contact_result",
        "exclusiveGateway",
        "联系上? Reached?",
        "callback",
        col + 3,
        default="flow_reached",
    )
    d.node(
        "reopen_needed",
        "exclusiveGateway",
        "重办? Reopen?",
        "callback",
        col + 4,
        default="flow_no_reopen",
    )
    d.node("reopen", "scriptTask", "重办 Reopen", "callback", col + 5, row=1, script=REOPEN_SCRIPT)
    d.node("close", "scriptTask", "办结 Close", "callback", col + 6, script="closed_at = now()")
    d.node(
        "end_closed",
        "endEvent",
        "办结 Closed",
        "callback",
        col + 7,
        props={"outcome": "handled"},
        terminate=True,
    )
    d.node(
        "record_unreached",
        "scriptTask",
        "记录未联系上 Record unreached",
        "callback",
        col + 4,
        row=2,
        script=UNREACHED_SCRIPT,
    )
    d.node(
        "attempts_done",
        "exclusiveGateway",
        "次数已满? Attempts done?",
        "callback",
        col + 5,
        row=2,
        default="flow_try_again",
    )
    d.node(
        "close_not_reached",
        "scriptTask",
        "办结 Close",
        "callback",
        col + 6,
        row=2,
        script="closed_at = now()",
    )
    d.node(
        "end_not_reached",
        "endEvent",
        "办结, 未联系上 Closed, not reached",
        "callback",
        col + 7,
        row=2,
        props={"outcome": "not_reached"},
        terminate=True,
    )
    d.node(
        "close_rating_declined",
        "scriptTask",
        "办结 Close",
        "callback",
        col + 6,
        row=3,
        script="closed_at = now()",
    )
    d.node(
        "end_rating_declined",
        "endEvent",
        "办结, 拒绝评价 Closed, rating declined",
        "callback",
        col + 7,
        row=3,
        props={"outcome": "rating_declined"},
        terminate=True,
    )
    d.flow(
        "callback_required", "set_callback_due", "是 yes", condition="policy['callback_required']"
    )
    d.flow("callback_required", "close", "否 no", id="flow_no_callback", route="below")
    d.flow("set_callback_due", "callback")
    d.flow("callback", "record_callback")
    d.flow("record_callback", "contact_result")
    d.flow("contact_result", "reopen_needed", "联系上 reached", id="flow_reached")
    d.flow(
        "contact_result",
        "record_unreached",
        "未联系上 not reached",
        condition="contact_result == 'not_reached'",
    )
    d.flow(
        "contact_result",
        "close_rating_declined",
        "拒绝评价 rating declined",
        condition="contact_result == 'rating_declined'",
    )
    d.flow("reopen_needed", "reopen", "不满意重办 reopen", condition="reopen")
    d.flow("reopen", "handle", route="below")
    d.flow("reopen_needed", "close", "否 no", id="flow_no_reopen")
    d.flow("close", "end_closed")
    d.flow("record_unreached", "attempts_done")
    d.flow(
        "attempts_done",
        "close_not_reached",
        "是 yes",
        condition="unreached_count >= policy['callback_attempts'] and span_covered",
    )
    d.flow("attempts_done", "callback", "再次回访 try again", id="flow_try_again", route="below")
    d.flow("close_not_reached", "end_not_reached")
    d.flow("close_rating_declined", "end_rating_declined")


COHANDLE_SCRIPT = """cohandle_new = [c for c in co_departments or [] if c not in cohandle_asked]
cohandle_asked = cohandle_asked + cohandle_new"""


def cohandling(d: Diagram, *, after: str, before: str, col: float) -> None:
    """Co-handling units (协办) each get a task to send their part to the lead, with their
    own (shorter) clock, on a branch of their own that never holds up the case: the closing
    end event terminates it. Inserted on the main path between ``after`` and ``before``; only
    the units not asked on an earlier pass (a re-dispatch after a return) get a new task."""
    d.flows = [f for f in d.flows if (f.source, f.target) != (after, before)]
    d.node(
        "cohandle_units",
        "scriptTask",
        "协办单位 Co-handling units",
        "dispatcher",
        col + 0.8,
        row=2,
        script=COHANDLE_SCRIPT,
    )
    d.node("cohandle_fork", "parallelGateway", "并行 Fork", "dispatcher", col + 1.5, row=2)
    task = user_task(
        d,
        "cohandle",
        "协办 Co-handle",
        "handler",
        col + 2.4,
        step="cohandle",
        form="common/cohandle",
        status=None,
        group="cohandle_department",
    )
    task.each = ("cohandle_new", "cohandle_department")
    clock(d, "cohandle", "cohandle")
    d.node("end_cohandled", "endEvent", "协办完毕 Co-handled", "handler", col + 3.4)
    d.flow(after, "cohandle_units")
    d.flow("cohandle_units", "cohandle_fork")
    d.flow("cohandle_fork", before)
    d.flow("cohandle_fork", "cohandle")
    d.flow("cohandle", "end_cohandled")


def full_case(key: str, name: str, *, suspension: bool, review: bool, extension: bool = True):
    d = Diagram(key, name)
    intake(d)
    col = dispatch(d, 2)
    cohandling(d, after="set_deadlines", before="lead_is_platform", col=3)
    col = sign_and_return(d, col)
    col = handle(d, col, extension=extension, suspension=suspension)
    review_callback_close(d, col, review=review)
    return d


DIAGRAMS = {
    "complaint": lambda: full_case("complaint", "投诉 Complaint", suspension=True, review=True),
    "report": lambda: full_case("report", "举报 Report (tip-off)", suspension=True, review=True),
    "consultation": lambda: full_case(
        "consultation", "咨询 Consultation", suspension=False, review=False
    ),
    "help_request": lambda: full_case(
        "help_request", "求助 Help request", suspension=True, review=False
    ),
    "suggestion": lambda: full_case(
        "suggestion",
        "建议与表扬 Suggestion and praise",
        suspension=False,
        review=False,
        extension=False,
    ),
}


# -- XML -------------------------------------------------------------------------------------


def _size(n: Node) -> tuple[int, int]:
    if n.kind.endswith("Event"):
        return SIZES["event"]
    if n.kind.endswith("Gateway"):
        return SIZES["gateway"]
    return SIZES["task"]


class Layout:
    def __init__(self, d: Diagram) -> None:
        self.d = d
        rows = {lane: 0 for lane, _ in LANES}
        for n in d.nodes.values():
            if n.kind == "subProcess":
                continue
            rows[n.lane] = max(rows[n.lane], n.row + (1 if n.kind != "boundaryEvent" else 0))
        self.lane_y: dict[str, tuple[int, int]] = {}
        y = 60
        for lane, _ in lanes_of(d):
            h = max(rows[lane], 1) * ROW_H + 40
            self.lane_y[lane] = (y, h)
            y += h
        self.height = y - 60
        self.width = int(max(n.col for n in d.nodes.values()) * COL_W + 260)

    def bounds(self, n: Node) -> tuple[float, float, int, int]:
        if n.kind == "subProcess":
            return self.container_bounds(n)
        w, h = _size(n)
        if n.attached_to:
            host = self.d.nodes[n.attached_to]
            hx, hy, hw, hh = self.bounds(host)
            offset = hw * (0.5 + (n.col - host.col))
            return hx + offset - w / 2, hy + hh - h / 2, w, h
        ly, _ = self.lane_y[n.lane]
        cx = LANE_X + 90 + n.col * COL_W
        cy = ly + 20 + ROW_H / 2 + n.row * ROW_H
        return cx - w / 2, cy - h / 2, w, h

    def container_bounds(self, n: Node) -> tuple[float, float, int, int]:
        """An expanded sub-process: the box around its children, with a margin."""
        boxes = [self.bounds(c) for c in self.d.nodes.values() if c.parent == n.id]
        x0 = min(b[0] for b in boxes) - 30
        y0 = min(b[1] for b in boxes) - 30
        x1 = max(b[0] + b[2] for b in boxes) + 30
        y1 = max(b[1] + b[3] for b in boxes) + 40
        return x0, y0, int(x1 - x0), int(y1 - y0)

    def waypoints(self, f: Flow) -> list[tuple[float, float]]:
        s, t = self.d.nodes[f.source], self.d.nodes[f.target]
        sx, sy, sw, sh = self.bounds(s)
        tx, ty, tw, th = self.bounds(t)
        if s.attached_to:  # leave a boundary event downwards, then go right
            start = (sx + sw / 2, sy + sh)
            return (
                [start, (start[0], ty + th / 2), (tx, ty + th / 2)]
                if tx > start[0]
                else [start, (start[0], ty), (tx + tw / 2, ty)]
            )
        backwards = tx + tw / 2 <= sx + sw / 2
        if backwards or f.route in ("above", "below"):
            if f.route == "above" or (f.route == "auto" and ty < sy):
                y = min(sy, ty) - 18
                return [(sx + sw / 2, sy), (sx + sw / 2, y), (tx + tw / 2, y), (tx + tw / 2, ty)]
            y = max(sy + sh, ty + th) + 18
            return [
                (sx + sw / 2, sy + sh),
                (sx + sw / 2, y),
                (tx + tw / 2, y),
                (tx + tw / 2, ty + th),
            ]
        a = (sx + sw, sy + sh / 2)
        b = (tx, ty + th / 2)
        if abs(a[1] - b[1]) < 1:
            return [a, b]
        mid = a[0] + max(15, (b[0] - a[0]) / 2)
        return [a, (mid, a[1]), (mid, b[1]), b]


def _write_elements(w, d: Diagram, parent: str | None, pad: str, incoming, outgoing) -> None:
    """The flow nodes and sequence flows of the process (``parent`` None) or of one
    sub-process, nested inside it."""
    for n in d.nodes.values():
        if n.parent != parent:
            continue
        attrs = f'id="{n.id}" name={quoteattr(n.name)}'
        if n.kind == "subProcess":
            w(f'{pad}<bpmn:subProcess {attrs} triggeredByEvent="true">')
            _write_elements(w, d, n.id, pad + "  ", incoming, outgoing)
            w(f"{pad}</bpmn:subProcess>")
            continue
        if n.default:
            attrs += f' default="{n.default}"'
        if n.attached_to:
            attrs += f' attachedToRef="{n.attached_to}"'
            attrs += f' cancelActivity="{"true" if n.interrupting else "false"}"'
        if n.kind == "startEvent" and n.parent and not n.interrupting:
            attrs += ' isInterrupting="false"'
        w(f"{pad}<bpmn:{n.kind} {attrs}>")
        if n.props:
            w(f"{pad}  <bpmn:extensionElements>")
            w(f"{pad}    <spiffworkflow:properties>")
            for k, v in n.props.items():
                w(f'{pad}      <spiffworkflow:property name="{k}" value={quoteattr(v)} />')
            w(f"{pad}    </spiffworkflow:properties>")
            w(f"{pad}  </bpmn:extensionElements>")
        for fid in incoming[n.id]:
            w(f"{pad}  <bpmn:incoming>{fid}</bpmn:incoming>")
        for fid in outgoing[n.id]:
            w(f"{pad}  <bpmn:outgoing>{fid}</bpmn:outgoing>")
        if n.timer:
            tag, expr = n.timer
            w(f'{pad}  <bpmn:timerEventDefinition id="{n.id}_timer">')
            w(f"{pad}    <bpmn:{tag}>{escape(expr)}</bpmn:{tag}>")
            w(f"{pad}  </bpmn:timerEventDefinition>")
        if n.signal:
            w(
                f'{pad}  <bpmn:signalEventDefinition id="{n.id}_signal" signalRef="Signal_{n.signal}" />'
            )
        if n.terminate:
            w(f'{pad}  <bpmn:terminateEventDefinition id="{n.id}_terminate" />')
        if n.script:
            w(f"{pad}  <bpmn:script>{escape(n.script)}</bpmn:script>")
        if n.each:
            collection, item = n.each
            w(f"{pad}  <bpmn:multiInstanceLoopCharacteristics>")
            w(f"{pad}    <bpmn:loopDataInputRef>{collection}</bpmn:loopDataInputRef>")
            w(f'{pad}    <bpmn:inputDataItem id="{item}" name="{item}" />')
            w(f"{pad}  </bpmn:multiInstanceLoopCharacteristics>")
        w(f"{pad}</bpmn:{n.kind}>")
    for f in d.flows:
        if d.nodes[f.source].parent != parent:
            continue
        name = f" name={quoteattr(f.name)}" if f.name else ""
        if f.condition:
            w(
                f'{pad}<bpmn:sequenceFlow id="{f.id}"{name} sourceRef="{f.source}"'
                f' targetRef="{f.target}">'
            )
            w(f"{pad}  <bpmn:conditionExpression>{escape(f.condition)}</bpmn:conditionExpression>")
            w(f"{pad}</bpmn:sequenceFlow>")
        else:
            w(
                f'{pad}<bpmn:sequenceFlow id="{f.id}"{name} sourceRef="{f.source}"'
                f' targetRef="{f.target}" />'
            )


def render(d: Diagram) -> str:
    lay = Layout(d)
    incoming: dict[str, list[str]] = {n: [] for n in d.nodes}
    outgoing: dict[str, list[str]] = {n: [] for n in d.nodes}
    for f in d.flows:
        outgoing[f.source].append(f.id)
        incoming[f.target].append(f.id)
    out: list[str] = []
    w = out.append
    w('<?xml version="1.0" encoding="UTF-8"?>')
    w(
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"'
        ' xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"'
        ' xmlns:di="http://www.omg.org/spec/DD/20100524/DI"'
        ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"'
        f' id="Definitions_{d.key}" targetNamespace="https://hotline.example/bpmn"'
        ' exporter="hotline scripts/gen_diagrams.py" exporterVersion="1">'
    )
    w(f'  <bpmn:collaboration id="Collaboration_{d.key}">')
    w(
        f'    <bpmn:participant id="Participant_{d.key}" name={quoteattr(d.name)}'
        f' processRef="{d.key}" />'
    )
    w("  </bpmn:collaboration>")
    for signal in d.signals:
        w(f'  <bpmn:signal id="Signal_{signal}" name="{signal}" />')
    w(f'  <bpmn:process id="{d.key}" name={quoteattr(d.name)} isExecutable="true">')
    w(f'    <bpmn:laneSet id="LaneSet_{d.key}">')
    for lane, label in lanes_of(d):
        w(f'      <bpmn:lane id="Lane_{lane}" name="{lane}">')
        w(f"        <bpmn:documentation>{escape(label)}</bpmn:documentation>")
        for n in d.nodes.values():
            if n.lane == lane and n.kind != "subProcess":
                w(f"        <bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>")
        w("      </bpmn:lane>")
    w("    </bpmn:laneSet>")
    # a multi-instance's collection is declared as a data object: BPMN tools resolve
    # loopDataInputRef by id (bpmn-js drops an unresolved one when it saves the diagram);
    # the engine reads the collection from the task data, where the script put it
    for collection in dict.fromkeys(n.each[0] for n in d.nodes.values() if n.each):
        w(f'    <bpmn:dataObject id="{collection}" name="{collection}" />')
    _write_elements(w, d, None, "    ", incoming, outgoing)
    w("  </bpmn:process>")
    w(f'  <bpmndi:BPMNDiagram id="BPMNDiagram_{d.key}">')
    w(f'    <bpmndi:BPMNPlane id="BPMNPlane_{d.key}" bpmnElement="Collaboration_{d.key}">')
    pool_x = LANE_X - POOL_LABEL_W
    w(
        f'      <bpmndi:BPMNShape id="Participant_{d.key}_di" bpmnElement="Participant_{d.key}"'
        ' isHorizontal="true">'
    )
    w(
        f'        <dc:Bounds x="{pool_x}" y="60" width="{lay.width + POOL_LABEL_W}"'
        f' height="{lay.height}" />'
    )
    w("      </bpmndi:BPMNShape>")
    for lane, _ in lanes_of(d):
        y, h = lay.lane_y[lane]
        w(
            f'      <bpmndi:BPMNShape id="Lane_{lane}_di" bpmnElement="Lane_{lane}"'
            ' isHorizontal="true">'
        )
        w(f'        <dc:Bounds x="{LANE_X}" y="{y}" width="{lay.width}" height="{h}" />')
        w("      </bpmndi:BPMNShape>")
    ordered = (
        [n for n in d.nodes.values() if n.kind == "subProcess"]
        + [n for n in d.nodes.values() if not n.attached_to and n.kind != "subProcess"]
        + [n for n in d.nodes.values() if n.attached_to]
    )
    for n in ordered:
        x, y, bw, bh = lay.bounds(n)
        extra = ' isMarkerVisible="true"' if n.kind == "exclusiveGateway" else ""
        extra += ' isExpanded="true"' if n.kind == "subProcess" else ""
        w(f'      <bpmndi:BPMNShape id="{n.id}_di" bpmnElement="{n.id}"{extra}>')
        w(f'        <dc:Bounds x="{x:g}" y="{y:g}" width="{bw}" height="{bh}" />')
        if not n.kind.endswith("Task") and n.kind != "subProcess":
            w("        <bpmndi:BPMNLabel>")
            w(
                f'          <dc:Bounds x="{x - 30:g}" y="{y + bh + 4:g}" width="{bw + 60}"'
                ' height="27" />'
            )
            w("        </bpmndi:BPMNLabel>")
        w("      </bpmndi:BPMNShape>")
    for f in d.flows:
        w(f'      <bpmndi:BPMNEdge id="{f.id}_di" bpmnElement="{f.id}">')
        for px, py in lay.waypoints(f):
            w(f'        <di:waypoint x="{px:g}" y="{py:g}" />')
        w("      </bpmndi:BPMNEdge>")
    w("    </bpmndi:BPMNPlane>")
    w("  </bpmndi:BPMNDiagram>")
    w("</bpmn:definitions>")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "bpmn")
    args = ap.parse_args()
    differ = []
    args.out.mkdir(exist_ok=True)
    for key, build in DIAGRAMS.items():
        text = render(build())
        path = args.out / f"{key}.bpmn"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                differ.append(path.name)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    if differ:
        print("differs from the generator:", ", ".join(differ))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
