"""E-mail over SMTP: ``HOTLINE_SMTP_URL`` parsed once, one connection per message.

``smtp://user:pass@host:port`` (plain, or ``?starttls=1`` to upgrade), ``smtps://...`` (TLS from
the start); the user and password are optional and percent-decoded; ``?cafile=/path.pem``
trusts a private CA (an internal mail relay). The Message-ID is derived from the message's id,
so a message the outbox delivers twice is recognisably the same mail.

A connection per message keeps the sender free of shared state (``smtplib.SMTP`` is not
thread-safe) and a notice is a handful of mails, not a bulk mailing.
"""

from __future__ import annotations

import hashlib
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from ..settings import SettingsError
from .base import DeliveryError, Outgoing

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
#: characters a Message-ID's left part may hold as they are (RFC 5322 dot-atom text)
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,120}")
_NOT_ATOM = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    #: ``plain``, ``starttls`` or ``tls`` (smtps)
    security: str = "plain"
    user: str = ""
    password: str = ""
    cafile: str = ""

    def __repr__(self) -> str:  # never the password
        who = f"{self.user}@" if self.user else ""
        return f"SmtpConfig({self.security}://{who}{self.host}:{self.port})"


def parse_smtp_url(url: str, *, name: str = "HOTLINE_SMTP_URL") -> SmtpConfig:
    """``smtp://user:pass@host:port?starttls=1`` -> :class:`SmtpConfig`; a wrong scheme, no
    host, a port that is not a number or an unknown option raise :class:`SettingsError`."""
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS:
        raise SettingsError(
            f"{name} must start with smtp:// or smtps://, not {parts.scheme or url!r}"
        )
    if not parts.hostname:
        raise SettingsError(f"{name} names no mail server host (smtp://host:port)")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise SettingsError(f"{name} has a port that is not a number from 1 to 65535") from None
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(options) - {"starttls", "cafile"})
    if unknown:
        raise SettingsError(f"{name} has an unknown option {unknown[0]!r} (starttls, cafile)")
    starttls = options.get("starttls", [""])[-1].strip().lower()
    if starttls not in _TRUE | _FALSE:
        raise SettingsError(f"{name}: starttls must be 1 or 0, not {starttls!r}")
    security = "tls" if parts.scheme == "smtps" else "plain"
    if starttls in _TRUE:
        if security == "tls":
            raise SettingsError(f"{name}: smtps:// is TLS from the start; drop ?starttls=1")
        security = "starttls"
    cafile = options.get("cafile", [""])[-1]
    if cafile and security == "plain":
        raise SettingsError(f"{name}: cafile is for TLS (?starttls=1 or smtps://)")
    user, password = unquote(parts.username or ""), unquote(parts.password or "")
    if not (user + password).isascii():
        # smtplib's AUTH sends them as ASCII only
        raise SettingsError(f"{name}: the user and password must be ASCII (percent-encoded)")
    return SmtpConfig(
        host=parts.hostname,
        port=port,
        security=security,
        user=user,
        password=password,
        cafile=cafile,
    )


def message_id(outgoing_id: str, domain: str) -> str:
    """``<id@domain>``: the same message id gives the same Message-ID."""
    if _ATOM.fullmatch(outgoing_id) and ".." not in outgoing_id:
        left = outgoing_id.strip(".")
    else:  # readable, and unique by the digest of the id as it was
        readable = ".".join(_NOT_ATOM.split(outgoing_id)[:8]).strip(".")[:80]
        left = f"{readable}.{_digest(outgoing_id)[:12]}".strip(".")
    return f"<hotline.{left}@{domain}>"


class SmtpSender:
    """``channel = "email"``: one SMTP conversation per message."""

    channel = "email"

    def __init__(
        self,
        config: SmtpConfig,
        *,
        mail_from: str,
        centre: str = "",
        timeout: float = 10.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.mail_from = mail_from
        self.centre = centre
        self.timeout = timeout
        self._now = now
        self._domain = mail_from.rpartition("@")[2] or "localhost"
        self._context = self._tls_context() if config.security != "plain" else None

    def send(self, outgoing: Outgoing) -> str | None:
        message = self.compose(outgoing)
        try:
            with self._connect() as smtp:
                smtp.send_message(message, from_addr=self.mail_from, to_addrs=[outgoing.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code, answer = next(iter(exc.recipients.values()))
            raise _refused("refused the recipient", code, answer) from None
        except smtplib.SMTPSenderRefused as exc:
            # the centre's From address: a configuration to fix, not this message's fault
            raise DeliveryError(
                f"the mail server refused the sender {self.mail_from}: {exc.smtp_code} "
                f"{_text(exc.smtp_error)} (check HOTLINE_MAIL_FROM)"
            ) from None
        except smtplib.SMTPDataError as exc:
            raise _refused("refused the message", exc.smtp_code, exc.smtp_error) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"the mail server refused the sign-in ({exc.smtp_code}); check "
                "HOTLINE_SMTP_URL's user and password"
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise _refused("answered", exc.smtp_code, exc.smtp_error) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"the mail server {self.config.host}:{self.config.port} could not be used: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        log.info("e-mail %s handed to %s", outgoing.id, self.config.host)
        return message["Message-ID"]

    def compose(self, outgoing: Outgoing) -> EmailMessage:
        """The mail: From the centre, UTF-8 subject and body, a Message-ID from the id."""
        to = outgoing.to.strip()
        if not to or "@" not in to or any(c in to for c in "\r\n,;<>"):
            raise DeliveryError("the e-mail address is not one address", retry=False)
        if not to.isascii():
            raise DeliveryError(
                "the e-mail address has non-ASCII characters (SMTPUTF8 is not used)", retry=False
            )
        message = EmailMessage()
        message["From"] = Address(
            display_name=" ".join(self.centre.split()), addr_spec=self.mail_from
        )
        try:
            message["To"] = to
        except (ValueError, IndexError):
            raise DeliveryError("the e-mail address cannot be written", retry=False) from None
        subject = outgoing.subject or _first_line(outgoing.text) or self.centre
        message["Subject"] = " ".join(subject.split())
        message["Date"] = formatdate(self._now(), localtime=False)
        message["Message-ID"] = message_id(outgoing.id, self._domain)
        message.set_content(outgoing.text, charset="utf-8", cte="base64")
        return message

    def _connect(self) -> smtplib.SMTP:
        host, port = self.config.host, self.config.port
        if self.config.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=self.timeout, context=self._context
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.config.security == "starttls":
                smtp.starttls(context=self._context)
                smtp.ehlo()
            if self.config.user:
                smtp.login(self.config.user, self.config.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config.cafile or None)

    def __repr__(self) -> str:
        return f"SmtpSender({self.config!r})"


def _refused(what: str, code: int, answer: bytes | str) -> DeliveryError:
    """4xx: the server asks to try later; 5xx: it never will take this message."""
    return DeliveryError(
        f"the mail server {what}: {code} {_text(answer)}", retry=not 500 <= code < 600
    )


def _text(answer: bytes | str) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0][:80]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]
