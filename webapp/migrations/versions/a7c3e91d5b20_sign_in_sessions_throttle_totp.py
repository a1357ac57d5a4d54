"""server-side sessions (user_sessions), sign-in failures for the throttle
(sign_in_failures) and second factors (second_factors)

Revision ID: a7c3e91d5b20
Revises: 4b9e7d2c1a60
Create Date: 2026-12-04 13:50:00

"""

import sqlalchemy as sa
from alembic import op

import engine.models

# revision identifiers, used by Alembic.
revision = "a7c3e91d5b20"
down_revision = "4b9e7d2c1a60"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        "user_sessions",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("created_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=False),
        sa.Column("code_failures", sa.Integer(), nullable=False),
        sa.Column("ended_at", engine.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_user_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(
        "ix_user_sessions_user_ended", "user_sessions", ["user_id", "ended_at"], unique=False
    )
    op.create_table(
        "sign_in_failures",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("password_key", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index("ix_sign_in_failures_at", "sign_in_failures", ["at"], unique=False)
    op.create_index(
        "ix_sign_in_failures_username_at", "sign_in_failures", ["username", "at"], unique=False
    )
    op.create_index(
        "ix_sign_in_failures_address_at", "sign_in_failures", ["address", "at"], unique=False
    )
    op.create_index(
        "ix_sign_in_failures_password_at", "sign_in_failures", ["password_key", "at"], unique=False
    )
    op.create_table(
        "second_factors",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("enabled_at", engine.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_step", BIG_ID, nullable=False),
        sa.Column("recovery_hashes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_second_factors_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_second_factors")),
    )


def downgrade():
    op.drop_table("second_factors")
    op.drop_index("ix_sign_in_failures_password_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_address_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_username_at", table_name="sign_in_failures")
    op.drop_index("ix_sign_in_failures_at", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
    op.drop_index("ix_user_sessions_user_ended", table_name="user_sessions")
    op.drop_table("user_sessions")
