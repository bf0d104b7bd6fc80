"""Sending queued outbound SMS: the relay source and the RQ job.

The relay's ``outbound`` source leases due pending rows (``FOR UPDATE SKIP LOCKED``,
``attempts + 1``) and enqueues ``send_outbound(id)``. The job takes a session advisory
lock on the row (one sender at a time), skips it unless it is still pending and due,
calls the provider in a thread outside any transaction, then records the outcome:
``sent`` with the provider's id; ``failed`` when the provider refused it for good or
after the 5th attempt; else ``pending`` again after 30 s, 60 s, 120 s ...

A crash after the provider accepted a message but before our commit leaves it pending,
and it is sent again: the one window where a message can go twice. A provider that
takes a client message id closes it (``effect_key`` is passed for that).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from hotline import leased
from hotline.context import Clock
from hotline.jobs import run_job
from hotline.registry import HandlerRegistry
from hotline.relay import Source
from hotline.telephony import PermanentSendError, TelephonyProvider
from integrations.telephony import queries

log = logging.getLogger(__name__)

LEASE = leased.Lease("outbound_messages")
# 30 s, doubling; failed after the 5th attempt.
RETRY = leased.RetryPolicy(max_attempts=5, first_wait=dt.timedelta(seconds=30))

# Told how a message went (``sent``, or ``failed`` for good), in the transaction that
# records it: the subscriber of an effect key's prefix (before its first ":"), such as
# the notifications, which write it into the order's history.
Outcome = Callable[[asyncpg.Connection, str, str, dt.datetime], Awaitable[None]]
outcomes: HandlerRegistry[Outcome] = HandlerRegistry()


async def _tell(conn: asyncpg.Connection, effect_key: str, state: str, now: dt.datetime) -> None:
    for handler in outcomes.handlers_for(effect_key.split(":", 1)[0]):
        await handler(conn, effect_key, state, now)


def _send(provider: TelephonyProvider, row: asyncpg.Record) -> str:
    # Only SMS are queued here (queue_sms); survey calls are placed by callbacks' own
    # paced attempts.
    return provider.send_sms(row["to_phone"], row["from_number"], row["body"], row["effect_key"])


async def process_outbound(
    conn: asyncpg.Connection, message_id: int, provider: TelephonyProvider, clock: Clock
) -> str:
    """Send one message if it is pending and due; returns its new state, or "skipped".

    Precondition: ``conn`` is not inside a transaction (none may stay open while the
    provider is asked). ``attempts`` (times claimed by a relay) counts the tries. Never
    raises for a provider failure: the row says what happens next."""

    async def send(row: asyncpg.Record) -> str:
        try:
            provider_sid = await asyncio.to_thread(_send, provider, row)
        except Exception as exc:
            retry_in = RETRY.retry_in(
                max(1, row["attempts"]), permanent=isinstance(exc, PermanentSendError)
            )
            log.warning("outbound message %s not sent: %r", message_id, exc)
            async with conn.transaction():
                await queries.mark_send_failed(
                    conn, message_id, provider=provider.name, error=repr(exc), retry_in=retry_in
                )
                if retry_in is None:
                    await _tell(conn, row["effect_key"], "failed", clock())
            return "failed" if retry_in is None else "pending"
        async with conn.transaction():
            await queries.mark_sent(
                conn, message_id, provider=provider.name, provider_sid=provider_sid
            )
            await _tell(conn, row["effect_key"], "sent", clock())
        return "sent"

    return await leased.send_leased(conn, LEASE, message_id, load=queries.get_outbound, send=send)


def send_outbound(message_id: int) -> str:
    """The RQ job: send one outbound message through the context's provider."""
    return run_job(lambda ctx, conn: process_outbound(conn, message_id, ctx.telephony, ctx.clock))


outbound_source = Source("outbound", LEASE, send_outbound)
