"""Helpers for page tests: a hotline app with the demo city, and clients signed in per role."""

from __future__ import annotations

import re

from werkzeug.security import generate_password_hash

from engine.db import unit_of_work
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.seed import seed_demo_city, seed_reference

PASSWORD = "demo-password"
#: the demo users' hash: scrypt, as the app hashes passwords (webapp/security.py), with a
#: smaller work factor (N=2**10, not Werkzeug's 2**15): every test that signs in checks it,
#: and at 0.1 s a check, sign-ins were a tenth of the suite's time
PASSWORD_HASH = generate_password_hash(PASSWORD, method="scrypt:1024:8:1")
#: one user per role in the demo city
ROLE_USERS = {
    "operator": "op1",
    "dispatcher": "disp1",
    "handler": "h_mr",
    "supervisor": "sup1",
    "callback": "cb1",
    "lead": "lead1",
    "admin": "admin",
    "auditor": "audit1",
    "qa": "qa1",
}


def seed(app) -> None:
    """Reference data, the demo city (all passwords PASSWORD) and the bundled diagrams."""
    from pathlib import Path

    with app.app_context():
        hotline = get_hotline()
        with unit_of_work(db.session):
            seed_reference(db.session, clock=hotline.clock, years=[2026, 2027])
            seed_demo_city(db.session, clock=hotline.clock, password_hash=PASSWORD_HASH)
        for path in sorted(Path(app.config["BPMN_DIR"]).glob("*.bpmn")):
            hotline.runtime.deploy(
                db.session,
                path.read_bytes(),
                path.name,
                deployed_by="tests",
                form_exists=hotline.forms.exists,
            )


def csrf_token(client, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username: str, password: str = PASSWORD):
    token = csrf_token(client)
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST with the CSRF token of the page the form is on (taken from ``path`` itself, or
    from ``token_from``)."""
    token_from = kwargs.pop("token_from", None) or "/"
    token = csrf_token(client, token_from)
    return client.post(path, data={**(data or {}), "csrf_token": token}, **kwargs)
