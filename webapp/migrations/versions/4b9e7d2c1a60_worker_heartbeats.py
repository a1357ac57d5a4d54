"""worker heartbeats: each process running the timer scheduler records when it last swept,
for /readyz and /metrics (issue 15, observability)

Revision ID: 4b9e7d2c1a60
Revises: e8d41c7a9f25
Create Date: 2026-12-04 13:40:00

"""

import sqlalchemy as sa
from alembic import op

import engine.models

# revision identifiers, used by Alembic.
revision = "4b9e7d2c1a60"
down_revision = "e8d41c7a9f25"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "worker_heartbeats",
        sa.Column("owner", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("started_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("beat_at", engine.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_worker_heartbeats")),
    )
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_heartbeats_beat_at"), ["beat_at"], unique=False)


def downgrade():
    with op.batch_alter_table("worker_heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_heartbeats_beat_at"))
    op.drop_table("worker_heartbeats")
