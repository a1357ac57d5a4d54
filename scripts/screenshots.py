"""Screenshots of the main pages, in Chinese and English, on a desktop (1280 px) and a phone
(390 px), into docs/screenshots/ (``NAME-LANG-desktop.png``, ``NAME-LANG-phone.png``).

Run when asked, never by the tests (a test checks that the page list below resolves):

    ./dev screenshots                      # a new demo database in a temporary folder
    .venv/bin/python scripts/screenshots.py --database sqlite:////tmp/demo.db --only inbox case
    .venv/bin/python scripts/screenshots.py --out /tmp/shots --lang en --width phone

It makes a demo database (``hotline init --demo``, about half a minute) unless ``--database``
names one, serves the app on a free port of 127.0.0.1 in this process (no timer scheduler),
signs in as the demo user of each page (password ``demo``) and drives Chromium
(/usr/bin/chromium, scripts/browser.sh installs it) with Playwright. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
DEMO_PASSWORD = "demo"
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
LANGS = {"zh": "zh-CN", "en": "en-US"}


@dataclass(frozen=True)
class Shot:
    """One page: its file name, the demo user who opens it, and its path; ``find`` (a CSS
    selector) instead of a fixed path opens the first link it matches on ``path``."""

    name: str
    user: str
    path: str
    find: str | None = None
    #: what shows that the page is drawn (its scripts ran), waited for before the picture
    ready: str | None = None
    #: a part of the page scrolled to the top of the picture (the page's head otherwise)
    scroll: str | None = None


PAGES: list[Shot] = [
    Shot("intake", "op1", "/intake"),
    Shot("queues", "disp1", "/queues"),
    Shot("inbox", "h_mr", "/inbox"),
    Shot("task", "h_mr", "/inbox?element=handle", find="table.tasks a[href^='/tasks/']"),
    Shot(
        "case",
        "h_mr",
        "/inbox?element=handle",
        find="table.tasks a[href^='/cases/']",
        ready="#case-diagram[data-ready=true]",
    ),
    Shot(
        "case-diagram",
        "h_mr",
        "/inbox?element=handle",
        find="table.tasks a[href^='/cases/']",
        ready="#case-diagram[data-ready=true]",
        scroll="#process",
    ),
    Shot("cases", "sup1", "/cases"),
    Shot("kpi", "sup1", "/kpi", ready="#chart-trend"),
    Shot("topics", "sup1", "/insight/topics"),
    Shot("waves", "sup1", "/insight/waves"),
    Shot("evaluation", "sup1", "/evaluation/scorecards"),
    Shot("notifications", "h_mr", "/notifications"),
    Shot("admin", "admin", "/admin"),
]


def page_paths() -> list[str]:
    """Every fixed path the list opens (the test resolves them against the app's routes)."""
    return [urlsplit(shot.path).path for shot in PAGES]


# --------------------------------------------------------------------------- the app


def make_demo_database(folder: Path) -> str:
    url = f"sqlite:///{folder / 'demo.db'}"
    env = {**os.environ, "HOTLINE_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    print("screenshots: hotline init --demo (about half a minute) ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-c", "from webapp.cli import main; main()", "init", "--demo"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return url


@contextmanager
def serve(database_url: str) -> Iterator[str]:
    """The app on a free port of 127.0.0.1, in a thread of this process."""
    from werkzeug.serving import make_server

    from webapp import create_app

    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "screenshots",
            "SCHEDULER": "off",
        }
    )
    for name in ("werkzeug", "hotline"):  # one line per picture, not per request
        logging.getLogger(name).setLevel(logging.WARNING)
    from webapp.scheduler import outbox_service

    # the notices waiting in the outbox reach the bells and /notifications, as the worker
    # delivers them (the demo's SMS, e-mails and webhooks are only recorded: no gateway is set)
    outbox_service(app).drain()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="screenshots-app", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- the pictures


def _local_only(route) -> None:
    host = urlsplit(route.request.url).hostname
    if urlsplit(route.request.url).scheme in ("data", "blob") or host in ("127.0.0.1", "localhost"):
        route.continue_()
    else:
        route.abort("blockedbyclient")


def take(
    base: str,
    out: Path,
    shots: list[Shot],
    langs: list[str],
    widths: list[str],
    say: Callable[[str], None] = print,
) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for lang in langs:
                for width in widths:
                    w, h = WIDTHS[width]
                    users: dict[str, object] = {}
                    for shot in shots:
                        page = users.get(shot.user)
                        if page is None:
                            context = browser.new_context(
                                viewport={"width": w, "height": h},
                                locale=LANGS[lang],
                                timezone_id="Asia/Shanghai",
                                service_workers="block",
                            )
                            context.route("**/*", _local_only)
                            page = context.new_page()
                            page.goto(f"{base}/login")
                            page.fill("input[name=username]", shot.user)
                            page.fill("input[name=password]", DEMO_PASSWORD)
                            page.click("form button[type=submit].primary")
                            page.wait_for_load_state("load")
                            if "/login" in page.url:
                                raise SystemExit(f"screenshots: {shot.user} could not sign in")
                            users[shot.user] = page
                        page.goto(f"{base}{shot.path}")
                        if shot.find:
                            link = page.locator(shot.find).first
                            href = link.get_attribute("href", timeout=10_000)
                            page.goto(f"{base}{href}")
                        page.wait_for_load_state("load")
                        if shot.ready:
                            page.locator(shot.ready).first.wait_for(state="attached")
                        if shot.scroll:
                            page.locator(shot.scroll).first.evaluate("e => e.scrollIntoView()")
                        page.wait_for_timeout(400)  # charts and the diagram finish drawing
                        path = out / f"{shot.name}-{lang}-{width}.png"
                        page.screenshot(path=str(path))
                        written.append(path)
                        say(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
                    for page in users.values():
                        page.context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="folder")
    parser.add_argument("--database", help="an existing demo database URL (else a new one)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these pages")
    parser.add_argument("--lang", nargs="+", choices=sorted(LANGS), default=list(LANGS))
    parser.add_argument("--width", nargs="+", choices=sorted(WIDTHS), default=list(WIDTHS))
    args = parser.parse_args(argv)
    shots = PAGES
    if args.only:
        unknown = set(args.only) - {s.name for s in PAGES}
        if unknown:
            parser.error(f"--only: no page named {', '.join(sorted(unknown))}")
        shots = [s for s in PAGES if s.name in args.only]
    if not CHROMIUM.exists():
        print(f"screenshots: {CHROMIUM} is missing: run scripts/browser.sh", file=sys.stderr)
        return 1
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="hotline-screenshots-") as tmp:
        folder = Path(tmp)
        url = args.database or make_demo_database(folder)
        with serve(url) as base:
            written = take(base, Path(args.out).resolve(), shots, args.lang, args.width)
    total = sum(p.stat().st_size for p in written)
    print(f"screenshots: {len(written)} files, {total / 1e6:.1f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
