"""Form versions (issue 21): every save of a task form is a row; definitions pin them.

Revision ID: e21f0a7c3b58
Revises: e21c4b7a9d03
Create Date: 2026-12-05 17:00:00

"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = "e21f0a7c3b58"
down_revision = "e21c4b7a9d03"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "form_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("schema", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("author", sa.String(length=120), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_versions")),
        sa.UniqueConstraint("key", "version", name=op.f("uq_form_versions_key_version")),
    )
    op.create_index(op.f("ix_form_versions_key"), "form_versions", ["key"])


def downgrade():
    op.drop_index(op.f("ix_form_versions_key"), table_name="form_versions")
    op.drop_table("form_versions")
