"""Browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium) against pages
served from this checkout on 127.0.0.1. Nothing is downloaded at run time: no Playwright
browser builds (scripts/browser.sh installs Debian's chromium), no CDN (the front-end
libraries are copied into webapp/static/vendor/ by `npm ci && npm run --silent assets`),
and every request that leaves 127.0.0.1 is aborted and reported as an error.

Fixtures:
  chromium        session: the launched Browser (headless, fresh temporary profile).
  static_server   session: http://127.0.0.1:<port> serving webapp/static/ at / (so
                  /vendor/bpmn-js/...), and tests/browser/pages/ at /_pages/.
  page            per test: a new context and page; console errors, uncaught page errors
                  and blocked or failed requests are collected in `console_errors`.
  console_errors  per test: that list of strings (assert it is empty at the end).
  shot            session: ``shot(page, name)`` saves a screenshot NAME.png into a temporary
                  folder, or into $HOTLINE_SCREENSHOTS when set (relative to the checkout):
                  ``HOTLINE_SCREENSHOTS=docs/screenshots ./dev test tests/browser`` refreshes
                  the README's screenshots; a plain run leaves the checkout as it was.

All tests under tests/browser/ get the `browser` marker (`pytest -m "not browser"` skips them)
and the `slow` one (they drive other processes; `./dev test -m "not slow"` skips them too).
"""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    Request,
    Route,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError

