"""Every domain table, imported in one place so that ``Base.metadata`` knows them all."""

from .api.models import ApiToken, IdempotencyRecord
from .appeals.models import Appeal, AppealSettings
from .attachments.models import Attachment
from .audit.models import AnonymisedCase, AuditEntry
from .calendar.models import CalendarDay
from .calls.models import (
    AgentState,
    Call,
    CallCallback,
    CallCallbackAttempt,
    CallEvent,
    CallSettings,
)
from .cases.models import Case, CaseCounter, CaseDepartment, CaseNote, CaseTypeRecord
from .cohandling.models import CohandlingPart
from .departments.models import Department
from .dispatch.models import DispatchRule
from .evaluation.models import Bulletin, ScoreBonus, ScoringScheme
from .forms.models import FormVersion
from .insight.dispatch_table import DispatchModel
from .insight.duplicates import DupKey
from .insight.models import Area, CaseTag, Term, Wave
from .knowledge.models import Article
from .kpi.models import KpiDayRollup, KpiDirtyDay
from .notifications.models import (
    Message,
    Notification,
    NotificationTemplate,
    SmsInbound,
    SmsOptOut,
)
from .open311.models import Channel, Open311Request
from .policy.models import DeadlinePolicy
from .quality.models import Dispute, Review, SampledCase, SampleDraw, ScoringSheet
from .users.models import Role, User
from .users.saved_views import SavedView
from .users.sign_in_models import SecondFactor, SignInFailure, UserSession

__all__ = [
    "AgentState",
    "Attachment",
    "Area",
    "DispatchModel",
    "Appeal",
    "AppealSettings",
    "Call",
    "CallCallback",
    "CallCallbackAttempt",
    "CallEvent",
    "CallSettings",
    "AnonymisedCase",
    "Bulletin",
    "ApiToken",
    "AuditEntry",
    "Article",
    "CalendarDay",
    "Case",
    "CaseCounter",
    "CaseDepartment",
    "CaseTypeRecord",
    "CaseNote",
    "CaseTag",
    "Channel",
    "CohandlingPart",
    "DeadlinePolicy",
    "Dispute",
    "Department",
    "DispatchRule",
    "DupKey",
    "FormVersion",
    "KpiDayRollup",
    "KpiDirtyDay",
    "IdempotencyRecord",
    "Message",
    "Notification",
    "NotificationTemplate",
    "Open311Request",
    "Review",
    "Role",
    "ScoreBonus",
    "ScoringScheme",
    "SampleDraw",
    "SavedView",
    "SampledCase",
    "ScoringSheet",
    "SecondFactor",
    "SignInFailure",
    "SmsInbound",
    "SmsOptOut",
    "Term",
    "User",
    "Wave",
    "UserSession",
]
