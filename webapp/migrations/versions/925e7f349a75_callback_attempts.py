"""callback attempts: one row per call to the citizen at the callback step; the KPI index
also covers the outcome and the escalation flags (callback, not-reached and first-contact
resolution rates read them)

Revision ID: 925e7f349a75
Revises: b56f7a812490
Create Date: 2026-12-04 10:40:00

"""

import sqlalchemy as sa
from alembic import op

import engine.models

# revision identifiers, used by Alembic.
revision = "925e7f349a75"
down_revision = "b56f7a812490"
branch_labels = None
depends_on = None

KPI_BEFORE = [
    "created_at",
    "lead_department_id",
    "case_type",
    "status",
    "intake_outcome",
    "dispatched_at",
    "sign_due",
    "signed_at",
    "reply_due",
    "replied_at",
    "closed_at",
    "paused_at",
    "callback_required",
    "callback_at",
    "satisfaction",
    "resolved",
    "return_count",
    "extension_count",
    "reopen_count",
]
KPI_AFTER = [*KPI_BEFORE, "outcome", "escalated", "sign_escalated"]


def upgrade():
    op.create_table(
        "callback_attempts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_callback_attempts_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_attempts")),
    )
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_callback_attempts_case_id"), ["case_id"], unique=False
        )
    op.drop_index("ix_cases_kpi", table_name="cases")
    op.create_index("ix_cases_kpi", "cases", KPI_AFTER, unique=False)


def downgrade():
    op.drop_index("ix_cases_kpi", table_name="cases")
    op.create_index("ix_cases_kpi", "cases", KPI_BEFORE, unique=False)
    with op.batch_alter_table("callback_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_attempts_case_id"))
    op.drop_table("callback_attempts")
