"""Benchmark: one case lifecycle, in memory with plain SpiffWorkflow vs through the engine.

(a) plain SpiffWorkflow in memory: parse once, then per case start, complete intake, sign-for,
    reply and callback, with SpiffWorkflow's default script engine and nothing saved;
(b) the engine with SQLite persistence at every step: each step is its own transaction that
    loads the instance, acts, saves the serialized workflow with its projections (human tasks,
    timers, event log) and commits (WAL, synchronous=NORMAL);
(c) as (b) with the live-workflow cache off, so every step also deserializes from the row.

Prints cases per second for each and the ratio b/a; the last line is JSON for tools.
Usage: python bench/lifecycle.py [--cases N] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import os
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


def in_memory(cases: int) -> float:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(DIAGRAM))
    spec, subs = parser.get_spec("lifecycle"), parser.get_subprocess_specs("lifecycle")
    t0 = time.perf_counter()
    for _ in range(cases):
        wf = BpmnWorkflow(spec, subs)
        wf.get_next_task(state=TaskState.READY).data.update(START)
        wf.do_engine_steps()
        for data in STEPS:
            task = wf.get_next_task(state=TaskState.READY, manual=True)
            task.data.update(data)
            task.run()
            wf.do_engine_steps()
        assert wf.is_completed()
    return cases / (time.perf_counter() - t0)


def persisted(cases: int, url: str | None, cache: int) -> float:
    tmp = None
    if url is None:
        tmp = tempfile.mkdtemp()
        url = f"sqlite:///{os.path.join(tmp, 'bench.db')}"
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    runtime = Runtime(clock=ManualClock(), workflow_cache_size=cache)
    session = Session(engine)
    runtime.deploy(session, DIAGRAM.read_bytes(), DIAGRAM.name, deployed_by="bench")
    t0 = time.perf_counter()
    for _ in range(cases):
        step = runtime.start(session, "lifecycle", data=START, actor="bench")
        for data in STEPS:
            step = runtime.complete_task(session, step.ready[0].task_id, data=data, actor="bench")
        assert step.status == "completed"
    rate = cases / (time.perf_counter() - t0)
    session.close()
    Base.metadata.drop_all(engine)
    engine.dispose()
    return rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument(
        "--database", default=None, help="SQLAlchemy URL (default: a temporary SQLite file)"
    )
    args = ap.parse_args()
    in_memory(50)  # warm up both paths (imports, parser caches)
    persisted(20, args.database, 2000)
    a = in_memory(args.cases)
    b = persisted(args.cases, args.database, 2000)
    c = persisted(args.cases, args.database, 0)
    db = "sqlite" if args.database is None else args.database.split(":", 1)[0]
    print(f"{'path':<52}{'cases/s':>10}")
    print(f"{'(a) plain SpiffWorkflow, in memory':<52}{a:>10.0f}")
    print(f"{'(b) engine, ' + db + ' at every step':<52}{b:>10.0f}")
    print(f"{'(c) engine, ' + db + ', restore from the row every step':<52}{c:>10.0f}")
    print(f"ratio b/a = {b / a:.2f}   (target >= 0.4);  c/a = {c / a:.2f}")
    print(
        json.dumps(
            {
                "benchmark": "lifecycle",
                "database": db,
                "cases": args.cases,
                "in_memory_cases_per_s": round(a, 1),
                "persisted_cases_per_s": round(b, 1),
                "persisted_restore_every_step_cases_per_s": round(c, 1),
                "ratio": round(b / a, 3),
                "ratio_restore_every_step": round(c / a, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
