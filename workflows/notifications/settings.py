"""The notification settings the domain needs (the web app builds them from its config)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from .channels.base import Senders


class SettingsError(ValueError):
    """A notification setting cannot be used; the message names it."""


@dataclass
class NotifySettings:
    #: the SMS signature and the mail sender's name
    centre: str = "12345热线"
    #: the app's public address, for links (empty: no links)
    public_url: str = ""
    #: no SMS to citizens from ``quiet_start`` to ``quiet_end`` local time (None: no quiet hours)
    quiet_start: time | None = time(22, 0)
    quiet_end: time | None = time(8, 0)
    #: most SMS per citizen number per local day
    daily_limit: int = 5
    senders: Senders = field(default_factory=Senders)


def parse_quiet_hours(
    value: str, *, name: str = "HOTLINE_SMS_QUIET_HOURS"
) -> tuple[time, time] | None:
    """``"22:00-08:00"`` -> (22:00, 08:00); ``""`` -> None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in value.split("-", 1))
    except ValueError:
        raise SettingsError(f"{name} must look like 22:00-08:00, not {value!r}") from None
    if start == end:
        raise SettingsError(f"{name} must begin and end at different times, not {value!r}")
    return start, end
