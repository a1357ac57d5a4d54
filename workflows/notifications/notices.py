"""What the hotline tells, to whom, in which words: the notices, their variables, their
default channels per person, and the default templates (zh and en) an administrator may
replace (``NotificationTemplate`` rows; ``templates.py`` renders them).

A notice goes to one audience:

- ``citizen``: the caller's phone, by SMS (the citizens' rules of ``rules.py`` apply);
- ``department``: the lead (or co-handling) unit: its duty phone and e-mail, its webhook, and
  each of its handlers by their own preferences;
- ``staff``: the people who may take a task (its lane's role, and its group's department), or
  the administrators (an incident), by their preferences.
"""

from __future__ import annotations

from enum import StrEnum


class Audience(StrEnum):
    CITIZEN = "citizen"
    DEPARTMENT = "department"
    STAFF = "staff"


class Notice(StrEnum):
    # to citizens
    CASE_ACCEPTED = "case_accepted"  # 受理回执: the case number and the reply deadline
    INTERIM_REPLY = "interim_reply"  # 阶段性答复
    CASE_REPLIED = "case_replied"  # 答复: the reply's summary
    CASE_CLOSED = "case_closed"  # 办结
    SURVEY = "survey"  # 满意度短信回访: reply 1/2/3
    # to departments
    DISPATCHED = "dispatched"  # 派单: sign for it
    COHANDLE_REQUESTED = "cohandle_requested"  # 协办请求
    YELLOW_WARNING = "yellow_warning"  # 黄牌预警: a deadline is near
    OVERDUE = "overdue"  # 红牌超期: signing, replying or a task's own clock
    SUPERVISION_ORDER = "supervision_order"  # 督办 / 催办
    RETURN_DECIDED = "return_decided"  # 退单审核结果
    REOPENED = "reopened"  # 重办
    APPEAL_DECIDED = "appeal_decided"  # 申诉审核结果: upheld or rejected, and why
    # to staff
    TASK_ASSIGNED = "task_assigned"  # a task for them or their group
    CALLBACK_DUE = "callback_due"  # 回访到期
    INCIDENT = "incident"  # a timer or a message given up on: administrators
    APPEAL_FILED = "appeal_filed"  # 申诉待审核: the centre's reviewers (supervisors, leads)
    WAVE_DETECTED = "wave_detected"  # 热点预警: supervisors (workflows/insight/waves.py)


AUDIENCE: dict[Notice, Audience] = {
    Notice.CASE_ACCEPTED: Audience.CITIZEN,
    Notice.INTERIM_REPLY: Audience.CITIZEN,
    Notice.CASE_REPLIED: Audience.CITIZEN,
    Notice.CASE_CLOSED: Audience.CITIZEN,
    Notice.SURVEY: Audience.CITIZEN,
    Notice.DISPATCHED: Audience.DEPARTMENT,
    Notice.COHANDLE_REQUESTED: Audience.DEPARTMENT,
    Notice.YELLOW_WARNING: Audience.DEPARTMENT,
    Notice.OVERDUE: Audience.DEPARTMENT,
    Notice.SUPERVISION_ORDER: Audience.DEPARTMENT,
    Notice.RETURN_DECIDED: Audience.DEPARTMENT,
    Notice.REOPENED: Audience.DEPARTMENT,
    Notice.APPEAL_DECIDED: Audience.DEPARTMENT,
    Notice.TASK_ASSIGNED: Audience.STAFF,
    Notice.CALLBACK_DUE: Audience.STAFF,
    Notice.INCIDENT: Audience.STAFF,
    Notice.APPEAL_FILED: Audience.STAFF,
    Notice.WAVE_DETECTED: Audience.STAFF,
}

