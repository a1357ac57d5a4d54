"""Dispatch learned from history: which unit a case goes to, from its words, category and area.

The catalogue (``workflows.dispatch.service.suggest_department``) says one unit per category
and area. Closed cases say more: the unit that really handled a case is its final lead
department, unless that unit returned it (then it only handled it because its return was
refused, and the case is left out). A street office counts as its district platform (the
centre's dispatcher sends to the district; the district picks the street).

``train`` fits a scikit-learn pipeline (character n-grams of the description, one-hot category
and area, logistic loss by SGD), scores it on the newest 20% of the cases (top-1, top-3, and the
catalogue's top-1 on the same cases), then refits on all of them and stores it as the active
row of ``dispatch_models``. Too few cases or units: refused with a reason, the old model kept.
``predict`` gives the active model's top three units.

scikit-learn is imported when a model is trained or loaded, not when the app starts.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engine.db import unit_of_work
from engine.events import EventKind
from engine.models import HumanTask, InstanceEvent

from ..cases.enums import CaseStatus
from ..cases.models import Case
from ..cases.steps import Step
from ..departments.models import Department
from ..dispatch.service import suggest_department
from ..users.models import User
from .dispatch_table import DispatchModel

log = logging.getLogger(__name__)

#: fewer closed cases (or units) than this and a training is refused
MIN_CASES = 50
MIN_CLASSES = 2
#: the newest share of the cases kept out of training to score the model
HOLDOUT = 0.2
TOP = 3
#: the newest models kept (the active one and the ones before it, for comparison); older
#: rows, a few hundred kilobytes each, are deleted when a new model is stored
KEEP_MODELS = 5
#: the pipeline's input columns
FEATURES = ("description", "category", "area")


class TrainingRefused(Exception):
    """A training that could not be done; the message says why (the old model is kept)."""


@dataclass(frozen=True)
class Example:
    number: str
    created_at: datetime
    description: str
    category: str
    area: str
    #: the unit that handled it (a department code)
    label: str


@dataclass
class Outcome:
    model: DispatchModel
    cases: int
    classes: int
    metrics: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def _returners(session: Session, instance_ids: list[int]) -> dict[int, set[str]]:
    """Instance id -> the department codes whose handlers returned the case at sign-for."""
    out: dict[int, set[str]] = {}
    if not instance_ids:
        return out
    for chunk_start in range(0, len(instance_ids), 500):
        chunk = instance_ids[chunk_start : chunk_start + 500]
        sign_elements = (
            select(HumanTask.instance_id, HumanTask.element_id)
            .where(HumanTask.instance_id.in_(chunk), HumanTask.kind == Step.SIGN_FOR)
            .distinct()
        )
        elements: dict[int, set[str]] = {}
        for instance_id, element in session.execute(sign_elements):
            elements.setdefault(instance_id, set()).add(element)
        rows = session.execute(
            select(
                InstanceEvent.instance_id,
                InstanceEvent.element_id,
                InstanceEvent.payload,
                Department.code,
            )
            .join(User, User.username == InstanceEvent.actor)
            .join(Department, Department.id == User.department_id)
            .where(
                InstanceEvent.instance_id.in_(chunk),
                InstanceEvent.kind == EventKind.TASK_COMPLETED,
            )
        )
        for instance_id, element, payload, code in rows:
            if element not in elements.get(instance_id, ()):
                continue
            data = (payload or {}).get("data") or {}
            if data.get("action") == "return":
                out.setdefault(instance_id, set()).add(code)
    return out


def history(session: Session) -> list[Example]:
    """The closed cases a model learns from, oldest first (see the module's docstring)."""
    departments = {d.id: d for d in session.scalars(select(Department))}
    rows = session.execute(
        select(
            Case.number,
            Case.created_at,
            Case.description,
            Case.category,
            Case.area,
            Case.lead_department_id,
            Case.instance_id,
        )
        .where(Case.status == CaseStatus.CLOSED, Case.lead_department_id.is_not(None))
        .order_by(Case.created_at, Case.id)
    ).all()
    returned = _returners(session, [r.instance_id for r in rows if r.instance_id is not None])
    out = []
    for row in rows:
        lead = departments.get(row.lead_department_id)
        if lead is None:
            continue
        if lead.code in returned.get(row.instance_id, ()):
            continue
        parent = departments.get(lead.parent_id) if lead.parent_id else None
        label = (
            parent.code
            if parent is not None and parent.is_platform and parent.parent_id
            else lead.code
        )
        out.append(
            Example(
                row.number,
                row.created_at,
                row.description or "",
                row.category or "",
                row.area or "",
                label,
            )
        )
    return out


def _pipeline():
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    features = ColumnTransformer(
        [
            (
                "text",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2
                ),
                0,
            ),
            ("where", OneHotEncoder(handle_unknown="ignore"), [1, 2]),
        ]
    )
    # logistic loss by stochastic gradient descent: probabilities for the confidences, and
    # seconds, not minutes, on a large history (lbfgs took 34 s on 3,755 cases)
    classify = SGDClassifier(loss="log_loss", alpha=3e-5, max_iter=15, tol=None, random_state=0)
    return Pipeline([("features", features), ("classify", classify)])


