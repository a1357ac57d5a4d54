"""The permission matrix: every role against every page and action of the app.

Each row names a request and who may make it. For a role that may, the answer is the page
(200) or the action's own answer (a redirect after success, or the form again with field
errors), never 403; for a role that may not, it is 403, and nothing changes. Signed-out
visitors are sent to sign in. A handler is further limited to its own department's cases,
which the queries of ``workflows/`` enforce: another department's case is 404 to it, as if
it did not exist.

``test_every_route_is_in_the_matrix`` fails when a page is added without a row here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.models import Incident, OutboxMessage, Timer
from tests.webapp.pages import csrf_token
from tests.webapp.test_inbox import act, ready_task
from tests.webapp.test_intake import open_case
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.dispatch.models import DispatchRule
from workflows.knowledge.models import Article
from workflows.notifications.inbound import receive_sms
from workflows.policy.models import DeadlinePolicy
from workflows.users.models import User

#: the roles of the matrix; "handler" is h_mr (market supervision), "other_handler" is h_hu
#: (housing), whose department has none of the cases below
ROLES = (
    "operator",
    "dispatcher",
    "handler",
    "other_handler",
    "supervisor",
    "callback",
    "lead",
    "admin",
    "auditor",
    "qa",
)
LOGINS = {
    "operator": ("operator", None),
    "dispatcher": ("dispatcher", None),
    "handler": ("handler", None),
    "other_handler": ("handler", "h_hu"),
    "supervisor": ("supervisor", None),
    "callback": ("callback", None),
    "lead": ("lead", None),
    "admin": ("admin", None),
    "auditor": ("auditor", None),
    "qa": ("qa", None),
}
#: everyone who works on cases (the auditor reads the audit log only; the quality reviewer
#: reads the sampled cases on the quality pages only)
EVERYONE = frozenset(ROLES) - {"auditor", "qa"}
SIGNED_IN = frozenset(ROLES)
WORKERS = frozenset({"dispatcher", "handler", "other_handler", "supervisor", "callback", "lead"})
HANDLERS = frozenset({"handler", "other_handler"})
SUPERVISION = frozenset({"supervisor", "admin"})
ADMIN = frozenset({"admin"})
OPERATOR = frozenset({"operator"})
#: the SMS replies queue: the callback agents and the supervisors
SMS_READERS = frozenset({"callback", "supervisor", "lead", "admin"})
#: missed-call callback tasks: who sees them, and who calls back
CALLBACK_READERS = frozenset({"operator", "lead", "supervisor", "admin"})
CALLBACK_WORKERS = frozenset({"operator", "lead"})
#: appeals: the departments' handlers (their own) and the centre
APPEAL_READERS = frozenset({"handler", "other_handler", "supervisor", "lead", "admin"})
#: the evaluation: the centre (all units) and the handlers (their own unit)
EVAL_CENTRE = frozenset({"supervisor", "lead", "admin"})
EVAL_READERS = EVAL_CENTRE | HANDLERS
#: the quality review: who reads it, who scores, who decides disputes (sample 0 and the like
#: are nobody's: 404 to those who may)
QA = frozenset({"qa"})
QA_READERS = frozenset({"qa", "lead", "admin"})
QA_DECIDERS = frozenset({"qa", "lead"})


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # with {case}, {waiting}, {sign_task}, {dispatch_task}, {user}, ... filled in
    allowed: frozenset[str]
    rule: str  # the URL rule this row covers
    data: tuple[tuple[str, str], ...] = ()
    #: roles refused by department scope (404), whether or not their role may act
    hidden_from: frozenset[str] = frozenset()


#: where "/" sends each role: its own landing page
LANDING = {
    "operator": "/intake",
    "dispatcher": "/queues",
    "handler": "/inbox",
    "other_handler": "/inbox",
    "supervisor": "/supervision/overdue",
    "callback": "/inbox",
    "lead": "/inbox",
    "admin": "/admin",
    "auditor": "/audit/",
    "qa": "/quality/samples",
}


def R(method, path, allowed, rule=None, data=None, hidden_from=frozenset()):  # noqa: N802
    return Row(method, path, frozenset(allowed), rule or path, tuple((data or {}).items()),
               frozenset(hidden_from))  # fmt: skip


MATRIX = [
    R("GET", "/", SIGNED_IN),
    R("GET", "/healthz", SIGNED_IN),
    R("GET", "/favicon.ico", SIGNED_IN),
    # the audit log
    R("GET", "/audit/", {"auditor", "admin"}),
    R("GET", "/audit/?format=csv", {"auditor", "admin"}, "/audit/"),
    # intake
    R("GET", "/intake", OPERATOR),
    R("POST", "/intake", OPERATOR, data={"caller_phone": "not a phone"}),
    R("GET", "/intake/caller?caller_phone=13800138000", OPERATOR, "/intake/caller"),
    R("GET", "/intake/details?case_type=complaint", OPERATOR, "/intake/details"),
    R("GET", "/intake/knowledge?q=社保", OPERATOR, "/intake/knowledge"),
    R("GET", "/intake/suggest?category=食品安全", OPERATOR, "/intake/suggest"),
    R("GET", "/dispatch-model/learned?category=食品安全&description=餐馆", OPERATOR,
      "/dispatch-model/learned"),
    # inboxes and tasks
    R("GET", "/inbox", WORKERS),
    R("GET", "/queues", {"dispatcher"}),
    # saved views of the inbox and the queues (issue 20): a worker's own; view 0 is nobody's
    R("POST", "/inbox/views", WORKERS, data={"list": "inbox", "name": "", "query": "element=handle"}),
    R("POST", "/inbox/views/0/delete", WORKERS, "/inbox/views/<int:view_id>/delete",
      data={"list": "inbox"}, hidden_from=WORKERS),
    # (a task whose case a handler's department does not have is 404 to it, as to the API)
    R("GET", "/tasks/{dispatch_task}", {"dispatcher"}, "/tasks/<task_id>",
      hidden_from=HANDLERS),
    R("POST", "/tasks/{dispatch_task}", {"dispatcher"}, "/tasks/<task_id>",
      data={"lead_department": ""}, hidden_from=HANDLERS),
    R("GET", "/tasks/{sign_task}", {"handler"}, "/tasks/<task_id>",
      hidden_from={"other_handler"}),
    R("POST", "/tasks/{sign_task}", {"handler"}, "/tasks/<task_id>", data={"action": ""},
      hidden_from={"other_handler"}),
    R("POST", "/tasks/{sign_task}/interim", {"handler"}, "/tasks/<task_id>/interim",
      data={"body": ""}, hidden_from={"other_handler"}),
    # cases
    R("GET", "/cases", EVERYONE),
    R("GET", "/cases?format=csv", EVERYONE, "/cases"),
    # saved views of the case list (issue 19): everyone's own; view 0 is nobody's
    R("POST", "/cases/views", EVERYONE, data={"name": "", "query": "channel=sms"}),
    R("POST", "/cases/views/0/delete", EVERYONE, "/cases/views/<int:view_id>/delete",
      hidden_from=EVERYONE),
    R("GET", "/cases/{case}", EVERYONE, "/cases/<number>", hidden_from={"other_handler"}),
    R("GET", "/cases/{case}/diagram.xml", EVERYONE, "/cases/<number>/diagram.xml",
      hidden_from={"other_handler"}),
    R("GET", "/cases/{case}/sheets/dispatch.pdf", EVERYONE, "/cases/<number>/sheets/<kind>.pdf",
      hidden_from={"other_handler"}),
    R("GET", "/cases/{case}/export.zip", EVERYONE, "/cases/<number>/export.zip",
      hidden_from={"other_handler"}),
    R("POST", "/cases/{case}/attachments", EVERYONE, "/cases/<number>/attachments",
      hidden_from={"other_handler"}),
    R("GET", "/cases/{case}/attachments/{attachment}", EVERYONE,
      "/cases/<number>/attachments/<int:attachment_id>", hidden_from={"other_handler"}),
    R("GET", "/cases/{case}/attachments/{attachment}/thumb", EVERYONE,
      "/cases/<number>/attachments/<int:attachment_id>/thumb", hidden_from={"other_handler"}),
    R("POST", "/cases/{case}/notes", EVERYONE, "/cases/<number>/notes", data={"body": ""},
      hidden_from={"other_handler"}),
    R("POST", "/cases/{case}/reveal", EVERYONE, "/cases/<number>/reveal",
      hidden_from={"other_handler"}),
    R("POST", "/cases/{case}/merge", {"dispatcher", "supervisor"}, "/cases/<number>/merge",
      data={"master": ""}),
    # supervision
    R("GET", "/kpi", SUPERVISION),
    R("GET", "/calls/records", SUPERVISION),
    # evaluation: the centre sees every unit, a handler its own unit and the published bulletins
    R("GET", "/evaluation/scorecards", EVAL_READERS),
    R("GET", "/evaluation/scorecards/B-MR", EVAL_READERS, rule="/evaluation/scorecards/<code>",
      hidden_from={"other_handler"}),
    R("GET", "/evaluation/cases/B-MR?month=2026-02&kpi=dispatched", EVAL_READERS,
      rule="/evaluation/cases/<code>", hidden_from={"other_handler"}),
    R("GET", "/evaluation/scheme", ADMIN),
    R("POST", "/evaluation/scheme", ADMIN, data={"weight_on_time_sign_for": "-1"}),
    R("POST", "/evaluation/bonuses", EVAL_CENTRE,
      data={"month": "2026-02", "department": "B-MR", "points": "1", "reason": "表扬"}),
    R("GET", "/evaluation/bulletins", EVAL_READERS),
    R("GET", "/evaluation/bulletins/2026-02", EVAL_CENTRE, rule="/evaluation/bulletins/<month>",
      hidden_from={"handler", "other_handler"}),  # a draft: handlers see published ones only
    R("POST", "/evaluation/bulletins/2026-02/publish", EVAL_CENTRE,
      rule="/evaluation/bulletins/<month>/publish"),
    R("GET", "/supervision/overdue", SUPERVISION),
    R("GET", "/supervision/overdue?format=csv", SUPERVISION, "/supervision/overdue"),
    R("GET", "/supervision/escalated", SUPERVISION),
    R("POST", "/supervision/actions", SUPERVISION, data={"action": ""}),
    R("POST", "/supervision/cases/{case}", SUPERVISION, "/supervision/cases/<number>",
      data={"note": ""}),
    # appeals (申诉): a department's own, the centre's review queue and figures
    R("GET", "/appeals", APPEAL_READERS),
    R("GET", "/appeals/kpi", APPEAL_READERS),
    R("GET", "/appeals/{appeal}", APPEAL_READERS, "/appeals/<int:appeal_id>",
      hidden_from={"other_handler"}),
    R("POST", "/appeals/{appeal}/review", {"supervisor", "lead"},
      "/appeals/<int:appeal_id>/review", data={"decision": ""}),
    R("POST", "/cases/{case}/appeals", {"handler"}, "/cases/<number>/appeals",
      data={"ground": ""}, hidden_from={"other_handler"}),
    R("GET", "/appeals/settings", ADMIN),
    R("POST", "/appeals/settings", ADMIN, data={"window_workdays": "0"}),
    # citizens' SMS replies waiting for a person
    R("GET", "/sms/replies", SMS_READERS),
    R("POST", "/sms/replies/{sms_reply}/handle", SMS_READERS,
      "/sms/replies/<int:reply_id>/handle", data={"note": ""}),
    # administration
    R("GET", "/admin", ADMIN),
    R("GET", "/admin/calendar", ADMIN),
    R("POST", "/admin/calendar/day", ADMIN, data={"day": "not a date"}),
    R("POST", "/admin/calendar/seed", ADMIN, data={"year": "nineteen"}),
    R("GET", "/admin/definitions", ADMIN),
    R("GET", "/admin/definitions/complaint", ADMIN, "/admin/definitions/<key>"),
    R("GET", "/admin/definitions/complaint/1", ADMIN, "/admin/definitions/<key>/<int:version>"),
    R("GET", "/admin/definitions/complaint/1/edit", ADMIN,
      "/admin/definitions/<key>/<int:version>/edit"),
    R("GET", "/admin/definitions/complaint/1/xml", ADMIN,
      "/admin/definitions/<key>/<int:version>/xml"),
    R("GET", "/admin/definitions/complaint/diff", ADMIN, "/admin/definitions/<key>/diff"),
    R("GET", "/admin/definitions/complaint/migrate", ADMIN, "/admin/definitions/<key>/migrate"),
    R("POST", "/admin/definitions/complaint/migrate", ADMIN, "/admin/definitions/<key>/migrate",
      data={"from_version": "x"}),
    R("POST", "/admin/definitions/deploy", ADMIN, data={"xml": "<nope"}),
    R("POST", "/admin/definitions/validate", ADMIN, data={"xml": "<nope"}),
    R("GET", "/admin/modeler/catalog.json", ADMIN),
    R("POST", "/admin/modeler/check", ADMIN, data={"kind": "condition"}),
    R("POST", "/admin/definitions/try", ADMIN, data={"xml": "<nope"}),
    R("POST", "/admin/definitions/preview", ADMIN, data={"xml": "<nope"}),
    R("GET", "/admin/definitions/upload", ADMIN),
    R("GET", "/admin/forms", ADMIN),
    R("GET", "/admin/forms/history?key=common/dispatch", ADMIN, "/admin/forms/history"),
    R("GET", "/admin/forms/version?key=common/dispatch", ADMIN, "/admin/forms/version"),
    R("GET", "/admin/forms/schema?key=common/dispatch", ADMIN, "/admin/forms/schema"),
    R("GET", "/admin/forms/edit?key=common/dispatch", ADMIN, "/admin/forms/edit"),
    R("POST", "/admin/forms/save", ADMIN),
    R("GET", "/admin/forms/new", ADMIN),
    R("POST", "/admin/forms/new", ADMIN),
    R("POST", "/admin/definitions/upload", ADMIN),
    R("GET", "/admin/departments", ADMIN),
    R("GET", "/admin/departments/new", ADMIN),
    R("POST", "/admin/departments/new", ADMIN, data={"code": ""}),
    R("GET", "/admin/departments/1", ADMIN, "/admin/departments/<int:department_id>"),
    R("POST", "/admin/departments/1", ADMIN, "/admin/departments/<int:department_id>",
      data={"code": ""}),
    R("GET", "/admin/dispatch", ADMIN),
    R("GET", "/admin/dispatch/new", ADMIN),
    R("POST", "/admin/dispatch/new", ADMIN, data={"category": ""}),
    R("GET", "/admin/dispatch/{rule}", ADMIN, "/admin/dispatch/<int:rule_id>"),
    R("POST", "/admin/dispatch/{rule}", ADMIN, "/admin/dispatch/<int:rule_id>",
      data={"category": ""}),
    R("POST", "/admin/dispatch/{rule}/delete", ADMIN, "/admin/dispatch/<int:rule_id>/delete"),
    R("GET", "/admin/incidents", ADMIN),
    R("GET", "/admin/connectors", ADMIN),
    R("GET", "/admin/connectors.json", ADMIN),
    R("POST", "/admin/incidents/{incident}/retry", ADMIN,
      "/admin/incidents/<int:incident_id>/retry"),
    R("POST", "/admin/incidents/outbox/{outbox}/retry", ADMIN,
      "/admin/incidents/outbox/<int:message_id>/retry"),
    # the delivery log; retrying a message nobody has is a message
    R("GET", "/admin/messages", ADMIN),
    R("POST", "/admin/messages/0/retry", ADMIN, "/admin/messages/<int:message_id>/retry"),
    R("GET", "/admin/case-types", ADMIN),
    R("GET", "/admin/case-types/new", ADMIN),
    R("POST", "/admin/case-types/new", ADMIN, data={"code": ""}),
    R("GET", "/admin/knowledge", ADMIN),
    R("GET", "/admin/knowledge/new", ADMIN),
    R("POST", "/admin/knowledge/new", ADMIN, data={"title": ""}),
    R("GET", "/admin/knowledge/{article}", ADMIN, "/admin/knowledge/<int:article_id>"),
    R("POST", "/admin/knowledge/{article}", ADMIN, "/admin/knowledge/<int:article_id>",
      data={"title": ""}),
    R("GET", "/admin/policies", ADMIN),
    R("GET", "/admin/policies/{policy}", ADMIN, "/admin/policies/<int:policy_id>"),
    R("POST", "/admin/policies/{policy}", ADMIN, "/admin/policies/<int:policy_id>",
      data={"limit_value": "-3"}),
    R("GET", "/admin/policies/{policy}/categories/new", ADMIN,
      "/admin/policies/<int:policy_id>/categories/new"),
    R("POST", "/admin/policies/{policy}/categories/new", ADMIN,
      "/admin/policies/<int:policy_id>/categories/new", data={"category": ""}),
    # {policy} is a default row: refused with a message, nothing deleted
    R("POST", "/admin/policies/{policy}/delete", ADMIN, "/admin/policies/<int:policy_id>/delete"),
    R("GET", "/admin/templates", ADMIN),
    R("GET", "/admin/templates/dispatched/sms/zh", ADMIN,
      "/admin/templates/<notice>/<channel>/<lang>"),
    R("POST", "/admin/templates/dispatched/sms/zh", ADMIN,
      "/admin/templates/<notice>/<channel>/<lang>", data={"body": "{{ nope }}"}),
    # no edited text: nothing to restore, the page says so
    R("POST", "/admin/templates/dispatched/sms/zh/reset", ADMIN,
      "/admin/templates/<notice>/<channel>/<lang>/reset"),
    R("GET", "/admin/users", ADMIN),
    R("GET", "/admin/users/new", ADMIN),
    R("POST", "/admin/users/new", ADMIN, data={"username": ""}),
    R("GET", "/admin/users/{user}", ADMIN, "/admin/users/<int:user_id>"),
    R("POST", "/admin/users/{user}", ADMIN, "/admin/users/<int:user_id>", data={"role": "x"}),
    R("POST", "/admin/users/{user}/sessions/end", ADMIN,
      "/admin/users/<int:user_id>/sessions/end"),
    R("POST", "/admin/users/{user}/second-factor/reset", ADMIN,
      "/admin/users/<int:user_id>/second-factor/reset"),
    # the own account: everyone's, and only their own sessions (0 is nobody's: 404)
    R("GET", "/account", SIGNED_IN),
    R("POST", "/account/password", SIGNED_IN, data={"current_password": ""}),
    R("POST", "/account/sessions/0/end", SIGNED_IN, "/account/sessions/<int:session_id>/end",
      hidden_from=SIGNED_IN),
    R("POST", "/account/sessions/end-others", SIGNED_IN),
    R("POST", "/account/contacts", SIGNED_IN, data={"phone": "not a phone"}),
    R("POST", "/account/notifications", SIGNED_IN, data={"notice.dispatched": "inapp"}),
    R("GET", "/account/totp", SIGNED_IN),
    R("POST", "/account/totp", SIGNED_IN, data={"code": "x"}),
    R("POST", "/account/totp/disable", SIGNED_IN, data={"code": "x"}),
    # the bell: everyone's own notifications (the auditor's too: none are sent to it, and its
    # bell is on its pages like everyone's); 0 is nobody's: 404
    R("GET", "/notifications", SIGNED_IN),
    R("POST", "/notifications/read-all", SIGNED_IN),
    R("POST", "/notifications/0/read", SIGNED_IN, "/notifications/<int:notification_id>/read",
      hidden_from=SIGNED_IN),
    R("GET", "/notifications/0/open", SIGNED_IN, "/notifications/<int:notification_id>/open",
      hidden_from=SIGNED_IN),
    # calls: the on-duty lead's board; an operator's own state
    R("GET", "/calls/board", {"lead", "supervisor", "admin"}),
    R("POST", "/calls/state", OPERATOR, data={"state": "away"}),
    # calls: missed-call callback tasks (task 0 is nobody's: 404 to those who may) and the
    # call settings
    R("GET", "/calls/callbacks", CALLBACK_READERS),
    R("GET", "/calls/callbacks/0", CALLBACK_READERS, "/calls/callbacks/<int:callback_id>",
      hidden_from=CALLBACK_READERS),
    R("POST", "/calls/callbacks/0/claim", CALLBACK_WORKERS,
      "/calls/callbacks/<int:callback_id>/claim", hidden_from=CALLBACK_WORKERS),
    R("POST", "/calls/callbacks/0/release", CALLBACK_WORKERS,
      "/calls/callbacks/<int:callback_id>/release", hidden_from=CALLBACK_WORKERS),
    R("POST", "/calls/callbacks/0/attempt", CALLBACK_WORKERS,
      "/calls/callbacks/<int:callback_id>/attempt", data={"result": "not_reached"},
      hidden_from=CALLBACK_WORKERS),
    # calls: the screen pop's poll (204: nothing new) and the banner's forms
    R("GET", "/calls/pop?seen=0", OPERATOR, "/calls/pop"),
    R("POST", "/calls/pop/no-case", OPERATOR, data={"call_id": "nope", "reason": "silent"}),
    R("POST", "/calls/pop/about", OPERATOR, data={"call_id": "nope", "case": "nope"}),
    R("GET", "/admin/calls", ADMIN),
    R("POST", "/admin/calls", ADMIN, data={"callback_value": "0"}),
    # the quality review (质检)
    R("GET", "/quality/samples", QA_READERS),
    R("POST", "/quality/samples/draw", QA, data={"month": "nope", "size": "5"}),
    R("GET", "/quality/samples/0", QA_READERS, "/quality/samples/<int:sample_id>",
      hidden_from=QA_READERS),
    R("POST", "/quality/samples/0/review", QA, "/quality/samples/<int:sample_id>/review",
      hidden_from=QA),
    R("GET", "/quality/disputes", QA_DECIDERS),
    R("POST", "/quality/disputes/0", QA_DECIDERS, "/quality/disputes/<int:dispute_id>",
      data={"decision": ""}, hidden_from=QA_DECIDERS),
    R("GET", "/quality/report", QA_READERS),
    R("GET", "/quality/report?format=csv", QA_READERS, "/quality/report"),
    R("GET", "/quality/sheet", QA_READERS),
    R("POST", "/quality/sheet", ADMIN, data={"name": ""}),
    R("GET", "/quality/mine", OPERATOR),
    R("POST", "/quality/reviews/0/dispute", OPERATOR, "/quality/reviews/<int:review_id>/dispute",
      data={"reason": ""}, hidden_from=OPERATOR),
    # hot-topic waves (热点): the centre; merging is for those who merge cases (wave 0 is
    # nobody's: 404 to those who may)
    R("GET", "/insight/waves", EVAL_CENTRE),
    R("GET", "/insight/waves/0", EVAL_CENTRE, "/insight/waves/<int:wave_id>",
      hidden_from=EVAL_CENTRE),
    R("POST", "/insight/waves/0/tag", EVAL_CENTRE, "/insight/waves/<int:wave_id>/tag",
      data={"tag": ""}, hidden_from=EVAL_CENTRE),
    R("POST", "/insight/waves/0/merge", SUPERVISION, "/insight/waves/<int:wave_id>/merge",
      data={"master": ""}, hidden_from=SUPERVISION),
    R("POST", "/insight/waves/0/pin", EVAL_CENTRE, "/insight/waves/<int:wave_id>/pin",
      data={"article": ""}, hidden_from=EVAL_CENTRE),
    R("GET", "/insight/waves/0/report?format=csv", EVAL_CENTRE,
      "/insight/waves/<int:wave_id>/report", hidden_from=EVAL_CENTRE),
    # the poll of the bell and of the live lists (a list of another role: 403, tested there)
    R("GET", "/live?views=notifications", SIGNED_IN, "/live"),
    # duplicate suggestions (issue 19): the intake's list and merge, the task page's merge
    R("GET", "/intake/duplicates?description=噪音扰民", OPERATOR, "/intake/duplicates"),
    R("POST", "/intake/merge", OPERATOR, data={"master": ""}),
    R("POST", "/cases/{case}/merge-duplicate", {"dispatcher", "supervisor"},
      "/cases/<number>/merge-duplicate", data={"master": ""}),
    # insight: topics and areas (the centre, and handlers over their own department's cases)
    R("GET", "/insight/topics", {"dispatcher", "handler", "other_handler", "supervisor", "lead", "admin"}),
    R("GET", "/insight/topics?format=csv", {"dispatcher", "handler", "other_handler", "supervisor", "lead", "admin"}, "/insight/topics"),
    R("GET", "/insight/admin/areas", ADMIN),
    R("POST", "/insight/admin/areas/from-departments", ADMIN),
    R("POST", "/insight/admin/areas/D-PJ", ADMIN, "/insight/admin/areas/<code>", data={"name": ""}),
    R("POST", "/insight/admin/areas/geojson", ADMIN),
    R("GET", "/insight/admin/terms", ADMIN),
    R("POST", "/insight/admin/terms", ADMIN, data={"word": ""}),
    R("POST", "/insight/admin/terms/0/delete", ADMIN, "/insight/admin/terms/<int:term_id>/delete",
      hidden_from=ADMIN),
]  # fmt: skip

#: routes everyone reaches signed out, covered by the auth tests
PUBLIC = {
    "/login",
    "/login/code",  # the second factor's steps: only for a browser half signed in
    "/login/enrol",
    "/logout",
    "/language",
    "/static/<path:filename>",
    "/healthz",
    "/favicon.ico",  # browsers ask for it on the sign-in page too
}
#: probes for load balancers and scrapers, no sign-in (tests/webapp/test_health.py,
#: test_metrics.py): /readyz says nothing private, /metrics asks for a token or loopback
PUBLIC |= {"/readyz", "/metrics"}
#: areas with their own authentication (API tokens, channel keys) and their own matrix tests
OTHER_AUTH = ("/api", "/open311")


@pytest.fixture
def world(hotline_app):
    """A case handled by h_mr's department (waiting for sign-for), a new case waiting for
    dispatch, an incident, and the ids of reference rows the admin pages edit."""
    case = open_case(hotline_app)
    act(hotline_app, case, "dispatch", "disp1", {"lead_department": "B-MR"})
    waiting = open_case(hotline_app, caller_phone="13900139000")
    with hotline_app.app_context():
        from workflows.cases.models import Case

        instance_id = db.session.scalar(select(Case.instance_id).where(Case.number == waiting))
        now = db.session.scalar(select(Case.created_at).where(Case.number == waiting))
        with unit_of_work(db.session):
            timer = Timer(
                instance_id=instance_id,
                task_id="00000000-0000-4000-8000-000000000001",
                element_id="sign_late",
                kind="duration",
                due_at=now,
                status="incident",
                created_at=now,
                attempts=5,
                last_error="WorkflowRunError: boom",
            )
            db.session.add(timer)
            db.session.flush()
            incident = Incident(
                kind="timer",
                instance_id=instance_id,
                timer_id=timer.id,
                error="boom",
                attempts=5,
                created_at=now,
            )
            db.session.add(incident)
        ids = {
            "incident": incident.id,
            "rule": db.session.scalars(select(DispatchRule.id).order_by(DispatchRule.id)).first(),
            "article": db.session.scalars(select(Article.id).order_by(Article.id)).first(),
            "policy": db.session.scalars(
                select(DeadlinePolicy.id).order_by(DeadlinePolicy.id)
            ).first(),
            "user": db.session.scalar(select(User.id).where(User.username == "op2")),
            # the dispatch's notification message
            "outbox": db.session.scalar(select(OutboxMessage.id)),
            # a citizen's SMS from a number with no case: open, for a person
            "sms_reply": receive_sms(
                db.session, get_hotline(), phone="13700001111", body="你好"
            ).row.id,
            "appeal": _pending_appeal(case),
            "attachment": _attachment(hotline_app, case),
        }
    return {
        "case": case,
        "waiting": waiting,
        "sign_task": ready_task(hotline_app, case, "sign_for"),
        "dispatch_task": ready_task(hotline_app, waiting, "dispatch"),
        **{k: str(v) for k, v in ids.items()},
    }


def _attachment(app, number: str) -> int:
    """A photo attached to ``number`` (a real file in the test's files directory)."""
    import io

    from PIL import Image

    from workflows.attachments import service
    from workflows.attachments.files import FileStore
    from workflows.cases.models import Case

    case = db.session.scalars(select(Case).where(Case.number == number)).one()
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "PNG")
    with unit_of_work(db.session):
        (row,) = service.add(
            db.session, FileStore(app.config["FILES_DIR"]), case=case,
            uploads=[service.Upload("p.png", out.getvalue())], source="note", by="sup1",
            now=case.created_at, limits=service.Limits(max_bytes=10**6),
        )  # fmt: skip
    return row.id


