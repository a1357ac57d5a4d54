"""Case flows: intake, task completion with the hotline's rules, merging, notes.

Each runs in one :func:`engine.db.unit_of_work`, engine step included, so the case row, the
workflow and the event log change together or not at all.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import in_unit_of_work, unit_of_work
from engine.errors import ConflictError, NotFound
from engine.models import Definition, HumanTask, ProcessInstance
from engine.runtime import StepResult

from ..cohandling import service as cohandling
from ..departments import service as departments
from ..dispatch.service import categories, suggest_department
from ..errors import DomainError, Forbidden, FormInvalid
from ..events import CaseEventKind, CaseMerged, InterimReplied, StatusChanged
from ..policy.service import get_policy, policy_data
from ..users.models import Role, User
from .enums import OPEN, CaseStatus, IntakeOutcome
from .models import Case, CaseNote
from .phones import canonical_phone
from .service import get_case, get_task_for, next_case_number
from .steps import Step

if TYPE_CHECKING:
    from ..hotline import Hotline

INTAKE_FORM = "common/intake"


class _LazyContext(dict):
    """A form's validation context whose option lists are read when a field asks for them:
    most task forms need none or one of them, and each is a query."""

    def __init__(self, providers: dict[str, Callable[[], Any]], **values: Any) -> None:
        super().__init__(values)
        self._providers = providers

    def __missing__(self, key: str) -> Any:
        provider = self._providers.get(key)
        if provider is None:
            raise KeyError(key)
        value = self[key] = provider()
        return value

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self, key) or key in self._providers


def form_context(
    session: Session,
    hotline: Hotline,
    *,
    form_key: str,
    group: str | None = None,
    lang: str = "zh",
) -> dict[str, Any]:
    """The dynamic options a form's ``valuesKey`` fields need (departments, categories...),
    each read from the database only when a field of the form asks for it."""

    @functools.cache
    def active() -> list:
        return departments.active_departments(session)

    def all_departments() -> list[dict[str, str]]:
        platform = departments.city_platform(session)
        return departments.as_options(
            [d for d in active() if platform is None or d.id != platform.id], lang
        )

    def sub_departments() -> list[dict[str, str]]:
        parent = departments.by_code(session, group) if group else None
        return departments.as_options(
            departments.children(session, parent=parent) if parent else [], lang
        )

    providers: dict[str, Callable[[], Any]] = {
        "departments": all_departments,
        "areas": lambda: departments.as_options(
            [d for d in active() if d.level == "district"], lang
        ),
        "categories": lambda: [{"value": c, "label": c} for c in categories(session)],
        "case_types": lambda: hotline.case_types.options(lang),
    }
    if group:
        providers["sub_departments"] = sub_departments
    return _LazyContext(providers, tz=hotline.tz)


def open_case(
    session: Session,
    hotline: Hotline,
    *,
    data: dict[str, Any],
    actor: str,
    lang: str = "zh",
    channel: str | None = None,
    details: dict[str, Any] | None = None,
) -> Case:
    """Intake: validate the call record, create the case and start its workflow, in one go.

    ``details``: the fields of the case type's own intake form (its ``details_form``: a
    consumer complaint's merchant, product...), checked by that form; the errors of both
    forms come together. Answered-at-once and not-accepted cases are closed by their workflow
    straight away.
    """
    form = hotline.forms.get(INTAKE_FORM)
    with unit_of_work(session):
        clean, errors = form.validate(
            data,
            context=form_context(session, hotline, form_key=INTAKE_FORM, lang=lang),
            lang=lang,
        )
        extra, details_form = {}, None
        spec = hotline.case_types.get(clean.get("case_type") or data.get("case_type"))
        if spec is not None and spec.details_form:
            details_form = hotline.forms.get(spec.details_form)
            extra, detail_errors = details_form.validate(
                details or {},
                context=form_context(session, hotline, form_key=spec.details_form, lang=lang),
                lang=lang,
            )
            errors = {**detail_errors, **errors}
        elif details:
            errors = {
                **errors,
                "details": [
                    "this case type has no fields of its own: send no details"
                    if spec is not None
                    else "choose the case type first"
                ],
            }
        if errors:
            raise FormInvalid(errors)
        if channel:
            clean["channel"] = channel
        # one caller, one number: stored as search and the caller's history match it
        clean["caller_phone"] = canonical_phone(clean.get("caller_phone"))
        now = hotline.clock.now()
        try:
            policy_row = get_policy(
                session,
                case_type=clean["case_type"],
                urgency=clean["urgency"],
                category=clean.get("category") or "",
            )
        except LookupError as exc:
            raise FormInvalid({"case_type": [str(exc)]}) from None
        policy = policy_data(policy_row)
        number = next_case_number(session, now_local=now.astimezone(hotline.tz))
        platform = departments.city_platform(session)
        if platform is None:
            raise DomainError(
                "no dispatch platform is configured (a department with is_platform "
                "and no parent); run `hotline init --demo` or add one"
            )
        suggested = suggest_department(
            session, category=clean.get("category") or "", area=clean.get("area") or ""
        )
        case = Case(
            number=number,
            case_type=clean["case_type"],
            urgency=clean["urgency"],
            channel=clean.get("channel") or "phone",
            category=clean.get("category") or "",
            status=str(CaseStatus.AWAITING_DISPATCH),
            caller_name=clean.get("caller_name") or "",
            caller_phone=clean.get("caller_phone") or "",
            address=clean.get("address") or "",
            area=clean.get("area") or "",
            lat=clean.get("lat"),
            lon=clean.get("lon"),
            description=clean.get("description") or "",
            intake_outcome=clean["intake_outcome"],
            answer=clean.get("answer") or "",
            not_accepted_reason=clean.get("not_accepted_reason") or "",
            created_by=actor,
            created_at=now,
            updated_at=now,
            callback_required=policy["callback_required"],
            policy=policy,
            first_contact_resolution=clean["intake_outcome"] == IntakeOutcome.ANSWERED,
            # a report hides its caller whatever was ticked (cases/confidentiality.py)
            confidential=bool(clean.get("confidential"))
            or hotline.case_types[clean["case_type"]].confidential,
            details=_jsonable(extra) if details_form is not None else None,
        )
        session.add(case)
        session.flush()
        process_data = {
            **(
                _jsonable(_with_all_fields(details_form, extra)) if details_form is not None else {}
            ),
            **_with_all_fields(form, clean),
            "case_number": number,
            "confidential": case.confidential,
            "policy": policy,
            "platform": platform.code,
            "suggested_department": suggested.code if suggested else None,
            "return_count": 0,
            "extension_count": 0,
            "extension_days_total": 0,
            "reopen_count": 0,
            "replied_at": None,
            "paused_at": None,
            "cohandle_asked": [],  # co-handling units given a task so far
        }
        process = hotline.case_types[case.case_type].process
        try:
            hotline.runtime.start(
                session, process, data=process_data, actor=actor, business_key=number
            )
        except NotFound:
            raise DomainError(
                f"case type {case.case_type!r} runs the diagram {process!r}, which is not "
                "deployed: run `hotline init` (or deploy it on the admin pages)"
            ) from None
        session.flush()
    return case


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """A form's clean values as JSON keeps them (dates and times as ISO 8601 text)."""
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}


