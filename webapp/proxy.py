"""Behind a reverse proxy: which ``X-Forwarded-*`` headers to believe (werkzeug's ProxyFix).

``HOTLINE_PROXY_FIX`` says how many proxies set each header, e.g. ``x_for=1,x_proto=1,x_host=1``
for one nginx. Only then do ``request.remote_addr`` (sign-in throttling per address, the audit
log) and ``request.scheme`` (Secure cookies) come from the headers; with ``off`` (the default)
they are the connection's own, and a client cannot claim another address by sending the header.
Trusting more proxies than there are lets any client choose its address: count them exactly.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import ConfigError

KEYS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")
OFF = ("", "off", "0", "no", "false", "none")


def proxy_fix_settings(value: str | None) -> dict[str, int] | None:
    """``"x_for=1,x_proto=1"`` -> ``{"x_for": 1, "x_proto": 1, ...}`` (the others 0); None
    for off. ConfigError naming HOTLINE_PROXY_FIX and the bad part otherwise."""
    text = str(value or "").strip().lower()
    if text in OFF:
        return None
    settings = dict.fromkeys(KEYS, 0)
    for part in text.split(","):
        name, sep, number = (p.strip() for p in part.partition("="))
        if not sep or name not in KEYS or not number.isdigit() or int(number) > 10:
            raise ConfigError(
                f"HOTLINE_PROXY_FIX: {part.strip()!r} is not NAME=COUNT with NAME one of "
                f"{', '.join(KEYS)} and COUNT 0 to 10 (or say off)"
            )
        settings[name] = int(number)
    return settings


def init_proxy(app: Flask) -> None:
    settings = proxy_fix_settings(app.config.get("PROXY_FIX"))
    if settings:
        app.wsgi_app = ProxyFix(app.wsgi_app, **settings)  # type: ignore[method-assign]
