"""a word of a case's description or address on PostgreSQL: a GIN index of character pairs

Revision ID: 5d1e9b7c3a40
Revises: 0b6f2c8e41d7
Create Date: 2026-11-30 09:00:00

"""

from alembic import op

from workflows.cases.text_search import create_postgres_index, drop_postgres_index

# revision identifiers, used by Alembic.
revision = "5d1e9b7c3a40"
down_revision = "0b6f2c8e41d7"
branch_labels = None
depends_on = None


def upgrade():
    # PostgreSQL only (SQLite keeps the plain scan); indexes the cases already stored
    create_postgres_index(op.get_bind())


def downgrade():
    drop_postgres_index(op.get_bind())
