"""Retention: the personal data of cases closed long ago is removed; the statistics stay.

A case closed more than the configured age ago loses its caller's name, phone and address,
its location and every free text that may hold them (description, answers, replies, notes,
co-handling parts, callback notes), and so do every other copy: the workflow's data in the
engine's saved state, the instance's event payloads, outbox payloads, stored API answers
(idempotency records), Open311's contact fields, and the full-view log (identity_views). The
search indexes follow the rows (SQLite's phone index by trigger, PostgreSQL's indexes by
expression). Category, area, dates, departments, deadlines, status, satisfaction and every
flag the KPIs count are kept, so the KPIs give the same figures.

Calls hold callers' numbers too: a call that arrived more than the same age ago loses its
caller's number, its recording URL, its IVR path and its no-case note, and so do its events'
payloads; a missed-call callback task whose last missed call is that old loses its number and
its notes (the task's and its attempts'). Queue, operator, times, outcome and durations stay,
so the call KPIs give the same figures.

Each batch is one transaction with its audit row; ``AnonymisedCase`` marks the done cases, so
a run again (or one that stopped halfway) only does what is left (a call or callback task is
done when nothing personal is left on it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Select, String, cast, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.models import InstanceEvent, OutboxMessage, ProcessInstance
from workflows.api.models import IdempotencyRecord
from workflows.attachments.service import remove_for_cases
from workflows.calls.models import Call, CallCallback, CallCallbackAttempt, CallEvent
from workflows.cases.models import CallbackAttempt, Case, CaseNote, IdentityView
from workflows.cohandling.models import CohandlingPart
from workflows.open311.models import Open311Request

from .models import AnonymisedCase
from .service import Actor, append

#: the shortest age allowed: the audit log's own guarantee and a complaint's appeal window
MIN_DAYS = 180
DEFAULT_DAYS = 1095
#: what a removed free text reads
REMOVED = "[anonymised]"
#: data keys (the intake form's fields, the task forms') whose values may name the caller
PERSONAL_KEYS = frozenset(
    {
        "caller_name",
        "caller_phone",
        "address",
        "lat",
        "lon",
        "description",
        "answer",
        "not_accepted_reason",
        "reply_text",
        "reply",
        "body",
        "note",
        "notes",
        "text",
        "comment",
        "summary",
        "email",
        "device_id",
        "account_id",
        "address_id",
        "media_url",
    }
)
_TEXT_COLUMNS = ("description", "answer", "not_accepted_reason", "reply_text")


class RetentionTooShort(ValueError):
    """An age below ``MIN_DAYS``."""


@dataclass
class RetentionReport:
    """What a run did (or, dry, would do)."""

    cutoff: datetime
    cases: int = 0
    #: the cases' batches
    batches: int = 0
    numbers: list[str] = field(default_factory=list)
    #: calls and missed-call callback tasks whose caller's data was removed, and their batches
    calls: int = 0
    callbacks: int = 0
    call_batches: int = 0
    #: attached files removed with the cases
    files: int = 0


def check_days(days: int) -> int:
    if days < MIN_DAYS:
        raise RetentionTooShort(f"HOTLINE_RETENTION_DAYS must be at least {MIN_DAYS} (got {days})")
    return days


def _due(cutoff: datetime):
    done = exists().where(AnonymisedCase.case_id == Case.id)
    return select(Case.id).where(Case.closed_at.is_not(None), Case.closed_at < cutoff, ~done)


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (decoded JSON) with the personal keys' values blanked and every remaining
    copy of a secret (the caller's phone, name, address) cut out of any text."""
    secrets = [s for s in secrets if s and len(s) >= 2]
    return _scrub(value, secrets)


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: _blank(v) if k in PERSONAL_KEYS else _scrub(v, secrets) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REMOVED)
        return value
    return value


def _blank(value: Any) -> Any:
    if isinstance(value, str):
        return REMOVED if value else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return None
    if isinstance(value, (dict, list)):
        return _scrub(value, [])  # nested personal structures keep their shape, emptied
    return value


def _anonymise_case(session: Session, case: Case, now: datetime) -> None:
    secrets = [case.caller_phone, case.caller_name, case.address]
    if case.instance_id is not None:
        instance = session.get(ProcessInstance, case.instance_id)
        if instance is not None:
            state = orjson.loads(instance.state)
            instance.state = orjson.dumps(scrub(state, secrets)).decode()
            instance.version += 1  # a cached live workflow of the old state is stale
        for event in session.scalars(
            select(InstanceEvent).where(InstanceEvent.instance_id == case.instance_id)
        ):
            event.payload = scrub(event.payload, secrets)
    for message in session.scalars(
        select(OutboxMessage).where(cast(OutboxMessage.payload, String).contains(case.number))
    ):
        message.payload = scrub(message.payload, secrets)
    for record in session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.body.contains(case.number))
    ):
        record.body = orjson.dumps(scrub(_json_or_text(record.body), secrets)).decode()
    case.caller_name = ""
    case.caller_phone = ""
    case.address = ""
    case.lat = None
    case.lon = None
    for column in _TEXT_COLUMNS:
        if getattr(case, column):
            setattr(case, column, REMOVED)
    session.execute(update(CaseNote).where(CaseNote.case_id == case.id).values(body=REMOVED))
    session.execute(
        update(CallbackAttempt)
        .where(CallbackAttempt.case_id == case.id, CallbackAttempt.note != "")
        .values(note=REMOVED)
    )
    session.execute(
        update(CohandlingPart).where(CohandlingPart.case_id == case.id).values(text=REMOVED)
    )
    session.execute(
        update(Open311Request)
        .where(Open311Request.case_id == case.id)
        .values(address_id="", zipcode="", email="", device_id="", account_id="", media_url="")
    )
    session.execute(delete(IdentityView).where(IdentityView.case_id == case.id))
    session.add(AnonymisedCase(case_id=case.id, at=now))


