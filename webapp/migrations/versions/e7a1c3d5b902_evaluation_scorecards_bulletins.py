"""evaluation: scoring schemes (with history), bonus items and published bulletins (issue 18)

Revision ID: e7a1c3d5b902
Revises: a9e4c1d7b352
Create Date: 2026-12-04 22:20:00

"""

from alembic import op
import sqlalchemy as sa

import engine.models  # noqa: F401  (custom column types)

revision = "e7a1c3d5b902"
down_revision = "a9e4c1d7b352"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "evaluation_schemes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("weights", engine.models.JSONType, nullable=False),
        sa.Column("penalties", engine.models.JSONType, nullable=False),
        sa.Column("bonus_cap", sa.Float(), nullable=False),
        sa.Column("min_cases", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_schemes")),
    )
    op.create_index(
        op.f("ix_evaluation_schemes_effective_from"),
        "evaluation_schemes",
        ["effective_from"],
        unique=False,
    )
    op.create_table(
        "evaluation_bonuses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("created_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_evaluation_bonuses_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_bonuses")),
    )
    op.create_index(
        op.f("ix_evaluation_bonuses_department_id"),
        "evaluation_bonuses",
        ["department_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_evaluation_bonuses_month"), "evaluation_bonuses", ["month"], unique=False
    )
    op.create_table(
        "evaluation_bulletins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("published_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("snapshot", engine.models.JSONType, nullable=False),
        sa.Column("revisions", engine.models.JSONType, nullable=False),
        sa.Column("revised_at", engine.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_bulletins")),
        sa.UniqueConstraint("month", name=op.f("uq_evaluation_bulletins_month")),
    )


def downgrade():
    op.drop_table("evaluation_bulletins")
    op.drop_index(op.f("ix_evaluation_bonuses_month"), table_name="evaluation_bonuses")
    op.drop_index(op.f("ix_evaluation_bonuses_department_id"), table_name="evaluation_bonuses")
    op.drop_table("evaluation_bonuses")
    op.drop_index(
        op.f("ix_evaluation_schemes_effective_from"), table_name="evaluation_schemes"
    )
    op.drop_table("evaluation_schemes")
