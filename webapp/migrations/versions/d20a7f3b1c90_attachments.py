"""Attachments of cases (issue 20): one row per file, the bytes in HOTLINE_FILES_DIR.

Revision ID: d20a7f3b1c90
Revises: c19b3a7d5e12
Create Date: 2026-12-05 12:50:00

"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = "d20a7f3b1c90"
down_revision = "c19b3a7d5e12"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=80), nullable=False),
        sa.Column("thumb_key", sa.String(length=80), nullable=True),
        sa.Column("created_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_attachments_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    op.create_index("ix_attachments_case", "attachments", ["case_id", "id"])


def downgrade():
    op.drop_index("ix_attachments_case", table_name="attachments")
    op.drop_table("attachments")
