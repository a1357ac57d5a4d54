"""deadline policy rows may name a category (the most specific row wins)

Revision ID: d3f7a1c9e240
Revises: 9a4e2c7d1b36
Create Date: 2026-12-04 09:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d3f7a1c9e240"
down_revision = "9a4e2c7d1b36"
branch_labels = None
depends_on = None


def upgrade():
    # "" (not NULL) is the default row of a case type and urgency: NULLs never collide in a
    # unique constraint, so NULL would let two default rows in on both databases
    with op.batch_alter_table("deadline_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("category", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.drop_constraint("uq_deadline_policies_case_type_urgency", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_deadline_policies_case_type_urgency_category"),
            ["case_type", "urgency", "category"],
        )


def downgrade():
    # the category rows cannot survive the old (case type, urgency) key
    op.execute("DELETE FROM deadline_policies WHERE category <> ''")
    with op.batch_alter_table("deadline_policies", schema=None) as batch_op:
        batch_op.drop_constraint("uq_deadline_policies_case_type_urgency_category", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_deadline_policies_case_type_urgency"), ["case_type", "urgency"]
        )
        batch_op.drop_column("category")
