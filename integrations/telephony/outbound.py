"""Outbound SMS for other subsystems (callbacks, notices): queue, never send.

A message is a row in ``outbound_messages`` keyed by its effect, written in the caller's
transaction; the relay's ``outbound`` source and ``jobs.send_outbound`` send it after
commit through the configured provider. The same effect key twice is one message.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from integrations.telephony import queries


async def queue_sms(
    conn: asyncpg.Connection,
    *,
    effect_key: str,
    to_phone: str,
    from_number: str,
    body: str,
    due_at: dt.datetime | None = None,
) -> None:
    """Queue one SMS to ``to_phone`` (E.164) from ``from_number`` (a hotline's number).

    Precondition: inside the transaction that decided to send it, so the message exists
    exactly when that decision commits. ``effect_key`` names the effect (for example
    ``callback.survey:{order_id}:{attempt}``); a key already queued adds nothing. It goes
    at ``due_at``, or at once."""
    await queries.insert_outbound(
        conn,
        effect_key=effect_key,
        channel="sms",
        to_phone=to_phone,
        from_number=from_number,
        body=body,
        due_at=due_at,
    )
