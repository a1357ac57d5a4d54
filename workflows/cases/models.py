"""The hotline case: one row per call, linked one to one with its engine instance.

The row mirrors the instance's process data after every step (same transaction), so that
queries, inboxes and KPIs never deserialize a workflow.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    DDL,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId, JSONType

from .enums import OPEN
from .phone_search import create_sqlite_index, drop_sqlite_index
from .text_search import create_postgres_index, drop_postgres_index

#: the open cases awaiting a reply (a partial index's condition on PostgreSQL: the side of the
#: overdue list that reads reply deadlines, ``workflows.kpi.service._overdue_now``)
OVERDUE_REPLY_WHERE = (
    "status IN ("
    + ", ".join(f"'{s}'" for s in sorted(s.value for s in OPEN))
    + ") AND dispatched_at IS NOT NULL AND replied_at IS NULL"
)

#: what the KPI queries read besides ``created_at`` (workflows/kpi/service.py)
KPI_COLUMNS = (
    "lead_department_id",
    "case_type",
    "status",
    "intake_outcome",
    "dispatched_at",
    "sign_due",
    "signed_at",
    "reply_due",
    "replied_at",
    "closed_at",
    "paused_at",
    "callback_required",
    "callback_at",
    "satisfaction",
    "resolved",
    "return_count",
    "extension_count",
    "reopen_count",
    "outcome",
    "escalated",
    "sign_escalated",
)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_reply_due", "status", "reply_due"),
        Index("ix_cases_lead_status", "lead_department_id", "status"),
        Index("ix_cases_created", "created_at"),
        Index("ix_cases_type_created", "case_type", "created_at"),
        Index("ix_cases_status_created", "status", "created_at"),
        # the case list's filters (issue 19), each newest first: category; category and area
        # (the topics' cells); with the channel too; area; channel; closed in a period. Their
        # columns never change after intake, so an update of a case writes none of them.
        Index("ix_cases_category_created", "category", "created_at"),
        Index("ix_cases_category_area_created", "category", "area", "created_at"),
        Index("ix_cases_category_area_channel", "category", "area", "channel", "created_at"),
        Index("ix_cases_area_created", "area", "created_at"),
        Index("ix_cases_channel_created", "channel", "created_at"),
        Index("ix_cases_closed", "closed_at"),
        # the topics' counts of a period by category and area, from the index alone
        Index("ix_cases_created_category_area", "created_at", "category", "area"),
        # part of the phone (LIKE '%...%') on PostgreSQL: trigrams. SQLite has no such index;
        # there it is an empty partial index (caller_phone is never NULL) that costs nothing,
        # and the search reads ix_cases_caller_phone instead of the table.
        Index(
            "ix_cases_caller_phone_trgm",
            "caller_phone",
            postgresql_using="gin",
            postgresql_ops={"caller_phone": "public.gin_trgm_ops"},
            sqlite_where=text("caller_phone IS NULL"),
        ),
        # the KPI dashboard's period: every column its counts read, so that a period's cases
        # are read from this index alone (SQLite; PostgreSQL's index-only scan)
        Index("ix_cases_kpi", "created_at", *KPI_COLUMNS),
        # PostgreSQL: the open cases awaiting a reply, by reply deadline (the overdue list;
        # its row estimates took the status index otherwise). Empty on SQLite (id is never
        # NULL), which plans the list well with the (status, reply_due) index.
        Index(
            "ix_cases_overdue_reply",
            "reply_due",
            postgresql_where=text(OVERDUE_REPLY_WHERE),
            sqlite_where=text("id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instances.id"), unique=True)
    case_type: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="phone")
    category: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(32), index=True)
    caller_name: Mapped[str] = mapped_column(String(120), default="")
    caller_phone: Mapped[str] = mapped_column(String(32), default="", index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    area: Mapped[str] = mapped_column(String(32), default="")
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, default="")
    intake_outcome: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str] = mapped_column(Text, default="")
    not_accepted_reason: Mapped[str] = mapped_column(Text, default="")
    lead_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    dispatched_at: Mapped[datetime | None]
    sign_due: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    return_due: Mapped[datetime | None]
    reply_due: Mapped[datetime | None]
    warn_at: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    paused_at: Mapped[datetime | None]
    #: normal, yellow or red; moved by the warning and overdue timers
    due_state: Mapped[str] = mapped_column(String(8), default="normal")
    sign_escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    reply_text: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(String(32), default="")
    satisfaction: Mapped[str | None] = mapped_column(String(24))
    resolved: Mapped[bool | None] = mapped_column(Boolean)
    callback_required: Mapped[bool] = mapped_column(Boolean, default=True)
    callback_at: Mapped[datetime | None]
    #: answered at intake, or closed without ever being reopened
    first_contact_resolution: Mapped[bool] = mapped_column(Boolean, default=False)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    #: the policy row copied at intake: the limits this case is held to
    policy: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: the fields of the case type's own intake form (``details_form``; None without one)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    #: the caller's name and phone are hidden from departments (a report, or the caller
    #: asked): ``cases/confidentiality.py``
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    #: a department's appeal (申诉) about this case was upheld: the case leaves the rates of
    #: the KPIs and the evaluation (``workflows/evaluation``); it still counts as a case
    appeal_upheld_at: Mapped[datetime | None]
    #: supervision orders (督办单) delivered to the case (``workflows/supervision/flows.py``)
    supervision_order_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# The phone index's operator class, for databases made from the models (tests, create_all);
# the migration does the same. In public, so that every schema of the database finds it.
event.listen(
    Case.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public").execute_if(dialect="postgresql"),
)


# Part of a phone on SQLite: the FTS5 trigram table and its triggers (phone_search.py); the
# migration 0b6f2c8e41d7 does the same. Made afresh with the table: an old index would point
# at rows of a dropped table.
def _phone_index_create(target, connection, **kw) -> None:
    drop_sqlite_index(connection)
    create_sqlite_index(connection)


def _phone_index_drop(target, connection, **kw) -> None:
    drop_sqlite_index(connection)


event.listen(Case.__table__, "after_create", _phone_index_create)
event.listen(Case.__table__, "before_drop", _phone_index_drop)


# A word of the description or address on PostgreSQL: the character pairs function and its GIN
# index (text_search.py); the migration 5d1e9b7c3a40 does the same.
def _text_index_create(target, connection, **kw) -> None:
    create_postgres_index(connection)


def _text_index_drop(target, connection, **kw) -> None:
    drop_postgres_index(connection)


event.listen(Case.__table__, "after_create", _text_index_create)
event.listen(Case.__table__, "after_drop", _text_index_drop)


class CaseDepartment(Base):
    """Departments a case is with: the lead (主办) and co-handling units (协办)."""

    __tablename__ = "case_departments"
    __table_args__ = (
        UniqueConstraint("case_id", "department_id"),
        Index("ix_case_departments_department", "department_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    #: lead or co
    role: Mapped[str] = mapped_column(String(8))


class CaseCounter(Base):
    """The last case number given out per day (YYYYMMDD + sequence)."""

    __tablename__ = "case_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class CaseNote(Base):
    """A note on a case by someone not holding its task: a co-handling unit, a supervisor."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    kind: Mapped[str] = mapped_column(String(24), default="note")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class CallbackAttempt(Base):
    """One call to the citizen at the callback step: when, by whom, what came of it and, when
    not reached, why. Written by the case mirror in the step that completes the callback
    task, so it commits or rolls back with it."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    #: the username of the callback agent
    user: Mapped[str] = mapped_column(String(64))
    #: reached, not_reached or rating_declined (``ContactResult``)
    result: Mapped[str] = mapped_column(String(16))
    #: no_answer, busy, wrong_number or declined when not reached
    reason: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")


class IdentityView(Base):
    """One full view of a confidential case's caller identity by someone at the centre: who,
    when, which case, where (the page, the API, a CSV export). Departments never see it."""

    __tablename__ = "identity_views"
    __table_args__ = (Index("ix_identity_views_case", "case_id", "viewed_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    #: page, list, task, csv, api
    channel: Mapped[str] = mapped_column(String(16))
    #: the request path it was shown on
    path: Mapped[str] = mapped_column(String(300), default="")
    viewed_at: Mapped[datetime]


class CaseTypeRecord(Base):
    """A case type added on the pages: its declaration as a ``[[case_type]]`` table."""

    __tablename__ = "case_type_records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    declaration: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
