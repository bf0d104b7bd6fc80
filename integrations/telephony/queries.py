"""All of telephony's SQL: deliveries, calls, SMS, outbound messages."""

from __future__ import annotations

import datetime as dt

import asyncpg

# Twilio's call statuses by how far a call has come; a status only ever moves forward.
WAITING_STATUSES = ("queued", "ringing", "in-progress")

# ------------------------------------------------------------- deliveries (dedupe)


async def claim_delivery(conn: asyncpg.Connection, kind: str, sid: str, status: str) -> int | None:
    """Insert a delivery's natural key; None when it was already there.

    A second identical delivery arriving while the first is still in its transaction
    waits here until that one commits (then gets None) or rolls back (then gets an id)."""
    return await conn.fetchval(
        """
        INSERT INTO twilio_deliveries (kind, sid, status) VALUES ($1, $2, $3)
        ON CONFLICT (kind, sid, status) DO NOTHING RETURNING id
        """,
        kind,
        sid,
        status,
    )


async def stored_response(
    conn: asyncpg.Connection, kind: str, sid: str, status: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT response_type, response_body FROM twilio_deliveries "
        "WHERE kind = $1 AND sid = $2 AND status = $3",
        kind,
        sid,
        status,
    )


async def store_response(
    conn: asyncpg.Connection, delivery_id: int, *, content_type: str, body: str
) -> None:
    await conn.execute(
        "UPDATE twilio_deliveries SET response_type = $2, response_body = $3 WHERE id = $1",
        delivery_id,
        content_type,
        body,
    )


# ------------------------------------------------------------ who is calling whom


async def hotline_for_number(conn: asyncpg.Connection, numbers: list[str]) -> asyncpg.Record | None:
    """The hotline whose carrier number (E.164) or short number is one of ``numbers``."""
    return await conn.fetchrow(
        """
        SELECT * FROM hotlines
         WHERE voice_number = ANY($1::text[]) OR number = ANY($1::text[])
         ORDER BY coalesce(voice_number = ANY($1::text[]), false) DESC, code
         LIMIT 1
        """,
        numbers,
    )


# A citizen's area (``c`` a citizens row): their own, else their latest order's.
_CITIZEN_AREA = """coalesce(c.area_code,
                            (SELECT o.area_code FROM work_orders o
                              WHERE o.citizen_id = c.id AND o.area_code IS NOT NULL
                              ORDER BY o.created_at DESC LIMIT 1))"""


async def caller_by_phone(conn: asyncpg.Connection, phone: str) -> asyncpg.Record | None:
    """The citizen at ``phone`` (E.164) with their area."""
    return await conn.fetchrow(
        f"SELECT c.id, {_CITIZEN_AREA} AS area_code FROM citizens c WHERE c.phone = $1", phone
    )


# ------------------------------------------------------------------------ calls


async def upsert_call(
    conn: asyncpg.Connection,
    *,
    call_sid: str,
    hotline_code: str | None,
    direction: str,
    from_phone: str,
    to_number: str,
    citizen_id: int | None,
    status: str,
    rank: int,
    ended_at: dt.datetime | None,
    duration_seconds: int | None,
) -> asyncpg.Record:
    """Create the call or bring it up to date.

    The status (with its end time and duration) changes only to a higher rank, so a late
    or repeated callback changes nothing. The hotline and citizen are filled in when
    unknown (a status callback may come before the voice webhook) and never replaced."""
    row = await conn.fetchrow(
        """
        INSERT INTO calls (call_sid, hotline_code, direction, from_phone, to_number,
                           citizen_id, status, status_rank, ended_at, duration_seconds)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (call_sid) DO UPDATE SET
            hotline_code = coalesce(calls.hotline_code, EXCLUDED.hotline_code),
            citizen_id = coalesce(calls.citizen_id, EXCLUDED.citizen_id),
            status = CASE WHEN EXCLUDED.status_rank > calls.status_rank
                          THEN EXCLUDED.status ELSE calls.status END,
            ended_at = CASE WHEN EXCLUDED.status_rank > calls.status_rank
                            THEN EXCLUDED.ended_at ELSE calls.ended_at END,
            duration_seconds = CASE WHEN EXCLUDED.status_rank > calls.status_rank
                                    THEN EXCLUDED.duration_seconds
                                    ELSE calls.duration_seconds END,
            status_rank = greatest(calls.status_rank, EXCLUDED.status_rank),
            updated_at = now()
        RETURNING *
        """,
        call_sid,
        hotline_code,
        direction,
        from_phone,
        to_number,
        citizen_id,
        status,
        rank,
        ended_at,
        duration_seconds,
    )
    assert row is not None
    return row


