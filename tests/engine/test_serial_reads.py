"""engine.db.serial_reads: no parallel workers on PostgreSQL for the rest of one transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.db import serial_reads


def test_serial_reads_last_one_transaction(database):
    if database.kind != "postgres":
        pytest.skip("a PostgreSQL setting")
    with database.session() as session:
        default = session.scalar(text("SHOW max_parallel_workers_per_gather"))
        assert default != "0"
        session.commit()
        serial_reads(session)
        serial_reads(session)  # once per transaction is enough; twice does no harm
        assert session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        session.commit()
        # the next transaction (the next request on this pooled connection) plans as before
        assert session.scalar(text("SHOW max_parallel_workers_per_gather")) == default
        serial_reads(session)
        assert session.scalar(text("SHOW max_parallel_workers_per_gather")) == "0"
        session.rollback()
        assert session.scalar(text("SHOW max_parallel_workers_per_gather")) == default
