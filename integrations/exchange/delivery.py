"""Sending messages to platforms: the RQ job and the relay source.

The enterprise webhooks' machinery, with one difference: a platform sees an order's
messages in order. The relay claims due 'pending' messages (``exchange_source``); the
job sends one under its sending lock (hotline/leased.py) with the webhooks' POST
(destination checks, no redirects, timeouts) and retry policy, then in one transaction
logs the attempt, settles the message and, once it is delivered, makes the order's next
message due. A message that fails for good stops its order's later ones (they wait) and
is recorded on the order as ``exchange.failed`` (the supervisors' board and the order
page show it); an administrator sends it again (``do_retry``) when the platform is back.

Every request carries the message's key (``event:<seq>``), the same for every retry:
the platform recognises a repeat by it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import asyncpg

from hotline import leased
from hotline.context import JobContext
from hotline.jobs import run_job
from hotline.orders.service import record_event
from hotline.relay import Source
from integrations.enterprise_webhooks.delivery import Outcome, log_outcome, next_state, post
from integrations.enterprise_webhooks.signing import encode_body, signature
from integrations.exchange import queries
from integrations.exchange.contract import Contract

log = logging.getLogger(__name__)

LEASE = leased.Lease("exchange_messages")
# A platform's acknowledgement is small; more than this is not read.
ANSWER_BYTES = 64 * 1024


def signed_request(
    contract: Contract, secret: str, *, message_key: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers of a request to (or from) a platform: its time, the message's key
    and the signature over both."""
    names = contract.headers
    return {
        "Content-Type": "application/json; charset=utf-8",
        names.timestamp: str(timestamp),
        names.message: message_key,
        names.signature: signature(secret, timestamp, body),
    }


def destination(row: asyncpg.Record, contract: Contract) -> str | None:
    """Where the message goes: the transfer path for an order passed on, else the
    order's status path (None while the platform's number is not known)."""
    base = str(row["base_url"]).rstrip("/")
    if row["event"] == "transferred":
        return base + contract.paths.transfer
    if not row["platform_number"]:
        return None
    return base + contract.status_path(str(row["platform_number"]))


def acknowledgement(outcome: Outcome) -> Any:
    """The platform's answer as JSON (None when it sent none, or not JSON)."""
    if not outcome.answer:
        return None
    try:
        return json.loads(outcome.answer)
    except ValueError:
        return None


async def _send(row: asyncpg.Record, ctx: JobContext) -> tuple[Outcome, str]:
    contract = Contract.model_validate(row["contract"] or {})
    url = destination(row, contract)
    if not row["active"] or not row["base_url"]:
        return Outcome(None, "the platform is switched off or has no address", 0, final=True), ""
    if url is None:
        # Cannot happen for a received order; a transferred one has its number from
        # the transfer's acknowledgement, which comes first.
        return Outcome(None, "the platform's order number is not known", 0, final=True), ""
    body = encode_body(contract.outgoing(row["payload"]))
    headers = signed_request(
        contract,
        row["secret"],
        message_key=row["effect_key"],
        timestamp=int(ctx.clock().timestamp()),
        body=body,
    )
    settings = ctx.settings
    outcome = await post(
        url,
        body,
        headers,
        time_limit=settings.webhook_timeout,
        allow_private=settings.webhook_allow_private,
        ports=settings.webhook_port_ranges,
        answer_bytes=ANSWER_BYTES,
    )
    return outcome, url


async def process_message(conn: asyncpg.Connection, message_id: int, ctx: JobContext) -> str:
    """Send one message if it is pending and due; returns its new state, or "skipped".

    Precondition: ``conn`` is not inside a transaction. Effects, committed together: an
    ``exchange_attempts`` row, the message's next state, and when delivered the order's
    next message made due (and a transfer's platform number recorded); when failed for
    good, an ``exchange.failed`` event on the order. Never raises for an HTTP failure."""

    async def send(row: asyncpg.Record) -> str:
        outcome, url = await _send(row, ctx)
        state, retry_in = next_state(outcome, row["tries"] + 1)
        answer = acknowledgement(outcome) if state == "delivered" else None
        async with conn.transaction():
            await queries.lock_order_messages(conn, row["order_id"])
            await queries.insert_attempt(
                conn,
                message_id,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
            await queries.settle(conn, message_id, state=state, retry_in=retry_in, answer=answer)
            if state == "delivered":
                if row["event"] == "transferred":
                    await _record_platform_number(conn, row, answer)
                await queries.release_next(conn, row["order_id"])
            elif state == "failed":
                await record_event(
                    conn,
                    row["order_id"],
                    "exchange.failed",
                    None,
                    ctx.clock(),
                    data={
                        "platform": row["platform_code"],
                        "message_id": message_id,
                        "event": row["event"],
                        "status_code": outcome.status_code,
                        "error": outcome.error[:200],
                    },
                )
        what = f"exchange {row['platform_code']} {row['effect_key']}"
        log_outcome(what, url or "-", state, outcome, log)
        return state

    return await leased.send_leased(
        conn, LEASE, message_id, load=queries.get_for_sending, send=send
    )


async def _record_platform_number(
    conn: asyncpg.Connection, row: asyncpg.Record, answer: Any
) -> None:
    """A transfer's acknowledgement names the order's number at the platform; later
    messages of the order go to that number."""
    contract = Contract.model_validate(row["contract"] or {})
    number = answer.get(contract.theirs("number")) if isinstance(answer, dict) else None
    if number:
        await queries.set_platform_number(conn, row["order_id"], str(number)[:64])


def deliver_exchange_message(message_id: int) -> str:
    """RQ job: send one message to its platform (see ``process_message``)."""
    return run_job(lambda ctx, conn: process_message(conn, message_id, ctx))


exchange_source = Source("exchange", LEASE, deliver_exchange_message)
