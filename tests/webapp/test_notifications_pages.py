"""The in-app channel: the bell on every page, a person's notifications page (only their own),
and the poll that tells an open page its unread count and whether its lists changed."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from engine.db import unit_of_work
from tests.webapp.pages import csrf_token
from tests.webapp.test_inbox import act, dispatched
from tests.webapp.test_intake import open_case
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.cases.models import Case
from workflows.notifications import inapp
from workflows.notifications.models import SmsInbound
from workflows.notifications.notices import Notice
from workflows.users.models import User
from workflows.users.sign_in_models import UserSession

EN = {"Accept-Language": "en"}


def notify(app, username: str, count: int = 1, *, number: str | None = None, **row) -> list[int]:
    """``count`` notifications for ``username`` (one minute apart, the last the newest)."""
    with app.app_context():
        session = db.session
        user_id = session.scalar(select(User.id).where(User.username == username))
        case_id = session.scalar(select(Case.id).where(Case.number == number)) if number else None
        start = get_hotline().clock.now()
        ids = []
        with unit_of_work(session):
            for i in range(count):
                ids.append(
                    inapp.add(
                        session,
                        user_id=user_id,
                        case_id=case_id,
                        kind=row.get("kind", Notice.DISPATCHED),
                        text=row.get("text", f"通知 {i + 1}"),
                        at=start + timedelta(minutes=i),
                        key=f"test:{username}:{start.isoformat()}:{i}:{row.get('text', '')}",
                    ).id
                )
        return ids


def bell(html: str) -> str | None:
    """The bell's count as shown, or None when it is hidden."""
    match = re.search(r'<span class="bell-count" aria-hidden="true"( hidden)?>([^<]*)</span>', html)
    assert match, "no bell on the page"
    return None if match.group(1) else match.group(2)


def test_the_bell_shows_the_unread_count_on_every_page(hotline_app, as_role):
    client = as_role("handler")
    assert bell(client.get("/cases").get_data(as_text=True)) is None  # nothing unread
    notify(hotline_app, "h_mr", 3)
    for path in ("/cases", "/inbox", "/account", "/notifications"):
        assert bell(client.get(path).get_data(as_text=True)) == "3", path
    html = client.get("/inbox").get_data(as_text=True)
    assert 'aria-label="通知：3 条未读"' in html
    notify(hotline_app, "h_mr", 120, text="more")
    assert bell(client.get("/cases").get_data(as_text=True)) == "99+"


def test_the_bell_costs_one_query_a_page(hotline_app, as_role):
    notify(hotline_app, "h_mr", 3)
    client = as_role("handler")
    seen = []

    def record(conn, cursor, statement, *args):
        if "notifications" in statement:
            seen.append(statement)

    with hotline_app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert bell(client.get("/cases").get_data(as_text=True)) == "3"
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) == 1 and "LIMIT" in seen[0]


def test_the_notifications_page_lists_ones_own_newest_first(hotline_app, as_role):
    number = open_case(hotline_app)
    notify(hotline_app, "h_mr", number=number, text="请签收工单")
    notify(hotline_app, "h_mr", kind=Notice.YELLOW_WARNING, number=number, text="即将超期")
    notify(hotline_app, "h_hu", text="住建局的通知")  # someone else's
    client = as_role("handler")
    html = client.get("/notifications").get_data(as_text=True)
    assert html.index("黄牌预警") < html.index("派单通知")  # the newest first, by name
    assert "即将超期" in html and "请签收工单" in html
    assert "住建局的通知" not in html
    assert f">{number}</a>" in html
    assert "2026-03-02 09:00" in html  # local time (the clock starts 01:00 UTC)
    assert html.count('class="badge red">未读') == 2
    english = client.get("/notifications", headers=EN).get_data(as_text=True)
    assert "Yellow warning" in english and "Dispatched" in english


def test_mark_one_read_and_then_all(hotline_app, as_role):
    first, second, third = notify(hotline_app, "h_mr", 3)
    client = as_role("handler")
    token = csrf_token(client, "/notifications")
    response = client.post(f"/notifications/{second}/read", data={"csrf_token": token})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert bell(html) == "2"
    assert html.count('class="badge red">未读') == 2
    unread = client.get("/notifications?filter=unread").get_data(as_text=True)
    assert "通知 2" not in unread and "通知 1" in unread and "通知 3" in unread
    # without the form's token nothing happens
    assert client.post(f"/notifications/{first}/read").status_code == 400
    response = client.post(
        "/notifications/read-all", data={"csrf_token": token, "filter": "unread"}
    )
    assert response.headers["Location"] == "/notifications?filter=unread"
    html = client.get("/notifications?filter=unread").get_data(as_text=True)
    assert bell(html) is None
    assert "没有未读通知" in html
    assert len(re.findall(r"通知 \d", client.get("/notifications").get_data(as_text=True))) == 3


