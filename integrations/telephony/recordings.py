"""Recorded messages (留言录音): Twilio keeps them; the console plays them through
``GET /api/v1/calls/{id}/recording``, which checks who may hear it and fetches it here
with the hotline's credentials. The browser never sees Twilio's address or credentials.

The address is built from the account and the recording's SID, never taken from a
stored URL, so nothing that reached us in a webhook decides where the server connects.
"""

from __future__ import annotations

import re

import aiohttp
import asyncpg

from hotline.errors import NotFound
from hotline.orders.service import access_order_by_id
from hotline.settings import Settings
from hotline.storage import sniff_audio_type
from hotline.users.models import Actor
from integrations.telephony import queries
from integrations.telephony.provider import TWILIO_API, TWILIO_TIMEOUT_SECONDS

RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
# An hour of MP3 at Twilio's 32 kbit/s is 14 MB: a message is far shorter.
MAX_RECORDING_BYTES = 20 * 1024 * 1024


def hidden() -> NotFound:
    """No recording, or not yours: the same answer."""
    return NotFound("recording not found")


def sid_of(recording_url: str) -> str | None:
    """The RecordingSid at the end of a Twilio recording URL (a survey keeps only that)."""
    found = re.search(r"/Recordings/(RE[0-9a-fA-F]{32})(?:\.\w+)?$", recording_url)
    return found.group(1) if found else None


class RecordingUnavailable(Exception):
    """Twilio could not be asked or did not give the recording (not the caller's fault)."""


async def access_recording(conn: asyncpg.Connection, actor: Actor, call_id: int) -> str:
    """The SID of the call's recording, if ``actor`` may hear it: the centre hears its
    hotlines' calls; a unit, a call with an order dispatched to it (as it sees that
    order)."""
    call = await queries.get_call(conn, call_id)
    if call is None or call["recording_sid"] is None:
        raise hidden()
    if actor.is_centre:
        if not actor.sees_hotline(call["hotline_code"] or ""):
            raise hidden()
        return str(call["recording_sid"])
    for order in await queries.orders_of_call(conn, call_id):
        try:
            await access_order_by_id(conn, actor, order["id"], hidden_as=hidden())
        except NotFound:
            continue
        return str(call["recording_sid"])
    raise hidden()


def recording_address(settings: Settings, recording_sid: str) -> str:
    """Twilio's MP3 of the recording (``HOTLINE_TWILIO_API_BASE`` in tests)."""
    base = (settings.twilio_api_base or TWILIO_API).rstrip("/")
    account = settings.twilio_account_sid
    return f"{base}/2010-04-01/Accounts/{account}/Recordings/{recording_sid}.mp3"


async def fetch_recording(settings: Settings, recording_sid: str) -> bytes:
    """The recording's audio, fetched with the account's credentials.

    Raises ``NotFound`` when Twilio has no such recording (deleted) and
    ``RecordingUnavailable`` when no account is configured, Twilio fails, or what it sends
    is not audio or too long."""
    if not (settings.twilio_account_sid and settings.twilio_auth_token):
        raise RecordingUnavailable("no Twilio account is configured")
    if not RECORDING_SID.fullmatch(recording_sid):
        raise RecordingUnavailable("the call's recording SID is not one of Twilio's")
    # aiohttp drops this header if Twilio redirects to another host (its media store).
    auth = aiohttp.encode_basic_auth(
        settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()
    )
    timeout = aiohttp.ClientTimeout(total=TWILIO_TIMEOUT_SECONDS)
    data = bytearray()
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(
                recording_address(settings, recording_sid), headers={"Authorization": auth}
            ) as response,
        ):
            if response.status == 404:
                raise hidden()
            if response.status != 200:
                raise RecordingUnavailable(f"Twilio answered {response.status}")
            async for chunk in response.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > MAX_RECORDING_BYTES:
                    raise RecordingUnavailable("the recording is too long")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise RecordingUnavailable(f"Twilio could not be reached: {exc!r}") from exc
    if sniff_audio_type(bytes(data[:16])) is None:
        raise RecordingUnavailable("Twilio's answer is not audio")
    return bytes(data)