def _with_all_fields(form: Any, clean: dict[str, Any]) -> dict[str, Any]:
    """Every field of the form present in the data: hidden or empty ones as None (False for
    checkboxes), so that a value from an earlier pass through a loop never lingers."""
    out = dict(clean)
    for field in form.fields:
        key = field["key"]
        if key not in out:
            out[key] = False if field.get("type") == "checkbox" else None
    return out


def complete_task(
    session: Session,
    hotline: Hotline,
    *,
    task_id: str,
    data: dict[str, Any],
    user: User,
    lang: str = "zh",
    expected_version: int | None = None,
    found: tuple[HumanTask, Case] | None = None,
    documents: Callable[[Case], object] | None = None,
) -> StepResult:
    """Validate a task's form submission against the form and the hotline's rules, then
    complete the task; the case row follows in the same transaction. ``found``: the task
    and case, when the caller has read them in its open unit of work. ``documents`` adds the
    files sent with the step (a reply's penalty notice), in the same transaction."""
    if found is not None and not in_unit_of_work(session):
        found = None  # read in an earlier transaction: read them again under the lock
    with unit_of_work(session):
        task, case = get_task_for(session, task_id=task_id, user=user, found=found)
        if task.assignee and task.assignee != user.username:
            raise ConflictError(
                f"task {task.name!r} of case {case.number} is claimed by {task.assignee}",
                what_happened=f"claimed by {task.assignee}",
            )
        if not task.form_key:
            raise DomainError(f"task {task.name!r} has no form")
        form = hotline.forms.for_instance(session, instance_id=task.instance_id, key=task.form_key)
        context = form_context(
            session,
            hotline,
            form_key=task.form_key,
            group=task.candidate_group,
            lang=lang,
        )
        clean, errors = form.validate(data, context=context, lang=lang)
        if not errors:
            errors = _rule_errors(session, hotline, task=task, case=case, data=clean, lang=lang)
        if errors:
            raise FormInvalid(errors)
        clean = _with_all_fields(form, clean)
        corrected: dict[str, list[str]] = {}
        if task.kind == Step.DISPATCH:
            lead = departments.by_code(session, clean["lead_department"])
            clean["lead_is_platform"] = bool(lead and lead.is_platform and lead.parent_id)
            corrected = _reclassify(session, case, clean, lang)
        try:
            result = hotline.runtime.complete_task(
                session,
                task_id,
                data=clean,
                actor=user.username,
                expected_version=expected_version,
            )
        except ConflictError as exc:
            # A deadline timer took the task first: the engine saved the timer's effect and
            # the rejected input; commit them (leave the block normally), then say so.
            conflict = exc
        else:
            if corrected:
                for key, (_old, new) in corrected.items():
                    setattr(case, key, new)
                hotline.runtime.record_event(
                    session,
                    task.instance_id,
                    CaseEventKind.RECLASSIFIED,
                    actor=user.username,
                    element_id=task.element_id,
                    payload={"case": case.number, "changes": corrected, "task": task.task_id},
                )
            if documents is not None:
                documents(case)
            if task.kind == Step.COHANDLE:
                cohandling.record_part(
                    session,
                    case=case,
                    task=task,
                    text=str(clean.get("cohandle_text") or ""),
                    author=user.username,
                    at=hotline.clock.now(),
                )
            return result
    raise conflict


