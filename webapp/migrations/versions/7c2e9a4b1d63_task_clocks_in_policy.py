"""every human task has a clock: policy limits for dispatch, reviews, callback (and its
attempts), supervision answers, co-handling parts and suspensions

Revision ID: 7c2e9a4b1d63
Revises: 3f7b1c9d2e58
Create Date: 2026-12-04 10:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7c2e9a4b1d63"
down_revision = "3f7b1c9d2e58"
branch_labels = None
depends_on = None

#: limit -> (normal, urgent, critical) defaults for the rows already there; the normal
#: co-handling limit is half the row's reply limit (set below)
LIMITS = {
    "dispatch": ((2, "workhours"), (1, "hours"), (1, "hours")),
    "review": ((1, "workdays"), (2, "hours"), (1, "hours")),
    "callback": ((3, "workdays"), (1, "workdays"), (1, "workdays")),
    "callback_span": ((2, "workdays"), (2, "workdays"), (2, "workdays")),
    "supervision": ((2, "workdays"), (4, "hours"), (2, "hours")),
    "cohandle": ((3, "workdays"), (12, "hours"), (1, "hours")),
    "suspension_max": ((30, "days"), (30, "days"), (30, "days")),
}


def upgrade():
    with op.batch_alter_table("deadline_policies", schema=None) as batch_op:
        for name, ((value, unit), _, _) in LIMITS.items():
            batch_op.add_column(
                sa.Column(f"{name}_value", sa.Integer(), nullable=False, server_default=str(value))
            )
            batch_op.add_column(
                sa.Column(f"{name}_unit", sa.String(length=16), nullable=False, server_default=unit)
            )
        batch_op.add_column(
            sa.Column("callback_attempts", sa.Integer(), nullable=False, server_default="3")
        )
    for name, (_, urgent, critical) in LIMITS.items():
        for urgency, (value, unit) in (("urgent", urgent), ("critical", critical)):
            op.execute(
                sa.text(
                    f"UPDATE deadline_policies SET {name}_value = :v, {name}_unit = :u"
                    " WHERE urgency = :urgency"
                ).bindparams(v=value, u=unit, urgency=urgency)
            )
    # a co-handling unit answers in about half the lead's time
    op.execute(
        "UPDATE deadline_policies SET cohandle_value = CASE WHEN reply_value / 2 < 1 THEN 1"
        " ELSE reply_value / 2 END, cohandle_unit = reply_unit WHERE urgency = 'normal'"
    )


def downgrade():
    with op.batch_alter_table("deadline_policies", schema=None) as batch_op:
        batch_op.drop_column("callback_attempts")
        for name in reversed(list(LIMITS)):
            batch_op.drop_column(f"{name}_unit")
            batch_op.drop_column(f"{name}_value")
