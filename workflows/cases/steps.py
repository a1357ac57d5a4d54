"""The steps of a case: what each user task of a diagram is, named by its ``step`` property.

A diagram's element ids are the designer's; the hotline's rules (the return window and cap,
the extension limits, the dispatch checks), the dispatcher's queues, the task labels and the
simulator key on the step, so any diagram whose user tasks name their steps gets them::

    <spiffworkflow:property name="step" value="sign_for"/>

The engine projects the step into ``human_tasks.kind`` (:func:`step_of`, given to the runtime
by :func:`workflows.hotline.install`), and validation refuses a value outside :class:`Step`
(:func:`check_step`). A user task without a step is fine: no hotline rule applies to it.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

#: the extension property that names a user task's step
STEP_PROPERTY = "step"


class Step(StrEnum):
    DISPATCH = "dispatch"  # 派单
    REDISPATCH = "redispatch"  # 二级派单 (district platform)
    SIGN_FOR = "sign_for"  # 签收 or return
    REVIEW_RETURN = "review_return"  # 退单审核
    HANDLE = "handle"  # 办理答复, or ask for an extension or a suspension
    REVIEW_EXTENSION = "review_extension"  # 延期审核
    REVIEW_SUSPENSION = "review_suspension"  # 挂起审核
    RESUME = "resume"  # 恢复办理
    REVIEW_REPLY = "review_reply"  # 答复审核
    CALLBACK = "callback"  # 回访
    SUPERVISE = "supervise"  # 督办
    COHANDLE = "cohandle"  # 协办: a co-handling unit sends its part to the lead
    ANSWER_SUPERVISION = "answer_supervision"  # 督办回复: the unit answers a supervision order
    LEAD_SUPERVISE = "lead_supervise"  # 领导督办: an ignored order reaches the centre's lead


@dataclass(frozen=True)
class StepLabel:
    zh: str
    en: str

    def in_language(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


#: every step's label, in the order a case meets them
STEP_LABELS: dict[Step, StepLabel] = {
    Step.DISPATCH: StepLabel("派单", "Dispatch"),
    Step.REDISPATCH: StepLabel("二级派单", "Re-dispatch"),
    Step.SIGN_FOR: StepLabel("签收", "Sign for"),
    Step.REVIEW_RETURN: StepLabel("退单审核", "Review return"),
    Step.HANDLE: StepLabel("办理答复", "Handle and reply"),
    Step.REVIEW_EXTENSION: StepLabel("延期审核", "Review extension"),
    Step.REVIEW_SUSPENSION: StepLabel("挂起审核", "Review suspension"),
    Step.RESUME: StepLabel("恢复办理", "Resume"),
    Step.REVIEW_REPLY: StepLabel("答复审核", "Review reply"),
    Step.CALLBACK: StepLabel("回访", "Call back"),
    Step.SUPERVISE: StepLabel("督办", "Supervise"),
    Step.COHANDLE: StepLabel("协办", "Co-handle"),
    Step.ANSWER_SUPERVISION: StepLabel("督办回复", "Answer supervision"),
    Step.LEAD_SUPERVISE: StepLabel("领导督办", "Lead supervision"),
}

#: The element ids of the bundled diagrams' user tasks before tasks named their steps (each
#: id was its step). Kept frozen: it only reads definitions deployed before then.
LEGACY_STEP_IDS = frozenset(
    {
        "dispatch",
        "redispatch",
        "sign_for",
        "review_return",
        "handle",
        "review_extension",
        "review_suspension",
        "resume",
        "review_reply",
        "callback",
        "supervise",
    }
)


def check_step(value: str) -> str | None:
    """Why ``value`` is not a step (validation's message), or None when it is one."""
    if value in Step._value2member_map_:
        return None
    return f"unknown step {value!r}: a step is one of {', '.join(Step)}"


def step_of(task_spec: Any) -> str | None:
    """The step a user task's spec names, for the engine's ``human_tasks.kind``.

    A process that names no step at all was deployed before tasks named their steps (its
    instances may still be running): there, a user task whose id is one of the bundled
    diagrams' ids is that step, as the hotline read it then.
    """
    properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
    step = properties.get(STEP_PROPERTY)
    if step is not None:
        return step
    if task_spec.name in LEGACY_STEP_IDS and not _names_steps(task_spec._wf_spec):
        return task_spec.name
    return None


_named: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
_named_lock = threading.Lock()


def _names_steps(process_spec: Any) -> bool:
    """Whether any task of a process spec names a step (asked once per parsed spec)."""
    with _named_lock:
        known = _named.get(process_spec)
    if known is None:
        known = any(
            STEP_PROPERTY in (getattr(spec, "extensions", None) or {}).get("properties", {})
            for spec in process_spec.task_specs.values()
        )
        with _named_lock:
            _named[process_spec] = known
    return known


#: the ``effect`` of the timers that are a deadline passing (the yellow ``warn`` only warns)
DEADLINE_EFFECTS = frozenset({"sign_overdue", "overdue", "task_overdue"})
#: the ``effect`` of a task's own clock (``clock`` names its policy limit): yellow, then red
TASK_WARN, TASK_OVERDUE = "task_warn", "task_overdue"


def is_deadline(timer_spec: Any) -> bool:
    """Whether a non-interrupting boundary timer is its task's deadline, for the engine's
    ``human_tasks.due_at``: the sign-for limit and the red reply deadline are; the yellow
    warning is not."""
    properties = (getattr(timer_spec, "extensions", None) or {}).get("properties", {})
    return properties.get("effect") in DEADLINE_EFFECTS
