"""Pagination for every list (no page loads all cases) and CSV export of any list.

A page number is whatever the query string says, so it is bounded here for every list: at most
:data:`MAX_PAGE`, and a page past the end is the last page (:func:`page_within`,
:func:`paginate`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Response, request
from sqlalchemy import Select, func, literal_column, select
from sqlalchemy.orm import Session

PER_PAGE = 25
MAX_PER_PAGE = 200
#: the last page number a list reads (its OFFSET stays far below any integer limit)
MAX_PAGE = 1_000_000
CSV_LIMIT = 100_000


#: lists counted with a cap stop counting here and say "more than COUNT_CAP"
COUNT_CAP = 500


@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int
    #: the count stopped at ``total``: there are more
    capped: bool = False
    #: the list's sort (``webapp.sorting.Sorting``) when it has sortable columns
    sorting: Any = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        if self.capped and len(self.items) == self.per_page:
            return True
        return self.page < self.pages


def _number(name: str, default: int) -> int:
    """A whole number from the query string; nonsense (``abc``, ``1e3``, ``-0x1``, 5,000
    digits) reads as the default."""
    try:
        return int(request.args.get(name, default))
    except ValueError:
        return default


def page_args() -> tuple[int, int]:
    """(page, per_page) from the query string, bounded: the page is 1 to :data:`MAX_PAGE`
    (an OFFSET no database overflows: ``?page=99999999999999999999`` was a 500 on PostgreSQL,
    whose OFFSET is a bigint), the size 1 to :data:`MAX_PER_PAGE`."""
    page = min(MAX_PAGE, max(1, _number("page", 1)))
    per_page = min(MAX_PER_PAGE, max(1, _number("per_page", PER_PAGE)))
    return page, per_page


def last_page(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def page_within(total: int) -> tuple[int, int]:
    """(page, per_page) as :func:`page_args`, a page past the end being the last one: a list
    of 13 pages asked for page 99999 shows page 13 "of 13", never "page 99999 of 13"."""
    page, per_page = page_args()
    return min(page, last_page(total, per_page)), per_page


def paginate(
    session: Session, stmt: Select, *, scalars: bool = True, count_cap: int | None = None
) -> Page:
    """One page of ``stmt`` and the total count (a COUNT over the same filters).

    With ``count_cap`` the count stops after that many rows (the page then says "more than"):
    counting a million matching cases takes longer than showing the first page of them. A
    page past the end is the last page; past a capped count, the rows are counted in full
    only when the page asked for turns out to be empty (a page number no link leads to).
    """
    total, capped = count_rows(session, stmt, cap=count_cap)
    page, per_page = page_args() if capped else page_within(total)
    items = _rows(session, stmt, page, per_page, scalars)
    if capped and not items and page > last_page(total, per_page):
        total, capped = count_rows(session, stmt)
        page = min(page, last_page(total, per_page))
        items = _rows(session, stmt, page, per_page, scalars)
    return Page(items, page, per_page, total, capped)


def _rows(session: Session, stmt: Select, page: int, per_page: int, scalars: bool) -> list:
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    return list(rows.scalars()) if scalars else [tuple(r) for r in rows.all()]


def count_rows(session: Session, stmt: Select, *, cap: int | None = None) -> tuple[int, bool]:
    """The rows of ``stmt``, and whether there are more than ``cap`` (then the count is
    ``cap``: it stopped reading there)."""
    counted = stmt.order_by(None)
    if cap is not None:
        counted = counted.with_only_columns(literal_column("1"), maintain_column_froms=True).limit(
            cap + 1
        )
    total = session.scalar(select(func.count()).select_from(counted.subquery())) or 0
    if cap is not None and total > cap:
        return cap, True
    return total, False


#: what a spreadsheet program takes for the start of a formula (or, tab and carriage return,
#: for a cell boundary before one) when a cell begins with it
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet program shows as text: a text beginning like a formula
    (a citizen's ``=HYPERLINK(...)`` as a name, say) gets a leading apostrophe, which Excel,
    LibreOffice and WPS read as "this is text" and do not display. Numbers and other text are
    unchanged; None is an empty cell."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A CSV download (UTF-8 with a BOM so that spreadsheet programs read Chinese right); every
    cell passes :func:`spreadsheet_safe`, whatever list it comes from."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_safe(v) for v in header])
    for count, row in enumerate(rows):
        if count >= CSV_LIMIT:
            break
        writer.writerow([spreadsheet_safe(v) for v in row])
    return Response(
        buffer.getvalue(),
        # content_type, not mimetype: werkzeug adds "; charset=utf-8" to a text mimetype
        # itself, and a mimetype that names it already would carry it twice
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def wants_csv() -> bool:
    return request.args.get("format") == "csv"
