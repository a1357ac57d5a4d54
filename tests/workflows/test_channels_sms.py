"""SMS senders against real local servers: the centre's HTTP gateway, and a stub that speaks
Tencent Cloud SMS's documented API (TC3-HMAC-SHA256 signed JSON, ``SendSms`` 2021-01-11)."""

from __future__ import annotations

import hashlib
import hmac
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from tests.workflows.channel_stubs import Answer, HttpStub, closed_port, http_stub, silent_port
from workflows.notifications.channels.base import DeliveryError, Outgoing
from workflows.notifications.channels.sms_http import HttpSmsSender
from workflows.notifications.channels.tencent_sms import TencentSmsSender, e164, template_text

PHONE = "13812348000"
TEXT = "【12345热线】您的诉求已受理，工单号20260101001。"


@pytest.fixture
def keep():
    """Keeps the senders a test makes and closes their connections after it."""
    made = []

    def keep(sender):
        made.append(sender)
        return sender

    yield keep
    for sender in made:
        sender.close()


def sms(id="notify.deliver:1:sms", to=PHONE, text=TEXT) -> Outgoing:
    return Outgoing(id=id, channel="sms", to=to, text=text)


# --- the HTTP gateway -------------------------------------------------------------------


def test_gateway_receives_id_to_text_with_the_bearer_token(keep):
    with http_stub(HttpStub(answers=[Answer.of(202, {"message_id": "gw-77"})])) as gateway:
        sender = keep(HttpSmsSender(gateway.url + "/send", token="s3cret", timeout=2))
        assert sender.send(sms()) == "gw-77"
    (request,) = gateway.received
    assert request.path == "/send"
    assert request.headers["authorization"] == "Bearer s3cret"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"id": "notify.deliver:1:sms", "to": PHONE, "text": TEXT}


def test_gateway_without_token_sends_no_authorization_and_any_2xx_is_delivered(keep):
    with http_stub(HttpStub(answers=[Answer(204)])) as gateway:
        assert keep(HttpSmsSender(gateway.url, timeout=2)).send(sms()) is None
    assert "authorization" not in gateway.received[0].headers


@pytest.mark.parametrize(
    ("status", "retry"), [(500, True), (503, True), (429, True), (401, True), (400, False)]
)
def test_gateway_refusal_is_a_failure(status, retry, keep):
    with (
        http_stub(HttpStub(answers=[Answer.of(status, {"error": "no"})])) as gateway,
        pytest.raises(DeliveryError, match=str(status)) as failed,
    ):
        keep(HttpSmsSender(gateway.url, token="s3cret", timeout=2)).send(sms())
    assert failed.value.retry is retry
    assert "s3cret" not in str(failed.value)


def test_gateway_that_does_not_answer_times_out_for_a_retry(keep):
    with (
        silent_port() as port,
        pytest.raises(DeliveryError, match="did not answer in time") as failed,
    ):
        keep(HttpSmsSender(f"http://127.0.0.1:{port}", timeout=0.3)).send(sms())
    assert failed.value.retry is True


def test_gateway_that_refuses_connections_is_retried(keep):
    with pytest.raises(DeliveryError, match="could not be reached") as failed:
        keep(HttpSmsSender(f"http://127.0.0.1:{closed_port()}", timeout=1)).send(sms())
    assert failed.value.retry is True


def test_gateway_logs_mask_the_phone_and_never_the_token(caplog, keep):
    caplog.set_level(logging.INFO)
    with http_stub() as gateway:
        keep(HttpSmsSender(gateway.url + "?key=tok", token="s3cret", timeout=2)).send(sms())
    logged = caplog.text
    assert "138****8000" in logged
    assert PHONE not in logged and "s3cret" not in logged and "tok" not in logged


def test_one_gateway_sender_serves_many_threads(keep):
    with http_stub() as gateway:
        sender = keep(HttpSmsSender(gateway.url, timeout=5))
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: sender.send(sms(id=f"m{i}")), range(40)))
    assert sorted(r.json()["id"] for r in gateway.received) == sorted(f"m{i}" for i in range(40))


# --- Tencent Cloud SMS ------------------------------------------------------------------

SECRET_ID, SECRET_KEY = "AKIDtest", "tencent-secret-key"


