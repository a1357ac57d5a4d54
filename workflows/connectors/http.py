"""``http_request``: call another system over HTTP(S), only on hosts an administrator listed.

The allow-list (``HOTLINE_CONNECTOR_HOSTS``: ``host[:port]`` entries, comma separated) is
checked twice: at deploy time for a URL written as a literal, and before every call for any
URL (one computed from case data too). An entry without a port allows the scheme's default
port only (80, 443). Redirects are not followed (a redirect could leave the list), and the
call carries ``Idempotency-Key`` (the outbox message's key: a retried call is the same call).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from engine.connectors import NOT_LITERAL, Call, Connector, Param
from engine.outbox import PermanentFailure

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 60.0
#: the most of an answer's body kept in the result variable
MAX_BODY = 64 * 1024
#: answers a retry will not change: the request itself is wrong
PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 405, 410, 413, 422})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class HostError(ValueError):
    pass


class AllowedHosts:
    """The ``host[:port]`` entries calls may go to."""

    def __init__(self, entries: Iterable[tuple[str, int | None]] = ()) -> None:
        self.entries = frozenset(entries)

    @classmethod
    def parse(cls, text: str) -> AllowedHosts:
        """``"api.example.org, 10.0.0.5:8080"``; raises :class:`HostError` naming a bad entry."""
        entries = []
        for raw in (text or "").split(","):
            item = raw.strip().lower()
            if not item:
                continue
            host, port = item, None
            if item.count(":") == 1:
                host, _, port_text = item.partition(":")
                if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                    raise HostError(f"{raw.strip()!r}: the port must be a number from 1 to 65535")
                port = int(port_text)
            if not host or "/" in host or "@" in host or " " in host or ":" in host:
                raise HostError(f"{raw.strip()!r} is not a host or host:port")
            entries.append((host.rstrip("."), port))
        return cls(entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def describe(self) -> list[str]:
        return sorted(h if p is None else f"{h}:{p}" for h, p in self.entries)

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be called, or None when it may."""
        if not isinstance(url, str):
            return f"the URL must be text, not {type(url).__name__}"
        parts = urlsplit(url.strip())
        try:
            port = parts.port
        except ValueError:
            return f"{url!r} has a port that is not a number"
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            return f"{url!r} is not an http(s)://host/... URL"
        if parts.username or parts.password:
            return "the URL must not carry a user name or password (use headers)"
        host = parts.hostname.lower().rstrip(".")
        default = _DEFAULT_PORTS[parts.scheme]
        port = port or default
        if (host, port) in self.entries or (port == default and (host, None) in self.entries):
            return None
        listed = ", ".join(self.describe()) or "none"
        where = host if port == default else f"{host}:{port}"
        return (
            f"host {where!r} is not allowed: an administrator lists the hosts connectors may "
            f"call in HOTLINE_CONNECTOR_HOSTS (now: {listed})"
        )


class HttpRequest(Connector):
    name = "http_request"
    label_zh = "HTTP请求"
    label_en = "HTTP request"
    params = (
        Param("url", "地址", "URL", required=True),
        Param("method", "方法", "Method"),
        Param("headers", "请求头", "Headers", kind="dict"),
        Param("body", "请求体", "Body", kind="expression"),
        Param("timeout", "超时（秒）", "Timeout (seconds)", kind="number"),
        Param("retries", "重试次数", "Retries", kind="int"),
    )

    def __init__(
        self,
        hosts: AllowedHosts,
        *,
        transport: httpx.BaseTransport | None = None,
        client_factory: Callable[[float], httpx.Client] | None = None,
    ) -> None:
        self.hosts = hosts
        self.transport = transport
        self.client_factory = client_factory

    def check(self, literals: Mapping[str, Any]) -> list[tuple[str | None, str]]:
        issues: list[tuple[str | None, str]] = []
        for name, value in literals.items():
            if value is NOT_LITERAL:
                continue
            message = _problem(name, value, self.hosts)
            if message:
                issues.append((name, message))
        return issues

    def perform(self, call: Call) -> Any:
        params = call.params
        for name in ("url", "method", "headers", "timeout"):
            if name in params:
                message = _problem(name, params[name], self.hosts)
                if message:
                    raise PermanentFailure(f"{name}: {message}")
        method = str(params.get("method") or "GET").upper()
        url = params["url"].strip()
        headers = {str(k): str(v) for k, v in (params.get("headers") or {}).items()}
        headers.setdefault("Idempotency-Key", call.key)
        content, content_type = _body(params.get("body"))
        if content_type and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = content_type
        timeout = float(params.get("timeout") or DEFAULT_TIMEOUT)
        with self._client(timeout) as client:
            try:
                response = client.request(method, url, content=content, headers=headers)
            except httpx.TimeoutException:
                raise TimeoutError(f"{_where(url)} did not answer within {timeout:g} s") from None
            except httpx.HTTPError as exc:
                raise ConnectionError(
                    f"{_where(url)} could not be reached: {type(exc).__name__}"
                ) from None
        if 200 <= response.status_code < 300:
            return {"status": response.status_code, "body": _answer(response)}
        error = f"{_where(url)} answered {response.status_code}: {response.text[:200]}"
        if response.status_code in PERMANENT_STATUSES:
            raise PermanentFailure(error)
        raise ConnectionError(error)

    def _client(self, timeout: float) -> httpx.Client:
        if self.client_factory is not None:
            return self.client_factory(timeout)
        return httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            trust_env=False,
            transport=self.transport,
        )


def _problem(name: str, value: Any, hosts: AllowedHosts) -> str | None:
    if name == "url":
        return hosts.refusal(value)
    if name == "method" and str(value).upper() not in METHODS:
        return f"{value!r} is not one of {', '.join(METHODS)}"
    if name == "headers" and value is not None and not _is_headers(value):
        return "headers are a dict of names to values, such as {'X-Token': token}"
    if name == "timeout":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"the timeout is a number of seconds, not {value!r}"
        if not 0 < value <= MAX_TIMEOUT:
            return f"the timeout must be more than 0 and at most {MAX_TIMEOUT:g} seconds"
    if name == "retries" and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        return f"retries is a whole number from 0, not {value!r}"
    return None


def _is_headers(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(k, str) for k in value)


def _body(body: Any) -> tuple[bytes | None, str | None]:
    if body is None:
        return None, None
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return (
        json.dumps(body, ensure_ascii=False, default=str).encode(),
        "application/json; charset=utf-8",
    )


def _answer(response: httpx.Response) -> Any:
    text = response.text[:MAX_BODY]
    if "json" in response.headers.get("content-type", ""):
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
