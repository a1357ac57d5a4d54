"""cases.appeal_upheld_at (an upheld appeal takes the case out of the KPIs' rates) and
cases.supervision_order_count, counted from the instances' received signals (issue 18)

Revision ID: b18a0c5e7d21
Revises: e337bc102ecd
Create Date: 2026-12-04 22:10:00

"""

from alembic import op
import sqlalchemy as sa

import engine.models  # noqa: F401  (custom column types)

revision = "b18a0c5e7d21"
down_revision = "e337bc102ecd"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases") as batch_op:
        batch_op.add_column(sa.Column("appeal_upheld_at", engine.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("supervision_order_count", sa.Integer(), server_default="0", nullable=False)
        )
    # the orders already delivered: each is a "signal.received" event naming the signal
    bind = op.get_bind()
    counts: dict[int, int] = {}
    rows = bind.execute(
        sa.text("SELECT instance_id, payload FROM instance_events WHERE kind = 'signal.received'")
    )
    for instance_id, payload in rows:
        if isinstance(payload, str):
            import json

            payload = json.loads(payload)
        if (payload or {}).get("signal") == "supervision_order":
            counts[instance_id] = counts.get(instance_id, 0) + 1
    for instance_id, count in counts.items():
        bind.execute(
            sa.text("UPDATE cases SET supervision_order_count = :n WHERE instance_id = :i"),
            {"n": count, "i": instance_id},
        )


def downgrade():
    with op.batch_alter_table("cases") as batch_op:
        batch_op.drop_column("supervision_order_count")
        batch_op.drop_column("appeal_upheld_at")
