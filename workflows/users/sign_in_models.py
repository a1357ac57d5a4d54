"""Tables of signing in: server-side sessions, recent failed attempts, second factors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.models import Base, BigId


class SessionStage:
    """How far a session has got: only ``SIGNED_IN`` reaches the pages."""

    CODE = "code"  # the password was right; the second factor's code is awaited
    ENROL = "enrol"  # the password was right; the role requires a second factor not yet set up
    SIGNED_IN = "signed_in"


class UserSession(Base):
    """One browser's sign-in. The browser's cookie carries a random id; only its SHA-256
    is stored, so a copy of the table cannot be replayed as cookies."""

    __tablename__ = "user_sessions"
    __table_args__ = (Index("ix_user_sessions_user_ended", "user_id", "ended_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    #: written at most once a minute (not per request), so idle expiry is that coarse
    last_seen_at: Mapped[datetime]
    address: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(255))
    #: wrong second-factor codes typed in this session (too many end it)
    code_failures: Mapped[int] = mapped_column(Integer, default=0)
    ended_at: Mapped[datetime | None]
    #: logout, password_changed, deactivated, idle, expired, revoked, second_factor
    end_reason: Mapped[str | None] = mapped_column(String(20))


class SignInFailure(Base):
    """One refused password or code, kept for the throttle's window and then pruned.

    ``username`` is as typed (lower case), whether or not such a user exists, so unknown
    names are throttled like real ones; ``password_key`` is a keyed HMAC of the password
    tried (never the password), to see one password tried against many accounts."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_username_at", "username", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
        Index("ix_sign_in_failures_password_at", "password_key", "at"),
        Index("ix_sign_in_failures_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime]
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    password_key: Mapped[str | None] = mapped_column(String(32))


class SecondFactor(Base):
    """A user's TOTP secret (RFC 6238), confirmed or still being enrolled."""

    __tablename__ = "second_factors"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    secret: Mapped[str] = mapped_column(String(64))
    #: None while enrolling: the secret was shown but no code has confirmed it yet
    enabled_at: Mapped[datetime | None]
    #: the last time step whose code was accepted: a code is never accepted twice
    last_step: Mapped[int] = mapped_column(BigId, default=0)
    #: SHA-256 of the unused one-time recovery codes, space separated
    recovery_hashes: Mapped[str] = mapped_column(Text, default="")
