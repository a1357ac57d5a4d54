"""appeals (申诉) and appeal_settings (issue 18)

Revision ID: a9e4c1d7b352
Revises: b18a0c5e7d21
Create Date: 2026-12-04 22:30:00

"""

import sqlalchemy as sa
from alembic import op

import engine.models  # noqa: F401  (custom column types)

revision = "a9e4c1d7b352"
down_revision = "b18a0c5e7d21"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "appeals",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("department_id", sa.Integer(), sa.ForeignKey("departments.id"), nullable=False),
        sa.Column("ground", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.String(64), nullable=False),
        sa.Column("filed_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_ends_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", engine.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
    )
    op.create_index("ix_appeals_case_id", "appeals", ["case_id"])
    op.create_index("ix_appeals_status_filed", "appeals", ["status", "filed_at"])
    op.create_index("ix_appeals_department_filed", "appeals", ["department_id", "filed_at"])
    op.create_index(
        "ux_appeals_pending",
        "appeals",
        ["case_id", "ground"],
        unique=True,
        sqlite_where=sa.text("status = 'pending'"),
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "appeal_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("window_workdays", sa.Integer(), nullable=False),
        sa.Column("updated_at", engine.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )


def downgrade():
    op.drop_table("appeal_settings")
    op.drop_index("ux_appeals_pending", table_name="appeals")
    op.drop_index("ix_appeals_department_filed", table_name="appeals")
    op.drop_index("ix_appeals_status_filed", table_name="appeals")
    op.drop_index("ix_appeals_case_id", table_name="appeals")
    op.drop_table("appeals")
