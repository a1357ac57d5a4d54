"""Synthetic answers to a task's form: a random valid-looking value for each field.

Read from the form's own description (types, options, rules, defaults), so any form a
designer makes gets answers. The first try keeps the defaults (the usual path); later tries
pick among all the options, so that a refused answer (a rule the form cannot know) is
followed by another.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from datetime import datetime, tzinfo
from typing import Any

TEXT = "试运行的合成数据，仅用于检查流程"


def answers(
    description: dict[str, Any],
    rng: random.Random,
    *,
    now: datetime,
    tz: tzinfo,
    keep_defaults: bool,
    staffed: Collection[str] = (),
    handling: Collection[str] = (),
) -> dict[str, Any]:
    """Values for the fields of ``description`` (``Form.describe``). Options that are
    department codes are taken among ``staffed`` (the departments someone works in) when
    any of them is one; several of them (co-handling units) among ``handling`` (those with
    a handler: a dispatcher's platform does not co-handle)."""
    out: dict[str, Any] = {}
    for field in description["fields"]:
        kind = field["type"]
        people = handling if kind in ("checklist", "taglist") else staffed
        value = _value(field, rng, now=now, tz=tz, keep_defaults=keep_defaults, staffed=people)
        if value is not None:
            out[field["key"]] = value
    return out


def _value(field, rng, *, now, tz, keep_defaults, staffed) -> Any:
    kind = field["type"]
    if keep_defaults and "default" in field:
        return field["default"]
    if kind in ("select", "radio", "checklist", "taglist"):
        options = [o["value"] for o in field.get("options") or []]
        people = [o for o in options if o in staffed]
        options = people or options
        if not options:
            return None
        if kind in ("checklist", "taglist"):
            return [rng.choice(options)] if rng.random() < 0.2 else []
        return rng.choice(options)
    if kind == "checkbox":
        return rng.random() < 0.2
    if kind == "number":
        low = field.get("min", 1)
        high = field.get("max", low + 4)
        return rng.randint(int(low), max(int(low), int(high)))
    if kind == "datetime":
        local = now.astimezone(tz)
        subtype = field.get("subtype", "date")
        if subtype == "time":
            return local.strftime("%H:%M")
        return local.date().isoformat() if subtype == "date" else local.isoformat()
    if kind in ("textfield", "textarea"):
        return _text(field)
    return None


def _text(field: dict[str, Any]) -> str | None:
    if field.get("validationType") == "phone":
        return "13800138000"
    if field.get("validationType") == "email":
        return "try-run@example.com"
    if field.get("pattern"):
        return field.get("default")  # a pattern's values cannot be guessed
    text = TEXT
    while len(text) < field.get("minLength", 0):
        text += TEXT
    return text[: field.get("maxLength", len(text))]
