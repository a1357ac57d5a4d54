"""What every admin view shares: the role check, lists (paginated or CSV), the audit row."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Select

from workflows.users.models import Role

from ..audit.log import record
from ..extensions import db
from ..pagination import CSV_LIMIT, csv_response, paginate, wants_csv
from ..security import roles_required
from ..sorting import Sortable, apply_sort

#: Every admin view is for administrators only (403 for everyone else).
admin_only = roles_required(Role.ADMIN)


def listing(
    stmt: Select,
    *,
    filename: str,
    header: Sequence[str],
    row: Callable[[Any], Sequence[Any]],
    scalars: bool = True,
    sorts: Mapping[str, Sortable] | None = None,
    tie_breaker: Sequence[Any] = (),
):
    """One page of ``stmt``, or all of it as CSV when the query string asks (?format=csv);
    with ``sorts``, sorted by ``?sort=&dir=`` (docs/lists.md; an unknown column is a 400)."""
    sorting = None
    if sorts is not None:
        stmt, sorting = apply_sort(stmt, sorts, tie_breaker)
    if wants_csv():
        result = db.session.execute(stmt.limit(CSV_LIMIT))
        items = result.scalars() if scalars else result.all()
        return csv_response(filename, header, (row(item) for item in items))
    page = paginate(db.session, stmt, scalars=scalars)
    page.sorting = sorting
    return page


def audit(action: str, *, target_type: str = "", target_id: Any = "", **details: Any) -> None:
    """One audit row per administrative change: who did what to which record. Called inside
    the change's unit of work, so the row commits or rolls back with it."""
    record(action, target_type=target_type, target_id=target_id, **details)