# Playwright never fetches a browser of its own here (launch() below names Debian's); this
# only keeps any `playwright install` run from these tests' environment from trying.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "webapp" / "static"
VENDOR = STATIC / "vendor"
PAGES = Path(__file__).resolve().parent / "pages"
CHROMIUM = Path("/usr/bin/chromium")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Requests to these schemes/hosts are allowed; anything else is aborted.
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
LOCAL_SCHEMES = {"data", "blob", "about"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium (needs scripts/browser.sh and npm assets)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
            # the live server's threads: werkzeug's development server leaves a static file
            # unclosed when the browser drops the connection by navigating on (a
            # ResourceWarning raised in the server thread, not by the code under test)
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def chromium(playwright_instance: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/browser.sh (installs Debian's chromium); "
            "the browser tests never use Playwright's own browser downloads",
            pytrace=False,
        )
    # launch() always starts from a new, empty temporary user-data dir (Playwright makes
    # one and deletes it on close; it refuses --user-data-dir in args).
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
    )
    yield browser
    browser.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Errors seen by the `page` of this test; a test asserts `console_errors == []`."""
    return []


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or (
        parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname in LOCAL_HOSTS
    )


#: static files a page loads; leaving the page cancels those still loading (ERR_ABORTED)
_SUBRESOURCES = {"script", "stylesheet", "image", "font"}
#: the background polls of a page (the bell and live lists, the screen pop every half second):
#: leaving the page cancels the one on its way
_POLLS = {"/live", "/calls/pop"}


@pytest.fixture
def page(chromium: Browser, console_errors: list[str]) -> Iterator[Page]:
    context = chromium.new_context(
        service_workers="block", locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(15_000)

    def guard(route: Route) -> None:
        if _is_local(route.request.url):
            route.continue_()
        else:
            console_errors.append(f"blocked non-local request: {route.request.url}")
            route.abort("blockedbyclient")

    context.route("**/*", guard)

    page = context.new_page()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            location = message.location
            where = f" ({location['url']}:{location['lineNumber']})" if location.get("url") else ""
            console_errors.append(f"console.error: {message.text}{where}")

    def on_page_error(error: PlaywrightError) -> None:
        console_errors.append(f"uncaught: {error}")

    def on_request_failed(request: Request) -> None:
        if not _is_local(request.url):
            return  # already reported by guard()
        if request.failure == "net::ERR_ABORTED" and request.resource_type in _SUBRESOURCES:
            # a script or stylesheet still loading when a click leaves the page is cancelled
            # by the browser (the next page loads it again; a 404 would be a console error)
            return
        if (
            request.failure == "net::ERR_ABORTED"
            and request.resource_type in ("fetch", "xhr")
            and urlsplit(request.url).path in _POLLS
        ):
            return  # a poll on its way when the page was left (the next page polls again)
        if request.failure == "net::ERR_ABORTED" and urlsplit(request.url).path.startswith(
            ("/static/favicon.", "/favicon.")
        ):
            return  # the tab's icon still loading when the page was left (a 404 would not be)
        console_errors.append(f"request failed: {request.url} ({request.failure})")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)
    page.on("requestfailed", on_request_failed)
    yield page
    context.close()


@pytest.fixture(scope="session")
def shot(tmp_path_factory: pytest.TempPathFactory):
    """``shot(page, name, full_page=False)``: a screenshot of the page, NAME.png."""
    asked = os.environ.get("HOTLINE_SCREENSHOTS")
    folder = ROOT / asked if asked else tmp_path_factory.mktemp("screenshots")

    def take(page: Page, name: str, *, full_page: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=full_page)

    return take


# --------------------------------------------------------------------------- server


class _Handler(SimpleHTTPRequestHandler):
    """webapp/static/ at /, tests/browser/pages/ at /_pages/; quiet; never cached."""

    def translate_path(self, path: str) -> str:
        if path == "/_pages" or path.startswith("/_pages/"):
            # this handler instance serves one request: switch its root for this lookup
            self.directory = str(PAGES)
            return super().translate_path(path[len("/_pages") :] or "/")
        return super().translate_path(path)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


class StaticServer:
    def __init__(self, root: Path) -> None:
        handler = functools.partial(_Handler, directory=str(root))
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        host, port = self.httpd.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, name="static-server", daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="session")
def static_server() -> Iterator[StaticServer]:
    """`static_server.url` is http://127.0.0.1:<free port>; /vendor/... is webapp/static/vendor/."""
    if not (VENDOR / "manifest.json").exists():
        pytest.fail(
            f"{VENDOR.relative_to(ROOT)}/ is missing: run `npm ci && npm run --silent assets`",
            pytrace=False,
        )
    server = StaticServer(STATIC)
    yield server
    server.close()


# --------------------------------------------------------------------------- the live app


class LiveApp:
    """The hotline app on a SQLite file with the demo city, served on 127.0.0.1 by a
    threaded werkzeug server in this process. ``clock`` is the app's ManualClock: a test
    moves time with ``live.clock.advance(...)``; no timer scheduler runs (``fire_timers``
    fires what is due, as the worker would)."""

    def __init__(self, tmp: Path) -> None:
        from datetime import UTC, datetime

        from werkzeug.serving import make_server

        from engine.clock import ManualClock
        from tests.conftest import TEMPLATES
        from tests.webapp.conftest import LONG_SESSIONS, build_web_template
        from webapp import create_app

        # A Monday morning in Beijing (01:00 UTC = 09:00 +08:00), as in the other tests.
        self.clock = ManualClock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))
        # the web tests' migrated and seeded database (tests/webapp/conftest.py), copied
        now = self.clock.now()
        template = TEMPLATES.get("sqlite", f"web:seeded:{now.isoformat()}", build_web_template(now))
        shutil.copyfile(template, tmp / "live.db")
        self.app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp / 'live.db'}",
                "SECRET_KEY": "browser-tests",
                "SCHEDULER": "off",
                **LONG_SESSIONS,  # tests move the clock by hours with a browser signed in
            },
            clock=self.clock,
        )
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="live-app", daemon=True
        )
        self.thread.start()

    def fire_timers(self) -> None:
        from webapp.extensions import db
        from webapp.hotline import get_hotline

        with self.app.app_context():
            get_hotline().runtime.fire_due_timers(db.session)

    def close(self) -> None:
        from webapp.extensions import db

        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
        with self.app.app_context():
            db.session.remove()
            for engine in db.engines.values():
                engine.dispose()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    """A fresh hotline for one test: ``live.url``, ``live.clock``, ``live.app``."""
    app = LiveApp(tmp_path)
    yield app
    app.close()
