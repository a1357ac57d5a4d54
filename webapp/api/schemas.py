"""The API's marshmallow schemas: what each endpoint reads and answers (and so its OpenAPI
document). Input schemas refuse unknown fields; times are ISO 8601 in the hotline's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask import current_app
from marshmallow import fields, validate

from engine.models import COMMENT_MAX
from workflows.calendar.service import UNITS
from workflows.calls.kpi import CALL_GROUP_KEYS
from workflows.cases.enums import CaseStatus, Channel, DueState, Satisfaction, Urgency
from workflows.cases.phones import canonical_phone
from workflows.cases.steps import Step
from workflows.kpi.buckets import BUCKETS
from workflows.kpi.service import COHANDLING_KPI, GROUP_KEYS, KPI_NAMES, KPI_PARTS, RATE_KPIS

from ..hotline import get_hotline

MAX_PAGE = 1_000_000
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


class OneCaseType(validate.Validator):
    """One of the app's case types (a deployment may declare more than the built-in ones),
    read when a value is checked and when the OpenAPI document is made, never at import."""

    @property
    def choices(self) -> list[str]:
        """The codes (apispec documents a validator's ``choices`` as the enum)."""
        return get_hotline().case_types.codes()

    def __call__(self, value: str) -> str:
        choices = self.choices
        if value not in choices:
            raise ma.ValidationError(f"Must be one of: {', '.join(choices)}.")
        return value


class LocalDateTime(fields.DateTime):
    """Dumps in the hotline's zone; reads ISO 8601, a time without an offset as local time."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(local_zone())
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if result.tzinfo is None:
            result = result.replace(tzinfo=local_zone())
        try:
            result.astimezone(ZoneInfo("UTC"))
        except OverflowError:
            raise ma.ValidationError("Out of range.") from None
        if not EARLIEST.year <= result.year <= LATEST.year:
            raise ma.ValidationError(f"A time between {EARLIEST.year} and {LATEST.year}.")
        return result


_PHONE = "0123456789-"


def a_phone_number(value: str) -> None:
    """A caller's number as the SMS gateway and the phone system send it (any written form)."""
    phone = canonical_phone(value)
    if not phone or not set(phone) <= set(_PHONE) or not 3 <= len(phone) <= 32:
        raise ma.ValidationError("a phone number (digits, optionally +86 and separators)")


class ReceivedAt(fields.DateTime):
    """ISO 8601 with its offset, for times other systems send (the SMS gateway, the phone
    system: they know their zone; a bare time is ambiguous)."""

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        result = super()._deserialize(value, attr, data, **kwargs)
        if result.tzinfo is None or result.utcoffset() is None:
            raise ma.ValidationError("a time with its offset, e.g. 2026-03-02T09:00:00+08:00")
        if not EARLIEST.year <= result.year <= LATEST.year:
            raise ma.ValidationError(f"a time between {EARLIEST.year} and {LATEST.year}")
        return result


def Nullable(field_cls, *args, **kwargs):  # noqa: N802
    return field_cls(*args, allow_none=True, **kwargs)


class InputSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# -- shared ---------------------------------------------------------------------------------


class PageArgs(InputSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=25, validate=validate.Range(1, 200))


class PageSchema(ma.Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(
        required=True,
        metadata={
            "description": "the matching items; a case search counts at most 500 (see total_capped)"
        },
    )
    total_capped = fields.Boolean(
        required=True,
        metadata={
            "description": "true when there are more than total (counting a million cases "
            "takes longer than a page): keep paging while pages come full"
        },
    )
    pages = fields.Integer(
        required=True, metadata={"description": "the pages of total items (at least 1)"}
    )


class IdempotencyHeaders(ma.Schema):
    """Documented and checked by hand in ``idempotency.py`` (other headers pass)."""

    class Meta:
        unknown = ma.INCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=validate.Length(1, 255),
        metadata={"description": "a retried POST with the same key gets the first answer"},
    )


class IfMatchHeaders(IdempotencyHeaders):
    if_match = fields.String(
        data_key="If-Match",
        metadata={"description": "the ETag you read: 412 if the resource changed since"},
    )


class MeSchema(ma.Schema):
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    department = Nullable(fields.String, required=True)


# -- cases ----------------------------------------------------------------------------------


class CaseArgs(PageArgs):
    number = fields.String(validate=validate.Length(max=200))
    phone = fields.String(validate=validate.Length(max=200))
    text = fields.String(validate=validate.Length(max=200))
    case_type = fields.String(validate=OneCaseType())
    status = fields.String(validate=validate.OneOf([str(s) for s in CaseStatus]))
    urgency = fields.String(validate=validate.OneOf([str(u) for u in Urgency]))
    due_state = fields.String(validate=validate.OneOf([str(d) for d in DueState]))
    department = fields.String(
        validate=validate.Length(max=32), metadata={"description": "a department code"}
    )
    department_role = fields.String(
        validate=validate.OneOf(["lead", "co"]),
        metadata={"description": "with department: the cases it leads (lead) or co-handles (co)"},
    )
    category = fields.String(
        validate=validate.Length(max=64), metadata={"description": "the category (exact)"}
    )
    area = fields.String(
        validate=validate.Length(max=32), metadata={"description": "an area's (district's) code"}
    )
    channel = fields.String(validate=validate.OneOf([str(c) for c in Channel]))
    satisfaction = fields.String(validate=validate.OneOf([str(v) for v in Satisfaction]))
    overdue = fields.Boolean(
        metadata={
            "description": "true: overdue as the overdue rate counts it (replied or closed "
            "after the reply deadline, or past it unreplied); false: every other case"
        }
    )
    reopened = fields.Boolean(metadata={"description": "true: reopened at least once"})
    dispatched = fields.Boolean(
        metadata={
            "description": "true: has a lead department (dispatched); false: never dispatched "
            '(the KPI dashboard\'s "Not dispatched" group)'
        }
    )
    kpi = fields.String(
        validate=validate.OneOf([*KPI_NAMES, COHANDLING_KPI]),
        metadata={
            "description": "the cases behind one KPI figure, counted with the KPI's own "
            "condition (docs/lists.md, docs/kpis.md); a rate needs kpi_part; cohandling "
            "needs department with department_role co (the co-handling unit)"
        },
    )
    kpi_part = fields.String(
        validate=validate.OneOf(list(KPI_PARTS)),
        metadata={"description": "with a rate's kpi: its numerator (n) or denominator (d)"},
    )
    created_from = fields.Date(validate=validate.Range(EARLIEST, LATEST))
    created_to = fields.Date(validate=validate.Range(EARLIEST, LATEST))
    closed_from = fields.Date(validate=validate.Range(EARLIEST, LATEST))
    closed_to = fields.Date(validate=validate.Range(EARLIEST, LATEST))
    called_from = fields.Date(
        validate=validate.Range(EARLIEST, LATEST),
        metadata={"description": "linked to a call that arrived on or after this local day"},
    )
    called_to = fields.Date(
        validate=validate.Range(EARLIEST, LATEST),
        metadata={"description": "linked to a call that arrived on or before this local day"},
    )
    sort = fields.String(
        validate=validate.Length(max=40),
        metadata={
            "description": "the column to sort by: number, created, status, case_type, "
            "urgency, reply_due or closed (docs/lists.md); newest first without it"
        },
    )
    dir = fields.String(
        validate=validate.OneOf(["asc", "desc"]),
        metadata={"description": "with sort: asc or desc (each column has its own default)"},
    )


class CaseDepartmentSchema(ma.Schema):
    code = fields.String(required=True)
    role = fields.String(required=True, metadata={"description": "lead or co"})


class CallbackAttemptSchema(ma.Schema):
    at = LocalDateTime(required=True)
    user = fields.String(required=True, metadata={"description": "the callback agent"})
    result = fields.String(
        required=True, metadata={"description": "reached, not_reached or rating_declined"}
    )
    reason = Nullable(
        fields.String,
        required=True,
        metadata={"description": "when not reached: no_answer, busy, wrong_number, declined"},
    )
    note = fields.String(required=True)


class CaseSchema(ma.Schema):
    number = fields.String(required=True)
    case_type = fields.String(required=True)
    #: the case type's own intake fields (None for a type without a form of its own)
    details = Nullable(fields.Dict, required=True)
    urgency = fields.String(required=True)
    channel = fields.String(required=True)
    category = fields.String(required=True)
    status = fields.String(required=True)
    caller_name = fields.String(required=True)
    caller_phone = fields.String(required=True)
    address = fields.String(required=True)
    area = fields.String(required=True)
    lat = Nullable(fields.Float, required=True)
    lon = Nullable(fields.Float, required=True)
    description = fields.String(required=True)
    intake_outcome = fields.String(required=True)
    answer = fields.String(required=True)
    not_accepted_reason = fields.String(required=True)
    departments = fields.List(fields.Nested(CaseDepartmentSchema), required=True)
    lead_department = Nullable(fields.String, required=True)
    created_by = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    updated_at = LocalDateTime(required=True)
    dispatched_at = Nullable(LocalDateTime, required=True)
    sign_due = Nullable(LocalDateTime, required=True)
    signed_at = Nullable(LocalDateTime, required=True)
    return_due = Nullable(LocalDateTime, required=True)
    reply_due = Nullable(LocalDateTime, required=True)
    warn_at = Nullable(LocalDateTime, required=True)
    replied_at = Nullable(LocalDateTime, required=True)
    closed_at = Nullable(LocalDateTime, required=True)
    paused_at = Nullable(LocalDateTime, required=True)
    callback_at = Nullable(LocalDateTime, required=True)
    due_state = fields.String(required=True)
    sign_escalated = fields.Boolean(required=True)
    escalated = fields.Boolean(required=True)
    return_count = fields.Integer(required=True)
    extension_count = fields.Integer(required=True)
    reopen_count = fields.Integer(required=True)
    reply_text = fields.String(required=True)
    outcome = fields.String(
        required=True,
        metadata={
            "description": "how a closed case ended: handled, answered (at intake), "
            "not_accepted, merged (closed with its master), not_reached (closed, the citizen "
            "was not reached at the callback), rating_declined (closed, the citizen declined "
            "to rate); empty while open"
        },
    )
    callback_attempts = fields.List(
        fields.Nested(CallbackAttemptSchema),
        required=True,
        metadata={"description": "every call to the citizen at the callback step, oldest first"},
    )
    satisfaction = Nullable(fields.String, required=True)
    resolved = Nullable(fields.Boolean, required=True)
    callback_required = fields.Boolean(required=True)
    first_contact_resolution = fields.Boolean(required=True)
    #: the caller's name and phone are masked for departments (a report, or the caller asked)
    confidential = fields.Boolean(required=True)
    merged_into = Nullable(fields.String, required=True)


class CohandlingPartSchema(ma.Schema):
    department = fields.String(required=True, metadata={"description": "a department code"})
    text = fields.String(required=True)
    author = fields.String(required=True)
    answered_at = LocalDateTime(required=True)
    due_at = Nullable(LocalDateTime, required=True)
    on_time = fields.Boolean(required=True)


class CohandlingPendingSchema(ma.Schema):
    department = fields.String(required=True, metadata={"description": "a department code"})
    due_at = Nullable(LocalDateTime, required=True)
    overdue = fields.Boolean(
        required=True,
        metadata={"description": "past its deadline: the lead may reply without its part"},
    )


class CohandlingSchema(ma.Schema):
    parts = fields.List(fields.Nested(CohandlingPartSchema), required=True)
    pending = fields.List(fields.Nested(CohandlingPendingSchema), required=True)


class CaseDetailSchema(CaseSchema):
    cohandling = fields.Nested(
        CohandlingSchema,
        required=True,
        metadata={
            "description": "the parts the co-handling units sent the lead, and the units "
            "still to answer with their deadlines"
        },
    )


class CasePageSchema(PageSchema):
    items = fields.List(fields.Nested(CaseSchema), required=True)


class EventSchema(ma.Schema):
    id = fields.Integer(required=True)
    at = LocalDateTime(required=True)
    actor = Nullable(fields.String, required=True)
    kind = fields.String(required=True)
    element_id = Nullable(fields.String, required=True)
    data = fields.Dict(required=True, metadata={"description": "what the event recorded"})


class HistorySchema(ma.Schema):
    number = fields.String(required=True)
    events = fields.List(fields.Nested(EventSchema), required=True)


class NoteArgs(InputSchema):
    body = fields.String(required=True, validate=validate.Length(1, 4000))


class AttachmentSchema(ma.Schema):
    id = fields.Integer(required=True)
    file_name = fields.String(required=True)
    content_type = fields.String(
        required=True, metadata={"description": "read from the file's bytes"}
    )
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    sha256 = fields.String(required=True)
    source = fields.String(
        required=True, metadata={"description": "intake, note, task, appeal, open311 or api"}
    )
    uploaded_by = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    url = fields.String(required=True, metadata={"description": "the file (this API)"})
    thumbnail_url = fields.String(
        allow_none=True,
        metadata={"description": "an image's thumbnail (this API); null for other files"},
    )


class AttachmentListSchema(ma.Schema):
    number = fields.String(required=True)
    items = fields.List(fields.Nested(AttachmentSchema), required=True)


class NoteSchema(ma.Schema):
    id = fields.Integer(required=True)
    author = fields.String(required=True)
    kind = fields.String(required=True)
    body = fields.String(required=True)
    created_at = LocalDateTime(required=True)


class InterimReplyArgs(InputSchema):
    #: checked by the domain (empty, too long: 422 naming ``body``), as on the task page
    body = fields.String(required=True)


class InterimRepliesSchema(ma.Schema):
    number = fields.String(required=True)
    items = fields.List(fields.Nested(NoteSchema), required=True)


class MergeArgs(InputSchema):
    master = fields.String(required=True, validate=validate.Length(1, 20))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


# -- tasks ----------------------------------------------------------------------------------


class TaskArgs(PageArgs):
    scope = fields.String(
        load_default="available",
        validate=validate.OneOf(["available", "mine"]),
        metadata={"description": "available: every task you may act on; mine: claimed by you"},
    )
    step = fields.String(
        validate=validate.OneOf([str(s) for s in Step]),
        metadata={"description": "only tasks of this step (what the task is in the case)"},
    )
    element = fields.String(
        validate=validate.Length(max=255),
        metadata={"description": "only tasks of this diagram element (its id)"},
    )
    due_state = fields.String(
        validate=validate.OneOf([str(d) for d in DueState]),
        metadata={"description": "only tasks in this state of their own deadline (due_at)"},
    )


class CaseSummarySchema(ma.Schema):
    number = fields.String(required=True)
    case_type = fields.String(required=True)
    urgency = fields.String(required=True)
    status = fields.String(required=True)
    category = fields.String(required=True)
    address = fields.String(required=True)
    reply_due = Nullable(LocalDateTime, required=True)
    due_state = fields.String(required=True)


class FormSchema(ma.Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    fields_ = fields.List(
        fields.Dict(),
        data_key="fields",
        attribute="fields",
        required=True,
        metadata={"description": "each field: key, type, label, required, options, rules"},
    )


class TaskSchema(ma.Schema):
    task_id = fields.String(required=True)
    element_id = fields.String(required=True)
    step = Nullable(
        fields.String,
        required=True,
        metadata={"description": "what the task is (its diagram's step property), if it says"},
    )
    name = fields.String(required=True)
    lane = Nullable(fields.String, required=True)
    candidate_group = Nullable(fields.String, required=True)
    assignee = Nullable(fields.String, required=True)
    form_key = Nullable(fields.String, required=True)
    state = fields.String(required=True)
    created_at = LocalDateTime(required=True)
    due_at = Nullable(
        LocalDateTime,
        required=True,
        metadata={"description": "the task's own deadline, from its case's policy"},
    )
    due_state = fields.String(
        required=True,
        validate=validate.OneOf([str(d) for d in DueState]),
        metadata={
            "description": "the task's own deadline state: normal, yellow (its warning "
            "time has come) or red (due_at has passed; for a finished task, finished late)"
        },
    )
    completed_at = Nullable(LocalDateTime, required=True)
    completed_by = Nullable(fields.String, required=True)
    actionable = fields.Boolean(required=True)
    case = fields.Nested(CaseSummarySchema, required=True)


class TaskDetailSchema(TaskSchema):
    form = Nullable(fields.Nested, FormSchema, required=True)


class TaskPageSchema(PageSchema):
    items = fields.List(fields.Nested(TaskSchema), required=True)


class CompletedSchema(ma.Schema):
    task = fields.Nested(TaskSchema, required=True)
    case = fields.Nested(CaseSchema, required=True)
    next_tasks = fields.List(fields.Nested(TaskSchema), required=True)


# -- definitions ----------------------------------------------------------------------------


class DefinitionSchema(ma.Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    latest_version = fields.Integer(required=True)
    versions = fields.Integer(required=True)
    running = fields.Integer(required=True)
    deployed_by = fields.String(required=True)
    deployed_at = LocalDateTime(required=True)


class VersionSchema(ma.Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    file_name = fields.String(required=True)
    sha256 = fields.String(required=True)
    deployed_by = fields.String(required=True)
    deployed_at = LocalDateTime(required=True)
    comment = fields.String(
        required=True, metadata={"description": "why it was deployed, as the deployer said"}
    )
    running = fields.Integer(required=True)
    user_tasks = fields.Dict(required=True)


class DeployArgs(InputSchema):
    xml = fields.String(required=True, metadata={"description": "the BPMN document"})
    file_name = fields.String(load_default="diagram.bpmn", validate=validate.Length(1, 200))
    comment = fields.String(
        load_default="",
        validate=validate.Length(max=COMMENT_MAX),
        metadata={"description": "what this version changes and why (kept with the version)"},
    )


class DeployOutcomeSchema(ma.Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    created = fields.Boolean(
        required=True,
        metadata={
            "description": "false: the latest version was kept, the process being the same "
            "(only layout or formatting differ)"
        },
    )
    message = fields.String(required=True)


class DeployedSchema(ma.Schema):
    outcomes = fields.List(fields.Nested(DeployOutcomeSchema), required=True)


class DiffArgs(InputSchema):
    from_ = fields.Integer(data_key="from", validate=validate.Range(1, MAX_PAGE))
    to = fields.Integer(validate=validate.Range(1, MAX_PAGE))


class ElementChangeSchema(ma.Schema):
    element_id = fields.String(required=True)
    kind = fields.String(required=True)
    name = fields.String(required=True)
    changes = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String(allow_none=True)),
        required=True,
        metadata={"description": "facet -> [before, after]"},
    )


class DiffSchema(ma.Schema):
    key = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    added = fields.List(fields.Nested(ElementChangeSchema), required=True)
    removed = fields.List(fields.Nested(ElementChangeSchema), required=True)
    changed = fields.List(fields.Nested(ElementChangeSchema), required=True)


# -- KPIs, departments, calendar ------------------------------------------------------------


class KpiArgs(InputSchema):
    start = fields.Date(validate=validate.Range(EARLIEST, LATEST))
    end = fields.Date(validate=validate.Range(EARLIEST, LATEST))
    group_by = fields.List(fields.String(validate=validate.OneOf(GROUP_KEYS)), load_default=list)
    bucket = fields.String(validate=validate.OneOf(BUCKETS))
    department = fields.String(validate=validate.Length(max=32))
    case_type = fields.String(validate=OneCaseType())


class RatioSchema(ma.Schema):
    numerator = fields.Integer(required=True)
    denominator = fields.Integer(required=True)
    rate = Nullable(fields.Float, required=True)


class KpiRowSchema(ma.Schema):
    department = Nullable(fields.String, required=True)
    department_name = Nullable(fields.String, required=True)
    case_type = Nullable(fields.String, required=True)
    bucket = Nullable(fields.Date, required=True)
    cases = fields.Integer(required=True)
    dispatched = fields.Integer(required=True)
    rates = fields.Dict(
        keys=fields.String(validate=validate.OneOf(RATE_KPIS)),
        values=fields.Nested(RatioSchema),
        required=True,
    )


class CohandlingKpiSchema(ma.Schema):
    department = fields.String(required=True, metadata={"description": "a department code"})
    department_name = fields.String(required=True)
    on_time = fields.Nested(
        RatioSchema,
        required=True,
        metadata={
            "description": "co-handling parts sent by their deadline / parts sent, or "
            "unsent past it"
        },
    )


class KpiSchema(ma.Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    as_of = LocalDateTime(required=True)
    rows = fields.List(fields.Nested(KpiRowSchema), required=True)
    cohandling = fields.List(
        fields.Nested(CohandlingKpiSchema),
        required=True,
        metadata={"description": "per co-handling unit (as asked, not as lead)"},
    )


class CallKpiArgs(InputSchema):
    start = fields.Date(validate=validate.Range(EARLIEST, LATEST))
    end = fields.Date(validate=validate.Range(EARLIEST, LATEST))
    group_by = fields.List(
        fields.String(validate=validate.OneOf(CALL_GROUP_KEYS)), load_default=list
    )
    bucket = fields.String(validate=validate.OneOf(BUCKETS))
    queue = fields.String(validate=validate.Length(max=32))
    agent = fields.String(validate=validate.Length(max=64), metadata={"description": "a username"})


class CallKpiRowSchema(ma.Schema):
    queue = Nullable(fields.String, required=True)
    agent = Nullable(fields.String, required=True, metadata={"description": "a username"})
    bucket = Nullable(fields.Date, required=True)
    inbound = fields.Integer(required=True)
    answered = fields.Integer(required=True)
    abandoned = fields.Integer(required=True)
    missed = fields.Integer(required=True)
    transferred = fields.Integer(required=True)
    answer_rate = fields.Nested(
        RatioSchema, required=True, metadata={"description": "answered / inbound"}
    )
    abandon_rate = fields.Nested(
        RatioSchema, required=True, metadata={"description": "abandoned / inbound"}
    )
    asa_seconds = Nullable(
        fields.Float, required=True, metadata={"description": "mean wait of the answered calls"}
    )
    aht_seconds = Nullable(
        fields.Float,
        required=True,
        metadata={"description": "mean talk + after-call work of the answered calls that ended"},
    )
    talk_seconds = Nullable(
        fields.Float, required=True, metadata={"description": "mean talk of the same calls"}
    )
    calls_per_case = fields.Nested(
        RatioSchema,
        required=True,
        metadata={"description": "calls linked to a case / the distinct cases they link"},
    )


class CallCaseTypeSchema(ma.Schema):
    case_type = fields.String(required=True)
    cases = fields.Integer(
        required=True, metadata={"description": "distinct cases linked to the period's calls"}
    )


class CallKpiSchema(ma.Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    as_of = LocalDateTime(required=True)
    answer_rate_target = fields.Float(required=True)
    rows = fields.List(fields.Nested(CallKpiRowSchema), required=True)
    case_types = fields.List(fields.Nested(CallCaseTypeSchema), required=True)


class DepartmentSchema(ma.Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_en = fields.String(required=True)
    level = fields.String(required=True)
    parent = Nullable(fields.String, required=True)
    is_platform = fields.Boolean(required=True)
    active = fields.Boolean(required=True)
    duty_phone = fields.String(
        required=True, metadata={"description": "the unit's duty phone for alerts, or empty"}
    )
    duty_email = fields.String(
        required=True, metadata={"description": "the unit's duty e-mail for alerts, or empty"}
    )
    has_webhook = fields.Boolean(
        required=True,
        metadata={"description": "alerts are POSTed to the unit's own system (URL not shown)"},
    )


class DueArgs(InputSchema):
    start = LocalDateTime(metadata={"description": "default: now"})
    amount = fields.Float(required=True, validate=validate.Range(0, 100_000), allow_nan=False)
    unit = fields.String(required=True, validate=validate.OneOf(UNITS))


class DueSchema(ma.Schema):
    start = LocalDateTime(required=True)
    amount = fields.Float(required=True)
    unit = fields.String(required=True)
    due = LocalDateTime(required=True)


class YearArgs(InputSchema):
    year = fields.Integer(validate=validate.Range(EARLIEST.year, LATEST.year))


class DaySchema(ma.Schema):
    day = fields.Date(required=True)
    working = fields.Boolean(required=True)
    kind = Nullable(fields.String, required=True, metadata={"description": "holiday, workday"})
    name = fields.String(required=True)
    source = Nullable(fields.String, required=True)


class DaySetArgs(InputSchema):
    kind = fields.String(required=True, validate=validate.OneOf(["holiday", "workday", "normal"]))
    name = fields.String(load_default="", validate=validate.Length(max=120))
