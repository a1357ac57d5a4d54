"""Sign-in throttling, kept in the database so that every web process sees the same counts.

Four limits, each over a sliding window of recent failures (``SignInFailure`` rows):

- per (user name, address): a few free failures, then delays that double up to a ceiling;
- per address, over every user name: spraying from one address, unknown names included;
- per user name, over every address, except addresses the user recently signed in from:
  a distributed guess at one account slows the strangers, not the user at their own desk;
- per password (a keyed HMAC of it), over distinct user names: one password tried against
  many accounts from many addresses.

None keys on the account alone, so nobody can keep a user out from somewhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .sign_in_models import SignInFailure


@dataclass(frozen=True)
class Limits:
    window: timedelta
    free_failures: int
    max_delay: timedelta
    per_address: int
    per_account: int
    password_accounts: int


def throttle_name(username: str) -> str:
    """The user name as the throttle counts it (case and spaces do not make a new name)."""
    return username.strip().lower()[:64]


def wait_before_attempt(
    session: Session,
    *,
    username: str,
    address: str,
    password_key: str | None,
    known_address: bool,
    now: datetime,
    limits: Limits,
) -> timedelta | None:
    """How long this attempt must wait before it may be checked, or None."""
    since = now - limits.window
    name = throttle_name(username)
    recent = select(SignInFailure.at).where(SignInFailure.at > since)
    waits: list[timedelta] = []

    pair = list(
        session.scalars(
            recent.where(SignInFailure.username == name, SignInFailure.address == address)
            .order_by(SignInFailure.at.desc())
            .limit(64)
        )
    )
    if len(pair) >= limits.free_failures:
        exponent = min(len(pair) - limits.free_failures + 1, 30)
        delay = min(limits.max_delay, timedelta(seconds=2**exponent))
        waits.append(pair[0] + delay - now)

    def over(stmt, allowed: int) -> None:
        times = list(session.scalars(stmt.order_by(SignInFailure.at.desc()).limit(allowed)))
        if allowed > 0 and len(times) >= allowed:
            waits.append(times[-1] + limits.window - now)

    over(recent.where(SignInFailure.address == address), limits.per_address)
    if not known_address:
        over(recent.where(SignInFailure.username == name), limits.per_account)
    if password_key is not None:
        accounts = session.scalar(
            select(func.count(func.distinct(SignInFailure.username))).where(
                SignInFailure.password_key == password_key, SignInFailure.at > since
            )
        )
        if limits.password_accounts > 0 and accounts >= limits.password_accounts:
            first = session.scalar(
                select(func.min(SignInFailure.at)).where(
                    SignInFailure.password_key == password_key, SignInFailure.at > since
                )
            )
            waits.append(first + limits.window - now)
    wait = max(waits, default=None)
    return wait if wait is not None and wait > timedelta(0) else None


def record_failure(
    session: Session,
    *,
    username: str,
    address: str,
    password_key: str | None,
    now: datetime,
    limits: Limits,
) -> None:
    """Count a refused password or code, and forget failures older than the window."""
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - limits.window))
    session.add(
        SignInFailure(
            at=now,
            username=throttle_name(username),
            address=address[:64],
            password_key=password_key,
        )
    )
    session.flush()


def forget_failures(session: Session, *, username: str, address: str) -> None:
    """A right password from this address: its earlier mistakes no longer slow it down."""
    session.execute(
        delete(SignInFailure).where(
            SignInFailure.username == throttle_name(username), SignInFailure.address == address
        )
    )
