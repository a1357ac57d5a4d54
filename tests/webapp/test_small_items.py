"""Issue 20's smaller items: the favicon, one charset on CSV downloads, a refused sign-in keeping
the user name, and the README's table of demo users."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.webapp.pages import csrf_token
from workflows.seed import USERS
from workflows.users.service import PBX_USERNAME

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- the favicon


def test_the_favicon_is_served_signed_out_and_linked_from_every_page(hotline_app, as_role):
    client = hotline_app.test_client()
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200
        assert icon.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
        assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert svg.data.startswith(b"<svg")
    for page in (client.get("/login"), as_role("handler").get("/inbox")):
        html = page.get_data(as_text=True)
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
        assert '<link rel="icon" href="/favicon.ico"' in html


# --------------------------------------------------------------------------- CSV


CSV_PAGES = [
    ("handler", "/inbox?format=csv"),
    ("dispatcher", "/queues?queue=dispatch&format=csv"),
    ("supervisor", "/cases?format=csv"),
    ("supervisor", "/supervision/overdue?format=csv"),
    ("supervisor", "/kpi?format=csv"),
    ("supervisor", "/kpi?format=csv&part=calls"),
    ("supervisor", "/insight/topics?format=csv"),
    ("auditor", "/audit/?format=csv"),
    ("admin", "/admin/users?format=csv"),
    ("admin", "/admin/departments?format=csv"),
    ("admin", "/admin/definitions?format=csv"),
    ("admin", "/admin/policies?format=csv"),
]


@pytest.mark.parametrize(("role", "path"), CSV_PAGES)
def test_a_csv_download_names_its_charset_once(as_role, role, path):
    response = as_role(role).get(path)
    assert response.status_code == 200, path
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.get_data(as_text=True).startswith("\ufeff")


# --------------------------------------------------------------------------- sign-in


def test_a_wrong_password_keeps_the_user_name_typed(hotline_app):
    client = hotline_app.test_client()
    response = client.post(
        "/login",
        data={"username": "h_mr", "password": "not-the-password", "csrf_token": csrf_token(client)},
    )
    assert response.status_code in (401, 200, 429)
    html = response.get_data(as_text=True)
    assert 'role="alert"' in html  # the refusal is said
    field = re.search(r'<input name="username"[^>]*>', html).group(0)
    assert 'value="h_mr"' in field
    assert "autofocus" not in field  # the cursor goes to the password, which is empty
    password = re.search(r'<input name="password"[^>]*>', html).group(0)
    assert "value=" not in password and "autofocus" in password


def test_the_sign_in_page_starts_empty_and_escapes_what_was_typed(hotline_app):
    client = hotline_app.test_client()
    first = client.get("/login").get_data(as_text=True)
    field = re.search(r'<input name="username"[^>]*>', first).group(0)
    assert 'value=""' in field and "autofocus" in field
    response = client.post(
        "/login",
        data={
            "username": '"><script>x</script>',
            "password": "x",
            "csrf_token": csrf_token(client),
        },
    )
    html = response.get_data(as_text=True)
    assert "<script>x</script>" not in html
    assert 'value="&#34;&gt;&lt;script&gt;x&lt;/script&gt;"' in html


# --------------------------------------------------------------------------- the README


def _demo_users_table() -> dict[str, list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Demo users\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([a-z0-9_]+)`", cells[0]) if cells else None
        if match:
            rows[match.group(1)] = cells
    return rows


def test_the_readme_lists_every_demo_user_with_role_and_department():
    table = _demo_users_table()
    seeded = {username for username, *_ in USERS} | {PBX_USERNAME}
    assert set(table) == seeded
    for username, display, role, department in USERS:
        _, name, role_cell, department_cell, what = table[username]
        assert name == display, username
        assert role_cell.startswith(f"`{role.value}`"), username
        assert f"`{department}`" in department_cell, username
        assert what, username
    assert table[PBX_USERNAME][2] == "`telephony`"


def test_the_readme_says_who_calls_back_and_who_reviews_replies_and_how_to_serve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    callback = [u for u, _, role, _ in USERS if role.value == "callback"]
    assert f"Who calls back: `{callback[0]}` (role `callback`)" in " ".join(readme.split())
    assert "Who reviews replies: the dispatchers of the city platform (`disp1`)" in " ".join(
        readme.split()
    )
    dev = (ROOT / "dev").read_text(encoding="utf-8")
    assert '"${HOST:-127.0.0.1}"' in dev and '"${PORT:-5000}"' in dev
    assert "`PORT` and `HOST`" in readme


# --------------------------------------------------------------------------- both languages


def test_the_menu_button_and_the_diagram_controls_speak_both_languages(hotline_app, as_role):
    from tests.webapp.test_intake import open_case

    number = open_case(hotline_app)
    client = as_role("supervisor")
    zh = client.get(f"/cases/{number}").get_data(as_text=True)
    en = client.get(f"/cases/{number}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for chinese, english in [
        ("菜单", "Menu"),
        ("放大", "Zoom in"),
        ("缩小", "Zoom out"),
        ("全图", "Whole diagram"),
        ("当前环节", "Current step"),
    ]:
        assert chinese in zh and chinese not in en, chinese
        assert english in en and f">{english}<" not in zh, english
    assert 'class="menu-toggle"' in zh and 'aria-controls="top-menu"' in zh
    assert '<nav id="top-menu">' in zh
    assert "responsive.js" in zh and "bpmn-navigated-viewer.production.min.js" in zh
