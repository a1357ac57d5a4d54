"""SQLite's writers take turns through a file lock beside the database (``engine.db.WriteGate``):
one writer at a time across threads (and processes: one descriptor per thread and process), a
writer that cannot get its turn in time goes on to SQLite's own wait, every unit of work gives
its turn back whatever happens, and databases without a file have no gate."""

from __future__ import annotations

import fcntl
import os
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from engine.db import WriteGate, make_engine, unit_of_work


def test_one_writer_at_a_time_across_threads(tmp_path):
    gate = WriteGate(str(tmp_path / "x.db"), timeout=0.05)
    assert gate.acquire()
    other: list[bool] = []
    waiter = threading.Thread(target=lambda: other.append(gate.acquire()))
    waiter.start()
    waiter.join()
    assert other == [False]  # held here: the other thread's turn did not come
    gate.release()
    waiter = threading.Thread(target=lambda: (other.append(gate.acquire()), gate.release()))
    waiter.start()
    waiter.join()
    assert other == [False, True]
    assert (tmp_path / "x.db-writers").exists()


def test_a_unit_of_work_gives_its_turn_back_on_success_and_on_failure(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'y.db'}")
    gate = engine._hotline_gate
    gate.timeout = 0.05
    with Session(engine) as session:
        with unit_of_work(session):
            session.execute(text("CREATE TABLE t (x INTEGER)"))
        with pytest.raises(RuntimeError), unit_of_work(session):
            session.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("refused")
    # another thread gets the turn at once after both
    got: list[bool] = []
    waiter = threading.Thread(target=lambda: (got.append(gate.acquire()), gate.release()))
    waiter.start()
    waiter.join()
    assert got == [True]
    with Session(engine) as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 0


def test_no_gate_without_a_file():
    assert make_engine("sqlite://")._hotline_gate is None


def test_an_urgent_writer_goes_before_the_writers_already_waiting(tmp_path, monkeypatch):
    import engine.db as db

    gate = WriteGate(str(tmp_path / "u.db"), timeout=5)
    order: list[str] = []
    trying = {"normal": threading.Event(), "urgent": threading.Event()}
    real_try = db._try_flock

    def noting_try(fd, mode):
        name = threading.current_thread().name
        if name in trying:
            trying[name].set()
        return real_try(fd, mode)

    monkeypatch.setattr(db, "_try_flock", noting_try)

    def write(name: str, urgent: bool) -> None:
        assert gate.acquire(urgent=urgent)
        order.append(name)
        gate.release()

    assert gate.acquire()  # a case step holds the turn
    normal = threading.Thread(target=write, args=("normal", False), name="normal")
    normal.start()
    assert trying["normal"].wait(5)  # the step's neighbour already waits
    urgent = threading.Thread(target=write, args=("urgent", True), name="urgent")
    urgent.start()
    assert trying["urgent"].wait(5)
    # the urgent writer has said so before the turn is given back
    probe = os.open(str(tmp_path / "u.db-writers-urgent"), os.O_RDWR)
    try:
        while db._try_flock(probe, fcntl.LOCK_EX):  # not yet marked: let it run
            fcntl.flock(probe, fcntl.LOCK_UN)
            os.sched_yield()
    finally:
        os.close(probe)
    gate.release()
    normal.join(5)
    urgent.join(5)
    assert order == ["urgent", "normal"]
