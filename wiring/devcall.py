"""``hotline call``: a test call or SMS without Twilio, for development.

It sends the webhook Twilio would send for an incoming SMS (or the first webhook of an
incoming call) to the running web, signed with the configured auth token for
``HOTLINE_PUBLIC_URL`` + path exactly as Twilio signs it, so the web takes it like a
real one: the SMS becomes a draft order with a reply, the call a ringing call on the
agents' screens. Refused in production, where only Twilio speaks for callers.
"""

from __future__ import annotations

import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from twilio.request_validator import RequestValidator

from hotline.settings import Settings, SettingsError

SMS_PATH = "/twilio/sms"
VOICE_PATH = "/twilio/voice"
SIGNATURE_HEADER = "X-Twilio-Signature"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def webhook_for(
    settings: Settings, *, from_phone: str, hotline: str, text: str | None
) -> tuple[str, dict[str, str]]:
    """The path and form fields Twilio would post: an SMS when ``text`` is given,
    otherwise an incoming call; ``hotline`` is the number dialled (short or carrier)."""
    if settings.env == "production":
        raise SettingsError("hotline call is for development: refused in production")
    if text is not None:
        return SMS_PATH, {
            "MessageSid": "SM" + secrets.token_hex(16),
            "From": from_phone,
            "To": hotline,
            "Body": text,
        }
    return VOICE_PATH, {
        "CallSid": "CA" + secrets.token_hex(16),
        "From": from_phone,
        "To": hotline,
        "CallStatus": "ringing",
        "Direction": "inbound",
    }


def send_signed(
    settings: Settings, path: str, params: dict[str, str], *, web: str | None = None
) -> Answer:
    """POST ``params`` to ``web`` (default the public URL) + ``path``, signed for the
    public URL + ``path``, the URL the web checks signatures against."""
    if settings.twilio_auth_token is None:
        raise SettingsError(
            "HOTLINE_TWILIO_AUTH_TOKEN is not set: the web refuses unsigned webhooks; "
            "give the web and this command the same token (any value in development)"
        )
    token = settings.twilio_auth_token.get_secret_value()
    signature = RequestValidator(token).compute_signature(settings.base_url + path, params)
    request = urllib.request.Request(
        (web or settings.base_url).rstrip("/") + path,
        data=urllib.parse.urlencode(params).encode(),
        headers={SIGNATURE_HEADER: str(signature)},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, response.read().decode())
    except urllib.error.HTTPError as refused:
        return Answer(refused.code, refused.read().decode())
