"""Sending deliveries: the RQ job, the HTTP POST, retries, and the relay source.

The relay claims due pending deliveries (``webhook_source``) and enqueues
``deliver_webhook(id)``. The job sends the POST outside any transaction, then in one
short transaction logs the attempt and moves the delivery on: ``delivered`` (2xx),
``failed`` (a 4xx other than 408/429, a refused destination, or the 8th attempt), or
``pending`` again after a backoff of 10 s, 20 s, 40 s ... at most 1 h.

Once per effect: a session advisory lock lets one job at a time send a delivery, and a
job finding it no longer pending (or not yet due) does nothing. A crash between the
receiver's answer and our commit can still repeat a request; receivers dedupe on
``X-Hotline-Delivery``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass

import aiohttp
import asyncpg

from hotline import leased
from hotline.context import JobContext
from hotline.jobs import run_job
from hotline.relay import Source
from integrations.enterprise_webhooks import queries
from integrations.enterprise_webhooks.addresses import (
    PortRanges,
    PublicOnlyResolver,
    RefusedDestination,
    check_url,
)
from integrations.enterprise_webhooks.signing import encode_body, signed_headers

log = logging.getLogger(__name__)

LEASE = leased.Lease("webhook_deliveries")
# 10 s, 20 s, 40 s ... at most 1 h; failed after the 8th attempt.
RETRY = leased.RetryPolicy(
    max_attempts=8, first_wait=dt.timedelta(seconds=10), longest_wait=dt.timedelta(hours=1)
)
# Client errors that say "later", not "never".
RETRYABLE_CLIENT_ERRORS = frozenset({408, 429})
BODY_EXCERPT_BYTES = 500
USER_AGENT = "hotline-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: the status, or the error when there was no answer."""

    status_code: int | None
    error: str
    duration_ms: int
    final: bool = False  # retrying cannot help (the destination is refused)
    answer: bytes = b""  # the start of a 2xx answer's body, when asked for


def next_state(outcome: Outcome, tries: int) -> tuple[str, dt.timedelta | None]:
    """Where a delivery goes after its ``tries``-th attempt ended in ``outcome``:
    ``("delivered", None)``, ``("failed", None)`` or ``("pending", wait)``."""
    code = outcome.status_code
    if code is not None and 200 <= code < 300:
        return "delivered", None
    refused_for_good = code is not None and 400 <= code < 500
    retry_in = RETRY.retry_in(
        tries,
        permanent=outcome.final or (refused_for_good and code not in RETRYABLE_CLIENT_ERRORS),
    )
    return ("failed", None) if retry_in is None else ("pending", retry_in)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    time_limit: float,
    allow_private: bool,
    ports: PortRanges,
    answer_bytes: int = 0,
) -> Outcome:
    """POST ``body`` to ``url`` once, to an allowed destination only; keeps up to
    ``answer_bytes`` of a 2xx answer (a platform's acknowledgement).

    Never follows a redirect (its target could be internal). Never raises for a refused
    destination, a failed connection or a timeout: the outcome says what happened."""
    try:
        check_url(url, allow_private=allow_private, ports=ports)
    except RefusedDestination as exc:
        return Outcome(None, f"refused: {exc}", 0, final=True)
    started = time.monotonic()
    resolver = PublicOnlyResolver(allow_private=allow_private)
    # No DNS cache: each attempt resolves (and filters) afresh.
    connector = aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False, force_close=True)
    try:
        async with (
            aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=time_limit)
            ) as session,
            session.post(
                url, data=body, headers={"User-Agent": USER_AGENT, **headers}, allow_redirects=False
            ) as response,
        ):
            if response.status < 300:
                answer = await _read_up_to(response.content, answer_bytes)
                return Outcome(response.status, "", _ms_since(started), answer=answer)
            excerpt = await _read_up_to(response.content, BODY_EXCERPT_BYTES)
            return Outcome(response.status, excerpt.decode("utf-8", "replace"), _ms_since(started))
    except TimeoutError:
        return Outcome(None, f"no answer within {time_limit:g} s", _ms_since(started))
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return Outcome(None, _describe(exc), _ms_since(started))
    finally:
        await resolver.close()


async def _read_up_to(stream: aiohttp.StreamReader, size: int) -> bytes:
    """The first ``size`` bytes of a body, or all of a shorter one (a single ``read``
    gives what has arrived so far)."""
    data = b""
    while len(data) < size:
        chunk = await stream.read(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def log_outcome(
    what: str, url: str, state: str, outcome: Outcome, logger: logging.Logger = log
) -> None:
    """One line per attempt: a warning unless it was delivered."""
    logger.log(
        logging.INFO if state == "delivered" else logging.WARNING,
        "%s to %s: %s (status %s%s)",
        what,
        url,
        state,
        outcome.status_code,
        f", {outcome.error}" if outcome.error else "",
    )


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


async def _send(row: asyncpg.Record, url: str, secret: str, ctx: JobContext) -> Outcome:
    body = encode_body(row["payload"])
    settings = ctx.settings
    headers = signed_headers(
        secret,
        event=row["event"],
        delivery=row["effect_key"],
        timestamp=int(ctx.clock().timestamp()),
        body=body,
    )
    return await post(
        url,
        body,
        headers,
        time_limit=settings.webhook_timeout,
        allow_private=settings.webhook_allow_private,
        ports=settings.webhook_port_ranges,
    )


async def process_delivery(conn: asyncpg.Connection, delivery_id: int, ctx: JobContext) -> str:
    """Send one delivery if it is pending and due; returns its new state, or "skipped".

    Precondition: ``conn`` is not inside a transaction (none may stay open across the
    POST). Sends to the enterprise's URL and with its secret as configured now; a
    delivery whose enterprise removed its webhook fails. Effects: one ``webhook_attempts``
    row and the delivery's next state, committed together. Never raises for an HTTP
    failure."""

    async def send(row: asyncpg.Record) -> str:
        url, secret = row["webhook_url"], row["webhook_secret"]
        if url and secret:
            outcome = await _send(row, url, secret, ctx)
        else:
            url = row["url"]
            outcome = Outcome(None, "the enterprise no longer has a webhook", 0, final=True)
        state, retry_in = next_state(outcome, row["tries"] + 1)
        async with conn.transaction():
            await queries.insert_attempt(
                conn,
                delivery_id,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
            await queries.settle(conn, delivery_id, state=state, url=url, retry_in=retry_in)
        log_outcome(f"webhook {row['effect_key']}", url, state, outcome)
        return state

    return await leased.send_leased(
        conn, LEASE, delivery_id, load=queries.get_for_sending, send=send
    )


def deliver_webhook(delivery_id: int) -> str:
    """RQ job: send one webhook delivery (see ``process_delivery``)."""
    return run_job(lambda ctx, conn: process_delivery(conn, delivery_id, ctx))


webhook_source = Source("webhook", LEASE, deliver_webhook)
