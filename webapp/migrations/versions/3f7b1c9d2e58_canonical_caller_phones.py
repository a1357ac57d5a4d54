"""callers' phones in one stored form (+86 139 0223 1234 and 139-0223-1234 -> 13902231234)

Revision ID: 3f7b1c9d2e58
Revises: d3f7a1c9e240
Create Date: 2026-12-04 09:10:00

"""

import sqlalchemy as sa
from alembic import op

from workflows.cases.phones import canonical_phone

# revision identifiers, used by Alembic.
revision = "3f7b1c9d2e58"
down_revision = "d3f7a1c9e240"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade():
    # Only the rows that can change: anything but plain digits, or a country code in front.
    # Each row is updated through the table, so SQLite's FTS5 triggers (cases_phone_fts) and
    # PostgreSQL's trigram index (ix_cases_caller_phone_trgm) follow it.
    bind = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("caller_phone", sa.String))
    phone = cases.c.caller_phone
    candidates = sa.or_(
        *(phone.like(f"%{c}%") for c in (" ", "-", "(", ")", ".", "（", "）")),
        phone.like("+%"),
        phone.like("86%"),
        phone.like("0086%"),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(cases.c.id, phone)
            .where(candidates, cases.c.id > last)
            .order_by(cases.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        changed = [
            {"row_id": row.id, "phone": canonical_phone(row.caller_phone)}
            for row in rows
            if canonical_phone(row.caller_phone) != row.caller_phone
        ]
        if changed:
            bind.execute(
                sa.update(cases)
                .where(cases.c.id == sa.bindparam("row_id"))
                .values(caller_phone=sa.bindparam("phone")),
                changed,
            )


def downgrade():
    # How each number was once written is not kept; the canonical numbers are valid before.
    pass
