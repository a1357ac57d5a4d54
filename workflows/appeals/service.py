"""Filing, reviewing and counting appeals (申诉); the rules are docs/evaluation-appeals.md's.

A handler of a case's lead department appeals one ground (a rating, an overdue mark, a
reopen) within the centre's window of working days after it happened; a supervisor or a
centre lead upholds or rejects it with a reason. Upholding sets ``cases.appeal_upheld_at`` in
the same transaction (the case leaves the department's rates) and publishes ``AppealUpheld``
(filing publishes ``AppealFiled``, rejecting ``AppealRejected``: the notices' subscribers).
Every refusal is ``FormInvalid`` naming the field (or ``NotFound`` for a case the user may not
see, ``Forbidden`` for a role that may not); nothing is written then.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, case, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.errors import NotFound
from engine.models import InstanceEvent

from ..cases.enums import CaseStatus, ContactResult, Satisfaction
from ..cases.models import CallbackAttempt, Case
from ..cases.service import get_case
from ..errors import Forbidden, FormInvalid
from ..events import AppealFiled, AppealRejected, AppealUpheld, CaseEventKind
from ..hotline import Hotline
from ..kpi.service import Ratio
from ..users.models import Role, User
from .models import Appeal, AppealSettings, AppealStatus, Ground

#: who files: the handlers of the case's lead department
FILERS = frozenset({Role.HANDLER})
#: who decides: the centre's supervisors and leads (administrators only set the window)
REVIEWERS = frozenset({Role.SUPERVISOR, Role.LEAD})
#: who sees every department's appeals and their figures
CENTRE = frozenset({Role.SUPERVISOR, Role.LEAD, Role.ADMIN})
DEFAULT_WINDOW = 5
MAX_WINDOW = 60
MAX_REASON = 2000
DECISIONS = (AppealStatus.UPHELD, AppealStatus.REJECTED)


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


# -- settings --------------------------------------------------------------------------------


def appeal_settings(session: Session) -> AppealSettings:
    """The centre's appeal settings (row 1), or the defaults (not stored) when none is."""
    row = session.get(AppealSettings, 1)
    return row or AppealSettings(id=1, window_workdays=DEFAULT_WINDOW, updated_by="")


def save_settings(
    session: Session, *, window_workdays: object, by: str, now: datetime, lang: str = "zh"
) -> AppealSettings:
    """Write the window (working days, 1 to ``MAX_WINDOW``); appeals filed keep theirs."""
    if isinstance(window_workdays, str) and window_workdays.strip().isdigit():
        window_workdays = int(window_workdays.strip())
    if isinstance(window_workdays, bool) or not isinstance(window_workdays, int):
        raise FormInvalid({"window_workdays": [_t(lang, "应为整数", "A whole number.")]})
    if not 1 <= window_workdays <= MAX_WINDOW:
        raise FormInvalid(
            {
                "window_workdays": [
                    _t(lang, f"应在 1 到 {MAX_WINDOW} 之间", f"From 1 to {MAX_WINDOW}.")
                ]
            }
        )
    with unit_of_work(session):
        row = session.get(AppealSettings, 1)
        if row is None:
            row = AppealSettings(id=1)
            session.add(row)
        row.window_workdays = window_workdays
        row.updated_at, row.updated_by = now, by
        session.flush()
    return row


# -- grounds ---------------------------------------------------------------------------------


def ground_times(session: Session, case: Case, *, now: datetime) -> dict[Ground, datetime]:
    """The grounds that apply to ``case`` now, each with when it happened."""
    out: dict[Ground, datetime] = {}
    rated = rating_time(session, case)
    if rated is not None:
        out[Ground.RATING] = rated
    overdue = overdue_time(case, now=now)
    if overdue is not None:
        out[Ground.OVERDUE] = overdue
    reopened = reopen_time(session, case)
    if reopened is not None:
        out[Ground.REOPEN] = reopened
    return out


def rating_time(session: Session, case: Case) -> datetime | None:
    """When the citizen rated the case against the department (unsatisfied, or unresolved):
    the last callback attempt that reached them, else the case's callback time."""
    if case.satisfaction != Satisfaction.UNSATISFIED and case.resolved is not False:
        return None
    reached = session.scalar(
        select(CallbackAttempt.at)
        .where(CallbackAttempt.case_id == case.id, CallbackAttempt.result == ContactResult.REACHED)
        .order_by(CallbackAttempt.at.desc(), CallbackAttempt.id.desc())
        .limit(1)
    )
    return reached or case.callback_at or case.closed_at


