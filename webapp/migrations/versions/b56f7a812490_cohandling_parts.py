"""co-handling parts: what each co-handling unit sent the lead department, on time or late

Revision ID: b56f7a812490
Revises: 7c2e9a4b1d63
Create Date: 2026-12-04 10:30:00

"""

import sqlalchemy as sa
from alembic import op

import engine.models

# revision identifiers, used by Alembic.
revision = "b56f7a812490"
down_revision = "7c2e9a4b1d63"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = engine.models.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        "cohandling_parts",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("answered_at", WHEN, nullable=False),
        sa.Column("due_at", WHEN, nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_cohandling_parts_case_id_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_cohandling_parts_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohandling_parts")),
        sa.UniqueConstraint("task_id", name=op.f("uq_cohandling_parts_task_id")),
    )
    with op.batch_alter_table("cohandling_parts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cohandling_parts_case_id"), ["case_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("cohandling_parts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cohandling_parts_case_id"))
    op.drop_table("cohandling_parts")
