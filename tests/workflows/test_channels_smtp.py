"""E-mail over SMTP against a real SMTP server (aiosmtpd) on a free local port: plain, with
AUTH, with STARTTLS and with TLS from the start (a self-signed certificate made for the test)."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.utils import parseaddr

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.workflows.channel_stubs import closed_port, silent_port
from workflows.notifications.channels.base import DeliveryError, Outgoing
from workflows.notifications.channels.smtp import (
    SmtpConfig,
    SmtpSender,
    message_id,
    parse_smtp_url,
)
from workflows.notifications.settings import SettingsError

NOW = 1_790_000_000
USER, PASSWORD = "hotline@city.example", "p@ss:w/rd %"


class Mailbox:
    """The server's handler: keeps what arrives; some recipients are refused."""

    def __init__(self) -> None:
        self.envelopes = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody>: user unknown"
        if address.startswith("busy@"):
            return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope, session.authenticated))
        return "250 Message accepted"

    def messages(self):
        return [
            message_from_bytes(envelope.original_content, policy=policy.default)
            for envelope, _ in self.envelopes
        ]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def mail_server(**options):
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    try:
        yield mailbox, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def sender(url: str, **kwargs) -> SmtpSender:
    options = {"mail_from": "hotline@city.example", "centre": "12345热线", "timeout": 2.0}
    return SmtpSender(parse_smtp_url(url), now=lambda: NOW, **{**options, **kwargs})


def mail(to="duty@water.example", id="notify.deliver:5:email") -> Outgoing:
    return Outgoing(
        id=id,
        channel="email",
        to=to,
        subject="黄牌预警：工单20260101001",
        text="工单20260101001的答复期限将于明天到期。\n请尽快办理。",
    )


def test_a_mail_arrives_with_the_centre_as_sender_and_chinese_decoded():
    with mail_server() as (mailbox, port):
        ref = sender(f"smtp://127.0.0.1:{port}").send(mail())
    ((envelope, _),), (message,) = mailbox.envelopes, mailbox.messages()
    assert envelope.mail_from == "hotline@city.example"
    assert envelope.rcpt_tos == ["duty@water.example"]
    assert message["Subject"] == "黄牌预警：工单20260101001"
    assert parseaddr(str(message["From"])) == ("12345热线", "hotline@city.example")
    assert message["To"] == "duty@water.example"
    assert message["Message-ID"] == ref
    assert ref.startswith("<hotline.notify.deliver.5.email.") and ref.endswith("@city.example>")
    assert message.get_content_charset() == "utf-8"
    assert (
        message.get_content().replace("\r\n", "\n")
        == "工单20260101001的答复期限将于明天到期。\n请尽快办理。\n"
    )
    assert message["Date"].datetime.timestamp() == NOW
    # what went over the wire is 7-bit: the Chinese is encoded, not raw
    assert envelope.original_content.isascii()


def test_a_resent_message_has_the_same_message_id():
    with mail_server() as (mailbox, port):
        mailer = sender(f"smtp://127.0.0.1:{port}")
        mailer.send(mail())
        mailer.send(mail())
        mailer.send(mail(id="notify.deliver:6:email"))
    first, again, other = (m["Message-ID"] for m in mailbox.messages())
    assert first == again != other


def test_message_ids_from_any_id_are_valid_and_distinct():
    assert message_id("abc-1", "x.cn") == "<hotline.abc-1@x.cn>"
    weird = message_id("a b<c>", "x.cn")
    assert weird == message_id("a b<c>", "x.cn") and weird.startswith("<hotline.a.b.c.")
    assert " " not in weird and "<c>" not in weird
    assert message_id("n:1", "x.cn") != message_id("n.1", "x.cn") != message_id("n;1", "x.cn")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_sign_in_with_percent_decoded_user_and_password():
    url_user, url_password = "hotline%40city.example", "p%40ss%3Aw%2Frd%20%25"
    options = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
    with mail_server(**options) as (mailbox, port):
        sender(f"smtp://{url_user}:{url_password}@127.0.0.1:{port}").send(mail())
        with pytest.raises(DeliveryError, match="sign-in") as failed:
            sender(f"smtp://{url_user}:wrong@127.0.0.1:{port}").send(mail())
        with pytest.raises(DeliveryError):
            sender(f"smtp://127.0.0.1:{port}").send(mail())  # no AUTH: the server refuses
    assert [authenticated for _, authenticated in mailbox.envelopes] == [True]
    assert "wrong" not in str(failed.value)


