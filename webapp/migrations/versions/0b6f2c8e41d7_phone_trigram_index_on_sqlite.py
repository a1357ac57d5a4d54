"""part of a phone on SQLite: an FTS5 trigram table over cases.caller_phone, with triggers

Revision ID: 0b6f2c8e41d7
Revises: 7c3d9a1f5b20
Create Date: 2026-11-30 06:40:00

"""

from alembic import op

from workflows.cases.phone_search import create_sqlite_index, drop_sqlite_index

# revision identifiers, used by Alembic.
revision = "0b6f2c8e41d7"
down_revision = "7c3d9a1f5b20"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite only (PostgreSQL has ix_cases_caller_phone_trgm); indexes the cases already stored
    create_sqlite_index(op.get_bind())


def downgrade():
    drop_sqlite_index(op.get_bind())