#: the names of the notices, for pages (zh, en)
NOTICE_NAMES: dict[Notice, tuple[str, str]] = {
    Notice.CASE_ACCEPTED: ("受理回执", "Case accepted"),
    Notice.INTERIM_REPLY: ("阶段性答复", "Interim reply"),
    Notice.CASE_REPLIED: ("答复通知", "Case replied"),
    Notice.CASE_CLOSED: ("办结通知", "Case closed"),
    Notice.SURVEY: ("满意度回访", "Satisfaction survey"),
    Notice.DISPATCHED: ("派单通知", "Dispatched"),
    Notice.COHANDLE_REQUESTED: ("协办请求", "Co-handling request"),
    Notice.YELLOW_WARNING: ("黄牌预警", "Yellow warning"),
    Notice.OVERDUE: ("超期通知", "Overdue"),
    Notice.SUPERVISION_ORDER: ("督办通知", "Supervision order"),
    Notice.RETURN_DECIDED: ("退单审核结果", "Return decision"),
    Notice.REOPENED: ("重办通知", "Reopened"),
    Notice.APPEAL_DECIDED: ("申诉审核结果", "Appeal decided"),
    Notice.TASK_ASSIGNED: ("新任务", "Task assigned"),
    Notice.CALLBACK_DUE: ("回访到期", "Callback due"),
    Notice.INCIDENT: ("系统故障", "Incident"),
    Notice.APPEAL_FILED: ("申诉待审核", "Appeal to review"),
    Notice.WAVE_DETECTED: ("热点预警", "Hot-topic wave"),
}


class Channel(StrEnum):
    INAPP = "inapp"  # the bell
    SMS = "sms"
    EMAIL = "email"
    WEBHOOK = "webhook"  # a department's own system (no template: a JSON body)


#: the channels a person hears a notice by when their preferences do not name it. Departments'
#: duty phone and e-mail get every department notice; citizens get SMS.
DEFAULT_CHANNELS: dict[Notice, tuple[Channel, ...]] = {
    Notice.DISPATCHED: (Channel.INAPP,),
    Notice.COHANDLE_REQUESTED: (Channel.INAPP,),
    Notice.YELLOW_WARNING: (Channel.INAPP,),
    Notice.OVERDUE: (Channel.INAPP, Channel.SMS),
    Notice.SUPERVISION_ORDER: (Channel.INAPP, Channel.SMS),
    Notice.RETURN_DECIDED: (Channel.INAPP,),
    Notice.REOPENED: (Channel.INAPP,),
    Notice.APPEAL_DECIDED: (Channel.INAPP,),
    Notice.TASK_ASSIGNED: (Channel.INAPP,),
    Notice.CALLBACK_DUE: (Channel.INAPP,),
    Notice.INCIDENT: (Channel.INAPP, Channel.EMAIL),
    Notice.APPEAL_FILED: (Channel.INAPP,),
    Notice.WAVE_DETECTED: (Channel.INAPP,),
}

#: what a person may choose from, per notice (citizens' notices are not a staff preference)
PERSONAL_CHANNELS = (Channel.INAPP, Channel.SMS, Channel.EMAIL)

#: the variables every template of a notice may use (checked when a template is saved)
COMMON_VARIABLES = ("case_number", "case_type", "category", "urgency", "centre", "link")
VARIABLES: dict[Notice, tuple[str, ...]] = {
    Notice.CASE_ACCEPTED: ("reply_due", "reply_limit"),
    Notice.INTERIM_REPLY: ("department", "body"),
    Notice.CASE_REPLIED: ("department", "summary"),
    Notice.CASE_CLOSED: ("outcome", "summary"),
    Notice.SURVEY: ("department",),
    Notice.DISPATCHED: ("department", "sign_due", "reply_due", "summary"),
    Notice.COHANDLE_REQUESTED: ("department", "lead_department", "due", "summary"),
    Notice.YELLOW_WARNING: ("department", "deadline", "due", "task"),
    Notice.OVERDUE: ("department", "deadline", "due", "task"),
    Notice.SUPERVISION_ORDER: ("department", "note", "reply_due"),
    Notice.RETURN_DECIDED: ("department", "decision"),
    Notice.REOPENED: ("department", "reply_due"),
    # ``department``: the appealing unit; ``ground``: 评价 / 超期 / 重办; ``decision``: upheld
    # or rejected in words; ``reason``: the reviewer's (decided) or the department's (filed)
    Notice.APPEAL_DECIDED: ("department", "ground", "decision", "reason"),
    Notice.TASK_ASSIGNED: ("task", "due", "summary"),
    Notice.CALLBACK_DUE: ("task", "due"),
    Notice.INCIDENT: ("what", "error"),
    Notice.APPEAL_FILED: ("department", "ground", "reason", "filed_by"),
    # ``wave``: its label; ``count``: cases in the window; ``baseline``: the usual count
    Notice.WAVE_DETECTED: ("wave", "count", "baseline"),
}