def _pending_appeal(number: str) -> int:
    """A pending appeal of market supervision (B-MR) about ``number``, written directly."""
    from workflows.appeals.models import Appeal
    from workflows.cases.models import Case

    case = db.session.scalars(select(Case).where(Case.number == number)).one()
    now = case.created_at
    with unit_of_work(db.session):
        appeal = Appeal(case_id=case.id, department_id=case.lead_department_id, ground="overdue",
                        reason="test", filed_by="h_mr", filed_at=now, occurred_at=now,
                        window_ends_at=now, status="pending", decision_reason="")  # fmt: skip
        db.session.add(appeal)
    return appeal.id


def test_every_route_is_in_the_matrix(hotline_app):
    covered = {(row.rule, row.method) for row in MATRIX}
    missing = []
    for rule in hotline_app.url_map.iter_rules():
        if rule.rule in PUBLIC or rule.rule.startswith(OTHER_AUTH):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.rule, method) not in covered:
                missing.append(f"{method} {rule.rule}")
    assert missing == [], "routes without a row in the permission matrix"


@pytest.mark.parametrize("role", ROLES)
def test_the_matrix(hotline_app, as_role, world, role):
    base_role, username = LOGINS[role]
    client = as_role(base_role, username=username)
    token = csrf_token(client, "/cases")  # every role may open the case list
    wrong = []
    for row in MATRIX:
        path = row.path.format(**world)
        if row.method == "GET":
            response = client.get(path)
        else:
            response = client.post(path, data={**dict(row.data), "csrf_token": token})
        status = response.status_code
        if role in row.hidden_from:  # whether or not the role may act: nothing to see
            expected = "404"
            ok = status == 404
        elif role not in row.allowed:
            expected = "403"
            ok = status == 403
        elif row.path == "/":
            expected = f"302 to {LANDING[role]}"
            ok = status == 302 and response.headers["Location"] == LANDING[role]
        elif row.method == "GET":
            expected = "200 (204: a poll with nothing new)"
            ok = status in (200, 204)
        else:  # the action ran: a redirect, or the form again with its errors
            expected = "200/303/400/422 (not refused)"
            ok = status in (200, 302, 303, 400, 409, 422) and status != 403
        if not ok:
            wrong.append(f"{row.method} {path}: {status}, expected {expected}")
    assert wrong == [], f"{role}: " + "; ".join(wrong)


def test_signed_out_visitors_are_sent_to_sign_in(hotline_app, world):
    client = hotline_app.test_client()
    for row in MATRIX:
        if row.rule in PUBLIC or row.path == "/":
            continue
        path = row.path.format(**world)
        if row.method == "GET":
            response = client.get(path)
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/login"), path
        else:  # no session, no CSRF token: refused before anything runs
            assert client.post(path, data=dict(row.data)).status_code in (400, 302), path
