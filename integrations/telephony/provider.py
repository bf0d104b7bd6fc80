"""Who carries our outbound SMS and calls: the implementations of the core's
``hotline.telephony.TelephonyProvider``.

Twilio does not serve mainland China numbers, so the production carrier will be a
domestic one (China Mobile/Unicom/Telecom gateways, Aliyun or Tencent Cloud SMS). It
plugs in here as another ``TelephonyProvider``; nothing else changes. ``TwilioProvider``
works today (and in tests against a local fake of Twilio's REST API); ``LogProvider``
sends nothing and only logs, the default in development.

Providers are synchronous (Twilio's client uses ``requests``): the job calls them in a
thread, outside any database transaction.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from typing import Any

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from hotline.phones import mask_phone
from hotline.settings import Settings
from hotline.telephony import PermanentSendError, TelephonyProvider

log = logging.getLogger(__name__)

TWILIO_API = "https://api.twilio.com"
TWILIO_TIMEOUT_SECONDS = 10.0


class LogProvider:
    """Sends nothing: logs the message (number masked) and returns a made-up id."""

    name = "log"

    def send_sms(self, to: str, from_: str, body: str, effect_key: str) -> str:
        log.info("SMS not sent (log provider) %s -> %s: %s", from_, mask_phone(to), effect_key)
        return f"LOG-{uuid.uuid4().hex}"

    def place_call(
        self, to: str, from_: str, twiml_url: str, effect_key: str, *, status_url: str | None = None
    ) -> str:
        log.info("call not placed (log provider) %s -> %s: %s", from_, mask_phone(to), effect_key)
        return f"LOG-{uuid.uuid4().hex}"


# twilio ships no type information, so its classes are Any to mypy.
class RedirectedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's own HTTP client, sending what was meant for ``https://api.twilio.com`` to
    ``base`` instead (tests: a fake Twilio on 127.0.0.1). Everything else (auth, form
    encoding, response parsing) stays the library's."""

    def __init__(self, base: str, *, timeout: float = TWILIO_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.base = base.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class TwilioProvider:
    """Twilio's REST API through the official client."""

    name = "twilio"

    def __init__(self, account_sid: str, auth_token: str, *, api_base: str | None = None) -> None:
        http_client = (
            RedirectedHttpClient(api_base)
            if api_base
            else TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS)
        )
        self.client = Client(account_sid, auth_token, http_client=http_client)

    def send_sms(self, to: str, from_: str, body: str, effect_key: str) -> str:
        # Twilio's Messages API takes no client-side id: effect_key only names the effect
        # in our logs; the outbound row's state is what keeps a retry from resending.
        with _permanent_on_client_error():
            message = self.client.messages.create(to=to, from_=from_, body=body)
        return str(message.sid)

    def place_call(
        self, to: str, from_: str, twiml_url: str, effect_key: str, *, status_url: str | None = None
    ) -> str:
        # Twilio's client sends None as the text "None": pass only what is set.
        extra: dict[str, Any] = {}
        if status_url:
            # Twilio posts the final status there (the default event is "completed"),
            # and AnsweredBy once its answering-machine detection has decided.
            extra = {"status_callback": status_url, "machine_detection": "Enable"}
        with _permanent_on_client_error():
            call = self.client.calls.create(to=to, from_=from_, url=twiml_url, **extra)
        return str(call.sid)


@contextlib.contextmanager
def _permanent_on_client_error() -> Iterator[None]:
    """Twilio's 4xx answers (other than 429, "slow down") become ``PermanentSendError``."""
    try:
        yield
    except TwilioRestException as exc:
        if 400 <= exc.status < 500 and exc.status != 429:
            raise PermanentSendError(
                f"Twilio refused it: {exc.status} {exc.code} {exc.msg}"
            ) from exc
        raise


def make_provider(settings: Settings) -> TelephonyProvider:
    """The provider ``HOTLINE_TELEPHONY_PROVIDER`` names.

    Raises ``RuntimeError`` for ``twilio`` without an account SID and auth token
    (production refuses to start that way; this guards development)."""
    if settings.telephony_provider == "twilio":
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise RuntimeError(
                "the twilio provider needs HOTLINE_TWILIO_ACCOUNT_SID and _AUTH_TOKEN"
            )
        return TwilioProvider(
            settings.twilio_account_sid,
            settings.twilio_auth_token.get_secret_value(),
            api_base=settings.twilio_api_base,
        )
    return LogProvider()