def overdue_time(case: Case, *, now: datetime) -> datetime | None:
    """When the case became overdue: its reply deadline if the reply (or the closure without
    one) came after it or it is still unreplied past it; its sign-for deadline if it was signed
    for late. Both: the later (the department's window is the longer)."""
    marks = []
    if case.dispatched_at is not None and case.reply_due is not None:
        reply = case.replied_at or case.closed_at
        if (reply is not None and reply > case.reply_due) or (
            reply is None and case.reply_due < now
        ):
            marks.append(case.reply_due)
    if case.sign_due is not None and case.signed_at is not None and case.signed_at > case.sign_due:
        marks.append(case.sign_due)
    return max(marks) if marks else None


def reopen_time(session: Session, case: Case) -> datetime | None:
    """When the case was last reopened (重办): its timeline's move from the callback back to
    handling."""
    if not case.reopen_count or case.instance_id is None:
        return None
    events = session.scalars(
        select(InstanceEvent)
        .where(
            InstanceEvent.instance_id == case.instance_id,
            InstanceEvent.kind == CaseEventKind.STATUS.value,
        )
        .order_by(InstanceEvent.id.desc())
    )
    for event in events:
        payload = event.payload or {}
        if (
            payload.get("from") == CaseStatus.AWAITING_CALLBACK
            and payload.get("to") == CaseStatus.IN_PROGRESS
        ):
            return event.at
    return None


def window_end(hotline: Hotline, session: Session, occurred_at: datetime) -> datetime:
    """The last moment to appeal: the end of the window's last working day."""
    days = appeal_settings(session).window_workdays
    return hotline.calendar.get().add_workdays(occurred_at, days)


# -- filing ----------------------------------------------------------------------------------


def file_appeal(
    session: Session,
    hotline: Hotline,
    *,
    number: str,
    ground: object,
    reason: object,
    user: User,
    lang: str = "zh",
    documents: Callable[[Case], object] | None = None,
) -> Appeal:
    """A handler of the case's lead department appeals one ground of it; ``documents`` adds
    the files filed with it, in the same transaction (FormInvalid from it: nothing filed)."""
    if user.role not in {str(r) for r in FILERS} or user.department_id is None:
        raise Forbidden("only the handlers of a department appeal its cases")
    errors: dict[str, list[str]] = {}
    checked = _ground(ground, lang, errors)
    text = _text(reason, "reason", lang, errors)
    now = hotline.clock.now()
    with unit_of_work(session):
        case_row = get_case(session, number=number, user=user)  # NotFound: not theirs
        if case_row.lead_department_id != user.department_id:
            errors["case"] = [
                _t(lang, "只有主办单位可以申诉", "Only the case's lead department may appeal.")
            ]
        elif case_row.appeal_upheld_at is not None:
            errors["case"] = [
                _t(lang, "该案件已有申诉成立", "An appeal about this case was already upheld.")
            ]
        if checked is not None and "case" not in errors:
            occurred = ground_times(session, case_row, now=now).get(checked)
            if occurred is None:
                errors["ground"] = [_not_applying(checked, lang)]
            else:
                ends = window_end(hotline, session, occurred)
                if now > ends:
                    errors["ground"] = [_window_closed(ends, hotline.tz, lang)]
                elif _pending(session, case_row.id, checked) is not None:
                    errors["ground"] = [
                        _t(lang, "该事由已有待审核的申诉", "An appeal on this ground is pending.")
                    ]
        if errors:
            raise FormInvalid(errors)
        assert checked is not None
        appeal = Appeal(
            case_id=case_row.id,
            department_id=user.department_id,
            ground=checked.value,
            reason=text,
            filed_by=user.username,
            filed_at=now,
            occurred_at=occurred,
            window_ends_at=ends,
            status=AppealStatus.PENDING.value,
        )
        session.add(appeal)
        try:
            with session.begin_nested():
                session.flush()
        except IntegrityError:  # another handler filed the same a moment ago
            raise FormInvalid(
                {
                    "ground": [
                        _t(lang, "该事由已有待审核的申诉", "An appeal on this ground is pending.")
                    ]
                }
            ) from None
        if documents is not None:
            documents(case_row)
        _timeline(hotline, session, case_row, CaseEventKind.APPEAL_FILED, user, appeal)
        _publish(hotline, session, AppealFiled, case_row, appeal, user, appeal.reason, now)
    return appeal


