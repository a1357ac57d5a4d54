"""A word of a case's description or address, found through an index on PostgreSQL.

A supervisor types 噪音 or 白沙大道 and expects the cases at once. That is ``description ILIKE
'%word%' OR address ILIKE '%word%'``, which no b-tree serves, and Chinese has no spaces to cut
words at: most search words are two characters, too short for trigrams (pg_trgm), and stock
PostgreSQL has no Chinese word parser (zhparser and pg_bigm are extensions it lacks).

So on PostgreSQL the text is cut into its overlapping pairs of characters by the SQL function
``hotline_bigrams`` ('餐馆卫生' -> '餐馆 馆卫 卫生'), and the GIN index ``ix_cases_text_bigrams``
holds the ``tsvector`` of those pairs (the ``simple`` configuration: lower case, no stop
words). Every pair of a word is a pair of any text containing it, so "all the word's pairs are
in the row's vector" finds every row the ``ILIKE`` finds, and a few more (the pairs elsewhere
in the text); the ``ILIKE`` stays in the query and keeps only the true matches.

A word of one character has no pair, and one without two adjacent letters or digits (ASCII or
Chinese) might give PostgreSQL no token at all, which would match nothing: those take the plain
``ILIKE``, as SQLite always does.

The index is for words in few cases. A word in many cases (噪音, in one case of fifteen) is
found faster without it: reading cases newest first finds a page of 25, and the capped count
of 501, within a few thousand rows, while the index must list all its cases first. PostgreSQL
cannot tell the two apart by itself (it multiplies the estimates of the pairs and of the
``ILIKE``, which go together), so ``use_index`` asks its planner how many cases hold the word's
pairs (``EXPLAIN``, no rows read; the statistics of the index are exact enough) and takes the
index below ``sqrt(WALK_MATCHES x cases)``, where the rows either way are about equal.

``text_contains(word, by_index=...)`` is the condition to put in a query.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sqlalchemy import bindparam, or_, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import NullType

FUNCTION = "hotline_bigrams"
INDEX = "ix_cases_text_bigrams"
#: what the index holds; the query spells it the same way (with its own names of the two
#: columns) for the planner to use the index
VECTOR_OF = (
    "to_tsvector('simple'::regconfig, "
    + FUNCTION
    + "(coalesce({description}, '') || ' ' || coalesce({address}, '')))"
)
VECTOR = VECTOR_OF.format(description="description", address="address")
POSTGRES_DDL = (
    # IMMUTABLE: its answer depends on its argument alone (an index may only use such)
    f"CREATE OR REPLACE FUNCTION {FUNCTION}(t text) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ "
    "SELECT coalesce(string_agg(substr(lower(t), i, 2), ' ' ORDER BY i), '') "
    "FROM generate_series(1, char_length(t) - 1) AS i $$",
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON cases USING gin (({VECTOR}))",
    # the statistics of the indexed expression, which use_index reads through the planner
    # (autovacuum would gather them only after a tenth of the table changed)
    "ANALYZE cases",
)
#: two adjacent characters PostgreSQL's parser surely reads as part of a word
_WORD_PAIR = re.compile(r"[0-9A-Za-z\u3400-\u4dbf\u4e00-\u9fff]{2}")
#: the matches a list reads at most without the index: its capped count (webapp.pagination)
WALK_MATCHES = 501
#: below this many estimated matches the index is always taken (a small table)
ALWAYS_BELOW = 1000


def create_postgres_index(conn: Connection) -> None:
    """The pairs function and the GIN index on a PostgreSQL database (nothing elsewhere)."""
    if conn.dialect.name != "postgresql":
        return
    for statement in POSTGRES_DDL:
        conn.exec_driver_sql(statement)


def drop_postgres_index(conn: Connection) -> None:
    if conn.dialect.name != "postgresql":
        return
    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {INDEX}")
    conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {FUNCTION}(text)")


def is_index(name: str | None) -> bool:
    """The pairs index: not in the models (Alembic must leave it be)."""
    return name == INDEX


def indexable(word: str) -> bool:
    """Whether the index can answer for ``word``: at least two characters, two of them
    adjacent letters or digits, so that its pairs give PostgreSQL at least one token."""
    return len(word) >= 2 and _WORD_PAIR.search(word) is not None


def use_index(session: Session, word: str) -> bool:
    """Whether to find ``word`` through the pairs index: PostgreSQL, a word it can answer,
    and few enough cases holding its pairs by the planner's estimate (see the module)."""
    if session.get_bind().dialect.name != "postgresql" or not indexable(word):
        return False
    plan = session.execute(
        text(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM cases WHERE {VECTOR} @@ "
            f"plainto_tsquery('simple'::regconfig, {FUNCTION}(:word))"
        ),
        {"word": word},
    ).scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    estimate = float(plan[0]["Plan"]["Plan Rows"])
    total = session.execute(
        text("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'cases'::regclass")
    ).scalar_one()
    return estimate <= max(ALWAYS_BELOW, math.sqrt(WALK_MATCHES * float(total)))


class _TextContains(ColumnElement[bool]):
    """``description ILIKE '%word%' OR address ILIKE '%word%'``, through the pairs index on
    PostgreSQL when the word allows."""

    type = NullType()
    inherit_cache = False  # compiled per database and word

    def __init__(self, description: Any, address: Any, word: str, by_index: bool) -> None:
        self.description = description
        self.address = address
        self.word = word
        self.by_index = by_index
        self.plain = or_(
            description.icontains(word, autoescape=True),
            address.icontains(word, autoescape=True),
        )
        self.param = bindparam("text_search_word", word, unique=True)


@compiles(_TextContains)
def _default(element: _TextContains, compiler, **kw) -> str:
    return compiler.process(element.plain, **kw)


@compiles(_TextContains, "postgresql")
def _postgresql(element: _TextContains, compiler, **kw) -> str:
    plain = compiler.process(element.plain, **kw)
    if not (element.by_index and indexable(element.word)):
        return plain
    word = compiler.process(element.param, **kw)
    vector = VECTOR_OF.format(
        description=compiler.process(element.description, **kw),
        address=compiler.process(element.address, **kw),
    )
    return f"({vector} @@ plainto_tsquery('simple'::regconfig, {FUNCTION}({word})) AND ({plain}))"


def text_contains(
    description: Any, address: Any, word: str, *, by_index: bool = False
) -> ColumnElement[bool]:
    """The rows whose ``description`` or ``address`` column contains ``word``
    (case-insensitive); with ``by_index`` (``use_index``'s answer) through the pairs index on
    PostgreSQL. The columns are passed in: the models import this module, never back."""
    return _TextContains(description, address, word, by_index)
