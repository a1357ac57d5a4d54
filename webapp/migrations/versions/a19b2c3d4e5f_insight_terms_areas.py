"""Insight (issue 19): insight_terms, the centre's dictionary (place names and terms kept whole,
stop words); insight_areas, the areas cases come from with their population and boundary.

Revision ID: a19b2c3d4e5f
Revises: c18e4a7b9f31
Create Date: 2026-12-05 02:00:00

"""

import sqlalchemy as sa
from alembic import op

from engine.models import JSONType, UTCDateTime

revision = "a19b2c3d4e5f"
down_revision = "c18e4a7b9f31"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "insight_terms",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("word", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("word"),
    )
    op.create_table(
        "insight_areas",
        sa.Column("code", sa.String(length=32), primary_key=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("name_en", sa.String(length=120), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("geometry", JSONType, nullable=True),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("insight_areas")
    op.drop_table("insight_terms")
