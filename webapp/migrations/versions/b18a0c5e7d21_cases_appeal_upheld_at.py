"""cases.appeal_upheld_at: an upheld appeal takes the case out of the KPIs' rates (issue 18)

Revision ID: b18a0c5e7d21
Revises: e337bc102ecd
Create Date: 2026-12-04 22:10:00

"""

from alembic import op
import sqlalchemy as sa

import engine.models  # noqa: F401  (custom column types)

revision = "b18a0c5e7d21"
down_revision = "e337bc102ecd"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("appeal_upheld_at", engine.models.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("appeal_upheld_at")