async def enqueue_call(
    conn: asyncpg.Connection, call_sid: str, *, choice: str, now: dt.datetime
) -> asyncpg.Record | None:
    """Record the caller's menu choice and that they wait in the queue from now on
    (the first time only)."""
    return await conn.fetchrow(
        """
        UPDATE calls SET menu_choice = $2, queued_at = coalesce(queued_at, $3), updated_at = now()
         WHERE call_sid = $1 RETURNING *
        """,
        call_sid,
        choice,
        now,
    )


async def leave_queue(
    conn: asyncpg.Connection, call_sid: str, *, result: str, now: dt.datetime
) -> None:
    """The caller left the queue without an agent: no longer offered as waiting."""
    await conn.execute(
        """
        UPDATE calls SET left_queue_at = coalesce(left_queue_at, $3),
               queue_result = coalesce(queue_result, $2), updated_at = now()
         WHERE call_sid = $1
        """,
        call_sid,
        result,
        now,
    )


async def claim_recording(
    conn: asyncpg.Connection,
    *,
    recording_sid: str,
    answer: str,
    call_sid: str,
    recording_url: str,
    seconds: int | None,
) -> asyncpg.Record:
    """Claim a recording's delivery (its key with its ``answer``) and, when it is new,
    store the recording on its call: one statement, since the recording callback is the
    busiest webhook and each round trip is a large share of its cost.

    ``delivery_id`` is None for a repeat (waiting, like ``claim_delivery``, for a copy
    still in its transaction); the call's columns are None when the call is unknown.
    With the call comes ``caller_area``, the known caller's area (None for a stranger)."""
    row = await conn.fetchrow(
        f"""
        WITH d AS (
            INSERT INTO twilio_deliveries (kind, sid, status, response_body)
            VALUES ('recording', $1, '', $2)
            ON CONFLICT (kind, sid, status) DO NOTHING RETURNING id
        ), stored AS (
            UPDATE calls SET recording_sid = $1, recording_url = $4, recording_seconds = $5,
                   updated_at = now()
             WHERE call_sid = $3 AND EXISTS (SELECT FROM d)
            RETURNING calls.*,
                      (SELECT {_CITIZEN_AREA} FROM citizens c WHERE c.phone = calls.from_phone)
                          AS caller_area
        )
        SELECT d.id AS delivery_id, stored.*
          FROM (SELECT) AS one LEFT JOIN d ON true LEFT JOIN stored ON true
        """,
        recording_sid,
        answer,
        call_sid,
        recording_url,
        seconds,
    )
    assert row is not None
    return row


async def take_next_call(
    conn: asyncpg.Connection,
    *,
    hotline_codes: list[str] | None,
    agent_user_id: int,
    now: dt.datetime,
) -> asyncpg.Record | None:
    """Assign the oldest waiting call (of ``hotline_codes``, or of any hotline with None)
    to the agent. ``SKIP LOCKED``: two agents asking at once get two different calls."""
    return await conn.fetchrow(
        """
        WITH next AS (
            SELECT id FROM calls
             WHERE agent_user_id IS NULL AND left_queue_at IS NULL AND queued_at IS NOT NULL
               AND status = ANY($4::text[])
               AND hotline_code IS NOT NULL
               AND ($1::text[] IS NULL OR hotline_code = ANY($1::text[]))
             ORDER BY queued_at, id
             LIMIT 1
             FOR UPDATE SKIP LOCKED)
        UPDATE calls SET agent_user_id = $2, answered_at = $3, updated_at = now()
          FROM next WHERE calls.id = next.id
        RETURNING calls.*
        """,
        hotline_codes,
        agent_user_id,
        now,
        list(WAITING_STATUSES),
    )