#: what a dispatcher may correct at dispatch (the dispatch form's fields of the same keys)
RECLASSIFIABLE = ("category", "urgency")


def _reclassify(
    session: Session, case: Case, clean: dict[str, Any], lang: str
) -> dict[str, list[str]]:
    """The category and urgency a dispatcher corrected, ``{key: [old, new]}``; the form has
    checked each against its options (the category list, the urgency values). An empty field
    keeps the case's value; a change brings the deadline policy of the new values into the
    process data (the sign-for and reply deadlines set at dispatch follow it)."""
    changes: dict[str, list[str]] = {}
    for key in RECLASSIFIABLE:
        if key not in clean:  # a dispatch form without the field
            continue
        old = getattr(case, key) or ""
        new = clean.get(key) or old
        clean[key] = new  # never None into the process data
        if new != old:
            changes[key] = [old, new]
    if changes:
        try:
            row = get_policy(
                session,
                case_type=case.case_type,
                urgency=clean.get("urgency") or case.urgency,
                category=clean.get("category") or case.category or "",
            )
        except LookupError:
            raise FormInvalid(
                {
                    "urgency": [
                        _msg(
                            lang,
                            "该工单类型没有此紧急程度的时限规则",
                            "no deadline policy for this case type at this urgency",
                        )
                    ]
                }
            ) from None
        clean["policy"] = policy_data(row)
    return changes


