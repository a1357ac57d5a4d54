"""a partial index of the open cases awaiting a reply, by reply deadline, on PostgreSQL (the
overdue list's reply side; empty on SQLite): docs/benchmarks.md, "Issue 15"

Revision ID: f2a7c4e9b813
Revises: a7d2c9e4f310
Create Date: 2026-12-04 13:55:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "f2a7c4e9b813"
down_revision = "a7d2c9e4f310"
branch_labels = None
depends_on = None

#: the open statuses of this revision (workflows.cases.enums.OPEN), spelled out
WHERE = (
    "status IN ('awaiting_callback', 'awaiting_dispatch', 'awaiting_redispatch', "
    "'dispatched', 'extension_requested', 'in_progress', 'replied', 'return_requested', "
    "'suspended', 'suspension_requested') AND dispatched_at IS NOT NULL AND replied_at IS NULL"
)


def upgrade():
    op.create_index(
        "ix_cases_overdue_reply",
        "cases",
        ["reply_due"],
        unique=False,
        postgresql_where=sa.text(WHERE),
        sqlite_where=sa.text("id IS NULL"),
    )


def downgrade():
    op.drop_index("ix_cases_overdue_reply", table_name="cases")
