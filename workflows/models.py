"""Every domain table, imported in one place so that ``Base.metadata`` knows them all."""

from .calendar.models import CalendarDay
from .cases.models import Case, CaseCounter, CaseDepartment, CaseNote
from .departments.models import Department
from .dispatch.models import DispatchRule
from .knowledge.models import Article
from .policy.models import DeadlinePolicy
from .users.models import Role, User

__all__ = [
    "Article",
    "CalendarDay",
    "Case",
    "CaseCounter",
    "CaseDepartment",
    "CaseNote",
    "DeadlinePolicy",
    "Department",
    "DispatchRule",
    "Role",
    "User",
]
