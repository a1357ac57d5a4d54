"""Every page in both languages: no English on a Chinese page, no Chinese on an English one,
no raw codes or raw timestamps on either (the checks: tests/webapp/language_check.py).

The walk opens every GET page of the app (``app.url_map``, less the API, Open311, static files
and downloads, each listed in ``NOT_PAGES`` with why) with the ids of a few simulated weeks of
the demo city, signed in as someone who may see it, once with the language switch on Chinese and
once on English, and reports every offending string of every page at once. A page added
without a path here fails ``test_every_page_is_walked``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import String, Text, select

from engine.db import unit_of_work
from engine.models import HumanTask, InstanceEvent
from tests.webapp.language_check import Data, problems, visible_text
from tests.webapp.pages import login
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.seed import USERS as SEED_USERS

#: GET routes that are not pages a person reads, and why
NOT_PAGES = {
    "/static/<path:filename>": "files",
    "/healthz": "a probe's one word",
    "/readyz": "a probe",
    "/metrics": "Prometheus' text format",
    "/live": "the poll of the live lists (JSON)",
    "/calls/pop": "the screen pop's poll (JSON)",
    "/login/code": "the second factor's step: only half signed in (tests/webapp/test_totp.py)",
    "/login/enrol": "the second factor's enrolment: only half signed in",
    "/admin/definitions/<key>/<int:version>/xml": "the diagram's XML, a download",
    "/admin/connectors.json": "the connectors for the modeler's properties panel (JSON)",
    "/admin/forms/schema": "a form's JSON (the editor loads it; a download)",
    "/cases/<number>/diagram.xml": "the diagram's XML (its names: test_diagram_names_...)",
    "/insight/waves/<int:wave_id>/report": "a CSV download",
    "/notifications/<int:notification_id>/open": "a redirect to what the notice is about",
    "/favicon.ico": "an icon",
    "/admin/modeler/catalog.json": "the properties panel's choices (JSON; their words: test_modeler_panel)",
    "/cases/<number>/sheets/<kind>.pdf": "a PDF download (its text: tests/webapp/test_printing.py)",
    "/cases/<number>/export.zip": "a ZIP download",
    "/cases/<number>/attachments/<int:attachment_id>": "a file the user attached",
    "/cases/<number>/attachments/<int:attachment_id>/thumb": "an image",
}
#: who is tried, in this order, for a page: the first who may see it reads it (then every other
#: demo user: a task of a district or of another department is its own people's)
FIRST = ("admin", "sup1", "lead1", "disp1", "h_mr", "op1", "cb1", "qa1", "audit1")
USERS = FIRST + tuple(u for u, *_ in SEED_USERS if u not in FIRST)
#: fields that hold what people typed (any language): its words may stand on any page
TYPED = {
    "description", "address", "caller_name", "display_name", "title", "body", "keywords",
    "reason", "note", "comment", "comments", "label", "words", "word", "text", "category",
    "name", "decision_reason", "summary", "location", "ground_text", "username", "code",
    "tag", "subject", "content", "area", "answer", "question", "message", "remark",
}  # fmt: skip
#: tables whose text is the engine's or the catalogue's, not typed by people
NOT_TYPED = {"definitions", "process_definitions", "notice_templates", "message_templates"}


@pytest.fixture
def demo(hotline_app, clock):
    """Three simulated weeks of the demo city (as ``./dev demo`` loads, smaller), a second
    complaint version to migrate to, and the ids the pages' URLs need."""
    from tests.webapp.test_admin import complaint_v2, upload
    from webapp import demo as demo_data

    with hotline_app.app_context():
        hotline = get_hotline()
        from workflows.insight.areas import seed_demo_areas

        with unit_of_work(db.session):
            seed_demo_areas(db.session, clock=hotline.clock)
        wave = demo_data.WaveSpec(words=demo_data.DEMO_WAVE, day=6)
        for _line in demo_data.simulate(cases=80, days=7, seed=7, ending_now=True, wave=wave):
            pass
        for step in (demo_data.demo_appeals(db.session, hotline),
                     demo_data.demo_quality(db.session, hotline)):  # fmt: skip
            for _line in step:
                pass
        db.session.rollback()
    client = hotline_app.test_client()
    login(client, "admin")
    assert upload(client, complaint_v2()).status_code in (200, 302, 303)
    with hotline_app.app_context():
        return _ids(clock)


