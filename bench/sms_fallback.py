"""An HTTP SMS sender for ``HOTLINE_SMS_URL`` when the app's configuration builds none.

The channel adapters of issue 16 are written beside this part; until they are merged,
``senders_from`` builds no SMS sender and every SMS is only recorded. The benchmark and the
kill -9 test need SMS to reach their gateway, so :func:`install` (called before the app is
made) adds this sender then, posting what the adapters post (JSON ``{id, to, text}``, the
bearer token, a pooled ``httpx`` client). Once ``senders_from`` builds one, it does nothing.

A worker process gets it with ``python -c "<WORKER>" worker ...`` (:data:`WORKER`).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

#: ``python -c WORKER worker ...``: ``hotline worker`` with :func:`install` first
WORKER = (
    f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r}); "
    "from bench.sms_fallback import install; install(); from webapp.cli import main; main()"
)


class FallbackSms:
    channel = "sms"

    def __init__(self, url: str, token: str, timeout: float) -> None:
        self.url = url
        self.headers = {"Content-Type": "application/json; charset=utf-8"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.client = httpx.Client(timeout=httpx.Timeout(timeout), trust_env=False)

    def send(self, outgoing) -> str | None:
        from workflows.notifications.channels.base import DeliveryError

        body = json.dumps({"id": outgoing.id, "to": outgoing.to, "text": outgoing.text})
        try:
            response = self.client.post(self.url, content=body.encode(), headers=self.headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"the SMS gateway could not be reached: {exc}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"the SMS gateway answered {response.status_code}")
        return None


def install() -> None:
    import webapp.hotline as hotline

    original = hotline.senders_from
    if getattr(original, "fallback", False):
        return

    def senders_from(config):
        senders = original(config)
        if config.get("SMS_URL") and not senders.configured("sms"):
            timeout = float(config.get("NOTIFY_TIMEOUT_SECONDS") or 10)
            senders.set(FallbackSms(config["SMS_URL"], config.get("SMS_TOKEN") or "", timeout))
        return senders

    senders_from.fallback = True  # type: ignore[attr-defined]
    hotline.senders_from = senders_from
