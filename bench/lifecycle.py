"""Benchmark: the complaint lifecycle, in memory with plain SpiffWorkflow vs through the engine.

The diagram is the bundled bpmn/complaint.bpmn; one case goes intake (dispatch) -> dispatch ->
sign-for -> reply -> review -> callback -> closed, with its deadlines computed on the
working-day calendar (2026 exceptions from the holidays package, in memory for both paths).

(a) plain SpiffWorkflow in memory: SpiffBpmnParser, SpiffWorkflow's default script engine
    (Python eval, with the same calendar functions as globals), nothing saved;
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
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from engine.clock import ManualClock  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.models import Base  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from workflows.calendar.service import (  # noqa: E402
    CalendarProvider,
    WorkingCalendar,
    calendar_functions,
)
from workflows.cases.steps import step_of  # noqa: E402
from workflows.cases.types import BUILTIN  # noqa: E402
from workflows.policy.models import DeadlinePolicy  # noqa: E402
from workflows.policy.service import policy_data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DIAGRAM = ROOT / "bpmn" / "complaint.bpmn"
KEY = "complaint"
TZ = ZoneInfo("Asia/Shanghai")
#: the process data's copy of the complaint x normal policy, as intake makes it (every limit
#: the diagram's clocks read)
POLICY = policy_data(
    DeadlinePolicy(**next(r for r in BUILTIN.policy_rows() if r["case_type"] == "complaint"))
)
START = {
    "case_type": "complaint",
    "urgency": "normal",
    "channel": "phone",
    "caller_name": "张三",
    "caller_phone": "13800138000",
    "address": "江门市蓬江区白沙大道1号",
    "area": "D-PJ",
    "category": "食品安全",
    "description": "餐馆卫生差",
    "intake_outcome": "dispatch",
    "answer": None,
    "not_accepted_reason": None,
    "case_number": "2026030200001",
    "policy": POLICY,
    "platform": "CITY",
    "suggested_department": "B-MR",
    "return_count": 0,
    "extension_count": 0,
    "extension_days_total": 0,
    "reopen_count": 0,
    "replied_at": None,
    "paused_at": None,
}
STEPS = [
    {
        "lead_department": "B-MR",
        "co_departments": [],
        "dispatch_note": None,
        "lead_is_platform": False,
    },
    {"action": "sign", "return_reason": None},
    {
        "action": "reply",
        "reply_text": "已处理",
        "result": "resolved",
        "extension_days": None,
        "extension_reason": None,
        "suspension_reason": None,
    },
    {"decision": "accept", "note": None},
    {
        "contact_result": "reached",
        "unreached_reason": None,
        "satisfaction": "satisfied",
        "resolved": "yes",
        "reopen": False,
        "callback_note": None,
    },
]
BEGIN = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def calendar() -> CalendarProvider:
    holidays_cn = holidays.China(years=[2026, 2027])
    exceptions = {d: False for d in holidays_cn if d.weekday() < 5}
    exceptions.update({d: True for d in holidays_cn.weekend_workdays if d.year >= 2026})
    cal = WorkingCalendar(TZ, exceptions)
    return CalendarProvider(lambda: cal, clock=ManualClock(BEGIN), ttl=10**9)


class InMemory:
    """(a): plain SpiffWorkflow, default script engine, nothing saved."""

    def __init__(self) -> None:
        parser = SpiffBpmnParser()
        parser.add_bpmn_file(str(DIAGRAM))
        self.spec = parser.get_spec(KEY)
        self.subs = parser.get_subprocess_specs(KEY)
        clock = ManualClock(BEGIN)
        # SpiffWorkflow's own timers want ISO strings where ours take date-times.
        functions = {
            name: _iso_result(f)
            for name, f in {**calendar_functions(calendar(), clock), "now": clock.now}.items()
        }
        self.engine = PythonScriptEngine(environment=TaskDataEnvironment(functions))

    def run(self, cases: int) -> float:
        t0 = time.perf_counter()
        for _ in range(cases):
            wf = BpmnWorkflow(self.spec, self.subs, script_engine=self.engine)
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
        clock = ManualClock(BEGIN)
        self.runtime = Runtime(
            clock=clock,
            tz=TZ,
            workflow_cache_size=cache,
            functions=calendar_functions(calendar(), clock),
        )
        self.runtime.set_task_kind(step_of)  # as the hotline runs it: tasks carry their step
        self.session = Session(self.engine)
        self.runtime.deploy(self.session, DIAGRAM.read_bytes(), DIAGRAM.name, deployed_by="bench")

    def run(self, cases: int) -> float:
        runtime, session = self.runtime, self.session
        t0 = time.perf_counter()
        for _ in range(cases):
            step = runtime.start(session, KEY, data=START, actor="bench")
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


def _iso_result(function):
    def wrapped(*args):
        value = function(*args)
        return value.isoformat() if isinstance(value, datetime) else value

    return wrapped


if __name__ == "__main__":
    main()
