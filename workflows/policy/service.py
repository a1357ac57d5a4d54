"""Deadline policy: seed the defaults the case types declare, and read a case's limits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.errors import NotFound

from ..calendar.service import UNITS
from ..cases.types import BUILTIN, CaseTypes
from .models import DeadlinePolicy


def seed_policies(session: Session, case_types: CaseTypes = BUILTIN) -> int:
    """Insert the default rows the case types declare (type x urgency) that are missing;
    never overwrite an administrator's edits."""
    have = {(p.case_type, p.urgency) for p in session.scalars(select(DeadlinePolicy))}
    added = 0
    for row in case_types.policy_rows():
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