def _first(model, *where, order=None):
    query = select(model.id).where(*where).order_by(order if order is not None else model.id)
    return db.session.scalars(query).first()


def _ids(clock) -> dict:
    from workflows.appeals.models import Appeal
    from workflows.calls.models import CallCallback
    from workflows.cases.models import Case
    from workflows.departments.models import Department
    from workflows.dispatch.models import DispatchRule
    from workflows.insight.models import Wave
    from workflows.knowledge.models import Article
    from workflows.notifications.models import Notification
    from workflows.policy.models import DeadlinePolicy
    from workflows.quality.models import SampledCase
    from workflows.users.models import User

    # a case in each status (the last of each: the longest history), one reopened, one merged
    cases: dict[str, str] = {}
    for number, status in db.session.execute(
        select(Case.number, Case.status).order_by(Case.id.desc())
    ):
        cases.setdefault(status, number)
    reopened = db.session.scalars(select(Case.number).where(Case.reopen_count > 0)).first()
    tasks = {}
    for element, task_id in db.session.execute(
        select(HumanTask.element_id, HumanTask.task_id)
        .where(HumanTask.state == "ready")
        .order_by(HumanTask.id)
    ):
        tasks.setdefault(element, task_id)
    month = (clock.now().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    return {
        "cases": [*cases.values(), *([reopened] if reopened else []), "209901010001"],
        "tasks": list(tasks.values()),
        "department": _first(Department, Department.code == "B-MR"),
        "rule": _first(DispatchRule),
        "article": _first(Article),
        "policy": _first(DeadlinePolicy),
        "user": _first(User, User.username == "h_mr"),
        "appeal": _first(Appeal),
        "callback": _first(CallCallback),
        "sample": _first(SampledCase),
        "wave": _first(Wave),
        "notification": _first(Notification),
        "month": month,
    }


def paths(ids: dict) -> dict[str, list[str]]:
    """The paths walked for each GET rule: a path (read by the first of ``USERS`` who may),
    or (path, user name) for a page that is another for that user."""
    return {
        "/": ["/"],
        "/account": ["/account"],
        "/account/totp": ["/account/totp"],
        "/admin": ["/admin"],
        "/admin/calendar": ["/admin/calendar"],
        "/admin/calls": ["/admin/calls"],
        "/admin/definitions": ["/admin/definitions"],
        "/admin/definitions/<key>": ["/admin/definitions/complaint"],
        "/admin/definitions/<key>/<int:version>": ["/admin/definitions/complaint/1"],
        "/admin/definitions/<key>/<int:version>/edit": ["/admin/definitions/complaint/1/edit"],
        "/admin/definitions/<key>/diff": ["/admin/definitions/complaint/diff?from=1&to=2"],
        "/admin/definitions/<key>/migrate": ["/admin/definitions/complaint/migrate?from=1&to=2"],
        "/admin/definitions/upload": ["/admin/definitions/upload"],
        "/admin/forms": ["/admin/forms"],
        "/admin/forms/history": ["/admin/forms/history?key=common/dispatch"],
        "/admin/forms/version": ["/admin/forms/version?key=common/dispatch&version=1"],
        "/admin/forms/edit": ["/admin/forms/edit?key=common/dispatch"],
        "/admin/forms/new": ["/admin/forms/new"],
        "/admin/departments": ["/admin/departments"],
        "/admin/departments/<int:department_id>": [f"/admin/departments/{ids['department']}"],
        "/admin/departments/new": ["/admin/departments/new"],
        "/admin/dispatch": ["/admin/dispatch"],
        "/admin/dispatch/<int:rule_id>": [f"/admin/dispatch/{ids['rule']}"],
        "/admin/dispatch/new": ["/admin/dispatch/new"],
        "/admin/incidents": ["/admin/incidents"],
        "/admin/connectors": ["/admin/connectors"],
        "/admin/knowledge": ["/admin/knowledge"],
        "/admin/case-types": ["/admin/case-types"],
        "/admin/case-types/new": ["/admin/case-types/new"],
        "/admin/knowledge/<int:article_id>": [f"/admin/knowledge/{ids['article']}"],
        "/admin/knowledge/new": ["/admin/knowledge/new"],
        "/admin/messages": ["/admin/messages"],
        "/admin/policies": ["/admin/policies"],
        "/admin/policies/<int:policy_id>": [f"/admin/policies/{ids['policy']}"],
        "/admin/policies/<int:policy_id>/categories/new": [
            f"/admin/policies/{ids['policy']}/categories/new"
        ],
        "/admin/templates": ["/admin/templates"],
        "/admin/templates/<notice>/<channel>/<lang>": ["/admin/templates/dispatched/sms/zh"],
        "/admin/users": ["/admin/users"],
        "/admin/users/<int:user_id>": [f"/admin/users/{ids['user']}"],
        "/admin/users/new": ["/admin/users/new"],
        "/appeals": ["/appeals", ("/appeals", "h_mr")],
        "/appeals/<int:appeal_id>": [f"/appeals/{ids['appeal']}"],
        "/appeals/kpi": ["/appeals/kpi"],
        "/appeals/settings": ["/appeals/settings"],
        "/audit/": ["/audit/"],
        "/calls/board": ["/calls/board"],
        "/calls/callbacks": ["/calls/callbacks"],
        "/calls/callbacks/<int:callback_id>": [f"/calls/callbacks/{ids['callback'] or 0}"],
        "/calls/records": ["/calls/records"],
        "/cases": ["/cases", ("/cases", "h_mr")],
        "/cases/<number>": [f"/cases/{number}" for number in ids["cases"]],
        "/dispatch-model/learned": ["/dispatch-model/learned?category=食品安全&description=餐馆"],
        "/evaluation/bulletins": ["/evaluation/bulletins"],
        "/evaluation/bulletins/<month>": [f"/evaluation/bulletins/{ids['month']}"],
        "/evaluation/cases/<code>": [f"/evaluation/cases/B-MR?month={ids['month']}&kpi=dispatched"],
        "/evaluation/scheme": ["/evaluation/scheme"],
        "/evaluation/scorecards": ["/evaluation/scorecards", ("/evaluation/scorecards", "h_mr")],
        "/evaluation/scorecards/<code>": ["/evaluation/scorecards/B-MR"],
        # the handler's, the callback agent's and the centre lead's own inboxes
        "/inbox": ["/inbox", ("/inbox", "h_mr"), ("/inbox", "cb1"), ("/inbox", "lead1")],
        "/insight/admin/areas": ["/insight/admin/areas"],
        "/insight/admin/terms": ["/insight/admin/terms"],
        "/insight/topics": ["/insight/topics"],
        "/insight/waves": ["/insight/waves"],
        "/insight/waves/<int:wave_id>": [f"/insight/waves/{ids['wave'] or 0}"],
        "/intake": ["/intake"],
        "/intake/caller": ["/intake/caller?caller_phone=13800138000"],
        "/intake/details": ["/intake/details?case_type=complaint"],
        "/intake/duplicates": ["/intake/duplicates?description=噪音扰民"],
        "/intake/knowledge": ["/intake/knowledge?q=社保"],
        "/intake/suggest": ["/intake/suggest?category=食品安全"],
        "/kpi": ["/kpi"],
        "/login": ["/login"],
        "/logout": [],
        "/notifications": ["/notifications", ("/notifications", "h_mr")],
        "/quality/disputes": ["/quality/disputes"],
        "/quality/mine": ["/quality/mine"],
        "/quality/report": ["/quality/report"],
        "/quality/samples": ["/quality/samples"],
        "/quality/samples/<int:sample_id>": [f"/quality/samples/{ids['sample'] or 0}"],
        "/quality/sheet": ["/quality/sheet"],
        "/queues": ["/queues"],
        "/sms/replies": ["/sms/replies"],
        "/supervision/escalated": ["/supervision/escalated"],
        "/supervision/overdue": ["/supervision/overdue"],
        "/tasks/<task_id>": [f"/tasks/{task}" for task in ids["tasks"]] + ["/tasks/nothing"],
        "/language": [],
    }


def typed_data() -> Data:
    """The words of everything people typed (and the demo typed for them)."""
    from engine.models import Base

    data = Data()
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_TYPED:
            continue
        columns = [
            c
            for c in table.columns
            if (c.name in TYPED or c.name == "name_en") and isinstance(c.type, String | Text)
        ]
        if not columns:
            continue
        names = [c.name for c in columns]
        for row in db.session.execute(select(*columns)):
            values = dict(zip(names, row, strict=True))
            if values.get("name_en"):  # an English page shows the English name
                values.pop("name", None)
            values.pop("name_en", None)  # and a Chinese page the Chinese one
            for value in values.values():
                if isinstance(value, str):
                    data.add(value)
    # the actors that are not people: the tests' deployments, the demo's seeded terms
    data.add("tests demo")
    # what people entered on task forms (a return's reason...)
    for (payload,) in db.session.execute(select(InstanceEvent.payload)):
        for value in ((payload or {}).get("data") or {}).values():
            if isinstance(value, str) and not bilingual_name(value):
                data.add(value)
    return data


def bilingual_name(value: str) -> bool:
    """ "签收 Sign for": a diagram's name, not typed data."""
    head, _, tail = value.partition(" ")
    return bool(tail) and not head.isascii() and tail[:1].isascii()


def walk(app, ids: dict, users=USERS) -> tuple[dict[str, list[str]], set[str]]:
    """``{"zh /path": [problem, ...]}`` for every page with a problem, and the paths nobody
    could open (their refusal page was read instead)."""
    clients = {}
    for username in users:
        client = app.test_client()
        assert login(client, username).status_code == 302, username
        clients[username] = client
    with app.app_context():
        data = typed_data()
    found: dict[str, list[str]] = {}
    refused: set[str] = set()
    for walked in paths(ids).values():
        for path in walked:
            path, only = path if isinstance(path, tuple) else (path, None)
            for lang in ("zh", "en"):
                html, who = None, None
                for username, client in clients.items():
                    if only and username != only:
                        continue
                    with client.session_transaction() as session:
                        session["lang"] = lang
                    response = client.get(path, follow_redirects=True)
                    if response.status_code == 403:
                        continue
                    if html is None:  # a refusal (404: another department's) if nobody may
                        html, who = response.get_data(as_text=True), username
                    if response.status_code == 200:
                        html, who = response.get_data(as_text=True), username
                        break
                assert html is not None, f"nobody may open {path}"
                if response.status_code != 200:
                    refused.add(path)
                wrong = problems(visible_text(html, lang), lang, data)
                if wrong:
                    found[f"{lang} {path} (as {who})"] = wrong
    return found, refused


def test_every_page_is_walked(hotline_app):
    walked = set(paths({"cases": ["x"], "tasks": [], "month": "2026-02"} | dict.fromkeys(
        ("department", "rule", "article", "policy", "user", "appeal", "callback", "sample",
         "wave", "notification"), 1)))  # fmt: skip
    missing = [
        rule.rule
        for rule in hotline_app.url_map.iter_rules()
        if "GET" in rule.methods
        and not rule.rule.startswith(("/api/", "/open311/"))
        and rule.rule not in NOT_PAGES
        and rule.rule not in walked
    ]
    assert missing == [], "GET pages the language walk does not open"


def test_every_page_in_both_languages(hotline_app, demo):
    found, refused = walk(hotline_app, demo)
    # the pages are the pages, not refusals: only the made-up ids are missing (and a task of
    # a unit with no demo user, if the simulation left one)
    tasks = {f"/tasks/{t}" for t in demo["tasks"]}
    assert refused - tasks == {"/cases/209901010001", "/tasks/nothing"}
    assert len(tasks - refused) >= 3, "the walk opened too few task pages"
    report = "\n".join(f"{page}:\n    " + "\n    ".join(wrong) for page, wrong in found.items())
    assert not found, f"{len(found)} pages in the wrong language:\n{report}"


class _Forms(HTMLParser):
    """The POST forms of a page: (action, hidden fields)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._open: tuple[str, dict[str, str]] | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "").lower() == "post":
            self._open = (values.get("action") or "", {})
            self.forms.append(self._open)
        elif (
            tag == "input"
            and self._open is not None
            and (values.get("type") or "").lower() == "hidden"
            and values.get("name")
        ):
            self._open[1][values["name"]] = values.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


#: forms an empty post would sign out, end sessions, switch the language or act at once on
#: everything: not posted (their refusals are tested with them)
NOT_POSTED = re.compile(
    r"/logout|/language|/login|/sessions|/totp|second-factor|/delete|read-all|/calls/state"
    r"|/seed|/draw|/publish|/retry|/reset|/claim|/release|/no-case"
)


def test_refused_forms_in_both_languages(hotline_app, demo):
    """A form sent empty comes back refused (400, 409, 422): the page that says why is in the
    page's language too, without raw codes. Every POST form of every walked page is sent once
    per language, with only its hidden fields (the CSRF token, the ids)."""
    clients = {}
    for username in FIRST:
        client = hotline_app.test_client()
        login(client, username)
        clients[username] = client
    with hotline_app.app_context():
        data = typed_data()
    found: dict[str, list[str]] = {}
    refused: set[str] = set()
    for walked in paths(demo).values():
        for path in walked:
            path, _only = path if isinstance(path, tuple) else (path, None)
            for lang in ("zh", "en"):
                for username, client in clients.items():
                    with client.session_transaction() as session:
                        session["lang"] = lang
                    page = client.get(path)
                    if page.status_code != 200:
                        continue
                    parser = _Forms()
                    parser.feed(page.get_data(as_text=True))
                    for action, hidden in parser.forms:
                        target = action or path
                        if NOT_POSTED.search(target) or f"{lang} {target}" in refused:
                            continue
                        response = client.post(target, data=hidden)
                        if response.status_code not in (400, 409, 422):
                            continue
                        refused.add(f"{lang} {target}")
                        html = response.get_data(as_text=True)
                        wrong = problems(visible_text(html, lang), lang, data)
                        if wrong:
                            found[f"{lang} POST {target} (as {username})"] = wrong
                    break
    # the walk reached the forms: intake, task forms, the admin's, the account's...
    assert len(refused) >= 40, sorted(refused)
    for wanted in ("zh /intake", "en /intake", "zh /account/password", "en /admin/users/new"):
        assert wanted in refused, wanted
    report = "\n".join(f"{page}:\n    " + "\n    ".join(wrong) for page, wrong in found.items())
    assert not found, f"{len(found)} refusals in the wrong language:\n{report}"


def test_scripts_take_their_text_from_the_page():
    """The pages' own scripts show no sentence of their own: every text they put on a page
    comes from the page (data-msg-* and the like, translated server-side), so that it is
    in the page's language (the walk reads those attributes)."""
    sentence = re.compile(
        r"[\"'`]([^\"'`\n]*(?:[A-Za-z]+ [a-z]+ [a-z]+|[\u4e00-\u9fff])[^\"'`\n]*)[\"'`]"
    )
    found = []
    static = Path(__file__).resolve().parents[2] / "webapp" / "static"
    # src/modeler/ is the modeler bundle's source: its words go through bpmn-js's translate
    # service and its dictionary (src/modeler/translate.js; tests/browser/test_modeler_panel.py)
    scripts = [p for p in static.rglob("*.js") if not {"vendor", "build", "src"} & set(p.parts)]
    assert len(scripts) >= 10
    for script in scripts:
        for number, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1):
            code = re.sub(r"^\s*(//|\*|/\*).*|\s//\s.*$", "", line)
            for text in sentence.findall(code):
                found.append(f"{script.relative_to(static)}:{number}: {text}")
    assert found == []