def test_opening_a_notification_marks_it_read_and_goes_to_its_case(hotline_app, as_role):
    number = open_case(hotline_app)
    (note,) = notify(hotline_app, "h_mr", number=number)
    (bare,) = notify(hotline_app, "h_mr", text="无工单")
    client = as_role("handler")
    html = client.get("/notifications").get_data(as_text=True)
    assert f'href="/notifications/{note}/open">{number}</a>' in html
    response = client.get(f"/notifications/{note}/open")
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{number}"
    assert bell(client.get("/cases").get_data(as_text=True)) == "1"
    response = client.get(f"/notifications/{bare}/open")
    assert response.headers["Location"] == "/notifications"
    assert bell(client.get("/cases").get_data(as_text=True)) is None


def test_someone_elses_notification_is_not_there(hotline_app, as_role):
    (theirs,) = notify(hotline_app, "h_hu", text="住建局的通知")
    client = as_role("handler")
    token = csrf_token(client, "/notifications")
    assert client.get(f"/notifications/{theirs}/open").status_code == 404
    assert (
        client.post(f"/notifications/{theirs}/read", data={"csrf_token": token}).status_code == 404
    )
    assert client.post("/notifications/read-all", data={"csrf_token": token}).status_code == 303
    assert client.get("/notifications/999999/open").status_code == 404
    other = as_role("handler", username="h_hu")
    html = other.get("/notifications").get_data(as_text=True)
    assert bell(html) == "1" and "住建局的通知" in html  # still unread: only theirs to mark


def test_the_list_pages_and_bad_parameters_never_fail(hotline_app, as_role):
    notify(hotline_app, "h_mr", 30)
    client = as_role("handler")
    first = client.get("/notifications").get_data(as_text=True)
    assert "第 1 / 2 页（共 30 条）" in first
    assert "通知 30" in first and "通知 5<" not in first
    for query in ("page=abc", "page=-3", "page=99999999999999999999", "per_page=x", "filter=zzz"):
        response = client.get(f"/notifications?{query}")
        assert response.status_code == 200, query
    last = client.get("/notifications?page=99999").get_data(as_text=True)
    assert "通知 1<" in last and "通知 30" not in last  # past the end: the last page
    assert "未知的取值 zzz" in client.get("/notifications?filter=zzz").get_data(as_text=True)
    assert client.get("/notifications/abc/open").status_code == 404


# -- the poll -------------------------------------------------------------------------------


