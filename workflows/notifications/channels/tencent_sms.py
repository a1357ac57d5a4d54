"""SMS through Tencent Cloud SMS (腾讯云短信, API 2021-01-11 ``SendSms``), with its own SDK.

Providers in mainland China send only approved templates under an approved signature: the
centre registers a template whose whole text is one parameter (``{1}``) and the signature
(``SignName``, the centre's name), and the sender passes the notice's text, without the
【signature】 our templates start with (the provider adds it), as that parameter.
``SessionContext`` carries the message's id, returned in delivery receipts. Tencent does not
deduplicate by it: a message the outbox delivers twice (after a lost answer) may arrive twice.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import urlsplit

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from ...cases.confidentiality import mask_phone
from .base import DeliveryError, Outgoing

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://sms.tencentcloudapi.com"
DEFAULT_REGION = "ap-guangzhou"
#: error codes a retry cannot cure (the number, the template, the account): failed at once
PERMANENT_PREFIXES = (
    "InvalidParameter",
    "MissingParameter",
    "UnauthorizedOperation",
    "UnsupportedOperation",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.ContainSensitiveWord",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.MissingTemplateToModify",
    "FailedOperation.InsufficientBalanceInSmsPackage",
)
_SIGNATURE = re.compile(r"^\s*【[^】]*】")
_MAINLAND_MOBILE = re.compile(r"1[3-9]\d{9}")


class TencentSmsSender:
    """``channel = "sms"``: one SDK client per worker thread (the SDK's client keeps a
    ``requests.Session``, which is not documented as thread-safe)."""

    channel = "sms"

    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        app_id: str,
        sign_name: str,
        template_id: str,
        region: str = DEFAULT_REGION,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 10.0,
    ) -> None:
        self.app_id = app_id
        self.sign_name = sign_name
        self.template_id = template_id
        self.region = region
        self.endpoint = endpoint
        self._credential = credential.Credential(secret_id, secret_key)
        parts = urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        self._profile = ClientProfile(
            httpProfile=HttpProfile(
                protocol=parts.scheme,
                endpoint=parts.netloc,
                reqTimeout=timeout,
                keepAlive=True,
            )
        )
        self._local = threading.local()
        # at DEBUG the SDK logs whole requests: the citizens' numbers
        logging.getLogger("tencentcloud_sdk_common").setLevel(logging.WARNING)
        self._clients: list[sms_client.SmsClient] = []
        self._lock = threading.Lock()

    def send(self, outgoing: Outgoing) -> str | None:
        phone = e164(outgoing.to)
        if not phone:
            raise DeliveryError("the SMS has no phone number", retry=False)
        request = models.SendSmsRequest()
        request.SmsSdkAppId = self.app_id
        request.SignName = self.sign_name
        request.TemplateId = self.template_id
        request.PhoneNumberSet = [phone]
        request.TemplateParamSet = [template_text(outgoing.text)]
        request.SessionContext = outgoing.id
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as exc:
            raise _error(exc.get_code(), exc.get_message(), exc.get_request_id()) from None
        statuses = response.SendStatusSet or []
        if not statuses:
            raise DeliveryError(f"Tencent SMS answered no status (request {response.RequestId})")
        status = statuses[0]
        if status.Code != "Ok":
            raise _error(status.Code or "", status.Message or "", response.RequestId)
        log.info(
            "SMS %s to %s accepted by Tencent (%s)",
            outgoing.id,
            mask_phone(outgoing.to),
            status.SerialNo,
        )
        return status.SerialNo or response.RequestId

    def _client(self) -> sms_client.SmsClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = sms_client.SmsClient(self._credential, self.region, self._profile)
            self._local.client = client
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        """Close every thread's connections (the SDK keeps a ``requests.Session`` each)."""
        with self._lock:
            clients, self._clients = self._clients, []
        for client in clients:
            client.request.conn._session.close()

    def __repr__(self) -> str:
        return f"TencentSmsSender(app {self.app_id}, {self.endpoint})"


def e164(phone: str) -> str:
    """A mainland mobile number as +86..., anything already international as it is."""
    phone = re.sub(r"[\s-]", "", phone or "")
    if _MAINLAND_MOBILE.fullmatch(phone):
        return "+86" + phone
    if phone.startswith("86") and _MAINLAND_MOBILE.fullmatch(phone[2:]):
        return "+" + phone
    return phone


def template_text(text: str) -> str:
    """The notice without its leading 【signature】: the provider prints the SignName."""
    return _SIGNATURE.sub("", text, count=1).strip()


def _error(code: str, message: str, request_id: str | None) -> DeliveryError:
    permanent = code.startswith(PERMANENT_PREFIXES)
    # ClientNetworkError (timeouts, refused connections) and ServerNetworkError (a non-200
    # answer) carry the transport's text; keep the code and the request id, which suffice
    return DeliveryError(
        f"Tencent SMS: {code} {message[:200]} (request {request_id or '-'})",
        retry=not permanent,
    )
