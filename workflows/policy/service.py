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
    have = {
        (p.case_type, p.urgency)
        for p in session.scalars(select(DeadlinePolicy).where(DeadlinePolicy.category == ""))
    }
    added = 0
    for row in case_types.policy_rows():
        if (row["case_type"], row["urgency"]) not in have:
            session.add(DeadlinePolicy(**row))
            added += 1
    session.flush()
    return added


def get_policy(
    session: Session, *, case_type: str, urgency: str, category: str = ""
) -> DeadlinePolicy:
    """The most specific policy row for a case: the row naming its case type, urgency and
    category if there is one, else the default row of its case type and urgency (raises
    LookupError when there is none). A category row names one urgency: an urgent case of a
    category with only a normal row gets the case type's urgent row."""
    rows = session.scalars(
        select(DeadlinePolicy).where(
            DeadlinePolicy.case_type == case_type,
            DeadlinePolicy.urgency == urgency,
            DeadlinePolicy.category.in_((category, "")),
        )
    ).all()
    # the default row's "" sorts before any category: max() takes the category row if any
    row = max(rows, key=lambda r: r.category, default=None)
    if row is None:
        raise LookupError(f"no deadline policy for {case_type}/{urgency}")
    return row


def policy_label(row: DeadlinePolicy) -> str:
    """Which row applied, for people: ``complaint x normal x 消费维权``."""
    parts = [row.case_type, row.urgency] + ([row.category] if row.category else [])
    return " x ".join(parts)


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
        "dispatch": limit(row.dispatch_value, row.dispatch_unit),
        "review": limit(row.review_value, row.review_unit),
        "callback": limit(row.callback_value, row.callback_unit),
        "callback_span": limit(row.callback_span_value, row.callback_span_unit),
        "supervision": limit(row.supervision_value, row.supervision_unit),
        "cohandle": limit(row.cohandle_value, row.cohandle_unit),
        "suspension_max": limit(row.suspension_max_value, row.suspension_max_unit),
        "callback_attempts": row.callback_attempts,
        "warn_share": row.warn_share,
        "callback_required": row.callback_required,
        "review_required": row.review_required,
        "max_returns": row.max_returns,
        # which row the case was held to (the case page names it)
        "row": {"case_type": row.case_type, "urgency": row.urgency, "category": row.category},
    }


#: what an administrator may change on a row (case type, urgency, category are its identity)
EDITABLE = frozenset(c.name for c in DeadlinePolicy.__table__.columns) - {
    "id",
    "case_type",
    "urgency",
    "category",
}


class PolicyConflict(ValueError):
    """The row would break a rule of the table; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def create_category_policy(
    session: Session, *, case_type: str, urgency: str, category: str, values: Mapping[str, Any]
) -> DeadlinePolicy:
    """A row for one category of a case type and urgency (the limits in ``values``, see
    ``update_policy``). PolicyConflict if the category is empty, or the row already exists
    or has no default row to fall back to."""
    category = category.strip()
    if not category:
        raise PolicyConflict("category", "a category row names its category")
    unknown = [name for name in values if name not in EDITABLE]
    if unknown:
        raise ValueError(f"not a policy limit: {', '.join(unknown)}")
    with unit_of_work(session):
        try:
            get_policy(session, case_type=case_type, urgency=urgency)
        except LookupError:
            raise PolicyConflict(
                "case_type", f"no default row for {case_type}/{urgency} to refine"
            ) from None
        exists = session.scalar(
            select(DeadlinePolicy.id).where(
                DeadlinePolicy.case_type == case_type,
                DeadlinePolicy.urgency == urgency,
                DeadlinePolicy.category == category,
            )
        )
        if exists is not None:
            raise PolicyConflict(
                "category", f"{case_type}/{urgency} already has a row for {category}"
            )
        policy = DeadlinePolicy(case_type=case_type, urgency=urgency, category=category, **values)
        session.add(policy)
        session.flush()
    return policy


def delete_category_policy(session: Session, *, policy_id: int) -> DeadlinePolicy:
    """Remove a category row: its cases keep the limits they copied at intake, new cases of
    the category get the default row. NotFound if there is no such row; PolicyConflict for a
    default row, which every case of its type and urgency needs."""
    with unit_of_work(session):
        policy = session.get(DeadlinePolicy, policy_id)
        if policy is None:
            raise NotFound(f"deadline policy {policy_id} does not exist")
        if not policy.category:
            raise PolicyConflict("category", "a default row cannot be deleted")
        session.delete(policy)
    return policy


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
