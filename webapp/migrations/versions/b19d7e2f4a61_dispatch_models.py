"""Insight (issue 19): dispatch_models, the dispatch models learned from closed cases.

Revision ID: b19d7e2f4a61
Revises: b19e7a4c2d10
Create Date: 2026-12-05 03:30:00

"""

import sqlalchemy as sa
from alembic import op

from engine.models import JSONType, UTCDateTime

revision = "b19d7e2f4a61"
down_revision = "b19e7a4c2d10"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "dispatch_models",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("trained_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("trained_by", sa.String(length=64), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("metrics", JSONType, nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_dispatch_models_active", "dispatch_models", ["active"])


def downgrade():
    op.drop_index("ix_dispatch_models_active", table_name="dispatch_models")
    op.drop_table("dispatch_models")