def _diagram_reads(session: Session, instance_id: int, name: str) -> bool:
    """Whether the diagram an instance runs on mentions a process variable: a case started
    before callbacks could fail runs on a diagram that never reads ``contact_result``, and
    would close an unreached citizen's case as handled."""
    found = session.scalar(
        select(Definition.id)
        .join(ProcessInstance, ProcessInstance.definition_id == Definition.id)
        .where(ProcessInstance.id == instance_id, Definition.xml.contains(name))
    )
    return found is not None


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def _rule_errors(
    session: Session,
    hotline: Hotline,
    *,
    task: HumanTask,
    case: Case,
    data: dict[str, Any],
    lang: str,
) -> dict[str, list[str]]:
    """The hotline's rules that a form alone cannot know (limits, counts, deadlines)."""
    now = hotline.clock.now()
    policy = case.policy or {}
    errors: dict[str, list[str]] = {}
    if task.kind == Step.SIGN_FOR and data.get("action") == "return":
        if case.return_due is not None and now > case.return_due:
            local = case.return_due.astimezone(hotline.tz).strftime("%Y-%m-%d %H:%M")
            errors["action"] = [
                _msg(
                    lang,
                    f"退单期限已于 {local} 截止，请签收办理",
                    f"the return window closed at {local}: sign for it",
                )
            ]
        elif case.return_count >= policy.get("max_returns", 3):
            errors["action"] = [
                _msg(
                    lang,
                    f"本件已退单 {case.return_count} 次，不能再退单，请签收或联系派单员",
                    f"returned {case.return_count} times already: no more returns, sign for it "
                    "or call the dispatcher",
                )
            ]
    if (
        task.kind == Step.CALLBACK
        and data.get("contact_result") not in (None, "reached")
        and not _diagram_reads(session, task.instance_id, "contact_result")
    ):
        errors["contact_result"] = [
            _msg(
                lang,
                "本件的流程版本只能记录已联系上的回访（请联系管理员迁移到新版本）",
                "this case's workflow version records reached callbacks only (an "
                "administrator can move it to the new version)",
            )
        ]
    if task.kind == Step.DISPATCH and data.get("lead_department") in (
        data.get("co_departments") or []
    ):
        errors["co_departments"] = [
            _msg(lang, "协办单位不能包含主办单位", "the lead department cannot also co-handle")
        ]
    if task.kind == Step.HANDLE and data.get("action") in (None, "reply"):
        waiting = cohandling.cohandling_of(session, case=case, now=now).waiting_for
        if waiting:
            errors["reply_text"] = [_waiting_message(waiting, hotline, lang)]
    limit = (policy.get("extension_max") or {}).get("value", 10)
    used = _process_value(session, hotline, case, "extension_days_total", 0)
    if data.get("action") == "request_extension":
        if case.reply_due is not None and now >= case.reply_due:
            errors["action"] = [
                _msg(
                    lang,
                    "已超期，不能再申请延期",
                    "the deadline has passed: an extension must be asked before",
                )
            ]
        elif used + (data.get("extension_days") or 0) > limit:
            errors["extension_days"] = [
                _msg(
                    lang,
                    f"延期合计不能超过 {limit} 个工作日（已延 {used} 天）",
                    f"extensions may total at most {limit} working days ({used} used)",
                )
            ]
    if task.kind == Step.REVIEW_EXTENSION and data.get("decision") == "approve":
        asked = _process_value(session, hotline, case, "extension_days", None)
        days = data.get("approved_days") or 0
        if asked is not None and days > asked:
            errors["approved_days"] = [
                _msg(
                    lang,
                    f"不能超过申请的 {asked} 个工作日",
                    f"more than the {asked} working days asked",
                )
            ]
        elif used + days > limit:
            errors["approved_days"] = [
                _msg(
                    lang,
                    f"延期合计不能超过 {limit} 个工作日（已延 {used} 天）",
                    f"extensions may total at most {limit} working days ({used} used)",
                )
            ]
    return errors


def _waiting_message(waiting: list[cohandling.Pending], hotline: Hotline, lang: str) -> str:
    """Why the lead cannot reply yet: the co-handling units still to answer, each with the
    deadline after which the lead need not wait for it."""

    def by(p: cohandling.Pending) -> str:
        if p.due_at is None:
            return p.department_label(lang)
        local = p.due_at.astimezone(hotline.tz).strftime("%Y-%m-%d %H:%M")
        return _msg(
            lang,
            f"{p.department_label(lang)}（{local} 前）",
            f"{p.department_label(lang)} (by {local})",
        )

    units = _msg(lang, "、", ", ").join(by(p) for p in waiting)
    return _msg(
        lang,
        f"协办单位尚未反馈协办意见：{units}。请待其反馈或逾期后再答复",
        f"co-handling units have not sent their part yet: {units}. Reply once they have "
        "answered or their deadline has passed",
    )


