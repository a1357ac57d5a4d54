"""A local month as the quality pages name it ("2026-11") and as the queries read it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from workflows.errors import FormInvalid

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def parse_month(text: str | None, *, field: str = "month") -> date:
    """The 1st of the month ``YYYY-MM``; FormInvalid naming ``field`` otherwise."""
    match = _MONTH.fullmatch((text or "").strip())
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise FormInvalid({field: ["a month is written YYYY-MM, e.g. 2026-11"]})
    return date(int(match.group(1)), int(match.group(2)), 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def month_span(month: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the local month, in UTC."""
    start = datetime(month.year, month.month, 1, tzinfo=tz).astimezone(UTC)
    after = next_month(month)
    end = datetime(after.year, after.month, 1, tzinfo=tz).astimezone(UTC)
    return start, end


def month_of(moment: datetime, tz: ZoneInfo) -> date:
    """The 1st of the local month ``moment`` falls in."""
    local = moment.astimezone(tz)
    return date(local.year, local.month, 1)
