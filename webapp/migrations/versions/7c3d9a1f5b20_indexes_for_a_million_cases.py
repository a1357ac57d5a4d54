"""indexes for a million cases: KPI period, status by date, phone trigrams on PostgreSQL,
inbox counts

Revision ID: 7c3d9a1f5b20
Revises: e540aa5f146d
Create Date: 2026-11-30 06:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7c3d9a1f5b20"
down_revision = "e540aa5f146d"
branch_labels = None
depends_on = None

KPI_COLUMNS = [
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


def upgrade():
    op.create_index("ix_cases_status_created", "cases", ["status", "created_at"], unique=False)
    op.create_index("ix_cases_kpi", "cases", KPI_COLUMNS, unique=False)
    op.create_index(
        "ix_human_tasks_ready_group",
        "human_tasks",
        ["state", "lane", "candidate_group", "element_id", "instance_id"],
        unique=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        # pg_trgm is a trusted extension (the database owner may create it); in public, so that
        # every schema of the database finds its operator class
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    # trigrams for part of the phone on PostgreSQL; on SQLite an empty partial index
    op.create_index(
        "ix_cases_caller_phone_trgm",
        "cases",
        ["caller_phone"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"caller_phone": "public.gin_trgm_ops"},
        sqlite_where=sa.text("caller_phone IS NULL"),
    )


def downgrade():
    op.drop_index("ix_cases_caller_phone_trgm", table_name="cases")
    op.drop_index("ix_human_tasks_ready_group", table_name="human_tasks")
    op.drop_index("ix_cases_kpi", table_name="cases")
    op.drop_index("ix_cases_status_created", table_name="cases")