def _frame(examples: list[Example] | list[dict[str, str]]):
    """The pipeline's input: an object array of (description, category, area) rows."""
    import numpy as np

    rows = [
        (e.description, e.category, e.area)
        if isinstance(e, Example)
        else tuple(str(e.get(k) or "") for k in FEATURES)
        for e in examples
    ]
    return np.array(rows, dtype=object).reshape(len(rows), len(FEATURES))


def _ranked(pipeline, frame) -> list[list[tuple[str, float]]]:
    probabilities = pipeline.predict_proba(frame)
    classes = list(pipeline.classes_)
    out = []
    for row in probabilities:
        order = sorted(range(len(classes)), key=lambda i: -row[i])
        out.append([(classes[i], float(row[i])) for i in order])
    return out


def catalogue_guess(session: Session, category: str, area: str) -> str:
    """The catalogue's unit for a case, as the history's labels count it."""
    dept = suggest_department(session, category=category, area=area)
    return dept.code if dept is not None else ""


def evaluate(
    train: list[Example], test: list[Example], catalogue: Callable[[str, str], str]
) -> dict[str, Any]:
    """Fit on ``train``, score on ``test``: top-1 and top-3 of the model, top-1 of the
    catalogue (``catalogue(category, area)`` -> its unit), as shares 0..1."""
    pipeline = _pipeline()
    pipeline.fit(_frame(train), [e.label for e in train])
    ranked = _ranked(pipeline, _frame(test)) if test else []
    top1 = sum(r[0][0] == e.label for r, e in zip(ranked, test, strict=True))
    top3 = sum(e.label in {c for c, _ in r[:TOP]} for r, e in zip(ranked, test, strict=True))
    guesses: dict[tuple[str, str], str] = {}
    baseline = 0
    for e in test:
        key = (e.category, e.area)
        if key not in guesses:
            guesses[key] = catalogue(*key)
        baseline += guesses[key] == e.label
    n = max(1, len(test))
    return {
        "train_cases": len(train),
        "test_cases": len(test),
        "top1": round(top1 / n, 4),
        "top3": round(top3 / n, 4),
        "baseline_top1": round(baseline / n, 4),
    }


def split(examples: list[Example], holdout: float = HOLDOUT) -> tuple[list[Example], list[Example]]:
    """The older cases and the newest ``holdout`` share (examples come oldest first)."""
    cut = len(examples) - max(1, int(round(len(examples) * holdout)))
    return examples[:cut], examples[cut:]


def train(
    session: Session,
    *,
    now: datetime,
    by: str = "",
    min_cases: int = MIN_CASES,
    min_classes: int = MIN_CLASSES,
) -> Outcome:
    """Learn from every closed case, score on the newest 20%, store as the active model.
    TrainingRefused (the old model kept) when there are too few cases or units."""
    import joblib

    started = time.perf_counter()
    examples = history(session)
    classes = len({e.label for e in examples})
    if len(examples) < min_cases:
        raise TrainingRefused(
            f"only {len(examples)} closed cases to learn from (at least {min_cases} needed); "
            "the current model is kept"
        )
    if classes < min_classes:
        raise TrainingRefused(
            f"the closed cases went to {classes} unit(s) only (at least {min_classes} needed); "
            "the current model is kept"
        )
    older, newer = split(examples)
    metrics = (
        evaluate(older, newer, lambda c, a: catalogue_guess(session, c, a))
        if len({e.label for e in older}) >= 2
        else {}
    )
    pipeline = _pipeline()
    pipeline.fit(_frame(examples), [e.label for e in examples])
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer)
    metrics["classes"] = classes
    metrics["per_unit"] = dict(sorted(Counter(e.label for e in examples).items()))
    metrics["newest_case_at"] = examples[-1].created_at.isoformat()
    metrics["closed_cases"] = _closed_count(session)
    seconds = time.perf_counter() - started
    metrics["seconds"] = round(seconds, 2)
    with unit_of_work(session):
        session.execute(update(DispatchModel).values(active=False))
        row = DispatchModel(
            trained_at=now,
            trained_by=by,
            cases=len(examples),
            metrics=metrics,
            model=buffer.getvalue(),
            active=True,
        )
        session.add(row)
        session.flush()
        _prune(session)
    session.refresh(row)
    _CACHE.clear()
    return Outcome(row, len(examples), classes, metrics, seconds)


