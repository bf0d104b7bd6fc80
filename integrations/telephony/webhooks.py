"""What Twilio sends us: the signature check, the natural key of each delivery and the
once-only rule, and the shapes of the form fields we read.

Twilio signs every webhook with the account's auth token: base64 HMAC-SHA1 over the
full URL it requested followed by each POST field's name and value, sorted by name
(``X-Twilio-Signature``). We check it with Twilio's own ``RequestValidator`` against
``HOTLINE_PUBLIC_URL`` + path and query, the URL Twilio was configured with, because
behind a proxy the URL this process sees is not the one Twilio signed.

Twilio retries a webhook it got no answer to, so each delivery has a natural key in
``twilio_deliveries`` (kind, sid, status); ``once`` gives a repeat the first answer
again and nothing else happens.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from twilio.request_validator import RequestValidator

from integrations.telephony import queries

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
TWIML = "text/xml"


def signature_valid(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """Whether ``signature`` is Twilio's for a POST of ``params`` to ``url``.

    ``params`` may be a multidict (a field sent twice is signed with both values)."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, params, signature))


# ------------------------------------------------------------------ once per delivery


@dataclass(frozen=True)
class DeliveryKey:
    """The natural key of one Twilio delivery (see docs/integrations.md):
    voice (CallSid, ""), gather (CallSid, Digits), status (CallSid, CallStatus),
    recording (RecordingSid, ""), sms (MessageSid, "")."""

    kind: str
    sid: str
    status: str = ""


async def once(
    conn: asyncpg.Connection, key: DeliveryKey, work: Callable[[], Awaitable[str]]
) -> str:
    """The answer to a delivery, its work done at most once.

    Precondition: ``conn`` is inside the transaction that ``work`` writes in, so the key,
    the work's rows and the stored answer commit (or roll back) together. A delivery seen
    before gets its stored answer and ``work`` does not run."""
    delivery_id = await queries.claim_delivery(conn, key.kind, key.sid, key.status)
    if delivery_id is None:
        return await repeated(conn, key)
    body = await work()
    await queries.store_response(conn, delivery_id, content_type=TWIML, body=body)
    return body


async def repeated(conn: asyncpg.Connection, key: DeliveryKey) -> str:
    """The answer stored for a delivery seen before."""
    stored = await queries.stored_response(conn, key.kind, key.sid, key.status)
    log.info("repeated Twilio delivery %s", key)
    return str(stored["response_body"]) if stored is not None else ""


# ------------------------------------------------------------- the fields we read

# Twilio's own field names (PascalCase); anything else Twilio sends is ignored.
_FORM = ConfigDict(extra="ignore", str_strip_whitespace=True)
_SID = Field(min_length=2, max_length=64)


class CallForm(BaseModel):
    """The voice webhook and status callbacks."""

    model_config = _FORM
    CallSid: str = _SID
    From: str = Field(default="", max_length=64)
    To: str = Field(default="", max_length=64)
    CallStatus: str = Field(default="ringing", max_length=32)
    Direction: str = Field(default="inbound", max_length=32)
    CallDuration: int | None = Field(default=None, ge=0)


class GatherForm(BaseModel):
    model_config = _FORM
    CallSid: str = _SID
    Digits: str = Field(default="", max_length=32)


class QueueForm(BaseModel):
    """The queue's wait URL and exit action."""

    model_config = _FORM
    CallSid: str = _SID
    QueueResult: str = Field(default="", max_length=32)
    QueueTime: int = Field(default=0, ge=0)


class RecordingForm(BaseModel):
    model_config = _FORM
    CallSid: str = _SID
    RecordingSid: str = _SID
    RecordingUrl: str = Field(min_length=1, max_length=1000)
    RecordingDuration: int | None = Field(default=None, ge=0)
    RecordingStatus: str = Field(default="completed", max_length=32)


class SmsForm(BaseModel):
    model_config = _FORM
    MessageSid: str = _SID
    From: str = Field(min_length=1, max_length=64)
    To: str = Field(min_length=1, max_length=64)
    Body: str = Field(default="", max_length=4000)