def task_defaults(session: Session, hotline: Hotline, *, task: HumanTask, case: Case) -> dict:
    """What a task's form starts with from what the process knows: an extension review starts
    with the working days the department asked for (the reviewer may lower them)."""
    if task.kind == Step.REVIEW_EXTENSION:
        asked = _process_value(session, hotline, case, "extension_days", None)
        if asked:
            return {"approved_days": asked}
    if task.kind == Step.DISPATCH:  # the dispatcher corrects them if wrong (_reclassify)
        return {k: getattr(case, k) for k in RECLASSIFIABLE if getattr(case, k)}
    return {}


def returned_by(
    session: Session, hotline: Hotline, *, task: HumanTask, case: Case
) -> tuple[str, str] | None:
    """(department code, reason) of the return that sent a case back to dispatch, for a
    dispatch task after an approved return; None for a first dispatch."""
    if task.kind not in (Step.DISPATCH, Step.REDISPATCH) or case.instance_id is None:
        return None
    data = hotline.runtime.data(session, case.instance_id)
    code = data.get("returned_by")
    if not code:
        return None
    return str(code), str(data.get("return_reason") or "")


def _process_value(session: Session, hotline: Hotline, case: Case, key: str, default: Any) -> Any:
    if case.instance_id is None:
        return default
    return hotline.runtime.data(session, case.instance_id).get(key, default)


# -- merging duplicates ---------------------------------------------------------------------


def merge_case(
    session: Session,
    hotline: Hotline,
    *,
    duplicate_number: str,
    master_number: str,
    user: User,
    reason: str = "",
    recording: bool = False,
) -> Case:
    """Merge a duplicate into its master: the duplicate's workflow stops, and the duplicate
    is closed with the master's outcome when the master closes.

    ``recording``: the operator merges the case they are recording at intake, in its own
    transaction (workflows/insight/duplicates.py): allowed whatever their role, for a case
    they created and that was never dispatched."""
    if user.role not in (Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN) and not recording:
        raise Forbidden("only dispatchers and supervisors merge cases")
    if duplicate_number == master_number:
        raise DomainError("a case cannot be merged into itself")
    with unit_of_work(session):
        duplicate = _case_by_number(session, duplicate_number)
        master = _case_by_number(session, master_number)
        if recording and (
            duplicate.created_by != user.username or duplicate.dispatched_at is not None
        ):
            raise Forbidden("only the case being recorded is merged at intake")
        for case in (duplicate, master):
            if case.status not in OPEN:
                raise DomainError(f"case {case.number} is {case.status}: only open cases merge")
        if master.merged_into_id is not None:
            raise DomainError(f"case {master.number} is itself merged into another case")
        now = hotline.clock.now()
        previous = duplicate.status
        duplicate.status = CaseStatus.MERGED
        duplicate.merged_into_id = master.id
        duplicate.updated_at = now
        session.flush()
        if duplicate.instance_id is not None:
            hotline.runtime.cancel(
                session,
                duplicate.instance_id,
                actor=user.username,
                reason=f"merged into {master.number}" + (f": {reason}" if reason else ""),
            )
            hotline.runtime.record_event(
                session,
                duplicate.instance_id,
                CaseEventKind.STATUS,
                actor=user.username,
                payload={
                    "case": duplicate.number,
                    "from": previous,
                    "to": "merged",
                    "master": master.number,
                },
            )
        common = {
            "case_id": duplicate.id,
            "case_number": duplicate.number,
            "instance_id": duplicate.instance_id,
            "instance_version": None,
            "at": now,
            "actor": user.username,
        }
        hotline.events.publish(
            session,
            StatusChanged(
                **common, from_status=str(previous), to_status="merged", step=None, element_id=None
            ),
        )
        hotline.events.publish(
            session, CaseMerged(**common, master_number=master.number, from_status=str(previous))
        )
        if master.instance_id is not None:
            hotline.runtime.record_event(
                session,
                master.instance_id,
                CaseEventKind.MERGED_IN,
                actor=user.username,
                payload={"case": master.number, "duplicate": duplicate.number},
            )
    return duplicate


