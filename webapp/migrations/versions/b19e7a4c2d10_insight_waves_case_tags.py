"""Insight (issue 19): insight_waves, the hot-topic waves the worker detects; case_tags, tags
on cases (a wave's cases tagged in bulk).

Revision ID: b19e7a4c2d10
Revises: b19f0a1c2d3e
Create Date: 2026-12-05 03:10:00

"""

import sqlalchemy as sa
from alembic import op

from engine.models import BigId, UTCDateTime

revision = "b19e7a4c2d10"
down_revision = "b19f0a1c2d3e"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "insight_waves",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("peak_count", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column(
            "pinned_article_id",
            sa.Integer(),
            sa.ForeignKey("knowledge_articles.id"),
            nullable=True,
        ),
        sa.Column("tag", sa.String(length=40), nullable=False),
    )
    op.create_index("ix_insight_waves_key", "insight_waves", ["key"])
    op.create_index("ix_insight_waves_status", "insight_waves", ["status"])
    op.create_table(
        "case_tags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", BigId, sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "tag"),
    )
    op.create_index("ix_case_tags_case_id", "case_tags", ["case_id"])


def downgrade():
    op.drop_index("ix_case_tags_case_id", table_name="case_tags")
    op.drop_table("case_tags")
    op.drop_index("ix_insight_waves_status", table_name="insight_waves")
    op.drop_index("ix_insight_waves_key", table_name="insight_waves")
    op.drop_table("insight_waves")
