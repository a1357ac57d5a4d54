"""Response headers every answer carries (issue 15, items 3 and 6).

- ``X-Content-Type-Options: nosniff``: a browser takes a response for what its Content-Type
  says, never for script or HTML it guessed.
- ``X-Frame-Options: DENY``: no other site frames our pages (clickjacking); the pages' CSP
  says the same with ``frame-ancestors 'none'``.
- ``Referrer-Policy: same-origin``: case URLs (with case numbers) never leave in a Referer.
- Every HTML page gets :data:`PAGE_CSP`: scripts only from our own files (no inline script, no
  ``on...=`` attribute, no eval: the pages' scripts live in ``webapp/static/*.js`` and take
  their data from ``<script type="application/json">`` blocks and ``data-`` attributes), no
  plug-ins, forms only to us, no framing. Styles may be inline: bpmn-js, Chart.js and Swagger
  UI set ``style`` attributes and inject ``<style>`` elements, and a style runs no code.
  Images may be ``data:`` URIs (a TOTP QR code, the libraries' icons).
- Recordings of calls (the case page's ``<audio>`` players) come from the phone system's
  recording server: ``HOTLINE_RECORDING_HOSTS`` (origins, e.g. ``https://rec.pbx.example``)
  adds ``media-src 'self' <origins>`` to the page policy; without it only our own origin
  plays (the page still links the recording).
- An XML document (a deployed diagram, served for bpmn-js to fetch) gets
  ``Content-Security-Policy: default-src 'none'; sandbox``: opened directly in a tab, the
  script a hostile diagram may carry (an XHTML ``<script>``) runs nowhere, and in no origin.
- ``Cache-Control: no-store`` on every answer but the static files: pages, API and Open311
  answers and CSV exports carry citizens' names, phones and addresses, which no browser cache
  or shared proxy may keep (a signed-out user's Back button shows nothing either).

An own ``after_request`` rather than flask-talisman: the policy is a few fixed lines, and
talisman's HTTPS redirects and session-cookie settings are the deployment's (ProxyFix) and
webapp/__init__.py's business.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from .config import ConfigError

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
#: for HTML pages: our scripts and nothing else
PAGE_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
#: for documents that are data, never pages: nothing loads, nothing runs
DATA_CSP = "default-src 'none'; sandbox"
DATA_TYPES = frozenset({"application/xml", "text/xml", "image/svg+xml"})
NO_STORE = "no-store"
#: endpoints whose answers hold nothing personal and may be cached
CACHEABLE = frozenset({"static"})


def recording_hosts(value: str) -> list[str]:
    """The origins of ``HOTLINE_RECORDING_HOSTS`` (separated by spaces or commas); ConfigError
    for anything but an http(s) origin."""
    origins = []
    for item in value.replace(",", " ").split():
        parts = urlsplit(item)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            raise ConfigError(
                f"HOTLINE_RECORDING_HOSTS: {item!r} is not an origin like https://rec.pbx.example"
            )
        if parts.query or parts.fragment or parts.username or "'" in item or ";" in item:
            raise ConfigError(f"HOTLINE_RECORDING_HOSTS: {item!r} is not an origin")
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return origins


def page_csp(hosts: list[str]) -> str:
    """The page policy, with the recording servers allowed as media sources."""
    if not hosts:
        return PAGE_CSP
    return f"{PAGE_CSP}; media-src 'self' {' '.join(hosts)}"


def add_headers(response: Response) -> Response:
    for name, value in ALWAYS.items():
        response.headers.setdefault(name, value)
    if response.mimetype in DATA_TYPES:
        response.headers["Content-Security-Policy"] = DATA_CSP
    elif response.mimetype == "text/html":
        policy = current_app.extensions.get("hotline.page_csp", PAGE_CSP)
        response.headers.setdefault("Content-Security-Policy", policy)
    if request.endpoint not in CACHEABLE:
        response.headers["Cache-Control"] = NO_STORE
        response.headers["Pragma"] = "no-cache"
    return response


def allow_recordings(app: Flask, value: str) -> None:
    """Let the pages play recordings from the origins of ``value`` (HOTLINE_RECORDING_HOSTS)."""
    hosts = recording_hosts(value)
    app.extensions["hotline.recording_hosts"] = frozenset(hosts)
    app.extensions["hotline.page_csp"] = page_csp(hosts)


def playable(url: str) -> bool:
    """Whether a page of ours may play media from ``url`` (our origin or a recording host)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin == request.host_url.rstrip("/") or origin in current_app.extensions.get(
        "hotline.recording_hosts", frozenset()
    )


def init_headers(app: Flask) -> None:
    allow_recordings(app, str(app.config.get("RECORDING_HOSTS") or ""))
    app.after_request(add_headers)
