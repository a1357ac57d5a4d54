"""What every admin view shares: the role check, lists (paginated or CSV), the audit line."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask import current_app, g
from sqlalchemy import Select

from workflows.users.models import Role

from ..extensions import db
from ..pagination import CSV_LIMIT, csv_response, paginate, wants_csv
from ..security import roles_required

#: Every admin view is for administrators only (403 for everyone else).
admin_only = roles_required(Role.ADMIN)


def listing(
    stmt: Select,
    *,
    filename: str,
    header: Sequence[str],
    row: Callable[[Any], Sequence[Any]],
    scalars: bool = True,
):
    """One page of ``stmt``, or all of it as CSV when the query string asks (?format=csv)."""
    if wants_csv():
        result = db.session.execute(stmt.limit(CSV_LIMIT))
        items = result.scalars() if scalars else result.all()
        return csv_response(filename, header, (row(item) for item in items))
    return paginate(db.session, stmt, scalars=scalars)


def audit(action: str, **details: Any) -> None:
    """One log line per administrative change: who did what to which record."""
    who = g.user.username if g.get("user") is not None else "-"
    fields = " ".join(f"{k}={v!r}" for k, v in details.items())
    current_app.logger.info("admin %s: %s %s", who, action, fields)
