"""Thin views: sign in, sign out, switch language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from ..hotline import get_hotline
from ..security import SignInRefused, authenticate, sign_in, sign_out
from . import bp

LANGUAGES = ("zh", "en")


def _safe_next(target: str | None) -> str:
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return url_for("home.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.get("user") is not None and request.method == "GET":
        return redirect(url_for("home.index"))
    error = None
    status = 200
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        try:
            user = authenticate(username, password, now=get_hotline().clock.now())
        except SignInRefused as exc:
            status = 401
            if exc.wait is not None:
                status = 429
                error = _(
                    "Too many failed attempts: try again in %(seconds)s seconds.",
                    seconds=max(1, int(exc.wait.total_seconds())),
                )
            else:
                error = _("Wrong username or password.")
        else:
            lang = session.get("lang")
            sign_in(user)
            if lang:
                session["lang"] = lang
            return redirect(_safe_next(request.form.get("next")))
    return render_template(
        "auth/login.html", error=error, next=request.values.get("next", "")
    ), status


@bp.post("/logout")
def logout():
    lang = session.get("lang")
    sign_out()
    if lang:
        session["lang"] = lang
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))


@bp.post("/language")
def language():
    lang = request.form.get("lang")
    if lang in LANGUAGES:
        session["lang"] = lang
    return redirect(_safe_next(request.form.get("next")))