def poll(client, views: str = "", **kwargs):
    response = client.get(f"/live?views={views}", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def test_the_poll_answers_the_unread_count(hotline_app, as_role):
    client = as_role("supervisor")
    assert poll(client) == {"unread": 0, "unread_label": "0", "versions": {}}
    notify(hotline_app, "sup1", 2)
    assert poll(client)["unread"] == 2
    before = poll(client, "notifications")["versions"]["notifications"]
    notify(hotline_app, "sup1", 1, text="new")
    after = poll(client, "notifications")["versions"]["notifications"]
    assert after != before
    token = csrf_token(client, "/notifications")
    client.post("/notifications/read-all", data={"csrf_token": token})
    assert poll(client, "notifications")["versions"]["notifications"] != after


def test_the_task_token_moves_only_for_the_viewers_tasks(hotline_app, as_role):
    mr, hu = as_role("handler"), as_role("handler", username="h_hu")
    dispatcher = as_role("dispatcher")
    token = {name: poll(c, "tasks")["versions"]["tasks"] for name, c in
             (("mr", mr), ("hu", hu), ("disp", dispatcher))}  # fmt: skip
    number = open_case(hotline_app)  # a dispatch task: the dispatcher's
    assert poll(dispatcher, "tasks")["versions"]["tasks"] != token["disp"]
    assert poll(mr, "tasks")["versions"]["tasks"] == token["mr"]
    act(hotline_app, number, "dispatch", "disp1", {"lead_department": "B-MR"})
    assert poll(dispatcher, "tasks")["versions"]["tasks"] == token["disp"]  # taken: as before
    signing = poll(mr, "tasks")["versions"]["tasks"]
    assert signing != token["mr"]  # market supervision's sign-for appeared
    assert poll(hu, "tasks")["versions"]["tasks"] == token["hu"]  # not housing's
    act(hotline_app, number, "sign_for", "h_mr", {"action": "sign"})
    assert poll(mr, "tasks")["versions"]["tasks"] != signing  # signed: the next step, same case
    assert poll(hu, "tasks")["versions"]["tasks"] == token["hu"]


def test_the_page_renders_the_token_the_poll_answers(hotline_app, as_role):
    dispatched(hotline_app)
    client = as_role("handler")
    html = client.get("/inbox").get_data(as_text=True)
    rendered = re.search(r'data-live-view="tasks" data-live-version="([^"]+)"', html).group(1)
    assert rendered == poll(client, "tasks")["versions"]["tasks"]
    supervisor = as_role("supervisor")
    html = supervisor.get("/supervision/overdue").get_data(as_text=True)
    rendered = re.search(r'data-live-view="overdue" data-live-version="([^"]*)"', html).group(1)
    assert rendered == poll(supervisor, "overdue")["versions"]["overdue"]


def test_the_supervision_tokens_move_when_a_case_falls_late(hotline_app, as_role, clock):
    dispatched(hotline_app)
    client = as_role("supervisor")
    before = poll(client, "overdue,escalated")["versions"]
    assert before == {"overdue": "0", "escalated": "0"}
    clock.advance(timedelta(days=30))  # past every deadline of the case
    after = poll(client, "overdue,escalated")["versions"]
    assert after["overdue"] == "1" and after["escalated"] == "1"
    html = client.get("/supervision/escalated").get_data(as_text=True)
    assert 'data-live-view="escalated" data-live-version="1"' in html


def test_the_bell_never_breaks_a_page(hotline_app, as_role, monkeypatch):
    notify(hotline_app, "h_mr", 2)
    client = as_role("handler")

    def broken(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("the database went away"))

    monkeypatch.setattr(inapp, "unread_count", broken)
    response = client.get("/cases")
    assert response.status_code == 200
    assert bell(response.get_data(as_text=True)) is None


def test_the_sms_replies_token_moves_when_a_text_comes_or_is_handled(hotline_app, as_role, clock):
    client = as_role("callback")
    before = poll(client, "sms_replies")["versions"]["sms_replies"]
    with hotline_app.app_context():
        with unit_of_work(db.session):
            row = SmsInbound(
                from_phone="13800138000", text="路灯还是不亮", received_at=clock.now(),
                kind="unmatched", status="open",
            )  # fmt: skip
            db.session.add(row)
        reply_id = row.id
    arrived = poll(client, "sms_replies")["versions"]["sms_replies"]
    assert arrived != before
    html = client.get("/sms/replies").get_data(as_text=True)
    assert f'data-live-view="sms_replies" data-live-version="{arrived}"' in html
    with hotline_app.app_context(), unit_of_work(db.session):
        db.session.get(SmsInbound, reply_id).status = "done"
    assert poll(client, "sms_replies")["versions"]["sms_replies"] != arrived
    assert as_role("handler").get("/live?views=sms_replies").status_code == 403


def test_the_poll_refuses_lists_by_name(hotline_app, as_role):
    client = as_role("handler")
    response = client.get("/live?views=tasks,bogus")
    assert response.status_code == 400
    assert response.get_json()["field"] == "views" and "bogus" in response.get_json()["error"]
    assert client.get("/live?views=overdue").status_code == 403  # a supervisor's list
    assert client.get("/live?views=" + ",".join(["tasks"] * 9)).status_code == 400
    assert as_role("auditor").get("/live?views=tasks").status_code == 403
    assert poll(as_role("auditor"))["unread"] == 0


def test_polling_does_not_keep_a_session_alive(hotline_app, as_role, clock):
    client = as_role("handler")
    with hotline_app.app_context():
        seen = db.session.scalar(select(UserSession.last_seen_at).order_by(UserSession.id.desc()))
    clock.advance(timedelta(minutes=5))
    poll(client, "tasks")
    client.get("/inbox", headers={"X-Live": "1"})  # a live list fetched again
    with hotline_app.app_context():
        assert (
            db.session.scalar(select(UserSession.last_seen_at).order_by(UserSession.id.desc()))
            == seen
        )
    client.get("/inbox")  # the person opened a page: that is use
    with hotline_app.app_context():
        assert (
            db.session.scalar(select(UserSession.last_seen_at).order_by(UserSession.id.desc()))
            > seen
        )


def test_a_list_fetched_again_leaves_the_messages_for_the_next_page(hotline_app, as_role):
    client = as_role("handler")
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "工单已保存-闪现")]
    assert "工单已保存-闪现" not in client.get("/inbox", headers={"X-Live": "1"}).get_data(
        as_text=True
    )
    assert "工单已保存-闪现" in client.get("/inbox").get_data(as_text=True)
