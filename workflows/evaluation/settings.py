"""The scoring scheme: weights over the KPIs, penalties with caps, the bonus cap and the
minimum sample; every save is a new version in force from a month on (history is kept, so a
past month is always scored by the version in force then)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflows.errors import FormInvalid

from .models import ScoringScheme

#: the weighted KPIs: name -> (Chinese, English, higher is better). A "lower is better" rate
#: (returns, overdue) scores its complement: weight × (1 − rate).
WEIGHTED: dict[str, tuple[str, str, bool]] = {
    "on_time_sign_for": ("按时签收率", "On-time sign-for rate", True),
    "on_time_closure": ("按时办结率", "On-time closure rate", True),
    "satisfaction": ("满意率", "Satisfaction rate", True),
    "resolution": ("解决率", "Resolution rate", True),
    "returned": ("未退单率", "Not-returned rate", False),
    "overdue": ("未超期率", "Not-overdue rate", False),
    "cohandling_on_time": ("协办按时率", "Co-handling on-time rate", True),
}
#: penalty items: name -> (Chinese, English, unit in Chinese, unit in English)
PENALTIES: dict[str, tuple[str, str, str, str]] = {
    "overdue": ("超期", "Overdue", "件", "cases"),
    "supervision": ("督办单", "Supervision orders", "份", "orders"),
    "reopen": ("重办", "Reopened", "件", "cases"),
}

DEFAULT_WEIGHTS = {
    "on_time_sign_for": 20.0,
    "on_time_closure": 20.0,
    "satisfaction": 20.0,
    "resolution": 15.0,
    "returned": 10.0,
    "overdue": 10.0,
    "cohandling_on_time": 5.0,
}
DEFAULT_PENALTIES = {
    "overdue": {"points": 0.5, "cap": 10.0},
    "supervision": {"points": 1.0, "cap": 10.0},
    "reopen": {"points": 0.5, "cap": 5.0},
}
DEFAULT_BONUS_CAP = 5.0
DEFAULT_MIN_CASES = 5
#: no weight, penalty or cap above this (a typo of 10000 is refused, not scored)
MAX_POINTS = 1000.0


@dataclass(frozen=True)
class Scheme:
    weights: dict[str, float]
    penalties: dict[str, dict[str, float]]
    bonus_cap: float
    min_cases: int
    id: int | None = None
    effective_from: date | None = None
    note: str = ""
    created_by: str = ""
    created_at: datetime | None = field(default=None, compare=False)

    def as_dict(self) -> dict[str, Any]:
        """What a bulletin's snapshot keeps of the scheme it was scored by."""
        return {
            "id": self.id,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "weights": dict(self.weights),
            "penalties": {k: dict(v) for k, v in self.penalties.items()},
            "bonus_cap": self.bonus_cap,
            "min_cases": self.min_cases,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scheme:
        start = data.get("effective_from")
        return cls(
            weights={k: float(v) for k, v in data["weights"].items()},
            penalties={
                k: {n: float(x) for n, x in v.items()} for k, v in data["penalties"].items()
            },
            bonus_cap=float(data["bonus_cap"]),
            min_cases=int(data["min_cases"]),
            id=data.get("id"),
            effective_from=date.fromisoformat(start) if start else None,
        )


DEFAULT_SCHEME = Scheme(
    weights=dict(DEFAULT_WEIGHTS),
    penalties={k: dict(v) for k, v in DEFAULT_PENALTIES.items()},
    bonus_cap=DEFAULT_BONUS_CAP,
    min_cases=DEFAULT_MIN_CASES,
)


def _scheme(row: ScoringScheme) -> Scheme:
    return Scheme(
        weights={k: float(row.weights.get(k, 0.0)) for k in WEIGHTED},
        penalties={
            k: {
                "points": float(row.penalties.get(k, {}).get("points", 0.0)),
                "cap": float(row.penalties.get(k, {}).get("cap", 0.0)),
            }
            for k in PENALTIES
        },
        bonus_cap=row.bonus_cap,
        min_cases=row.min_cases,
        id=row.id,
        effective_from=row.effective_from,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
    )


def scheme_for(session: Session, *, month: date) -> Scheme:
    """The version in force on ``month``'s first day; the default scheme before any save."""
    row = session.scalars(
        select(ScoringScheme)
        .where(ScoringScheme.effective_from <= month.replace(day=1))
        .order_by(ScoringScheme.effective_from.desc(), ScoringScheme.id.desc())
        .limit(1)
    ).first()
    return DEFAULT_SCHEME if row is None else _scheme(row)


def scheme_history(session: Session) -> list[Scheme]:
    """Every saved version, the newest first."""
    rows = session.scalars(
        select(ScoringScheme).order_by(ScoringScheme.effective_from.desc(), ScoringScheme.id.desc())
    )
    return [_scheme(r) for r in rows]


#: form errors: key -> (Chinese, English)
MESSAGES = {
    "number": ("不是数字。", "Not a number."),
    "whole": ("须为整数。", "Must be a whole number."),
    "negative": ("不能为负数。", "Must not be negative."),
    "too_big": (f"不能超过 {MAX_POINTS:g}。", f"Must not exceed {MAX_POINTS:g}."),
    "no_weight": ("权重之和须大于 0。", "The weights must add up to more than 0."),
    "month": ("月份格式为 YYYY-MM。", "A month as YYYY-MM."),
    "note": ("最多 200 字。", "At most 200 characters."),
}


def message(key: str, lang: str) -> str:
    zh, en = MESSAGES[key]
    return en if lang == "en" else zh


def _number(
    errors: dict[str, list[str]], name: str, raw: Any, lang: str, *, whole: bool = False
) -> float:
    text = str(raw if raw is not None else "").strip()
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        errors[name] = [message("whole" if whole else "number", lang)]
        return 0.0
    if not math.isfinite(value):
        errors[name] = [message("number", lang)]
    elif value < 0:
        errors[name] = [message("negative", lang)]
    elif value > MAX_POINTS:
        errors[name] = [message("too_big", lang)]
    return float(value)


def read_scheme(values: dict[str, Any], lang: str = "zh") -> tuple[Scheme, dict[str, list[str]]]:
    """A scheme from a form's fields (``weight_<kpi>``, ``penalty_<item>``, ``cap_<item>``,
    ``bonus_cap``, ``min_cases``, ``effective_from`` as YYYY-MM), and the errors per field."""
    errors: dict[str, list[str]] = {}
    weights = {k: _number(errors, f"weight_{k}", values.get(f"weight_{k}"), lang) for k in WEIGHTED}
    penalties = {
        k: {
            "points": _number(errors, f"penalty_{k}", values.get(f"penalty_{k}"), lang),
            "cap": _number(errors, f"cap_{k}", values.get(f"cap_{k}"), lang),
        }
        for k in PENALTIES
    }
    bonus_cap = _number(errors, "bonus_cap", values.get("bonus_cap"), lang)
    min_cases = int(_number(errors, "min_cases", values.get("min_cases"), lang, whole=True))
    if not errors and sum(weights.values()) <= 0:
        errors["weight_on_time_sign_for"] = [message("no_weight", lang)]
    start = None
    raw = str(values.get("effective_from") or "").strip()
    try:
        start = date.fromisoformat(raw + "-01") if len(raw) == 7 else None
    except ValueError:
        start = None
    if start is None:
        errors["effective_from"] = [message("month", lang)]
    note = str(values.get("note") or "").strip()
    if len(note) > 200:
        errors["note"] = [message("note", lang)]
    scheme = Scheme(weights, penalties, bonus_cap, min_cases, effective_from=start, note=note)
    return scheme, errors


def save_scheme(
    session: Session, *, values: dict[str, Any], at: datetime, by: str, lang: str = "zh"
) -> Scheme:
    """A new version from the form's values (:func:`read_scheme`); raises
    :class:`~workflows.errors.FormInvalid` naming the fields, and then saves nothing."""
    scheme, errors = read_scheme(values, lang)
    if errors:
        raise FormInvalid(errors)
    row = ScoringScheme(
        effective_from=scheme.effective_from,
        weights=scheme.weights,
        penalties=scheme.penalties,
        bonus_cap=scheme.bonus_cap,
        min_cases=scheme.min_cases,
        note=scheme.note,
        created_at=at,
        created_by=by,
    )
    session.add(row)
    session.flush()
    return _scheme(row)
