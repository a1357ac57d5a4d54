"""The deadline policy table: case type x urgency (x category) -> limits, editable by administrators.

A row with ``category == ""`` is the default of its case type and urgency; a row naming a
category (one of the dispatch catalogue's) overrides it for cases of that category only.
"" rather than NULL, so that one unique constraint holds on SQLite and PostgreSQL alike
(NULLs never collide in a unique constraint).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base


class DeadlinePolicy(Base):
    __tablename__ = "deadline_policies"
    __table_args__ = (UniqueConstraint("case_type", "urgency", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_type: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(16))
    #: "" for the case type's default row, else the category it applies to
    category: Mapped[str] = mapped_column(String(64), default="", server_default="")
    sign_value: Mapped[int] = mapped_column(Integer)
    sign_unit: Mapped[str] = mapped_column(String(16))
    reply_value: Mapped[int] = mapped_column(Integer)
    reply_unit: Mapped[str] = mapped_column(String(16))
    return_value: Mapped[int] = mapped_column(Integer)
    return_unit: Mapped[str] = mapped_column(String(16))
    extension_max_value: Mapped[int] = mapped_column(Integer)
    extension_max_unit: Mapped[str] = mapped_column(String(16))
    reopen_value: Mapped[int] = mapped_column(Integer)
    reopen_unit: Mapped[str] = mapped_column(String(16))
    # the clocks of every other human task (see ``workflows/cases/types.py`` PolicyDefaults)
    dispatch_value: Mapped[int] = mapped_column(Integer, default=2)
    dispatch_unit: Mapped[str] = mapped_column(String(16), default="workhours")
    review_value: Mapped[int] = mapped_column(Integer, default=1)
    review_unit: Mapped[str] = mapped_column(String(16), default="workdays")
    callback_value: Mapped[int] = mapped_column(Integer, default=3)
    callback_unit: Mapped[str] = mapped_column(String(16), default="workdays")
    callback_span_value: Mapped[int] = mapped_column(Integer, default=2)
    callback_span_unit: Mapped[str] = mapped_column(String(16), default="workdays")
    supervision_value: Mapped[int] = mapped_column(Integer, default=2)
    supervision_unit: Mapped[str] = mapped_column(String(16), default="workdays")
    cohandle_value: Mapped[int] = mapped_column(Integer, default=3)
    cohandle_unit: Mapped[str] = mapped_column(String(16), default="workdays")
    suspension_max_value: Mapped[int] = mapped_column(Integer, default=30)
    suspension_max_unit: Mapped[str] = mapped_column(String(16), default="days")
    #: share of the reply time after which the case turns yellow
    warn_share: Mapped[float] = mapped_column(Float, default=0.8)
    callback_required: Mapped[bool] = mapped_column(Boolean, default=True)
    review_required: Mapped[bool] = mapped_column(Boolean, default=True)
    #: returns allowed before the dispatcher must settle the case (ping-pong stopper)
    max_returns: Mapped[int] = mapped_column(Integer, default=3)
    #: unreached callback attempts (spread over ``callback_span``) before "citizen not reached"
    callback_attempts: Mapped[int] = mapped_column(Integer, default=3)
    #: the satisfaction survey goes to the citizen by SMS when the callback is due (a reply
    #: 1/2/3 is recorded as the callback)
    sms_survey: Mapped[bool] = mapped_column(Boolean, default=True)
    #: an "unsatisfied" SMS answer reopens the case (otherwise it closes, rated unsatisfied)
    sms_unsatisfied_reopens: Mapped[bool] = mapped_column(Boolean, default=False)
