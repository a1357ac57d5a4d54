"""One stored form per phone number, so that one caller is one caller everywhere.

``+86 139 0223 1234``, ``139-0223-1234``, ``(139)02231234`` and ``13902231234`` are the same
mobile: stored, searched and matched as ``13902231234``. A landline keeps its area code and
loses its separators (``0750-1234567`` -> ``07501234567``); an extension stays apart after a
dash (``0750-1234567-123`` -> ``07501234567-123``), since without it the digits would run into
the number. Intake, the API and Open311 store the canonical form; searches and the earlier
cases of a caller canonicalise what they are given the same way.
"""

from __future__ import annotations

import re

#: what people put between digits
_SEPARATORS = re.compile(r"[\s()（）.\u00a0]+")
_MOBILE = re.compile(r"1[3-9]\d{9}")
#: the country code written before a number: +86, 0086 or 86
_COUNTRY = re.compile(r"^(?:\+86|0086|86)")
#: a landline with an extension: area code and number, then 1 to 6 digits
_EXTENSION = re.compile(r"^(0\d{2,3}-?\d{7,8})-(\d{1,6})$")


def canonical_phone(text: str | None) -> str:
    """The stored form of a phone number (or of part of one, for a search); blank -> ""."""
    value = _SEPARATORS.sub("", text or "")
    if not value:
        return ""
    extension = ""
    match = _EXTENSION.fullmatch(value)
    if match:
        value, extension = match.group(1), "-" + match.group(2)
    value = value.replace("-", "")
    country = _COUNTRY.match(value)
    if country:
        rest = value[country.end() :]
        if _MOBILE.fullmatch(rest):
            value = rest
        elif value.startswith(("+", "00")) and rest[:1].isdigit() and rest[:1] != "0":
            value = "0" + rest  # +86 750 1234567: a landline's area code without its 0
    return value + extension