def tencent_signature_ok(request, host: str) -> bool:
    """Tencent's TC3-HMAC-SHA256, recomputed as its API documentation describes it."""
    auth = request.headers["authorization"]
    algorithm, _, rest = auth.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    secret_id, date, service, _ = fields["Credential"].split("/")
    timestamp = request.headers["x-tc-timestamp"]
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{request.headers['content-type']}\nhost:{host}\n",
            "content-type;host",
            hashlib.sha256(request.body).hexdigest(),
        ]
    )
    to_sign = "\n".join(
        [
            "TC3-HMAC-SHA256",
            timestamp,
            f"{date}/{service}/tc3_request",
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )

    def h(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = h(h(h(("TC3" + SECRET_KEY).encode(), date), service), "tc3_request")
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    day = datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%d")
    return (
        algorithm == "TC3-HMAC-SHA256"
        and secret_id == SECRET_ID
        and service == "sms"
        and date == day
        and fields["SignedHeaders"] == "content-type;host"
        and hmac.compare_digest(fields["Signature"], expected)
    )


def tencent_api(stub: HttpStub):
    """Answers SendSms as Tencent does: HTTP 200 with a Response object."""

    def respond(request):
        host = stub.url.removeprefix("http://")
        if not tencent_signature_ok(request, host):
            return Answer.of(
                200,
                {
                    "Response": {
                        "Error": {
                            "Code": "AuthFailure.SignatureFailure",
                            "Message": "The provided credentials could not be validated.",
                        },
                        "RequestId": "req-auth",
                    }
                },
            )
        body = request.json()
        phone = body["PhoneNumberSet"][0]
        ok = phone != "+8613900000000"
        status = {
            "SerialNo": "2433:3391823402" if ok else "",
            "PhoneNumber": phone,
            "Fee": 1 if ok else 0,
            "SessionContext": body.get("SessionContext", ""),
            "Code": "Ok" if ok else "InvalidParameterValue.IncorrectPhoneNumber",
            "Message": "send success" if ok else "incorrect number",
            "IsoCode": "CN",
        }
        return Answer.of(200, {"Response": {"SendStatusSet": [status], "RequestId": "req-1"}})

    stub.respond = respond
    return stub


@pytest.fixture
def tencent(keep):
    def make(url: str, *, secret_key=SECRET_KEY, timeout=2.0) -> TencentSmsSender:
        return keep(tencent_sender(url, secret_key=secret_key, timeout=timeout))

    return make


def tencent_sender(url: str, *, secret_key=SECRET_KEY, timeout=2.0) -> TencentSmsSender:
    return TencentSmsSender(
        secret_id=SECRET_ID,
        secret_key=secret_key,
        app_id="1400000001",
        sign_name="12345热线",
        template_id="1888888",
        region="ap-guangzhou",
        endpoint=url,
        timeout=timeout,
    )


def test_tencent_sendsms_is_signed_and_carries_template_and_session_context(tencent, caplog):
    caplog.set_level(logging.DEBUG)
    with http_stub(tencent_api(HttpStub())) as api:
        assert tencent(api.url).send(sms()) == "2433:3391823402"
    (request,) = api.received
    assert request.path == "/"
    assert request.headers["x-tc-action"] == "SendSms"
    assert request.headers["x-tc-version"] == "2021-01-11"
    assert request.headers["x-tc-region"] == "ap-guangzhou"
    assert request.json() == {
        "PhoneNumberSet": ["+86" + PHONE],
        "SmsSdkAppId": "1400000001",
        "SignName": "12345热线",
        "TemplateId": "1888888",
        "TemplateParamSet": ["您的诉求已受理，工单号20260101001。"],
        "SessionContext": "notify.deliver:1:sms",
    }
    assert "138****8000" in caplog.text and PHONE not in caplog.text


def test_tencent_wrong_credentials_fail_for_a_retry_after_the_fix(tencent):
    with (
        http_stub(tencent_api(HttpStub())) as api,
        pytest.raises(DeliveryError, match="AuthFailure.SignatureFailure") as failed,
    ):
        tencent(api.url, secret_key="wrong").send(sms())
    assert failed.value.retry is True
    assert "wrong" not in str(failed.value)


def test_tencent_number_refused_is_a_permanent_failure(tencent):
    with (
        http_stub(tencent_api(HttpStub())) as api,
        pytest.raises(DeliveryError, match="IncorrectPhoneNumber") as failed,
    ):
        tencent(api.url).send(sms(to="13900000000"))
    assert failed.value.retry is False


def test_tencent_server_error_and_unreachable_api_are_retried(tencent):
    with (
        http_stub(HttpStub(answers=[Answer(502, b"bad gateway", "text/plain")])) as api,
        pytest.raises(DeliveryError) as failed,
    ):
        tencent(api.url).send(sms())
    assert failed.value.retry is True
    with pytest.raises(DeliveryError, match="ClientNetworkError") as failed:
        tencent(f"http://127.0.0.1:{closed_port()}").send(sms())
    assert failed.value.retry is True


def test_tencent_timeout_is_retried(tencent):
    with silent_port() as port, pytest.raises(DeliveryError) as failed:
        tencent(f"http://127.0.0.1:{port}", timeout=0.3).send(sms())
    assert failed.value.retry is True


def test_tencent_one_sender_serves_many_threads(tencent):
    with http_stub(tencent_api(HttpStub())) as api:
        sender = tencent(api.url, timeout=5)
        with ThreadPoolExecutor(4) as pool:
            refs = list(pool.map(lambda i: sender.send(sms(id=f"m{i}")), range(12)))
    assert refs == ["2433:3391823402"] * 12
    assert sorted(r.json()["SessionContext"] for r in api.received) == sorted(
        f"m{i}" for i in range(12)
    )


def test_numbers_and_text_in_tencent_format():
    assert e164("138 1234 8000") == "+8613812348000"
    assert e164("8613812348000") == "+8613812348000"
    assert e164("+85291234567") == "+85291234567"
    assert template_text("【12345热线】工单已办结。") == "工单已办结。"
    assert template_text("没有签名") == "没有签名"
