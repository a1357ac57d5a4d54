"""One way to POST JSON to a gateway or a department's system and say what happened.

The HTTP senders (the SMS gateway, webhooks) share it: a 2xx is delivered; any other answer, a
timeout or a connection that fails is a :class:`DeliveryError`. Redirects are not followed (a
moved endpoint is a configuration to fix, not something to chase with the message).
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

import httpx

from .base import DeliveryError

#: answers that will not change on a retry: the request itself is wrong
PERMANENT_STATUSES = frozenset({400, 404, 405, 410, 413, 422})


class LazyClient:
    """One pooled ``httpx.Client`` made on the first message, not when the app starts (every
    app, every test, makes senders; most never send), and shared by the worker's threads."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        client = self._client
        if client is None:
            with self._lock:
                if self._client is None:
                    self._client = make_client(self.timeout)
                client = self._client
        return client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()


def make_client(timeout: float) -> httpx.Client:
    """A pooled client for one sender; ``httpx.Client`` is safe to share between threads."""
    # httpx logs every request's full URL at INFO: a department's URL may carry its token in
    # the query (chat robots do). The senders log their own line without it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        trust_env=False,
    )


def post_json(
    client: httpx.Client, url: str, *, body: bytes, headers: dict[str, str], what: str
) -> httpx.Response:
    """POST ``body`` (JSON bytes); return the 2xx answer or raise :class:`DeliveryError`.
    ``what`` names the other side in the error (never with its token or full query)."""
    headers = {"Content-Type": "application/json; charset=utf-8", **headers}
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise DeliveryError(f"{what} did not answer in time ({describe_url(url)})") from None
    except httpx.InvalidURL:
        raise DeliveryError(
            f"{what} URL cannot be used: {describe_url(url)}", retry=False
        ) from None
    except httpx.HTTPError as exc:
        raise DeliveryError(
            f"{what} could not be reached ({describe_url(url)}): {type(exc).__name__}"
        ) from None
    if 200 <= response.status_code < 300:
        return response
    raise DeliveryError(
        f"{what} answered {response.status_code} ({describe_url(url)}): {_snippet(response)}",
        retry=response.status_code not in PERMANENT_STATUSES,
    )


def describe_url(url: str) -> str:
    """The URL without credentials or query (they may hold a token): for logs and errors."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # without user:password
    return f"{parts.scheme}://{host}{parts.path}"


def provider_id(response: httpx.Response) -> str | None:
    """The provider's reference in a JSON answer (``id``, ``message_id``, ...), if any."""
    try:
        data = response.json()
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    for name in ("id", "message_id", "messageId", "msg_id", "sid", "reference"):
        value = data.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("…" if len(text) > limit else "")
