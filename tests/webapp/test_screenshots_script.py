"""scripts/screenshots.py's list of pages (the script itself runs only when asked: it writes
docs/screenshots/): every page exists, and its demo user may open it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from tests.webapp.pages import login
from workflows.seed import USERS

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("screenshots", ROOT / "scripts/screenshots.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["screenshots"] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_the_screenshots_cover_the_main_pages_in_both_languages_and_widths():
    script = _script()
    names = {shot.name for shot in script.PAGES}
    main_pages = {"intake", "queues", "inbox", "task", "case", "cases", "kpi", "topics", "waves"}
    assert main_pages | {"evaluation", "admin", "notifications"} <= names
    assert len(names) == len(script.PAGES)  # one file name per page
    assert set(script.LANGS) == {"zh", "en"}
    assert script.WIDTHS["desktop"][0] == 1280 and script.WIDTHS["phone"][0] == 390
    assert script.ROOT == ROOT


def test_every_page_of_the_list_opens_for_its_demo_user(hotline_app):
    script = _script()
    demo_users = {username for username, *_ in USERS}
    adapter = hotline_app.url_map.bind("localhost")
    clients = {}
    for shot in script.PAGES:
        assert shot.user in demo_users, shot
        path = shot.path.split("?")[0]
        adapter.match(path, method="GET")  # raises NotFound for a page that does not exist
        if shot.user not in clients:
            clients[shot.user] = hotline_app.test_client()
            assert login(clients[shot.user], shot.user).status_code == 302, shot.user
        response = clients[shot.user].get(shot.path)
        assert response.status_code == 200, (shot.name, shot.path, response.status_code)
