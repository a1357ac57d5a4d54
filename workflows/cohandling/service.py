"""Co-handling parts and the units still to answer, as the lead, the case page and the API
read them; the rule that holds the lead's reply until every unit has answered or is late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import HumanTask

from ..cases.models import Case
from ..cases.steps import Step
from ..departments.models import Department
from ..users.models import User
from .models import CohandlingPart


@dataclass(frozen=True)
class Part:
    """A part a co-handling unit sent."""

    department_code: str
    department_name: str
    department_name_en: str
    text: str
    author: str
    answered_at: datetime
    due_at: datetime | None
    on_time: bool
    #: the author's display name (the username when the user is gone)
    author_name: str = ""

    def department_label(self, lang: str) -> str:
        return (
            self.department_name_en
            if lang == "en" and self.department_name_en
            else self.department_name
        )


@dataclass(frozen=True)
class Pending:
    """A co-handling unit that has not answered yet, with its task's deadline."""

    department_code: str
    department_name: str
    department_name_en: str
    task_id: str
    due_at: datetime | None
    #: past its deadline: the lead need not wait for it any more
    overdue: bool

    def department_label(self, lang: str) -> str:
        return (
            self.department_name_en
            if lang == "en" and self.department_name_en
            else self.department_name
        )


@dataclass(frozen=True)
class Cohandling:
    parts: list[Part]
    pending: list[Pending]

    @property
    def waiting_for(self) -> list[Pending]:
        """The units the lead must still wait for: not answered and not yet late."""
        return [p for p in self.pending if not p.overdue]

    def __bool__(self) -> bool:
        return bool(self.parts or self.pending)


def record_part(
    session: Session, *, case: Case, task: HumanTask, text: str, author: str, at: datetime
) -> CohandlingPart:
    """Store the part a co-handling task's unit sent (in the step that completes the task)."""
    department = session.scalars(
        select(Department).where(Department.code == task.candidate_group)
    ).one()
    part = CohandlingPart(
        case_id=case.id,
        department_id=department.id,
        task_id=task.task_id,
        text=text,
        author=author,
        answered_at=at,
        due_at=task.due_at,
        on_time=task.due_at is None or at <= task.due_at,
    )
    session.add(part)
    return part


def cohandling_of(session: Session, *, case: Case, now: datetime) -> Cohandling:
    """The parts a case's co-handling units sent, oldest first, and the units still to answer
    (their open ``cohandle`` tasks), soonest deadline first."""
    parts = [
        Part(
            row.code,
            row.name,
            row.name_en or "",
            row.text,
            row.author,
            row.answered_at,
            row.due_at,
            row.on_time,
            row.display_name or row.author,
        )
        for row in session.execute(
            select(
                Department.code,
                Department.name,
                Department.name_en,
                CohandlingPart.text,
                CohandlingPart.author,
                CohandlingPart.answered_at,
                CohandlingPart.due_at,
                CohandlingPart.on_time,
                User.display_name,
            )
            .join(Department, Department.id == CohandlingPart.department_id)
            .outerjoin(User, User.username == CohandlingPart.author)
            .where(CohandlingPart.case_id == case.id)
            .order_by(CohandlingPart.answered_at, CohandlingPart.id)
        )
    ]
    pending: list[Pending] = []
    if case.instance_id is not None:
        rows = session.execute(
            select(HumanTask.candidate_group, HumanTask.task_id, HumanTask.due_at)
            .where(
                HumanTask.instance_id == case.instance_id,
                HumanTask.state == "ready",
                HumanTask.kind == Step.COHANDLE,
            )
            .order_by(HumanTask.due_at, HumanTask.id)
        ).all()
        names = {
            code: (name, name_en or "")
            for code, name, name_en in session.execute(
                select(Department.code, Department.name, Department.name_en).where(
                    Department.code.in_([r.candidate_group for r in rows])
                )
            )
        }
        for code, task_id, due_at in rows:
            name, name_en = names.get(code, (code or "", ""))
            overdue = due_at is not None and now >= due_at
            pending.append(Pending(code or "", name, name_en, task_id, due_at, overdue))
    return Cohandling(parts, pending)
