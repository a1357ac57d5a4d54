"""One interface for every channel a message leaves by (SMS gateway, SMTP, webhook).

A sender is given an :class:`Outgoing` and either returns (delivered: the provider's reference,
if it gives one) or raises :class:`DeliveryError`. It runs in the outbox worker *outside* any
database transaction (``engine.outbox.ExternalHandler``), may be called twice for one message
(at least once) and therefore passes ``Outgoing.id`` on as the other side's idempotency key.
Retries, backoff and incidents are the outbox's; a sender only says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Outgoing:
    """What one message says and where it goes."""

    #: the message's unique key: the gateway's deduplication id, the mail's Message-ID seed,
    #: the webhook's delivery id
    id: str
    #: sms, email, webhook
    channel: str
    #: a phone number, an e-mail address, a webhook URL
    to: str
    text: str
    subject: str = ""
    #: the webhook's JSON body (the event, the case, the notice's variables)
    payload: dict[str, Any] = field(default_factory=dict)
    #: the webhook's HMAC key (the department's ``webhook_secret``)
    secret: str = ""


class DeliveryError(Exception):
    """The channel did not take the message. ``retry``: worth trying again later (a timeout,
    a 5xx, a refused connection); False: it never will be (a malformed address), but the
    outbox still counts it as a failure so that it shows up."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class Sender(Protocol):
    #: sms, email or webhook
    channel: str

    def send(self, outgoing: Outgoing) -> str | None:
        """Deliver, or raise :class:`DeliveryError`. Returns the provider's reference."""
        ...


class Senders:
    """The configured sender of each channel. A channel with none configured records its
    messages (status ``recorded``) instead of sending them: the demo runs with nothing set."""

    def __init__(self, senders: dict[str, Sender] | None = None) -> None:
        self._senders: dict[str, Sender] = dict(senders or {})

    def set(self, sender: Sender) -> None:
        self._senders[sender.channel] = sender

    def get(self, channel: str) -> Sender | None:
        return self._senders.get(channel)

    def configured(self, channel: str) -> bool:
        return channel in self._senders

    def close(self) -> None:
        """Close the senders' pooled connections (those that keep any)."""
        for sender in self._senders.values():
            close = getattr(sender, "close", None)
            if close is not None:
                close()

    def __repr__(self) -> str:
        return f"Senders({sorted(self._senders)})"
