"""Deploys that mean something (issue 21): each definition version keeps its deploy comment and
the digest of its process's canonical form (a deploy that changes only layout is a no-op).

Rows stored before get an empty comment and no digest (computed from their XML when needed).

Revision ID: e21d4c8a7f15
Revises: e21f0a7c3b58
Create Date: 2026-12-05 17:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e21d4c8a7f15"
down_revision = "e21f0a7c3b58"
branch_labels = None
depends_on = None


# plain ALTER TABLE, not a batch: on SQLite a batch copies the table, which instances reference


def upgrade():
    op.add_column("bpmn_definitions", sa.Column("semantic_digest", sa.String(64), nullable=True))
    op.add_column(
        "bpmn_definitions",
        sa.Column("comment", sa.String(length=500), server_default="", nullable=False),
    )


def downgrade():
    op.drop_column("bpmn_definitions", "comment")
    op.drop_column("bpmn_definitions", "semantic_digest")
