"""Case list filters (issue 19): indexes for category, category x area (x channel), area, channel (each newest first)
and the closing time; saved_views, a user's named filters of a list.

Revision ID: b19f0a1c2d3e
Revises: d19e7a2b4c60
Create Date: 2026-12-05 03:10:00

"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = "b19f0a1c2d3e"
down_revision = "d19e7a2b4c60"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_cases_category_created", "cases", ["category", "created_at"])
    op.create_index("ix_cases_category_area_created", "cases", ["category", "area", "created_at"])
    op.create_index(
        "ix_cases_category_area_channel", "cases", ["category", "area", "channel", "created_at"]
    )
    op.create_index("ix_cases_area_created", "cases", ["area", "created_at"])
    op.create_index("ix_cases_channel_created", "cases", ["channel", "created_at"])
    op.create_index("ix_cases_closed", "cases", ["closed_at"])
    op.create_table(
        "saved_views",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("list_key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.String(length=2000), nullable=False),
        sa.Column("created_at", engine.models.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ux_saved_views_user_list_name",
        "saved_views",
        ["user_id", "list_key", "name"],
        unique=True,
    )


def downgrade():
    op.drop_index("ux_saved_views_user_list_name", table_name="saved_views")
    op.drop_table("saved_views")
    op.drop_index("ix_cases_closed", table_name="cases")
    op.drop_index("ix_cases_channel_created", table_name="cases")
    op.drop_index("ix_cases_area_created", table_name="cases")
    op.drop_index("ix_cases_category_area_channel", table_name="cases")
    op.drop_index("ix_cases_category_area_created", table_name="cases")
    op.drop_index("ix_cases_category_created", table_name="cases")