def test_one_translation_per_message():
    """The areas' catalogues are merged into one: a message translated two ways in two areas
    shows one of them everywhere (which one depends on the catalogues' order). One English
    message, one Chinese (docs/glossary.md); another meaning needs another message."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    seen: dict[str, dict[str, str]] = {}
    for po in sorted(Path("webapp").rglob("translations/*/LC_MESSAGES/*.po")):
        with po.open("rb") as fh:
            for message in read_po(fh):
                if message.id and message.string:
                    seen.setdefault(str(message.id), {})[str(po)] = str(message.string)
    twice = {k: v for k, v in seen.items() if len(set(v.values())) > 1}
    assert twice == {}


def test_case_type_is_one_word():
    """工单类型, never 诉求类型 (docs/glossary.md)."""
    from pathlib import Path

    files = [*Path("webapp").rglob("*.po"), *Path("webapp/templates").rglob("*.html"),
             *Path("forms").rglob("*.json")]  # fmt: skip
    assert [str(f) for f in files if "诉求类型" in f.read_text(encoding="utf-8")] == []


# -- the checks themselves ------------------------------------------------------------------


def test_the_checks_flag_each_kind_of_wrong_string():
    page = """<html lang="zh-CN"><head><title>工单</title><style>.a{color:red}</style>
    <script>var x = "awaiting_dispatch";</script></head><body>
    <h1>工单 Case 2026030100029</h1><p title="Sign for">签收</p>
    <td>awaiting_dispatch</td><td>B-MR</td><td>2026-03-05T07:31:25.336747+00:00</td>
    <input type="submit" value="Save"><input name="q" value="typed words">
    <code>element_id</code><button lang="en">English</button><span translate="no">op_one</span>
    <div data-msg-failed="Nothing was stored." data-url="/x/y_z"></div>
    </body></html>"""
    found = problems(visible_text(page, "zh"), "zh", Data())
    assert "English 'Case' in '工单 Case 2026030100029'" in found
    assert "English 'Sign' in 'Sign for'" in found  # a title is shown
    assert "English 'Save' in 'Save'" in found  # a button's value is shown
    assert "English 'Nothing' in 'Nothing was stored.'" in found  # a script shows it
    assert "raw code 'awaiting_dispatch'" in found  # once: the script's is not shown
    assert "department code 'B-MR'" in found
    assert "raw time '2026-03-05T07:31:25.336747+00:00'" in found
    assert not any("typed" in f or "element_id" in f or "English'" in f for f in found)
    assert not any("op_one" in f or "'English'" in f for f in found)

    english = '<html lang="en"><body><p>Sign for 签收</p><p>Noise at 幸福小区</p></body></html>'
    data = Data()
    data.add("幸福小区东门施工噪音")  # what a caller said: any language
    assert problems(visible_text(english, "en"), "en", data) == [
        "Chinese '签收' in 'Sign for 签收'"
    ]


def test_a_missing_case_says_so_in_the_pages_language(as_role):
    client = as_role("supervisor")
    for lang, expected in (
        ("zh", "工单 209901010001 不存在"),
        ("en", "case 209901010001 does not exist"),
    ):
        with client.session_transaction() as session:
            session["lang"] = lang
        response = client.get("/cases/209901010001")
        assert response.status_code == 404
        assert expected in response.get_data(as_text=True)


def test_diagram_names_and_lanes_in_the_pages_language(hotline_app, as_role):
    from tests.webapp.test_intake import open_case

    number = open_case(hotline_app)
    client = as_role("supervisor")
    names = {}
    for lang in ("zh", "en"):
        with client.session_transaction() as session:
            session["lang"] = lang
        xml = client.get(f"/cases/{number}/diagram.xml").get_data(as_text=True)
        names[lang] = xml
    assert 'name="派单员"' in names["zh"] and 'name="dispatcher"' not in names["zh"]
    assert 'name="签收"' in names["zh"] and "Sign for" not in names["zh"]
    assert 'name="Dispatcher"' in names["en"] and 'name="Sign for"' in names["en"]
    assert "签收" not in names["en"]
    assert 'id="sign_for"' in names["en"]  # ids untouched: the case's markers find them


def test_the_domains_refusals_are_translated(hotline_app):
    from webapp.error_messages import translated

    said = (
        "cannot complete '签收 Sign for': the deadline timer '签收超时 Sign-for late' fired "
        "first and took the case past '签收 Sign for'; your input was kept in the case history"
    )
    with hotline_app.test_request_context(headers={"Accept-Language": "zh"}):
        assert translated(said) == (
            "无法完成“签收”：时限定时器“签收超时”先触发，工单已越过“签收”；您填写的内容已保存在工单历史中"
        )
        # a person by display name
        assert translated("claimed by h_mr") == "已由 市场监管局 黄敏 Huang Min 领取"
        assert translated("an unknown refusal") == "an unknown refusal"  # as it is, not lost
    with hotline_app.test_request_context(headers={"Accept-Language": "en"}):
        assert translated("case 2026 does not exist") == "case 2026 does not exist"


def _raised_messages() -> list[tuple[str, str]]:
    """(where, message) of every refusal ``workflows/`` and ``engine/`` raise with a written
    message, each value of an f-string replaced by a word of its own ("V1")."""
    import ast
    from pathlib import Path

    def sample(node) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):
            return "".join(
                v.value if isinstance(v, ast.Constant) else f"V{i}"
                for i, v in enumerate(node.values)
            )
        return None

    refusals = {"NotFound", "DomainError", "Forbidden", "ConflictError"}
    found = []
    for root in ("workflows", "engine"):
        for path in sorted(Path(root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                    continue
                func = node.exc.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if name in refusals and node.exc.args:
                    message = sample(node.exc.args[0])
                    if message is not None:
                        found.append((f"{path}:{node.lineno}", message))
    return found


def test_every_refusal_of_the_domain_has_its_chinese(hotline_app):
    """A new ``raise DomainError(...)`` in workflows/ or engine/ needs its pattern in
    webapp/error_messages.py and its Chinese in webapp/translations (or a place in NOT_SHOWN)."""
    import re

    from webapp.error_messages import NOT_SHOWN, translated

    hidden = [
        re.compile("^" + re.sub(r"%\\\(\w+\\\)s", ".+", re.escape(p)) + "$") for p in NOT_SHOWN
    ]
    messages = _raised_messages()
    assert len(messages) > 50  # the walk over the source found the raises
    with hotline_app.test_request_context(headers={"Accept-Language": "zh"}):
        untranslated = [
            f"{where}: {message}"
            for where, message in messages
            if translated(message) == message
            and not any(h.match(message) for h in hidden)
            and not re.search(r"[\u4e00-\u9fff]", message)  # already Chinese (lang-aware)
        ]
    assert untranslated == []
