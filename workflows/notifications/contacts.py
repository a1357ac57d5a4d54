"""Where staff and departments are told: checking the phone numbers, e-mail addresses and
webhook URLs administrators and people type, and the stored form of each.

A phone number is stored as callers' numbers are (``cases.phones.canonical_phone``), so a
duty phone typed ``0750-000 0101`` and one typed ``07500000101`` are the same number. Each
check raises :class:`ContactInvalid` naming the field and what is wrong (``problem``: a word a
page turns into its own language).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from ..cases.phones import canonical_phone
from ..errors import DomainError
from ..forms.schema import EMAIL, PHONE

#: what a typed phone number may hold besides digits
_PHONE_CHARS = re.compile(r"[\d+\-\s()（）]+")
MAX_EMAIL = 254
MAX_URL = 500
MAX_SECRET = 128
MIN_SECRET = 16


class ContactInvalid(DomainError):
    """A contact field is wrong. ``field`` names the input, ``problem`` is one of ``phone``,
    ``email``, ``url``, ``secret``."""

    def __init__(self, field: str, problem: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.problem = problem


def phone(value: str | None, *, field: str = "phone") -> str:
    """The stored form of a staff or duty phone number ("" when blank)."""
    text = (value or "").strip()
    if not text:
        return ""
    stored = canonical_phone(text)
    if not _PHONE_CHARS.fullmatch(text) or not PHONE.fullmatch(stored) or len(stored) > 32:
        raise ContactInvalid(
            field,
            "phone",
            f"{text!r} is not a phone number (a mobile such as 13800000000 or a landline "
            "such as 0750-1234567)",
        )
    return stored


def email(value: str | None, *, field: str = "email") -> str:
    """A checked e-mail address ("" when blank)."""
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) > MAX_EMAIL or not EMAIL.fullmatch(text):
        raise ContactInvalid(field, "email", f"{text!r} is not an e-mail address")
    return text


def webhook_url(value: str | None, *, field: str = "webhook_url") -> str:
    """A checked webhook URL: http or https with a host ("" when blank)."""
    text = (value or "").strip()
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        scheme, host = parts.scheme, parts.hostname
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        scheme, host = "", None
    if len(text) > MAX_URL or scheme not in ("http", "https") or not host or " " in text:
        raise ContactInvalid(field, "url", f"{text!r} is not an http(s) URL with a host")
    return text


def webhook_secret(value: str | None, *, field: str = "webhook_secret") -> str:
    """A checked webhook secret typed by an administrator ("" when blank)."""
    text = (value or "").strip()
    if text and not MIN_SECRET <= len(text) <= MAX_SECRET:
        raise ContactInvalid(
            field, "secret", f"a secret has {MIN_SECRET} to {MAX_SECRET} characters"
        )
    return text


def new_webhook_secret() -> str:
    """A random secret for signing a department's webhooks (shown once)."""
    return secrets.token_urlsafe(32)


def masked_secret(value: str) -> str:
    """A stored secret as pages show it: that there is one, never what it is."""
    return "•" * 8 if value else ""