def test_starttls_with_auth(certificate):
    cert, context = certificate
    options = {
        "tls_context": context,
        "require_starttls": True,
        "authenticator": authenticator,
        "auth_required": True,
    }
    with mail_server(**options) as (mailbox, port):
        url = f"smtp://hotline%40city.example:p%40ss%3Aw%2Frd%20%25@127.0.0.1:{port}"
        sender(f"{url}?starttls=1&cafile={cert}").send(mail())
        # without STARTTLS the server will not go on
        with pytest.raises(DeliveryError):
            sender(f"smtp://127.0.0.1:{port}").send(mail())
        # a certificate nobody vouches for is refused
        with pytest.raises(DeliveryError, match="SSL"):
            sender(f"{url}?starttls=1").send(mail())
    assert len(mailbox.envelopes) == 1


def test_tls_from_the_start(certificate):
    cert, context = certificate
    with mail_server(ssl_context=context) as (mailbox, port):
        sender(f"smtps://127.0.0.1:{port}?cafile={cert}").send(mail())
    assert mailbox.messages()[0]["Subject"] == "黄牌预警：工单20260101001"


@pytest.mark.parametrize(
    ("to", "retry"), [("nobody@water.example", False), ("busy@water.example", True)]
)
def test_a_refused_recipient(to, retry):
    refused = pytest.raises(DeliveryError, match="recipient")
    with mail_server() as (mailbox, port), refused as failed:
        sender(f"smtp://127.0.0.1:{port}").send(mail(to=to))
    assert failed.value.retry is retry
    assert mailbox.envelopes == []


@pytest.mark.parametrize(
    "to", ["", "no-at-sign", "a@b.cn, c@d.cn", "a@b.cn\r\nBcc: x@y.cn", "值班@水务.cn"]
)
def test_an_unusable_address_fails_for_good(to):
    with pytest.raises(DeliveryError) as failed:
        sender("smtp://127.0.0.1:25").send(mail(to=to))
    assert failed.value.retry is False


def test_a_mail_server_that_is_down_or_silent_is_retried():
    with pytest.raises(DeliveryError) as failed:
        sender(f"smtp://127.0.0.1:{closed_port()}").send(mail())
    assert failed.value.retry is True
    with silent_port() as port, pytest.raises(DeliveryError, match="timed out") as failed:
        sender(f"smtp://127.0.0.1:{port}", timeout=0.3).send(mail())
    assert failed.value.retry is True


def test_smtp_urls():
    assert parse_smtp_url("smtp://mail.example") == SmtpConfig("mail.example", 25)
    assert parse_smtp_url("smtp://u%40x:p%2F@mail.example:587?starttls=1") == SmtpConfig(
        "mail.example", 587, "starttls", "u@x", "p/"
    )
    assert parse_smtp_url("smtps://mail.example") == SmtpConfig("mail.example", 465, "tls")
    assert "p%2F" not in repr(parse_smtp_url("smtp://u:p%2F@h")) and "p/" not in repr(
        parse_smtp_url("smtp://u:p%2F@h")
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://mail.example", "smtp:// or smtps://"),
        ("mail.example:25", "smtp:// or smtps://"),
        ("smtp://", "no mail server host"),
        ("smtp://user:pw@:25", "no mail server host"),
        ("smtp://mail.example:twenty", "port"),
        ("smtp://mail.example:99999", "port"),
        ("smtp://mail.example?starttls=maybe", "starttls"),
        ("smtps://mail.example?starttls=1", "smtps"),
        ("smtp://mail.example?tls=1", "unknown option"),
        ("smtp://用户:pw@mail.example", "ASCII"),
    ],
)
def test_bad_smtp_urls_name_the_setting(url, says):
    with pytest.raises(SettingsError, match="HOTLINE_SMTP_URL") as refused:
        parse_smtp_url(url)
    assert says in str(refused.value)