async def get_call(conn: asyncpg.Connection, call_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM calls WHERE id = $1", call_id)


async def orders_of_call(conn: asyncpg.Connection, call_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT id, number, status, channel, hotline_code, service_item_code, description,
               created_at
          FROM work_orders WHERE call_id = $1 ORDER BY id
        """,
        call_id,
    )


# -------------------------------------------------------------------------- SMS


async def insert_sms(
    conn: asyncpg.Connection,
    *,
    message_sid: str,
    direction: str,
    from_phone: str,
    to_number: str,
    body: str,
    hotline_code: str | None,
    citizen_id: int | None,
    order_id: int | None,
) -> int:
    return await conn.fetchval(
        """
        INSERT INTO sms_messages (message_sid, direction, from_phone, to_number, body,
                                  hotline_code, citizen_id, order_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id
        """,
        message_sid,
        direction,
        from_phone,
        to_number,
        body,
        hotline_code,
        citizen_id,
        order_id,
    )


# ------------------------------------------------------------ outbound messages


async def insert_outbound(
    conn: asyncpg.Connection,
    *,
    effect_key: str,
    channel: str,
    to_phone: str,
    from_number: str,
    body: str,
    due_at: dt.datetime | None = None,
) -> int | None:
    """One message per effect: the same key again inserts nothing and returns None.
    It goes at ``due_at`` (now by default).

    ``provider`` stays empty until a provider has sent it (the one configured then)."""
    return await conn.fetchval(
        """
        INSERT INTO outbound_messages (effect_key, channel, to_phone, from_number, body, provider,
                                       due_at)
        VALUES ($1, $2, $3, $4, $5, '', coalesce($6, now()))
        ON CONFLICT (effect_key) DO NOTHING RETURNING id
        """,
        effect_key,
        channel,
        to_phone,
        from_number,
        body,
        due_at,
    )


async def get_outbound(conn: asyncpg.Connection, message_id: int) -> asyncpg.Record | None:
    """The message and whether it is due (by the database's clock, as the relay's)."""
    return await conn.fetchrow(
        "SELECT *, due_at <= now() AS due FROM outbound_messages WHERE id = $1", message_id
    )


async def mark_sent(
    conn: asyncpg.Connection, message_id: int, *, provider: str, provider_sid: str
) -> None:
    await conn.execute(
        """
        UPDATE outbound_messages
           SET state = 'sent', provider = $2, provider_sid = $3, sent_at = now(),
               lease_until = NULL, last_error = ''
         WHERE id = $1 AND state = 'pending'
        """,
        message_id,
        provider,
        provider_sid,
    )


async def mark_send_failed(
    conn: asyncpg.Connection,
    message_id: int,
    *,
    provider: str,
    error: str,
    retry_in: dt.timedelta | None,
) -> None:
    """Pending again after ``retry_in``, or ``failed`` for good when it is None."""
    await conn.execute(
        """
        UPDATE outbound_messages
           SET provider = $2, last_error = $3, lease_until = NULL,
               state = CASE WHEN $4::interval IS NULL THEN 'failed' ELSE 'pending' END,
               due_at = CASE WHEN $4::interval IS NULL THEN due_at ELSE now() + $4 END
         WHERE id = $1 AND state = 'pending'
        """,
        message_id,
        provider,
        error[:2000],
        retry_in,
    )


# ------------------------------------------------------------------ SMS opt-outs


async def insert_opt_out(
    conn: asyncpg.Connection, phone: str, *, now: dt.datetime, message_sid: str
) -> None:
    """``phone`` wants no notices; the first request of a standing opt-out is kept."""
    await conn.execute(
        """
        INSERT INTO sms_opt_outs (phone, opted_out_at, message_sid) VALUES ($1, $2, $3)
        ON CONFLICT (phone) DO NOTHING
        """,
        phone,
        now,
        message_sid,
    )


async def delete_opt_out(conn: asyncpg.Connection, phone: str) -> None:
    await conn.execute("DELETE FROM sms_opt_outs WHERE phone = $1", phone)


async def opted_out(conn: asyncpg.Connection, phones: list[str]) -> set[str]:
    """Those of ``phones`` that opted out, in one lookup."""
    rows = await conn.fetch("SELECT phone FROM sms_opt_outs WHERE phone = ANY($1::text[])", phones)
    return {r["phone"] for r in rows}
