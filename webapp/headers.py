"""Response headers every answer carries (issue 15, items 3 and 6, first part).

- ``X-Content-Type-Options: nosniff``: a browser takes a response for what its Content-Type
  says, never for script or HTML it guessed.
- ``X-Frame-Options: DENY``: no other site frames our pages (clickjacking).
- ``Referrer-Policy: same-origin``: case URLs (with case numbers) never leave in a Referer.
- An XML document (a deployed diagram, served for bpmn-js to fetch) gets
  ``Content-Security-Policy: default-src 'none'; sandbox``: opened directly in a tab, the
  script a hostile diagram may carry (an XHTML ``<script>``) runs nowhere, and in no origin.

A page-wide Content-Security-Policy is not set yet: the pages' inline scripts must move to
files first.
"""

from __future__ import annotations

from flask import Flask, Response

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
#: for documents that are data, never pages: nothing loads, nothing runs
DATA_CSP = "default-src 'none'; sandbox"
DATA_TYPES = frozenset({"application/xml", "text/xml", "image/svg+xml"})


def add_headers(response: Response) -> Response:
    for name, value in ALWAYS.items():
        response.headers.setdefault(name, value)
    if response.mimetype in DATA_TYPES:
        response.headers["Content-Security-Policy"] = DATA_CSP
    return response


def init_headers(app: Flask) -> None:
    app.after_request(add_headers)
