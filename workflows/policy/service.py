"""Deadline policy: seed the defaults from DOMAIN practice, and read a case's limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.errors import NotFound

from ..calendar.service import UNITS
from ..cases.enums import CaseType, Urgency
from .models import DeadlinePolicy

# (sign, reply, return, extension_max, reopen) as (value, unit), warn share, callback, review
_NORMAL: dict[str, tuple] = {
    CaseType.COMPLAINT: ((1, "workdays"), (10, "workdays"), (2, "workdays"), True, True),
    CaseType.REPORT: ((1, "workdays"), (15, "workdays"), (2, "workdays"), True, True),
    CaseType.CONSULTATION: ((1, "workdays"), (3, "workdays"), (1, "workdays"), True, False),
    CaseType.HELP: ((1, "workdays"), (2, "workdays"), (1, "workdays"), True, False),
    CaseType.SUGGESTION: ((1, "workdays"), (10, "workdays"), (2, "workdays"), False, False),
    CaseType.PRAISE: ((1, "workdays"), (5, "workdays"), (2, "workdays"), False, False),
}
_BY_URGENCY = {
    # urgent (water, power, gas, heating outage): 24 hours; critical (life at risk): 2 hours
    Urgency.URGENT: ((2, "hours"), (24, "hours"), (4, "hours")),
    Urgency.CRITICAL: ((1, "hours"), (2, "hours"), (1, "hours")),
}


def default_policies() -> list[dict[str, Any]]:
    """The built-in table: every case type x urgency (DOMAIN.md's examples)."""
    rows = []
    for case_type, (sign, reply, ret, callback, review) in _NORMAL.items():
        for urgency in Urgency:
            s, r, t = (sign, reply, ret) if urgency == Urgency.NORMAL else _BY_URGENCY[urgency]
            rows.append(
                dict(
                    case_type=str(case_type),
                    urgency=str(urgency),
                    sign_value=s[0],
                    sign_unit=s[1],
                    reply_value=r[0],
                    reply_unit=r[1],
                    return_value=t[0],
                    return_unit=t[1],
                    extension_max_value=10,
                    extension_max_unit="workdays",
                    reopen_value=5 if urgency == Urgency.NORMAL else r[0],
                    reopen_unit="workdays" if urgency == Urgency.NORMAL else r[1],
                    warn_share=0.8,
                    callback_required=callback,
                    review_required=review,
                    max_returns=3,
                )
            )
    return rows


def seed_policies(session: Session) -> int:
    """Insert the default rows that are missing; never overwrite an administrator's edits."""
    have = {(p.case_type, p.urgency) for p in session.scalars(select(DeadlinePolicy))}
    added = 0
    for row in default_policies():
        if (row["case_type"], row["urgency"]) not in have:
            session.add(DeadlinePolicy(**row))
            added += 1
    session.flush()
    return added


def get_policy(session: Session, *, case_type: str, urgency: str) -> DeadlinePolicy:
    """The policy row for a case type and urgency (raises LookupError when there is none)."""
    row = session.scalars(
        select(DeadlinePolicy).where(
            DeadlinePolicy.case_type == case_type, DeadlinePolicy.urgency == urgency
        )
    ).first()
    if row is None:
        raise LookupError(f"no deadline policy for {case_type}/{urgency}")
    return row


def policy_data(row: DeadlinePolicy) -> dict[str, Any]:
    """The policy as process data: what diagrams read (``policy['reply']['unit']``...)."""

    def limit(value: int, unit: str) -> dict[str, Any]:
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r} in policy {row.case_type}/{row.urgency}")
        return {"value": value, "unit": unit}

    return {
        "sign": limit(row.sign_value, row.sign_unit),
        "reply": limit(row.reply_value, row.reply_unit),
        "return": limit(row.return_value, row.return_unit),
        "extension_max": limit(row.extension_max_value, row.extension_max_unit),
        "reopen": limit(row.reopen_value, row.reopen_unit),
        "warn_share": row.warn_share,
        "callback_required": row.callback_required,
        "review_required": row.review_required,
        "max_returns": row.max_returns,
    }


#: what an administrator may change on a row (its case type and urgency are its identity)
EDITABLE = frozenset(c.name for c in DeadlinePolicy.__table__.columns) - {
    "id",
    "case_type",
    "urgency",
}


def update_policy(session: Session, *, policy_id: int, values: Mapping[str, Any]) -> DeadlinePolicy:
    """Change a policy row's limits (``sign_value``, ``sign_unit``..., ``warn_share``,
    ``callback_required``, ``review_required``, ``max_returns``); cases opened from now on
    are held to them. NotFound if there is no such row; ValueError for an unknown field."""
    unknown = [name for name in values if name not in EDITABLE]
    if unknown:
        raise ValueError(f"not a policy limit: {', '.join(unknown)}")
    with unit_of_work(session):
        policy = session.get(DeadlinePolicy, policy_id)
        if policy is None:
            raise NotFound(f"deadline policy {policy_id} does not exist")
        for name, value in values.items():
            setattr(policy, name, value)
    return policy
