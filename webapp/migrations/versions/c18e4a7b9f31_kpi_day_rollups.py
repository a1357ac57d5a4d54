"""KPI rollups (issue 18): kpi_day_rollups, per local day, lead department and case type, the
sums of the settled cases' KPI counts; kpi_dirty_days, the days to read live until the worker
recounts them; two indexes for the co-handling figure per month. Every day from the first case's to the last's starts dirty: the figures stay
exact at once, and the worker (or ``hotline kpi rollup``) fills the rollup.

Revision ID: c18e4a7b9f31
Revises: c4e1a7d9b352
Create Date: 2026-12-04 22:40:00

"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "c18e4a7b9f31"
down_revision = "c4e1a7d9b352"
branch_labels = None
depends_on = None

#: workflows.kpi.models.SUM_COLUMNS as of this revision
SUM_COLUMNS = (
    "cases",
    "dispatched",
    *(
        f"{name}_{part}"
        for name in (
            "closure",
            "on_time_sign_for",
            "on_time_closure",
            "first_contact_resolution",
            "callback",
            "not_reached",
            "satisfaction",
            "resolution",
            "returned",
            "extended",
            "reopened",
            "overdue",
        )
        for part in ("n", "d")
    ),
    "supervision_orders",
)
ZONE = ZoneInfo("Asia/Shanghai")  # workflows.kpi.models.ROLLUP_TZ


def upgrade():
    op.create_table(
        "kpi_day_rollups",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("case_type", sa.String(length=40), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default="0", nullable=False) for name in SUM_COLUMNS),
    )
    op.create_index(
        "ix_kpi_day_rollups_day", "kpi_day_rollups", ["day", "department_id", "case_type"]
    )
    op.create_table(
        "kpi_dirty_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("marks", sa.Integer(), server_default="1", nullable=False),
    )
    # the co-handling figure per month: tasks and their case's creation from indexes alone
    op.create_index(
        "ix_human_tasks_cohandle",
        "human_tasks",
        ["created_at", "instance_id", "candidate_group", "state", "due_at", "completed_at"],
        postgresql_where=sa.text("kind = 'cohandle'"),
        sqlite_where=sa.text("kind = 'cohandle'"),
    )
    op.create_index("ix_cases_instance_created", "cases", ["instance_id", "created_at"])
    bind = op.get_bind()
    low, high = bind.execute(sa.text("SELECT min(created_at), max(created_at) FROM cases")).one()
    if low is None:
        return
    first, last = _day(low), _day(high)
    days = [{"day": first + timedelta(days=i)} for i in range((last - first).days + 1)]
    table = sa.table("kpi_dirty_days", sa.column("day", sa.Date()))
    op.bulk_insert(table, days)


def _day(value):
    if isinstance(value, str):  # SQLite: naive UTC text
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(ZONE).date()


def downgrade():
    op.drop_index("ix_cases_instance_created", table_name="cases")
    op.drop_index("ix_human_tasks_cohandle", table_name="human_tasks")
    op.drop_table("kpi_dirty_days")
    op.drop_index("ix_kpi_day_rollups_day", table_name="kpi_day_rollups")
    op.drop_table("kpi_day_rollups")