def _json_or_text(body: str) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body


def run_retention(
    session: Session,
    *,
    now: datetime,
    days: int,
    actor: Actor,
    dry_run: bool = False,
    batch: int = 200,
    files=None,
) -> RetentionReport:
    """Anonymise the cases closed before ``now - days`` not yet done, ``batch`` per
    transaction, each batch with its audit row; with ``dry_run`` only count them."""
    check_days(days)
    report = RetentionReport(cutoff=now - timedelta(days=days))
    if dry_run:
        report.numbers = list(
            session.scalars(
                select(Case.number).where(Case.id.in_(_due(report.cutoff))).order_by(Case.id)
            )
        )
        report.cases = len(report.numbers)
        report.calls = _count(session, _calls_due(report.cutoff))
        report.callbacks = _count(session, _callbacks_due(report.cutoff))
        session.rollback()
        return report
    while True:
        with unit_of_work(session):
            ids = list(session.scalars(_due(report.cutoff).order_by(Case.id).limit(batch)))
            if not ids:
                break
            cases = list(session.scalars(select(Case).where(Case.id.in_(ids))))
            for case in cases:
                _anonymise_case(session, case, now)
            # their attached files: rows now, the files once the batch commits
            removed = remove_for_cases(session, files, ids) if files is not None else 0
            report.files += removed
            numbers = [c.number for c in cases]
            append(
                session,
                at=now,
                actor=actor,
                action="retention.anonymise",
                target_type="case",
                detail={
                    "cases": len(numbers),
                    "files": removed,
                    "closed_before": report.cutoff.isoformat(),
                    "numbers": numbers,
                },
            )
        report.cases += len(numbers)
        report.batches += 1
        report.numbers.extend(numbers)
    _run_calls(session, report, now=now, actor=actor, batch=batch)
    return report


# -- calls ----------------------------------------------------------------------------------

#: what a call event's payload may hold of the caller (the queue stays)
_CALL_PERSONAL = ("caller", "recording_url", "ivr_path")


def _calls_due(cutoff: datetime) -> Select:
    return select(Call.id).where(
        Call.arrived_at < cutoff,
        or_(
            Call.caller != "",
            Call.recording_url != "",
            Call.ivr_path != "",
            Call.no_case_note.not_in(["", REMOVED]),
        ),
    )


def _callbacks_due(cutoff: datetime) -> Select:
    noted = exists().where(
        CallCallbackAttempt.callback_id == CallCallback.id,
        CallCallbackAttempt.note.not_in(["", REMOVED]),
    )
    return select(CallCallback.id).where(
        CallCallback.last_missed_at < cutoff,
        or_(CallCallback.caller != "", CallCallback.note.not_in(["", REMOVED]), noted),
    )


def _count(session: Session, ids: Select) -> int:
    return len(list(session.scalars(ids)))


def _anonymise_calls(session: Session, ids: list[int]) -> None:
    for event in session.scalars(select(CallEvent).where(CallEvent.call_row_id.in_(ids))):
        payload = event.payload or {}
        if any(k in payload for k in _CALL_PERSONAL):
            event.payload = {k: v for k, v in payload.items() if k not in _CALL_PERSONAL}
    session.execute(
        update(Call)
        .where(Call.id.in_(ids))
        .values(caller="", recording_url="", ivr_path="")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(Call)
        .where(Call.id.in_(ids), Call.no_case_note != "")
        .values(no_case_note=REMOVED)
        .execution_options(synchronize_session=False)
    )


def _anonymise_callbacks(session: Session, ids: list[int]) -> None:
    session.execute(
        update(CallCallback)
        .where(CallCallback.id.in_(ids))
        .values(caller="")
        .execution_options(synchronize_session=False)
    )
    for model, key in (
        (CallCallback, CallCallback.id),
        (CallCallbackAttempt, CallCallbackAttempt.callback_id),
    ):
        session.execute(
            update(model)
            .where(key.in_(ids), model.note != "")
            .values(note=REMOVED)
            .execution_options(synchronize_session=False)
        )


def _run_calls(
    session: Session, report: RetentionReport, *, now: datetime, actor: Actor, batch: int
) -> None:
    """The calls, then the callback tasks, older than the cutoff: ``batch`` per transaction,
    each batch with its audit row."""
    for due, key, anonymise, target, counted in (
        (_calls_due, Call.id, _anonymise_calls, "call", "calls"),
        (_callbacks_due, CallCallback.id, _anonymise_callbacks, "call_callback", "callbacks"),
    ):
        while True:
            with unit_of_work(session):
                ids = list(session.scalars(due(report.cutoff).order_by(key).limit(batch)))
                if not ids:
                    break
                anonymise(session, ids)
                append(
                    session,
                    at=now,
                    actor=actor,
                    action="retention.anonymise",
                    target_type=target,
                    detail={counted: len(ids), "before": report.cutoff.isoformat()},
                )
            setattr(report, counted, getattr(report, counted) + len(ids))
            report.call_batches += 1
