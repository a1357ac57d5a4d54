"""The senders the app's configuration asks for (``senders_from(app.config)``).

Every value is checked here, when the app starts: a wrong one raises :class:`SettingsError`
naming the variable, and the app refuses to start with that message rather than failing on
the first message hours later.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ..settings import SettingsError
from .base import Senders
from .sms_http import HttpSmsSender
from .smtp import SmtpSender, parse_smtp_url
from .webhook import WebhookSender

SMS_PROVIDERS = ("gateway", "tencent")
#: Tencent Cloud SMS: the setting each value comes from (config key -> environment variable)
TENCENT_REQUIRED = {
    "TENCENT_SECRET_ID": "HOTLINE_TENCENT_SECRET_ID",
    "TENCENT_SECRET_KEY": "HOTLINE_TENCENT_SECRET_KEY",
    "TENCENT_SMS_APP_ID": "HOTLINE_TENCENT_SMS_APP_ID",
    "TENCENT_SMS_TEMPLATE_ID": "HOTLINE_TENCENT_SMS_TEMPLATE_ID",
}


def senders_from(config: Mapping[str, Any]) -> Senders:
    """The configured senders: SMS and e-mail when set, webhooks always."""
    timeout = notify_timeout(config)
    senders = Senders()
    sms = _sms_sender(config, timeout)
    if sms is not None:
        senders.set(sms)
    smtp_url = _text(config, "SMTP_URL")
    if smtp_url:
        senders.set(_smtp_sender(config, smtp_url, timeout))
    senders.set(WebhookSender(timeout=timeout))
    return senders


def notify_timeout(config: Mapping[str, Any]) -> float:
    value = config.get("NOTIFY_TIMEOUT_SECONDS", 10.0)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not (0 < seconds <= 600):
        raise SettingsError(
            f"HOTLINE_NOTIFY_TIMEOUT_SECONDS must be a number of seconds from 0 to 600, "
            f"not {value!r}"
        )
    lease = config.get("TIMER_LEASE_SECONDS")
    if isinstance(lease, int | float) and seconds * 2 > lease:
        # a send that outlasts the worker's lease lets another worker send the message again
        raise SettingsError(
            f"HOTLINE_NOTIFY_TIMEOUT_SECONDS ({seconds:g}) must be under half of "
            f"HOTLINE_TIMER_LEASE_SECONDS ({lease:g})"
        )
    return seconds


def _sms_sender(config: Mapping[str, Any], timeout: float):
    provider = (_text(config, "SMS_PROVIDER") or "gateway").lower()
    if provider not in SMS_PROVIDERS:
        raise SettingsError(
            f"HOTLINE_SMS_PROVIDER must be one of {', '.join(SMS_PROVIDERS)}, not {provider!r}"
        )
    if provider == "tencent":
        return _tencent_sender(config, timeout)
    url = _text(config, "SMS_URL")
    if not url:
        return None
    _check_http_url(url, "HOTLINE_SMS_URL")
    token = _text(config, "SMS_TOKEN")
    if not (token.isascii() and token.isprintable() and " " not in token):
        raise SettingsError("HOTLINE_SMS_TOKEN must be printable ASCII without spaces")
    return HttpSmsSender(url, token=token, timeout=timeout)


def _tencent_sender(config: Mapping[str, Any], timeout: float):
    from .tencent_sms import DEFAULT_ENDPOINT, DEFAULT_REGION, TencentSmsSender

    for key, env in TENCENT_REQUIRED.items():
        if not _text(config, key):
            raise SettingsError(f"{env} must be set when HOTLINE_SMS_PROVIDER is tencent")
    endpoint = _text(config, "TENCENT_SMS_ENDPOINT") or DEFAULT_ENDPOINT
    _check_http_url(endpoint, "HOTLINE_TENCENT_SMS_ENDPOINT")
    sign_name = _text(config, "TENCENT_SMS_SIGN") or _text(config, "CENTRE_NAME")
    if not sign_name:
        raise SettingsError("HOTLINE_TENCENT_SMS_SIGN (or HOTLINE_CENTRE_NAME) must be set")
    return TencentSmsSender(
        secret_id=_text(config, "TENCENT_SECRET_ID"),
        secret_key=_text(config, "TENCENT_SECRET_KEY"),
        app_id=_text(config, "TENCENT_SMS_APP_ID"),
        sign_name=sign_name,
        template_id=_text(config, "TENCENT_SMS_TEMPLATE_ID"),
        region=_text(config, "TENCENT_REGION") or DEFAULT_REGION,
        endpoint=endpoint,
        timeout=timeout,
    )


def _smtp_sender(config: Mapping[str, Any], url: str, timeout: float) -> SmtpSender:
    smtp = parse_smtp_url(url)
    mail_from = _text(config, "MAIL_FROM")
    local, _, domain = mail_from.rpartition("@")
    if not local or not domain or any(c in mail_from for c in " <>,;\r\n"):
        raise SettingsError(
            f"HOTLINE_MAIL_FROM must be one address like hotline@example.gov.cn, not {mail_from!r}"
        )
    try:
        return SmtpSender(
            smtp, mail_from=mail_from, centre=_text(config, "CENTRE_NAME"), timeout=timeout
        )
    except OSError as exc:  # the cafile cannot be read or is not a certificate
        raise SettingsError(
            f"HOTLINE_SMTP_URL: cafile {smtp.cafile!r} cannot be used: {exc}"
        ) from None


def _check_http_url(url: str, name: str) -> None:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise SettingsError(f"{name} has a port that is not a number") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name} must be an http:// or https:// URL with a host")


def _text(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    return "" if value is None else str(value).strip()
