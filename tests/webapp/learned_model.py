"""A dispatch model stored for the page and API tests: fitted on texts of the simulator's
sub-topics (workflows/insight/sim_texts.py), labelled with their true units."""

from __future__ import annotations

import io
import random
from datetime import timedelta

import joblib

from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.insight import dispatch_model
from workflows.insight.dispatch_table import DispatchModel
from workflows.insight.sim_texts import describe
from workflows.seed import DISPATCH_RULES

#: a text plainly of one sub-topic: night construction noise (the catalogue says B-UM)
NIGHT_WORKS = {
    "description": "建筑工地凌晨还在打桩，夜间施工噪音扰民",
    "category": "噪音扰民",
    "area": "D-JH",
}


def store_model(app, *, n: int = 800, age_days: float = 0) -> int:
    """Fit a model on ``n`` simulated texts and store it as the active one; its id."""
    rng = random.Random(7)
    examples = []
    for _ in range(n):
        category, area, _unit, _priority = rng.choice(DISPATCH_RULES)
        area = area if area != "*" else rng.choice(["D-PJ", "D-JH", "D-XH"])
        text, unit = describe(rng, category, area)
        examples.append({"description": text, "category": category, "area": area, "unit": unit})
    pipeline = dispatch_model._pipeline()
    pipeline.fit(dispatch_model._frame(examples), [e["unit"] for e in examples])
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    with app.app_context():
        now = get_hotline().clock.now()
        db.session.query(DispatchModel).update({"active": False})
        row = DispatchModel(
            trained_at=now - timedelta(days=age_days),
            trained_by="tests",
            cases=n,
            metrics={"top1": 0.9, "top3": 0.99, "baseline_top1": 0.72},
            model=buffer.getvalue(),
            active=True,
        )
        db.session.add(row)
        db.session.commit()
        return row.id
