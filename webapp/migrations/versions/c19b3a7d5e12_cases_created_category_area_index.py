"""Topics (issue 19): an index of (created_at, category, area), so that a period's counts by
category and area are read from the index alone.

Revision ID: c19b3a7d5e12
Revises: b19d7e2f4a61
Create Date: 2026-12-05 12:10:00

"""

from alembic import op

revision = "c19b3a7d5e12"
down_revision = "b19d7e2f4a61"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_cases_created_category_area", "cases", ["created_at", "category", "area"]
    )


def downgrade():
    op.drop_index("ix_cases_created_category_area", table_name="cases")