def _ground(value: object, lang: str, errors: dict[str, list[str]]) -> Ground | None:
    if value in (None, ""):
        errors["ground"] = [_t(lang, "此项为必填项", "This field is required.")]
    elif value not in {g.value for g in Ground}:
        errors["ground"] = [_t(lang, "不是可选值之一", "Not one of the choices.")]
    else:
        return Ground(str(value))
    return None


def _text(value: object, field: str, lang: str, errors: dict[str, list[str]]) -> str:
    if value is not None and not isinstance(value, str):
        errors[field] = [_t(lang, "应为文本", "Not a text.")]
        return ""
    text = (value or "").strip()
    if not text:
        errors[field] = [_t(lang, "此项为必填项", "This field is required.")]
    elif len(text) > MAX_REASON:
        errors[field] = [_t(lang, f"最多 {MAX_REASON} 个字符", f"At most {MAX_REASON} characters.")]
    return text


def _not_applying(ground: Ground, lang: str) -> str:
    return {
        Ground.RATING: _t(
            lang,
            "该案件没有不满意或未解决的评价",
            "The case has no unsatisfied or unresolved rating.",
        ),
        Ground.OVERDUE: _t(lang, "该案件没有超期记录", "The case was not overdue."),
        Ground.REOPEN: _t(lang, "该案件没有重办记录", "The case was not reopened."),
    }[ground]


def _window_closed(ends: datetime, tz: ZoneInfo, lang: str) -> str:
    at = ends.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return _t(lang, f"申诉期限已于 {at} 届满", f"The appeal window closed at {at}.")


def _pending(session: Session, case_id: int, ground: Ground) -> Appeal | None:
    return session.scalars(
        select(Appeal).where(
            Appeal.case_id == case_id,
            Appeal.ground == ground.value,
            Appeal.status == AppealStatus.PENDING.value,
        )
    ).first()


# -- reviewing -------------------------------------------------------------------------------


def review_appeal(
    session: Session,
    hotline: Hotline,
    *,
    appeal_id: int,
    decision: object,
    reason: object,
    user: User,
    lang: str = "zh",
) -> Appeal:
    """A supervisor or lead upholds or rejects a pending appeal, with a reason."""
    if user.role not in {str(r) for r in REVIEWERS}:
        raise Forbidden("only supervisors and the centre's leads review appeals")
    errors: dict[str, list[str]] = {}
    if decision in (None, ""):
        errors["decision"] = [_t(lang, "此项为必填项", "This field is required.")]
    elif decision not in {d.value for d in DECISIONS}:
        errors["decision"] = [_t(lang, "不是可选值之一", "Not one of the choices.")]
    text = _text(reason, "reason", lang, errors)
    now = hotline.clock.now()
    with unit_of_work(session):
        appeal = session.get(Appeal, appeal_id)
        if appeal is None:
            raise NotFound(f"appeal {appeal_id} does not exist")
        if appeal.status != AppealStatus.PENDING:
            errors["appeal"] = [_already(appeal, hotline.tz, lang)]
        if errors:
            raise FormInvalid(errors)
        # only a pending row changes: two reviewers at once, the second is refused
        done = session.execute(
            update(Appeal)
            .where(Appeal.id == appeal.id, Appeal.status == AppealStatus.PENDING.value)
            .values(status=str(decision), decided_by=user.username, decided_at=now,
                    decision_reason=text)
            .execution_options(synchronize_session=False)
        ).rowcount  # fmt: skip
        if done != 1:
            session.refresh(appeal)
            raise FormInvalid({"appeal": [_already(appeal, hotline.tz, lang)]})
        session.refresh(appeal)
        case_row = session.get(Case, appeal.case_id)
        assert case_row is not None
        if appeal.status == AppealStatus.UPHELD:
            if case_row.appeal_upheld_at is None:
                case_row.appeal_upheld_at = now
            _publish(hotline, session, AppealUpheld, case_row, appeal, user, text, now)
        else:
            _publish(hotline, session, AppealRejected, case_row, appeal, user, text, now)
        _timeline(hotline, session, case_row, CaseEventKind.APPEAL_DECIDED, user, appeal)
        session.flush()
    return appeal


