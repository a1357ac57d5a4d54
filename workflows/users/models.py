"""People who use the hotline, each with one role; handlers belong to a department."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, JSONType


class Role(StrEnum):
    OPERATOR = "operator"  # 接线员
    DISPATCHER = "dispatcher"  # 派单员
    HANDLER = "handler"  # 承办人
    SUPERVISOR = "supervisor"  # 督办
    CALLBACK = "callback"  # 回访员: calls citizens back after the reply
    LEAD = "lead"  # 中心领导 / 值班长: the centre's second level of supervision
    ADMIN = "admin"  # 管理员
    AUDITOR = "auditor"  # 审计员: reads the audit log, nothing else
    TELEPHONY = "telephony"  # the phone system: sends call events through the API, nothing else
    QA = "qa"  # 质检员: reviews samples of the operators' cases (workflows/quality), nothing else


#: the roles that work on cases (the auditor reads the audit log and nothing else; the phone
#: system sends call events; the quality reviewer reads only the sampled cases, on its pages)
CASE_ROLES = tuple(r for r in Role if r not in (Role.AUDITOR, Role.TELEPHONY, Role.QA))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    #: no longer counted: sign-in throttling is per address and name (workflows/users/throttle.py),
    #: never a lock on the account that a stranger could keep closed
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    #: where this person is told of what concerns them (``notifications/notices.py``)
    phone: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    #: the language of their messages (zh, en)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    #: notice -> channels this person wants it by (in-app, sms, email); a notice not named
    #: uses its default (``notices.DEFAULT_CHANNELS``)
    notify_prefs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
