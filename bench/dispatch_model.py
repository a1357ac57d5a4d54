"""Benchmark: dispatch learned from history against the catalogue alone (issue 19, item 5).

A history of closed, dispatched cases is made, the model (workflows/insight/dispatch_model.py:
its own ``evaluate``) is fitted on the older 80% and scored on the newer 20%: top-1 and top-3
of the model, top-1 of the catalogue (``suggest_department``'s unit) against the unit that
really handled each case. Printed with the timings; the last line is JSON.

Two ways to make the history:

- ``--cases N`` (default): a fast generator that draws the same things the simulator draws, in
  the same way: a catalogue row (category, area) as ``Simulation._intake`` picks it, the
  description and true unit from ``workflows.insight.sim_texts.describe``, the dispatch to the
  catalogue's unit, and the sign-for loop of ``Simulation._sign`` / ``_review_return`` (a wrong
  unit returns at ``Rates.wrong_unit_return``, a right one at ``Rates.return_``; approvals 95% /
  60%; an approved return of a wrong unit goes to the true unit, of the true unit to another
  bureau; at most two returns); a case whose final unit returned it is left out, as
  ``history`` leaves it out. It skips the engine (deadlines, callbacks), which do not change who
  handles a case. Time order: the order drawn.
- ``--simulate N``: the real simulator through the engine (``hotline init --demo`` then
  ``hotline simulate --cases N``) on a SQLite file, and the model module's own ``history``.
  Slow (tens of cases a second): use it to check the generator at a small scale.

Usage: python bench/dispatch_model.py [--cases 20000] [--seed 1] [--simulate N --days D]
       python bench/dispatch_model.py --database URL   (a history already there, e.g. the last
       --simulate run's sqlite:///bench/out/dispatch_model.db)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

import workflows.models  # noqa: E402,F401  (every table)
from engine.clock import ManualClock  # noqa: E402
from engine.db import make_engine, unit_of_work  # noqa: E402
from engine.models import Base  # noqa: E402
from workflows.departments.models import Department  # noqa: E402
from workflows.dispatch.models import DispatchRule  # noqa: E402
from workflows.insight import dispatch_model  # noqa: E402
from workflows.insight.sim_texts import describe  # noqa: E402
from workflows.seed import seed_demo_city  # noqa: E402
from workflows.simulation import Rates  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)
DISTRICTS = ("D-PJ", "D-JH", "D-XH")
BUREAUS = ("B-UM", "B-HU", "B-MR", "B-WA")


def catalogue_db() -> Session:
    """An in-memory database with the demo city's departments and dispatch catalogue."""
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    session = Session(engine)
    with unit_of_work(session):
        seed_demo_city(session, clock=ManualClock(START))
    return session


def generated(session: Session, n: int, seed: int, rates: Rates) -> list:
    """``n`` dispatched cases drawn as the simulator draws them; those the history keeps."""
    rng, texts = random.Random(seed), random.Random(f"texts:{seed}")
    rules = session.execute(select(DispatchRule.category, DispatchRule.area)).all()
    units = {d.code: d for d in session.scalars(select(Department))}
    parents = {d.id: d.code for d in units.values()}
    catalogue: dict[tuple[str, str], str] = {}
    out = []
    for i in range(n):
        category, area = rng.choice(rules)
        area = area if area != "*" else rng.choice(DISTRICTS)
        description, true = describe(texts, category, area)
        key = (category, area)
        if key not in catalogue:
            catalogue[key] = dispatch_model.catalogue_guess(session, category, area)
        unit, returned = catalogue[key] or rng.choice(["B-UM", "B-MR"]), set()
        while True:
            dept = units[unit]
            level = parents.get(dept.parent_id) if dept.parent_id else None
            wrong = unit != true and level != true
            share = rates.wrong_unit_return if wrong else rates.return_
            if len(returned) >= 2 or rng.random() >= share:
                break
            returned.add(unit)
            if rng.random() < (0.95 if wrong else 0.6):
                unit = true if wrong else rng.choice([c for c in BUREAUS if c != unit])
        if unit in returned:
            continue
        when = START + timedelta(minutes=i)
        out.append(dispatch_model.Example(f"G{i:07d}", when, description, category, area, unit))
    return out


def simulated(n: int, days: float, seed: int) -> tuple[Session, list]:
    """The real simulator's history on a fresh SQLite file."""
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    path = out / "dispatch_model.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    env = {**os.environ, "HOTLINE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    run = [sys.executable, "-c", "import sys; from webapp.cli import main; main()"]
    for args in (["init", "--demo"], ["simulate", "--cases", str(n), "--days", str(days),
                                      "--seed", str(seed)]):  # fmt: skip
        subprocess.run(run + args, env=env, check=True, stdout=subprocess.DEVNULL)
    session = Session(make_engine(url))
    return session, dispatch_model.history(session)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--simulate", type=int, default=0, help="cases through the simulator")
    parser.add_argument("--days", type=float, default=60)
    parser.add_argument("--database", help="read the history of this database (no simulation)")
    parser.add_argument(
        "--refit", action="store_true", help="also time the refit on every case (what train stores)"
    )
    args = parser.parse_args()
    t0 = time.perf_counter()
    if args.database:
        session = Session(make_engine(args.database))
        examples = dispatch_model.history(session)
        source = f"database {args.database}"
    elif args.simulate:
        session, examples = simulated(args.simulate, args.days, args.seed)
        source = f"simulator ({args.simulate} calls over {args.days:g} days)"
    else:
        session = catalogue_db()
        examples = generated(session, args.cases, args.seed, Rates())
        source = f"generator ({args.cases} dispatched cases)"
    made = time.perf_counter() - t0
    older, newer = dispatch_model.split(examples)
    t1 = time.perf_counter()
    metrics = dispatch_model.evaluate(
        older, newer, lambda c, a: dispatch_model.catalogue_guess(session, c, a)
    )
    fitted = time.perf_counter() - t1
    gain = (metrics["top1"] - metrics["baseline_top1"]) * 100
    print(f"history: {source}: {len(examples)} closed cases kept, {made:.1f} s")
    print(f"trained on the older {len(older)}, scored on the newer {len(newer)}")
    print(
        f"model top-1 {metrics['top1']:.1%}, top-3 {metrics['top3']:.1%}; "
        f"catalogue top-1 {metrics['baseline_top1']:.1%} ({gain:+.1f} points)"
    )
    print(f"fit + score: {fitted:.1f} s")
    refit = 0.0
    if args.refit:
        t2 = time.perf_counter()
        dispatch_model._pipeline().fit(dispatch_model._frame(examples), [e.label for e in examples])
        refit = time.perf_counter() - t2
        print(f"refit on all {len(examples)}: {refit:.1f} s")
    print(json.dumps({"source": source, "cases": len(examples), "history_seconds": round(made, 2),
                      "fit_score_seconds": round(fitted, 2), "refit_seconds": round(refit, 2),
                      **metrics}))  # fmt: skip


if __name__ == "__main__":
    main()