def _prune(session: Session, keep: int = KEEP_MODELS) -> int:
    """Delete all but the newest ``keep`` models (never the active one); how many went."""
    kept = select(DispatchModel.id).order_by(DispatchModel.id.desc()).limit(keep)
    old = session.scalars(
        select(DispatchModel.id).where(
            DispatchModel.id.not_in(kept.scalar_subquery()), DispatchModel.active.is_(False)
        )
    ).all()
    if old:
        session.execute(delete(DispatchModel).where(DispatchModel.id.in_(old)))
    return len(old)


def _closed_count(session: Session) -> int:
    return session.scalar(select(func.count()).where(Case.status == CaseStatus.CLOSED)) or 0


def active(session: Session) -> DispatchModel | None:
    """The active model's row, or None when none was trained."""
    return session.scalar(
        select(DispatchModel)
        .where(DispatchModel.active.is_(True))
        .order_by(DispatchModel.id.desc())
    )


def needs_training(session: Session) -> bool:
    """Whether closed cases exist that the active model has not seen (or no model exists and
    there are closed cases): what the worker's retraining asks before training."""
    row = active(session)
    closed = select(Case.id).where(Case.status == CaseStatus.CLOSED)
    if row is not None:
        closed = closed.where(Case.closed_at > row.trained_at)
    return session.scalar(closed.limit(1)) is not None


#: model id -> the loaded pipeline (a model's bytes never change)
_CACHE: dict[int, Any] = {}


def _load(row: DispatchModel):
    if row.id not in _CACHE:
        import joblib

        _CACHE.clear()
        _CACHE[row.id] = joblib.load(io.BytesIO(row.model))
    return _CACHE[row.id]


@dataclass(frozen=True)
class Suggestion:
    department: Department
    confidence: float


def predict(
    session: Session, description: str, category: str, area: str
) -> list[Suggestion] | None:
    """The active model's three likeliest units (active departments it knows only), with its
    confidence (0..1); None when no model was trained."""
    row = active(session)
    if row is None:
        return None
    pipeline = _load(row)
    ranked = _ranked(
        pipeline, _frame([{"description": description, "category": category, "area": area}])
    )[0]
    departments = {
        d.code: d
        for d in session.scalars(
            select(Department).where(
                Department.code.in_([c for c, _ in ranked]), Department.active.is_(True)
            )
        )
    }
    out = []
    for code, p in ranked:
        if code in departments:
            out.append(Suggestion(departments[code], p))
        if len(out) == TOP:
            break
    return out


class RetrainJob:
    """The worker's retraining: ``tick()`` is cheap to call after every sweep. It looks at
    most every ``check`` seconds; it trains when the active model is ``every`` old (or there
    is none) and cases closed since it was trained. A refusal (too few cases) is logged and
    the old model kept. With ``background`` the training runs in a daemon thread (one at a
    time), so that a long fit (about a minute at 100,000 cases) never holds up the timers."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        clock,
        every_hours: float = 24.0,
        min_cases: int = MIN_CASES,
        check_seconds: float = 300.0,
        background: bool = False,
    ) -> None:
        self.session_factory = session_factory
        self.clock = clock
        self.every = timedelta(hours=every_hours)
        self.min_cases = min_cases
        self.check = timedelta(seconds=check_seconds)
        self.background = background
        self.thread: threading.Thread | None = None
        self._checked: datetime | None = None

    def tick(self) -> Outcome | None:
        """The training's outcome when it trained here; None when not due, refused, or
        started in the background."""
        now = self.clock.now()
        if self._checked is not None and now - self._checked < self.check:
            return None
        if self.thread is not None and self.thread.is_alive():
            return None
        self._checked = now
        session = self.session_factory()
        try:
            row = active(session)
            if row is not None and now - row.trained_at < self.every:
                return None
            if not needs_training(session):
                return None
        finally:
            session.close()
        if self.background:
            self.thread = threading.Thread(
                target=self._train, args=(now,), name="dispatch-model-retrain", daemon=True
            )
            self.thread.start()
            return None
        return self._train(now)

    def _train(self, now: datetime) -> Outcome | None:
        session = self.session_factory()
        try:
            outcome = train(session, now=now, by="worker", min_cases=self.min_cases)
            log.info(
                "dispatch model %s retrained on %s closed cases in %.1f s",
                outcome.model.id,
                outcome.cases,
                outcome.seconds,
            )
            return outcome
        except TrainingRefused as refused:
            log.info("dispatch model not retrained: %s", refused)
            session.rollback()
            return None
        except Exception:  # a worker thread must not die silently
            log.exception("dispatch model retraining failed; the old model is kept")
            session.rollback()
            return None
        finally:
            session.close()