def variables(notice: Notice) -> tuple[str, ...]:
    return COMMON_VARIABLES + VARIABLES[notice]


#: (zh, en) default texts per notice and channel; ``email`` is (subject, body). Jinja2 syntax,
#: rendered in a sandbox with autoescape off (plain text). Citizens' texts begin with the
#: centre's signature, as Chinese SMS rules require.
_SMS: dict[Notice, tuple[str, str]] = {
    Notice.CASE_ACCEPTED: (
        "【{{ centre }}】您的诉求已受理，工单号{{ case_number }}。"
        "{% if reply_due %}我们将在{{ reply_due }}前答复您。"
        "{% elif reply_limit %}我们将在{{ reply_limit }}内答复您。{% endif %}回复TD退订",
        "[{{ centre }}] Your request is registered as case {{ case_number }}."
        "{% if reply_due %} You will have a reply by {{ reply_due }}."
        "{% elif reply_limit %} You will have a reply within {{ reply_limit }}.{% endif %}"
        " Reply TD to stop messages",
    ),
    Notice.INTERIM_REPLY: (
        "【{{ centre }}】工单{{ case_number }}办理进展：{{ body }}",
        "[{{ centre }}] Case {{ case_number }}, progress: {{ body }}",
    ),
    Notice.CASE_REPLIED: (
        "【{{ centre }}】工单{{ case_number }}已由{{ department }}答复：{{ summary }}",
        "[{{ centre }}] Case {{ case_number }} was answered by {{ department }}: {{ summary }}",
    ),
    Notice.CASE_CLOSED: (
        "【{{ centre }}】工单{{ case_number }}已办结。感谢您的来电。",
        "[{{ centre }}] Case {{ case_number }} is closed. Thank you for calling.",
    ),
    Notice.SURVEY: (
        "【{{ centre }}】请评价工单{{ case_number }}的办理：回复1满意，2基本满意，3不满意。",
        "[{{ centre }}] How was case {{ case_number }} handled? Reply 1 satisfied, "
        "2 basically satisfied, 3 unsatisfied.",
    ),
    Notice.DISPATCHED: (
        "【{{ centre }}】新派工单{{ case_number }}（{{ category or case_type }}），"
        "请于{{ sign_due }}前签收。",
        "[{{ centre }}] New case {{ case_number }} ({{ category or case_type }}): "
        "sign for it by {{ sign_due }}.",
    ),
    Notice.COHANDLE_REQUESTED: (
        "【{{ centre }}】工单{{ case_number }}请贵单位协办（主办：{{ lead_department }}），"
        "请于{{ due }}前反馈。",
        "[{{ centre }}] Case {{ case_number }}: please co-handle (lead: {{ lead_department }}) "
        "by {{ due }}.",
    ),
    Notice.YELLOW_WARNING: (
        "【{{ centre }}】黄牌预警：工单{{ case_number }}{{ deadline }}将于{{ due }}到期。",
        "[{{ centre }}] Yellow warning: case {{ case_number }}, {{ deadline }} due {{ due }}.",
    ),
    Notice.OVERDUE: (
        "【{{ centre }}】超期：工单{{ case_number }}{{ deadline }}已于{{ due }}超期，请尽快办理。",
        "[{{ centre }}] Overdue: case {{ case_number }}, {{ deadline }} was due {{ due }}.",
    ),
    Notice.SUPERVISION_ORDER: (
        "【{{ centre }}】督办：工单{{ case_number }}。{{ note }}",
        "[{{ centre }}] Supervision: case {{ case_number }}. {{ note }}",
    ),
    Notice.RETURN_DECIDED: (
        "【{{ centre }}】工单{{ case_number }}退单申请：{{ decision }}。",
        "[{{ centre }}] Case {{ case_number }}, return request: {{ decision }}.",
    ),
    Notice.REOPENED: (
        "【{{ centre }}】工单{{ case_number }}回访不满意，已重办，请于{{ reply_due }}前答复。",
        "[{{ centre }}] Case {{ case_number }} was reopened after the callback: "
        "reply by {{ reply_due }}.",
    ),
    Notice.APPEAL_DECIDED: (
        "【{{ centre }}】工单{{ case_number }}的申诉（{{ ground }}）：{{ decision }}。"
        "理由：{{ reason }}",
        "[{{ centre }}] Case {{ case_number }}, appeal ({{ ground }}): {{ decision }}. "
        "Reason: {{ reason }}",
    ),
    Notice.TASK_ASSIGNED: (
        "【{{ centre }}】新任务：{{ task }}，工单{{ case_number }}。",
        "[{{ centre }}] New task: {{ task }}, case {{ case_number }}.",
    ),
    Notice.CALLBACK_DUE: (
        "【{{ centre }}】工单{{ case_number }}回访将于{{ due }}到期。",
        "[{{ centre }}] Case {{ case_number }}: the callback is due {{ due }}.",
    ),
    Notice.INCIDENT: (
        "【{{ centre }}】系统故障：{{ what }}。{{ error }}",
        "[{{ centre }}] Incident: {{ what }}. {{ error }}",
    ),
    Notice.APPEAL_FILED: (
        "【{{ centre }}】{{ department }}对工单{{ case_number }}提出申诉（{{ ground }}），"
        "请审核：{{ reason }}",
        "[{{ centre }}] {{ department }} appealed case {{ case_number }} ({{ ground }}), "
        "to review: {{ reason }}",
    ),
    Notice.WAVE_DETECTED: (
        "【{{ centre }}】热点预警：「{{ wave }}」{{ count }}件，平时约{{ baseline }}件。{{ link }}",
        '[{{ centre }}] Hot-topic wave: "{{ wave }}", {{ count }} cases, usually about '
        "{{ baseline }}. {{ link }}",
    ),
}


