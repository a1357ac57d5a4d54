"""The planner settings every PostgreSQL connection of ours starts with (engine.db)."""

from __future__ import annotations

import pytest
from sqlalchemy import text


def test_postgres_connections_price_parallel_workers_as_this_machine_does(database):
    if database.kind != "postgres":
        pytest.skip("a PostgreSQL setting")
    engine = database.engine
    for _ in range(2):  # the first connection, and the same one back from the pool
        with engine.connect() as conn:
            assert conn.scalar(text("SHOW parallel_setup_cost")) == "10000"
            conn.rollback()  # a transaction rolled back does not undo the connection's SET
