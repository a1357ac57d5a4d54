"""The centre's scoring sheet: its versions, the default "three hearts" (三心), and checks."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflows.errors import FormInvalid

from .models import ScoringSheet

#: Jiangmen's "three hearts": service attitude, complete and accurate data entry,
#: communication with the caller (100 points in all)
DEFAULT_NAME = "三心质检评分表"
DEFAULT_ITEMS: list[dict[str, Any]] = [
    {"key": "attitude", "label": "服务态度", "label_en": "Service attitude", "max_points": 40},
    {
        "key": "data_entry",
        "label": "信息录入完整准确",
        "label_en": "Complete and accurate data entry",
        "max_points": 30,
    },
    {
        "key": "communication",
        "label": "与来电人沟通",
        "label_en": "Communication with the caller",
        "max_points": 30,
    },
]
MAX_ITEMS = 12
MAX_POINTS = 100
_KEY = re.compile(r"[a-z][a-z0-9_]{0,31}")


def current_sheet(session: Session) -> ScoringSheet | None:
    """The sheet in force: the highest version (None before any is stored)."""
    return session.scalars(select(ScoringSheet).order_by(ScoringSheet.version.desc())).first()


def sheet_in_force(session: Session, *, now: datetime) -> ScoringSheet:
    """The sheet in force, storing the default as version 1 when there is none yet."""
    sheet = current_sheet(session)
    if sheet is None:
        sheet = ScoringSheet(
            version=1, name=DEFAULT_NAME, items=[dict(i) for i in DEFAULT_ITEMS],
            created_at=now, created_by="",
        )  # fmt: skip
        session.add(sheet)
        session.flush()
    return sheet


def check_items(name: str, rows: list[dict[str, str]]) -> tuple[str, list[dict[str, Any]]]:
    """The sheet's name and items from a form's rows (blank rows left out), or FormInvalid
    naming each bad field (``name``, ``items``, ``item<i>_key``, ``item<i>_label``,
    ``item<i>_max_points``)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 120:
        errors["name"] = ["the sheet needs a name of at most 120 characters"]
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        key = (row.get("key") or "").strip()
        label = (row.get("label") or "").strip()
        label_en = (row.get("label_en") or "").strip()
        points = (row.get("max_points") or "").strip()
        if not (key or label or label_en or points):
            continue
        if not _KEY.fullmatch(key):
            errors[f"item{i}_key"] = ["a key is lower-case letters, digits and _, from a letter"]
        elif key in seen:
            errors[f"item{i}_key"] = [f"the key {key} is used twice"]
        seen.add(key)
        if not label or len(label) > 60:
            errors[f"item{i}_label"] = ["an item needs a label of at most 60 characters"]
        if len(label_en) > 60:
            errors[f"item{i}_label_en"] = ["at most 60 characters"]
        if not points.isdigit() or not 1 <= int(points) <= MAX_POINTS:
            errors[f"item{i}_max_points"] = [
                f"maximum points are a whole number from 1 to {MAX_POINTS}"
            ]
            max_points = 0
        else:
            max_points = int(points)
        items.append({"key": key, "label": label, "label_en": label_en, "max_points": max_points})
    if not items:
        errors["items"] = ["the sheet needs at least one item"]
    elif len(items) > MAX_ITEMS:
        errors["items"] = [f"at most {MAX_ITEMS} items"]
    if errors:
        raise FormInvalid(errors)
    return name, items


def save_sheet(
    session: Session, *, name: str, rows: list[dict[str, str]], by: str, now: datetime
) -> ScoringSheet:
    """A new version of the sheet (the one in force when nothing changed); reviews already
    scored keep the version they were scored on."""
    name, items = check_items(name, rows)
    current = sheet_in_force(session, now=now)
    if current.name == name and current.items == items:
        return current
    version = (session.scalar(select(func.max(ScoringSheet.version))) or 0) + 1
    sheet = ScoringSheet(version=version, name=name, items=items, created_at=now, created_by=by)
    session.add(sheet)
    session.flush()
    return sheet


def check_scores(sheet: ScoringSheet, given: dict[str, Any]) -> dict[str, int]:
    """Points per item of ``sheet`` from a form (``score_<key>``), each 0..max; FormInvalid
    naming each bad ``score_<key>``."""
    errors: dict[str, list[str]] = {}
    scores: dict[str, int] = {}
    for item in sheet.items:
        field = f"score_{item['key']}"
        text = str(given.get(field, "")).strip()
        if not text.isdigit() or int(text) > item["max_points"]:
            errors[field] = [f"{item['label']}: a whole number from 0 to {item['max_points']}"]
            continue
        scores[item["key"]] = int(text)
    if errors:
        raise FormInvalid(errors)
    return scores


def max_total(sheet: ScoringSheet) -> int:
    return sum(int(i["max_points"]) for i in sheet.items)