def _email(notice: Notice) -> tuple[tuple[str, str], tuple[str, str]]:
    zh, en = _SMS[notice]
    name_zh, name_en = NOTICE_NAMES[notice]
    subject_zh = f"{name_zh}{{% if case_number %}}：工单{{{{ case_number }}}}{{% endif %}}"
    subject_en = f"{name_en}{{% if case_number %}}: case {{{{ case_number }}}}{{% endif %}}"
    tail_zh = "{% if link %}\n\n查看：{{ link }}{% endif %}"
    tail_en = "{% if link %}\n\nOpen: {{ link }}{% endif %}"
    return (subject_zh, zh + tail_zh), (subject_en, en + tail_en)


def _inapp(notice: Notice) -> tuple[str, str]:
    zh, en = _SMS[notice]
    # the bell needs no signature
    return zh.removeprefix("【{{ centre }}】"), en.removeprefix("[{{ centre }}] ")


#: (notice, channel, lang) -> (subject, body): every default template
DEFAULT_TEMPLATES: dict[tuple[Notice, Channel, str], tuple[str, str]] = {}
for _notice in Notice:
    for _lang, _index in (("zh", 0), ("en", 1)):
        DEFAULT_TEMPLATES[(_notice, Channel.SMS, _lang)] = ("", _SMS[_notice][_index])
        DEFAULT_TEMPLATES[(_notice, Channel.EMAIL, _lang)] = _email(_notice)[_index]
        if AUDIENCE[_notice] != Audience.CITIZEN:
            DEFAULT_TEMPLATES[(_notice, Channel.INAPP, _lang)] = ("", _inapp(_notice)[_index])

#: languages templates exist in
LANGS = ("zh", "en")
