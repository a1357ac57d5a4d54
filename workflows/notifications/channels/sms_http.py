"""SMS through the centre's HTTP gateway: POST JSON ``{"id", "to", "text"}`` with a bearer token.

The gateway deduplicates by ``id`` (the message's outbox key), so a message the outbox
delivers twice (at least once) reaches the citizen once.
"""

from __future__ import annotations

import json
import logging

from ...cases.confidentiality import mask_phone
from .base import DeliveryError, Outgoing
from .posting import LazyClient, describe_url, post_json, provider_id

log = logging.getLogger(__name__)


class HttpSmsSender:
    """``channel = "sms"``: one pooled HTTP client, shared by the worker's threads."""

    channel = "sms"

    def __init__(self, url: str, *, token: str = "", timeout: float = 10.0) -> None:
        self.url = url
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = LazyClient(timeout)

    def send(self, outgoing: Outgoing) -> str | None:
        if not outgoing.to.strip():
            raise DeliveryError("the SMS has no phone number", retry=False)
        body = json.dumps(
            {"id": outgoing.id, "to": outgoing.to, "text": outgoing.text}, ensure_ascii=False
        ).encode()
        response = post_json(
            self._client.get(), self.url, body=body, headers=self._headers, what="the SMS gateway"
        )
        reference = provider_id(response)
        log.info(
            "SMS %s to %s accepted by %s (%s)",
            outgoing.id,
            mask_phone(outgoing.to),
            describe_url(self.url),
            reference or "no reference",
        )
        return reference

    def close(self) -> None:
        self._client.close()

    def __repr__(self) -> str:
        return f"HttpSmsSender({describe_url(self.url)})"
