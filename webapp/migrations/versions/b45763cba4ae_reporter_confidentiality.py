"""reporter confidentiality: cases.confidential (reports always), and the log of every full
view of a confidential caller's identity (identity_views)

Revision ID: b45763cba4ae
Revises: 925e7f349a75
Create Date: 2026-12-04 10:40:00

"""

import sqlalchemy as sa
from alembic import op

import engine.models
from workflows.cases.phone_search import create_sqlite_index, drop_sqlite_index

# revision identifiers, used by Alembic.
revision = "b45763cba4ae"
down_revision = "925e7f349a75"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = engine.models.UTCDateTime(timezone=True)


def upgrade():
    # a plain ADD COLUMN, not a batch: SQLite's batch copies the table, and the copy would
    # lose the phone index's triggers (phone_search.py)
    op.add_column(
        "cases", sa.Column("confidential", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    # a report hides its caller whatever was asked: the cases recorded before the flag
    op.execute(
        sa.text("UPDATE cases SET confidential = :yes WHERE case_type = 'report'").bindparams(
            yes=True
        )
    )
    op.create_table(
        "identity_views",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("viewed_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("identity_views", schema=None) as batch_op:
        batch_op.create_index("ix_identity_views_case", ["case_id", "viewed_at"], unique=False)


def downgrade():
    with op.batch_alter_table("identity_views", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_views_case")
    op.drop_table("identity_views")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("confidential")
    # the batch copied the table on SQLite: its phone index's triggers went with the old one
    drop_sqlite_index(op.get_bind())
    create_sqlite_index(op.get_bind())
