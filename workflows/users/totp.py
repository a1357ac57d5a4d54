"""The second factor: time-based one-time codes (TOTP, RFC 6238) with pyotp, and one-time
recovery codes for a lost phone.

A code is accepted once: the time step it belongs to is stored, and only a later step is
accepted afterwards (one step of clock drift either way is allowed). Recovery codes are
stored as SHA-256 and removed when used.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from sqlalchemy import update
from sqlalchemy.orm import Session

from .sign_in_models import SecondFactor

ISSUER = "12345 Hotline"
RECOVERY_CODES = 8


def factor(session: Session, *, user_id: int) -> SecondFactor | None:
    """The user's second factor, enrolled or being enrolled, or None."""
    return session.get(SecondFactor, user_id)


def is_enabled(session: Session, *, user_id: int) -> bool:
    """Whether the user must give a code after the password."""
    row = factor(session, user_id=user_id)
    return row is not None and row.enabled_at is not None


def begin_enrolment(session: Session, *, user_id: int) -> SecondFactor:
    """The secret for the user to scan (not yet required): the one already shown if the
    enrolment was not finished (a reload shows the same QR code), else a fresh one.
    ValueError if a second factor is enabled."""
    row = factor(session, user_id=user_id)
    if row is not None and row.enabled_at is not None:
        raise ValueError("a second factor is already enabled")
    if row is None:
        row = SecondFactor(
            user_id=user_id, secret=pyotp.random_base32(), last_step=0, recovery_hashes=""
        )
        session.add(row)
        session.flush()
    return row


def provisioning_uri(row: SecondFactor, *, username: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(row.secret).provisioning_uri(name=username, issuer_name=ISSUER)


def confirm_enrolment(
    session: Session, *, user_id: int, code: str, now: datetime
) -> list[str] | None:
    """Enable the factor if ``code`` is right: the new recovery codes (shown once), or None."""
    row = factor(session, user_id=user_id)
    if row is None or row.enabled_at is not None or not _accept_code(session, row, code, now):
        return None
    codes = [secrets.token_hex(5) for _ in range(RECOVERY_CODES)]
    row.recovery_hashes = " ".join(_digest(c) for c in codes)
    row.enabled_at = now
    session.flush()
    return codes


def verify(session: Session, *, user_id: int, code: str, now: datetime) -> bool:
    """Whether ``code`` (a current TOTP code, or an unused recovery code) is right; either
    is then used up."""
    row = factor(session, user_id=user_id)
    if row is None or row.enabled_at is None:
        return False
    code = "".join(code.split()).lower()
    if len(code) == 10:  # recovery codes are 10 hex digits, TOTP codes 6 digits
        hashes = row.recovery_hashes.split()
        digest = _digest(code)
        if digest in hashes:
            hashes.remove(digest)
            row.recovery_hashes = " ".join(hashes)
            session.flush()
            return True
        return False
    return _accept_code(session, row, code, now)


def recovery_codes_left(row: SecondFactor) -> int:
    return len(row.recovery_hashes.split())


def remove(session: Session, *, user_id: int) -> bool:
    """Remove the user's second factor (disable, or an administrator's reset); whether one was."""
    row = factor(session, user_id=user_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def _accept_code(session: Session, row: SecondFactor, code: str, now: datetime) -> bool:
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return False
    totp = pyotp.TOTP(row.secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if step > row.last_step and hmac.compare_digest(totp.generate_otp(step), code):
            # conditional, so two requests racing with the same code cannot both pass
            taken = session.execute(
                update(SecondFactor)
                .where(SecondFactor.user_id == row.user_id, SecondFactor.last_step < step)
                .values(last_step=step),
                execution_options={"synchronize_session": False},
            ).rowcount
            if taken:
                row.last_step = step
                session.flush()
                return True
            return False
    return False


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()
