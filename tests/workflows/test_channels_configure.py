"""The senders the configuration builds, and the settings that stop the app from starting."""

from __future__ import annotations

import pytest

from tests.workflows.channel_stubs import http_stub
from workflows.notifications.channels.base import Outgoing
from workflows.notifications.channels.configure import senders_from
from workflows.notifications.channels.sms_http import HttpSmsSender
from workflows.notifications.channels.smtp import SmtpSender
from workflows.notifications.channels.tencent_sms import TencentSmsSender
from workflows.notifications.channels.webhook import WebhookSender
from workflows.notifications.settings import SettingsError

TENCENT = {
    "SMS_PROVIDER": "tencent",
    "TENCENT_SECRET_ID": "AKID",
    "TENCENT_SECRET_KEY": "key",
    "TENCENT_SMS_APP_ID": "1400000001",
    "TENCENT_SMS_TEMPLATE_ID": "1888888",
    "CENTRE_NAME": "12345热线",
}


@pytest.fixture
def built():
    made = []

    def build(config):
        senders = senders_from(config)
        made.append(senders)
        return senders

    yield build
    for senders in made:
        senders.close()


def test_nothing_set_gives_webhooks_only(built):
    senders = built({"SMS_URL": "", "SMTP_URL": "", "NOTIFY_TIMEOUT_SECONDS": 10.0})
    assert not senders.configured("sms") and not senders.configured("email")
    assert isinstance(senders.get("webhook"), WebhookSender)


def test_everything_set(built):
    senders = built(
        {
            "SMS_URL": "https://sms.example/send",
            "SMS_TOKEN": "t",
            "SMTP_URL": "smtp://u:p@mail.example:587?starttls=1",
            "MAIL_FROM": "hotline@city.example",
            "CENTRE_NAME": "12345热线",
            "NOTIFY_TIMEOUT_SECONDS": "3.5",
        }
    )
    assert isinstance(senders.get("sms"), HttpSmsSender)
    mailer = senders.get("email")
    assert isinstance(mailer, SmtpSender)
    assert (mailer.config.host, mailer.config.port, mailer.config.security) == (
        "mail.example",
        587,
        "starttls",
    )
    assert mailer.timeout == 3.5 and mailer.centre == "12345热线"


def test_the_built_gateway_sender_sends(built):
    with http_stub() as gateway:
        senders = built({"SMS_URL": gateway.url + "/sms", "SMS_TOKEN": "tok"})
        senders.get("sms").send(Outgoing(id="k", channel="sms", to="13812348000", text="hi"))
    assert gateway.received[0].headers["authorization"] == "Bearer tok"


def test_tencent_provider(built):
    sms = built(TENCENT).get("sms")
    assert isinstance(sms, TencentSmsSender)
    assert sms.sign_name == "12345热线" and sms.region == "ap-guangzhou"
    assert built({**TENCENT, "TENCENT_SMS_SIGN": "某市12345"}).get("sms").sign_name == "某市12345"


@pytest.mark.parametrize(
    ("config", "variable"),
    [
        ({"SMTP_URL": "http://mail.example"}, "HOTLINE_SMTP_URL"),
        ({"SMTP_URL": "smtp://"}, "HOTLINE_SMTP_URL"),
        ({"SMTP_URL": "smtp://mail.example:port"}, "HOTLINE_SMTP_URL"),
        ({"SMTP_URL": "smtp://mail.example?starttls=yes-please"}, "HOTLINE_SMTP_URL"),
        ({"SMTP_URL": "smtp://h?starttls=1&cafile=/nonexistent/ca.pem"}, "HOTLINE_SMTP_URL"),
        ({"SMTP_URL": "smtp://h?cafile=/etc/ssl/ca.pem"}, "HOTLINE_SMTP_URL"),
        ({"SMTP_URL": "smtp://mail.example", "MAIL_FROM": "hotline"}, "HOTLINE_MAIL_FROM"),
        ({"SMTP_URL": "smtp://mail.example", "MAIL_FROM": "a@b, c@d"}, "HOTLINE_MAIL_FROM"),
        ({"SMS_URL": "ftp://sms.example"}, "HOTLINE_SMS_URL"),
        ({"SMS_URL": "sms.example/send"}, "HOTLINE_SMS_URL"),
        ({"SMS_URL": "http://sms.example:80x/"}, "HOTLINE_SMS_URL"),
        ({"SMS_URL": "https://sms.example", "SMS_TOKEN": "令牌"}, "HOTLINE_SMS_TOKEN"),
        ({"SMS_URL": "https://sms.example", "SMS_TOKEN": "a b"}, "HOTLINE_SMS_TOKEN"),
        ({"SMS_PROVIDER": "carrier-pigeon"}, "HOTLINE_SMS_PROVIDER"),
        ({**TENCENT, "TENCENT_SECRET_KEY": ""}, "HOTLINE_TENCENT_SECRET_KEY"),
        ({**TENCENT, "TENCENT_SMS_TEMPLATE_ID": " "}, "HOTLINE_TENCENT_SMS_TEMPLATE_ID"),
        ({**TENCENT, "TENCENT_SMS_ENDPOINT": "sms://x"}, "HOTLINE_TENCENT_SMS_ENDPOINT"),
        ({**TENCENT, "CENTRE_NAME": ""}, "HOTLINE_TENCENT_SMS_SIGN"),
        ({"NOTIFY_TIMEOUT_SECONDS": "soon"}, "HOTLINE_NOTIFY_TIMEOUT_SECONDS"),
        ({"NOTIFY_TIMEOUT_SECONDS": 0}, "HOTLINE_NOTIFY_TIMEOUT_SECONDS"),
        ({"NOTIFY_TIMEOUT_SECONDS": float("nan")}, "HOTLINE_NOTIFY_TIMEOUT_SECONDS"),
        (
            {"NOTIFY_TIMEOUT_SECONDS": 40.0, "TIMER_LEASE_SECONDS": 60},
            "HOTLINE_NOTIFY_TIMEOUT_SECONDS .40. must be under half of HOTLINE_TIMER_LEASE",
        ),
    ],
)
def test_a_bad_value_names_its_variable(config, variable):
    config = {"MAIL_FROM": "hotline@city.example", **config}
    with pytest.raises(SettingsError, match=variable):
        senders_from(config)


def test_the_app_config_defaults_build_senders(built):
    from webapp.config import SETTINGS

    defaults = {key: default for key, (_, default, _) in SETTINGS.items()}
    senders = built(defaults)
    assert repr(senders) == "Senders(['webhook'])"


def test_readme_lists_every_setting():
    from webapp.config import ROOT, SETTINGS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [env for env, _, _ in SETTINGS.values() if f"| `{env}` |" not in readme]
    assert missing == []


@pytest.mark.parametrize(
    ("setting", "value", "variable"),
    [
        ("SMTP_URL", "smtp://mail.example:twenty-five", "HOTLINE_SMTP_URL"),
        ("SMS_URL", "sms.example/send", "HOTLINE_SMS_URL"),
        ("SMS_PROVIDER", "tencent", "HOTLINE_TENCENT_SECRET_ID"),
    ],
)
def test_the_app_refuses_to_start_naming_the_variable(sqlite_db, setting, value, variable):
    from webapp import create_app
    from webapp.config import ConfigError

    with pytest.raises(ConfigError, match=variable):
        create_app({"TESTING": True, "DATABASE_URL": sqlite_db.url, setting: value})