def _case_by_number(session: Session, number: str) -> Case:
    case = session.scalars(select(Case).where(Case.number == number)).first()
    if case is None:
        raise NotFound(f"case {number} does not exist")
    return case


def add_note(
    session: Session, hotline: Hotline, *, number: str, user: User, body: str, kind: str = "note"
) -> CaseNote:
    """A note on a case by anyone who can see it (co-handling units give their opinion here)."""
    if not body.strip():
        raise FormInvalid({"body": ["此项为必填项"]})
    with unit_of_work(session):
        case = get_case(session, number=number, user=user)
        note = CaseNote(
            case_id=case.id,
            author=user.username,
            department_id=user.department_id,
            kind=kind,
            body=body.strip(),
            created_at=hotline.clock.now(),
        )
        session.add(note)
        if case.instance_id is not None:
            hotline.runtime.record_event(
                session,
                case.instance_id,
                CaseEventKind.NOTE,
                actor=user.username,
                payload={"case": case.number, "kind": kind, "body": body.strip()},
            )
        session.flush()
    return note


# -- interim replies (阶段性答复) -------------------------------------------------------------

#: the ``case_notes.kind`` of an interim reply
INTERIM_REPLY = "interim_reply"
INTERIM_REPLY_MAX = 2000


def send_interim_reply(
    session: Session,
    hotline: Hotline,
    *,
    task_id: str,
    body: str,
    user: User,
    lang: str = "zh",
    found: tuple[HumanTask, Case] | None = None,
) -> CaseNote:
    """An interim reply (阶段性答复) by the unit holding a case's handling task: kept on the
    case, logged on its timeline and published for the citizen, while the task stays open.

    Checked in this order, each leaving nothing changed: NotFound, Forbidden (not the
    unit's task), DomainError (not waiting any more, or not a handling task), ConflictError
    (claimed by someone else), FormInvalid naming ``body`` (empty, too long)."""
    if found is not None and not in_unit_of_work(session):
        found = None
    with unit_of_work(session):
        task, case = get_task_for(session, task_id=task_id, user=user, found=found)
        if task.kind != Step.HANDLE:
            raise DomainError(
                _msg(
                    lang,
                    f"只有办理中的工单可以发送阶段性答复（此任务为 {task.name}）",
                    f"an interim reply is sent while handling the case, not from {task.name!r}",
                )
            )
        if task.assignee and task.assignee != user.username:
            raise ConflictError(
                f"task {task.name!r} of case {case.number} is claimed by {task.assignee}",
                what_happened=f"claimed by {task.assignee}",
            )
        text = (body or "").strip()
        if not text:
            raise FormInvalid(
                {"body": [_msg(lang, "请填写阶段性答复内容", "write the interim reply")]}
            )
        if len(text) > INTERIM_REPLY_MAX:
            raise FormInvalid(
                {
                    "body": [
                        _msg(
                            lang,
                            f"最多 {INTERIM_REPLY_MAX} 字，现有 {len(text)} 字",
                            f"at most {INTERIM_REPLY_MAX} characters; this has {len(text)}",
                        )
                    ]
                }
            )
        now = hotline.clock.now()
        note = CaseNote(
            case_id=case.id,
            author=user.username,
            department_id=user.department_id,
            kind=INTERIM_REPLY,
            body=text,
            created_at=now,
        )
        session.add(note)
        session.flush()
        hotline.runtime.record_event(
            session,
            task.instance_id,
            CaseEventKind.INTERIM_REPLY,
            actor=user.username,
            element_id=task.element_id,
            payload={"case": case.number, "body": text, "task": task.task_id},
        )
        hotline.events.publish(
            session,
            InterimReplied(
                case_id=case.id,
                case_number=case.number,
                instance_id=case.instance_id,
                instance_version=None,
                at=now,
                actor=user.username,
                task_id=task.task_id,
                department_code=task.candidate_group,
                body=text,
                note_id=note.id,
            ),
        )
    return note


def interim_replies(session: Session, *, case: Case) -> list[CaseNote]:
    """A case's interim replies, oldest first."""
    return list(
        session.scalars(
            select(CaseNote)
            .where(CaseNote.case_id == case.id, CaseNote.kind == INTERIM_REPLY)
            .order_by(CaseNote.id)
        )
    )
