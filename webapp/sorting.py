"""Sorting a list by a column: ``?sort=column&dir=asc|desc``, checked against the list's own
allow-list (docs/lists.md).

Each list names the columns it sorts by (:class:`Sortable`: a key for the query string and the
SQL expressions it orders by); a key not in the list is an error naming the field, as an unknown
filter is (a 400 on a page, a 422 in the API). Without ``sort`` a list keeps its own order (the
most urgent first, the newest first...). Every order ends with a unique column so that paging
through an order of equal values neither repeats nor skips a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import abort, request
from flask_babel import gettext as _
from sqlalchemy import Select

ASC, DESC = "asc", "desc"
DIRECTIONS = (ASC, DESC)


@dataclass(frozen=True)
class Sortable:
    """One sortable column: the SQL expressions it orders by (the first decides, the rest break
    ties), the direction a first click asks for, and whether it is read through an index at
    the list's largest (docs/lists.md names the slower ones)."""

    columns: tuple[Any, ...]
    first: str = ASC
    indexed: bool = True
    #: the first column may be empty (rows without it come last in both directions); a
    #: column that cannot be is ordered by itself alone, so that its index serves the order
    nullable: bool = False


@dataclass
class Sorting:
    """A list's sort as asked for: ``key`` is None for the list's own order."""

    allowed: Mapping[str, Sortable]
    key: str | None = None
    direction: str = ASC
    errors: dict[str, list[str]] = field(default_factory=dict)
    #: the query string the links keep (filters, page size); ``page`` is dropped on a new sort
    args: dict[str, str] = field(default_factory=dict)

    @property
    def descending(self) -> bool:
        return self.direction == DESC

    def order_by(self, tie_breaker: Sequence[Any] = ()) -> list[Any] | None:
        """The ORDER BY for the asked-for column, then ``tie_breaker`` (a unique id), all in
        the asked-for direction; None for the list's own order."""
        if self.key is None or self.errors:
            return None
        sortable = self.allowed[self.key]
        ordered = [
            c.desc() if self.descending else c.asc() for c in (*sortable.columns, *tie_breaker)
        ]
        if sortable.nullable:  # rows without a value (no deadline, say) after the others
            return [sortable.columns[0].is_(None), *ordered]
        return ordered

    def state(self, key: str) -> str:
        """``ascending``, ``descending`` or ``none`` (the column header's ``aria-sort``)."""
        if key != self.key:
            return "none"
        return "descending" if self.descending else "ascending"

    def href(self, key: str) -> str:
        """The link of a column header: this column, the other direction if it is the current
        one, the filters kept, back to the first page."""
        if key == self.key:
            direction = ASC if self.descending else DESC
        else:
            direction = self.allowed[key].first
        args = {k: v for k, v in self.args.items() if k not in ("page", "sort", "dir")}
        args.update(sort=key, dir=direction)
        return request.path + "?" + urlencode(args)

    def hidden(self) -> dict[str, str]:
        """``sort`` and ``dir`` for a filter form's hidden fields: filtering keeps the order."""
        if self.key is None or self.errors:
            return {}
        return {"sort": self.key, "dir": self.direction}


def read_sort(args: Mapping[str, str], allowed: Mapping[str, Sortable]) -> Sorting:
    """The sort asked for in ``args``; an unknown column or direction is an error on ``sort``
    or ``dir`` listing the choices."""
    key = (args.get("sort") or "").strip() or None
    direction = (args.get("dir") or "").strip()
    sorting = Sorting(allowed, args={k: v for k, v in args.items()})
    if key is not None and key not in allowed:
        sorting.errors["sort"] = [
            _(
                "Sort: unknown column %(value)s; one of: %(choices)s.",
                value=key[:40],
                choices=", ".join(allowed),
            )
        ]
        return sorting
    if direction and direction not in DIRECTIONS:
        sorting.errors["dir"] = [
            _("Sort direction: unknown value %(value)s; asc or desc.", value=direction[:40])
        ]
        return sorting
    sorting.key = key
    if key is not None:
        sorting.direction = direction or allowed[key].first
    return sorting


def sort_message(sorting: Sorting) -> str:
    """The errors of a sort in one line (for a page's 400)."""
    return " ".join(m for messages in sorting.errors.values() for m in messages)


def apply_sort(
    stmt: Select, allowed: Mapping[str, Sortable], tie_breaker: Sequence[Any] = ()
) -> tuple[Select, Sorting]:
    """``stmt`` in the order ``?sort=&dir=`` asks for (its own order without them), and the
    sort for the column headers; an unknown column or direction aborts with a 400 naming the
    field and the choices (a page's answer, as an unknown filter's)."""
    sorting = read_sort(request.args, allowed)
    if sorting.errors:
        abort(400, description=sort_message(sorting))
    order = sorting.order_by(tie_breaker)
    if order:
        stmt = stmt.order_by(None).order_by(*order)
    return stmt, sorting


def sorted_rows(rows: Sequence[Any], allowed: Mapping[str, Sortable]) -> tuple[list[Any], Sorting]:
    """A short list held in memory (the notice templates), sorted as :func:`apply_sort` sorts a
    statement: here a :class:`Sortable`'s columns are the rows' attribute names; the sort is
    stable, so equal values keep the list's own order."""
    sorting = read_sort(request.args, allowed)
    if sorting.errors:
        abort(400, description=sort_message(sorting))
    if sorting.key is None:
        return list(rows), sorting
    names = allowed[sorting.key].columns
    ordered = sorted(
        rows,
        key=lambda row: tuple(getattr(row, name) for name in names),
        reverse=sorting.descending,
    )
    return ordered, sorting
