"""The audit log: one hash chain, refused edits, and ``verify`` naming the first broken row."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from engine.db import unit_of_work
from workflows.audit.append_only import drop_triggers
from workflows.audit.models import AuditEntry
from workflows.audit.service import GENESIS, Actor, append, verify


def _fill(session, clock, n=4):
    for i in range(n):
        append(
            session,
            at=clock.now() + timedelta(seconds=i),
            actor=Actor("admin", 1, "10.0.0.1"),
            action="user.update",
            target_type="user",
            target_id=i,
            detail={"role": "handler", "n": i},
        )


def test_rows_form_one_chain_that_verifies(database, clock):
    with database.session() as session:
        _fill(session, clock)
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        assert [r.seq for r in rows] == [1, 2, 3, 4]
        assert rows[0].prev_hash == GENESIS
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
        verdict = verify(session)
    assert verdict.intact and verdict.rows == 4


def test_a_row_rolled_back_with_its_change_leaves_no_gap(database, clock):
    with database.session() as session:
        _fill(session, clock, 1)
        with pytest.raises(RuntimeError), unit_of_work(session):
            append(session, at=clock.now(), actor=Actor("admin", 1), action="user.create")
            raise RuntimeError("the change was refused")
        _fill(session, clock, 1)
        assert [r.seq for r in session.scalars(select(AuditEntry))] == [1, 2]
        assert verify(session).intact


@pytest.mark.parametrize("sql", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_to_change_a_row(database, clock, sql):
    with database.session() as session:
        _fill(session, clock, 2)
    with database.engine.connect() as conn, pytest.raises(DBAPIError, match="append-only"):
        conn.execute(text(sql))
        conn.commit()


def _tamper(database, *statements):
    with database.engine.begin() as conn:
        drop_triggers(conn)
        for statement in statements:
            conn.execute(text(statement))


@pytest.mark.parametrize(
    ("statements", "seq", "reason"),
    [
        (["UPDATE audit_log SET actor_name = 'someone' WHERE seq = 2"], 2, "edited"),
        (["DELETE FROM audit_log WHERE seq = 3"], 4, "missing"),
        (
            # two rows swap places (their positions are swapped with them)
            [
                "UPDATE audit_log SET seq = 100 WHERE seq = 2",
                "UPDATE audit_log SET seq = 2 WHERE seq = 3",
                "UPDATE audit_log SET seq = 3 WHERE seq = 100",
            ],
            2,
            "reordered",
        ),
    ],
    ids=["edited", "deleted", "reordered"],
)
def test_verify_names_the_first_broken_row(database, clock, statements, seq, reason):
    with database.session() as session:
        _fill(session, clock)
    _tamper(database, *statements)
    with database.session() as session:
        verdict = verify(session)
    assert not verdict.intact
    assert verdict.broken_seq == seq
    assert reason in verdict.reason


def test_concurrent_writers_keep_one_chain(database, clock):
    """Writers in parallel (threads with their own connections, as processes would have)
    append to one chain: no position taken twice, no fork."""
    database.engine  # the tables, before the threads race to copy them  # noqa: B018
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with database.session() as session:
                for i in range(8):
                    append(
                        session,
                        at=clock.now(),
                        actor=Actor(f"writer{n}", n),
                        action="personal.view",
                        detail={"i": i},
                    )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.session() as session:
        assert list(session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq))) == list(
            range(1, 33)
        )
        verdict = verify(session)
    assert verdict.intact and verdict.rows == 32
