"""Webhooks to department systems: the notice as JSON, signed with the department's secret.

Each request carries ``X-Hotline-Event`` (the notice's event), ``X-Hotline-Delivery`` (the
message's id: the receiver's idempotency key, since a delivery may come twice),
``X-Hotline-Timestamp`` (unix seconds) and ``X-Hotline-Signature: sha256=<hex>``, the
HMAC-SHA256 of ``"<timestamp>.<body>"`` with the department's ``webhook_secret``. Signing the
timestamp with the body lets a receiver refuse a replayed old request (:func:`verify_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from .base import DeliveryError, Outgoing
from .posting import LazyClient, describe_url, post_json, provider_id

log = logging.getLogger(__name__)

SIGNATURE_PREFIX = "sha256="


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-Hotline-Signature`` value of ``body`` sent at ``timestamp``."""
    message = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes,
    header: str,
    *,
    now: float,
    tolerance: float = 300,
) -> bool:
    """A receiver's check: the signature is ours and the request is at most ``tolerance``
    seconds old (or early). ``timestamp`` is the ``X-Hotline-Timestamp`` header as received."""
    try:
        sent = int(str(timestamp).strip())
    except ValueError:
        return False
    if abs(now - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), (header or "").strip())


class WebhookSender:
    """``channel = "webhook"``: POST ``Outgoing.payload`` to ``Outgoing.to`` (the department's
    URL). Always configured: a department without a URL simply gets no webhook messages."""

    channel = "webhook"

    def __init__(self, *, timeout: float = 10.0, now: Callable[[], float] = time.time) -> None:
        self._client = LazyClient(timeout)
        self._now = now

    def send(self, outgoing: Outgoing) -> str | None:
        url = outgoing.to.strip()
        parts = urlsplit(url)
        try:
            parts.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError:
            parts = parts._replace(scheme="")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DeliveryError(
                f"the webhook URL must be http(s)://host/..., not {describe_url(url)!r}",
                retry=False,
            )
        body = json.dumps(
            outgoing.payload, ensure_ascii=False, separators=(",", ":"), default=str
        ).encode()
        timestamp = int(self._now())
        headers = {
            "X-Hotline-Event": _header_value(outgoing.payload.get("event", "")),
            "X-Hotline-Delivery": _header_value(outgoing.id),
            "X-Hotline-Timestamp": str(timestamp),
        }
        if outgoing.secret:
            headers["X-Hotline-Signature"] = sign(outgoing.secret, timestamp, body)
        response = post_json(
            self._client.get(), url, body=body, headers=headers, what="the webhook"
        )
        log.info("webhook %s delivered to %s", outgoing.id, describe_url(url))
        return provider_id(response)

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return "WebhookSender()"


def _header_value(value: object) -> str:
    """Header values are ASCII: anything else is percent-encoded rather than refused."""
    return quote(str(value), safe="!#$&'()*+,-./:;=?@[]^_`{|}~ ")
