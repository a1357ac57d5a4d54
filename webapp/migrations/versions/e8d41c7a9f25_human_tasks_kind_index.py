"""an index of human tasks by kind and creation time: the co-handling KPI reads one kind's
tasks created since the period's first case (docs/benchmarks.md, "The loop without holes")

Revision ID: e8d41c7a9f25
Revises: b45763cba4ae
Create Date: 2026-12-04 11:10:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "e8d41c7a9f25"
down_revision = "b45763cba4ae"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_human_tasks_kind_created", "human_tasks", ["kind", "created_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_human_tasks_kind_created", table_name="human_tasks")