def _publish(
    hotline: Hotline,
    session: Session,
    event_type: type[AppealFiled | AppealUpheld | AppealRejected],
    case_row: Case,
    appeal: Appeal,
    user: User,
    reason: str,
    at: datetime,
) -> None:
    """Publish an appeal's event in the caller's transaction (nothing built if none listens)."""
    if not hotline.events.wants(event_type):
        return
    hotline.events.publish(
        session,
        event_type(
            case_id=case_row.id,
            case_number=case_row.number,
            instance_id=case_row.instance_id,
            instance_version=None,
            at=at,
            actor=user.username,
            appeal_id=appeal.id,
            ground=appeal.ground,
            department_id=appeal.department_id,
            reason=reason,
        ),
    )


def _already(appeal: Appeal, tz: ZoneInfo, lang: str) -> str:
    at = appeal.decided_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if appeal.decided_at else ""
    return _t(
        lang,
        f"该申诉已于 {at} 由 {appeal.decided_by} 审核",
        f"This appeal was already decided by {appeal.decided_by} at {at}.",
    )


def _timeline(
    hotline: Hotline, session: Session, case_row: Case, kind: str, user: User, appeal: Appeal
) -> None:
    if case_row.instance_id is None:
        return
    payload: dict[str, Any] = {
        "case": case_row.number,
        "appeal": appeal.id,
        "ground": appeal.ground,
    }
    if kind == CaseEventKind.APPEAL_FILED:
        payload["reason"] = appeal.reason
    else:
        payload.update(decision=appeal.status, reason=appeal.decision_reason)
    hotline.runtime.record_event(
        session, case_row.instance_id, kind, actor=user.username, payload=payload
    )


# -- reading ---------------------------------------------------------------------------------


def visible_appeals(user: User) -> Select:
    """The appeals this user may see: the centre all, a department its own, others none."""
    stmt = select(Appeal)
    if user.role in {str(r) for r in CENTRE}:
        return stmt
    if user.role == Role.HANDLER and user.department_id is not None:
        return stmt.where(Appeal.department_id == user.department_id)
    return stmt.where(False)


def appeal_list(
    user: User,
    *,
    status: str | None = None,
    ground: str | None = None,
    department_id: int | None = None,
    filed_from: datetime | None = None,
    filed_to: datetime | None = None,
) -> Select:
    """A list of appeals, pending first, oldest first (the review queue's order)."""
    stmt = visible_appeals(user)
    if status:
        stmt = stmt.where(Appeal.status == status)
    if ground:
        stmt = stmt.where(Appeal.ground == ground)
    if department_id is not None:
        stmt = stmt.where(Appeal.department_id == department_id)
    if filed_from is not None:
        stmt = stmt.where(Appeal.filed_at >= filed_from)
    if filed_to is not None:
        stmt = stmt.where(Appeal.filed_at < filed_to)
    pending_first = case((Appeal.status == AppealStatus.PENDING.value, 0), else_=1)
    return stmt.order_by(pending_first, Appeal.filed_at, Appeal.id)


def case_appeals(session: Session, *, case_id: int) -> list[Appeal]:
    """A case's appeals in the order filed (its page's trail)."""
    return list(
        session.scalars(select(Appeal).where(Appeal.case_id == case_id).order_by(Appeal.id))
    )


@dataclass(frozen=True)
class AppealFigures:
    """One department's appeals filed in one local month."""

    month: date
    department_id: int
    filed: int
    upheld: int
    rejected: int
    pending: int

    @property
    def upheld_share(self) -> Ratio:
        """Upheld / decided (upheld or rejected)."""
        return Ratio(self.upheld, self.upheld + self.rejected)


def appeal_kpis(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    department_ids: Collection[int] | None = None,
) -> list[AppealFigures]:
    """Appeals filed in [start, end), per local month and department, by their status now."""
    stmt = select(Appeal.filed_at, Appeal.department_id, Appeal.status).where(
        Appeal.filed_at >= start, Appeal.filed_at < end
    )
    if department_ids is not None:
        stmt = stmt.where(Appeal.department_id.in_(list(department_ids)))
    counts: dict[tuple[date, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for filed_at, department_id, status in session.execute(stmt):
        local = filed_at.astimezone(tz)
        counts[(date(local.year, local.month, 1), department_id)][status] += 1
    return [
        AppealFigures(
            month,
            department_id,
            sum(by.values()),
            by[AppealStatus.UPHELD.value],
            by[AppealStatus.REJECTED.value],
            by[AppealStatus.PENDING.value],
        )
        for (month, department_id), by in sorted(counts.items())
    ]
