"""Insight (issue 19): insight_dup_keys, the keys a case's duplicates are found by (MinHash LSH
bands of its description, its address), written at intake (workflows/insight/duplicates.py).

Revision ID: d19e7a2b4c60
Revises: a19b2c3d4e5f
Create Date: 2026-12-05 02:40:00

"""

import sqlalchemy as sa
from alembic import op

from engine.models import BigId, UTCDateTime

revision = "d19e7a2b4c60"
down_revision = "a19b2c3d4e5f"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "insight_dup_keys",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column(
            "case_id",
            BigId,
            sa.ForeignKey("cases.id", ondelete="CASCADE", name="fk_insight_dup_keys_case_id_cases"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_insight_dup_keys_key_created", "insight_dup_keys", ["key", "created_at"])
    op.create_index("ix_insight_dup_keys_case", "insight_dup_keys", ["case_id"])


def downgrade():
    op.drop_index("ix_insight_dup_keys_case", table_name="insight_dup_keys")
    op.drop_index("ix_insight_dup_keys_key_created", table_name="insight_dup_keys")
    op.drop_table("insight_dup_keys")
