"""Benchmark: one case lifecycle, in memory with plain SpiffWorkflow vs through the engine.

(a) plain SpiffWorkflow in memory: parse once, then per case start, complete intake, sign-for,
    reply and callback, with SpiffWorkflow's default script engine and nothing saved;
(b) the engine with SQLite persistence at every step: each step is its own transaction that
    loads the instance, acts, saves the serialized workflow with its projections (human tasks,
    timers, event log) and commits (WAL, synchronous=NORMAL);
(c) as (b) with the live-workflow cache off, so every step also deserializes from the row.

Prints cases per second for each and the ratio b/a; the last line is JSON for tools.
The machine is shared: the three paths run interleaved in rounds and the ratio is the median
of the per-round ratios.
Usage: python bench/lifecycle.py [--cases N] [--rounds R] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.models import Base  # noqa: E402
from engine.runtime import Runtime  # noqa: E402

DIAGRAM = Path(__file__).with_name("lifecycle.bpmn")
START = {"sign_limit": "PT24H", "escalations": 0}
STEPS = [{"accepted": True}, {}, {"reply": "done"}, {"rating": "satisfied"}]


class InMemory:
    """(a): plain SpiffWorkflow, default script engine, nothing saved."""

    def __init__(self) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(DIAGRAM))
        self.spec = parser.get_spec("lifecycle")
        self.subs = parser.get_subprocess_specs("lifecycle")

    def run(self, cases: int) -> float:
        t0 = time.perf_counter()
        for _ in range(cases):
            wf = BpmnWorkflow(self.spec, self.subs)
            wf.get_next_task(state=TaskState.READY).data.update(START)
            wf.do_engine_steps()
            for data in STEPS:
                task = wf.get_next_task(state=TaskState.READY, manual=True)
                task.data.update(data)
                task.run()
                wf.do_engine_steps()
            assert wf.is_completed()
        return cases / (time.perf_counter() - t0)


class Persisted:
    """(b)/(c): through the engine, one committed transaction per step."""

    def __init__(self, url: str | None, cache: int) -> None:
        self.tmp = None
        if url is None:
            self.tmp = tempfile.mkdtemp()
            url = f"sqlite:///{os.path.join(self.tmp, 'bench.db')}"
        self.engine = make_engine(url)
        Base.metadata.drop_all(self.engine)
        Base.metadata.create_all(self.engine)
        self.runtime = Runtime(clock=ManualClock(), workflow_cache_size=cache)
        self.session = Session(self.engine)
        self.runtime.deploy(self.session, DIAGRAM.read_bytes(), DIAGRAM.name, deployed_by="bench")

    def run(self, cases: int) -> float:
        runtime, session = self.runtime, self.session
        t0 = time.perf_counter()
        for _ in range(cases):
            step = runtime.start(session, "lifecycle", data=START, actor="bench")
            for data in STEPS:
                step = runtime.complete_task(
                    session, step.ready[0].task_id, data=data, actor="bench"
                )
            assert step.status == "completed"
        return cases / (time.perf_counter() - t0)

    def close(self) -> None:
        self.session.close()
        Base.metadata.drop_all(self.engine)
        self.engine.dispose()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=300, help="cases per round and path")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument(
        "--database", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)"
    )
    args = ap.parse_args()
    a, b, c = InMemory(), Persisted(args.database, 2000), Persisted(args.database, 0)
    a.run(50), b.run(20), c.run(20)  # warm up imports, parser and statement caches
    rows = []
    # The machine is shared and noisy: interleave the paths and compare within each round.
    for _ in range(args.rounds):
        rows.append((a.run(args.cases), b.run(args.cases), c.run(args.cases)))
    b.close(), c.close()
    ra, rb, rc = (statistics.median(r[i] for r in rows) for i in range(3))
    ratio = statistics.median(r[1] / r[0] for r in rows)
    ratio_c = statistics.median(r[2] / r[0] for r in rows)
    db = "sqlite" if args.database is None else args.database.split(":", 1)[0].split("+")[0]
    print(f"{args.rounds} rounds of {args.cases} cases per path; medians")
    print(f"{'path':<56}{'cases/s':>10}")
    print(f"{'(a) plain SpiffWorkflow, in memory':<56}{ra:>10.0f}")
    print(f"{'(b) engine, ' + db + ', saved at every step':<56}{rb:>10.0f}")
    print(f"{'(c) engine, ' + db + ', saved and restored at every step':<56}{rc:>10.0f}")
    print(f"ratio b/a = {ratio:.2f} (target >= 0.4); c/a = {ratio_c:.2f}")
    print(
        json.dumps(
            {
                "benchmark": "lifecycle",
                "database": db,
                "cases_per_round": args.cases,
                "rounds": args.rounds,
                "in_memory_cases_per_s": round(ra, 1),
                "persisted_cases_per_s": round(rb, 1),
                "persisted_restore_every_step_cases_per_s": round(rc, 1),
                "ratio": round(ratio, 3),
                "ratio_restore_every_step": round(ratio_c, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
