"""Case types added on the pages (issue 21): one row per type, its declaration as JSON; and the
type's own intake fields on each case.

Revision ID: e21c4b7a9d03
Revises: d20a7f3b1c90
Create Date: 2026-12-05 16:50:00

"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import engine.models

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

revision = "e21c4b7a9d03"
down_revision = "d20a7f3b1c90"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_type_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("declaration", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_type_records")),
        sa.UniqueConstraint("code", name=op.f("uq_case_type_records_code")),
    )
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("details", JSON, nullable=True))


def downgrade():
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("details")
    op.drop_table("case_type_records")
