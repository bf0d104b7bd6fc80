"""All of the callbacks' SQL: campaigns, surveys, attempts, the pacer, ratings, appeals
and the figures."""

# asyncpg has no type information: what its queries return is Any by nature.
# mypy: disable-error-code="no-any-return"

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline.orders.queries import OPEN_PREDICATE

CAMPAIGN_COLUMNS = """c.id, c.kind, c.name, c.channel, c.state, c.hotline_code, c.sample_share,
    c.week_start, c.created_by, c.created_at, c.updated_at"""
SURVEY_COLUMNS = """s.id, s.campaign_id, s.order_id, s.round, s.dispatch_id, s.enterprise_id,
    s.phone, s.contact_name, s.hotline_code, s.channel, s.state, s.step, s.solved, s.rating,
    s.comment, s.recording_url, s.outcome, s.answered_by, s.answered_at, s.created_at"""
ATTEMPT_COLUMNS = """a.id, a.survey_id, a.number, a.channel, a.effect_key, a.state, a.outcome,
    a.due_at, a.lease_until, a.attempts, a.placing_at, a.provider, a.provider_sid,
    a.last_error, a.placed_at, a.finished_at, a.created_at"""

# ------------------------------------------------------------------ campaigns


async def insert_campaign(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    return await conn.fetchrow(
        f"""
        INSERT INTO callback_campaigns AS c (kind, name, channel, hotline_code, sample_share,
                                             week_start, created_by, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
        RETURNING {CAMPAIGN_COLUMNS}
        """,
        values["kind"],
        values["name"],
        values["channel"],
        values["hotline_code"],
        values.get("sample_share"),
        values.get("week_start"),
        values["created_by"],
        values["now"],
    )


async def get_campaign(
    conn: asyncpg.Connection, campaign_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {CAMPAIGN_COLUMNS} FROM callback_campaigns c WHERE c.id = $1{lock}", campaign_id
    )


async def post_completion_campaign(conn: asyncpg.Connection) -> asyncpg.Record:
    return await conn.fetchrow(
        f"SELECT {CAMPAIGN_COLUMNS} FROM callback_campaigns c WHERE c.kind = 'post_completion'"
    )


async def set_campaign_state(
    conn: asyncpg.Connection, campaign_id: int, state: str, now: dt.datetime
) -> asyncpg.Record:
    return await conn.fetchrow(
        f"UPDATE callback_campaigns c SET state = $2, updated_at = $3 WHERE c.id = $1 "
        f"RETURNING {CAMPAIGN_COLUMNS}",
        campaign_id,
        state,
        now,
    )


async def list_campaigns(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {CAMPAIGN_COLUMNS} FROM callback_campaigns c ORDER BY c.id DESC LIMIT $1", limit
    )


async def campaign_counts(
    conn: asyncpg.Connection, campaign_ids: list[int]
) -> dict[int, dict[str, int]]:
    """Per campaign, in one statement: surveys by state, and the answered ones by rating
    and by outcome (zeros for a campaign without surveys)."""
    names = ("surveys", "open", "answered", "unreachable", "cancelled", "good", "bad")
    rows = await conn.fetch(
        """
        SELECT campaign_id,
               count(*) AS surveys,
               count(*) FILTER (WHERE state = 'open') AS open,
               count(*) FILTER (WHERE state = 'answered') AS answered,
               count(*) FILTER (WHERE state = 'unreachable') AS unreachable,
               count(*) FILTER (WHERE state = 'cancelled') AS cancelled,
               count(*) FILTER (WHERE rating >= 3) AS good,
               count(*) FILTER (WHERE rating <= 2 OR solved IS FALSE) AS bad
          FROM callback_surveys WHERE campaign_id = ANY($1::bigint[])
         GROUP BY campaign_id
        """,
        campaign_ids,
    )
    found = {r["campaign_id"]: {n: r[n] for n in names} for r in rows}
    return {i: found.get(i, dict.fromkeys(names, 0)) for i in campaign_ids}


async def hold_attempts(conn: asyncpg.Connection, campaign_id: int) -> int:
    """Pause: waiting attempts of the campaign are held (the relay leaves them alone)."""
    result = await conn.execute(
        """
        UPDATE callback_attempts a SET state = 'held', lease_until = NULL
          FROM callback_surveys s
         WHERE s.id = a.survey_id AND s.campaign_id = $1
           AND a.state IN ('pending', 'manual') AND a.placing_at IS NULL
        """,
        campaign_id,
    )
    return int(result.split()[-1])


async def held_attempts(conn: asyncpg.Connection, campaign_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {ATTEMPT_COLUMNS} FROM callback_attempts a
          JOIN callback_surveys s ON s.id = a.survey_id
         WHERE s.campaign_id = $1 AND a.state = 'held'
        """,
        campaign_id,
    )


async def release_held(
    conn: asyncpg.Connection, attempt_ids: list[int], due_ats: list[dt.datetime]
) -> None:
    """Resume: held attempts wait again, manual ones for an agent, at the given times."""
    await conn.execute(
        """
        UPDATE callback_attempts a
           SET state = CASE WHEN a.channel = 'manual' THEN 'manual' ELSE 'pending' END,
               due_at = v.due_at
          FROM unnest($1::bigint[], $2::timestamptz[]) AS v (id, due_at)
         WHERE a.id = v.id AND a.state = 'held'
        """,
        attempt_ids,
        due_ats,
    )


# ------------------------------------------------------------------- surveys


async def insert_surveys(
    conn: asyncpg.Connection,
    campaign: asyncpg.Record,
    *,
    order_ids: list[int | None],
    phones: list[str],
    worked_ids: list[int | None] | None = None,
    names: list[str],
    hotlines: list[str],
    due_ats: list[dt.datetime],
    state: str,
) -> int:
    """One survey and its first attempt (in ``state``) per row of the arrays; rows
    already surveyed in this campaign (same order and round, or same phone without an
    order) are skipped. Returns how many surveys were made.

    ``worked_ids[i]`` is the order whose work the caller is asked about (a merged
    caller's parent; by default the survey's order): its round, lead unit and last
    completed lead dispatch are read here."""
    rows = await conn.fetch(
        """
        WITH input AS (
            SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[],
                                 $6::timestamptz[], $9::bigint[])
                   AS i (order_id, phone, contact_name, hotline_code, due_at, worked_id)
        ), made AS (
            INSERT INTO callback_surveys (campaign_id, order_id, round, dispatch_id,
                                          enterprise_id, phone, contact_name, hotline_code,
                                          channel, step)
            -- Without an order (a proactive survey) there is nothing to ask "solved?" of.
            SELECT $1, i.order_id, coalesce(o.redo_count, 0), d.id, d.enterprise_id, i.phone,
                   i.contact_name, i.hotline_code, $7,
                   CASE WHEN i.order_id IS NULL THEN 'rating' ELSE 'solved' END
              FROM input i
              LEFT JOIN work_orders o ON o.id = i.worked_id
              LEFT JOIN LATERAL (
                    SELECT id, enterprise_id FROM dispatches
                     WHERE order_id = i.worked_id AND role = 'lead' AND state = 'completed'
                     ORDER BY finished_at DESC, id DESC LIMIT 1) d ON true
            ON CONFLICT DO NOTHING
            RETURNING id, order_id, phone
        )
        INSERT INTO callback_attempts (survey_id, number, channel, effect_key, state, due_at)
        SELECT m.id, 1, $7, 'callback:' || m.id || ':1', $8, i.due_at
          FROM made m JOIN input i
            ON i.order_id IS NOT DISTINCT FROM m.order_id AND i.phone = m.phone
        RETURNING id
        """,
        campaign["id"],
        order_ids,
        phones,
        names,
        hotlines,
        due_ats,
        campaign["channel"],
        state,
        order_ids if worked_ids is None else worked_ids,
    )
    return len(rows)


async def closed_orders_sample(
    conn: asyncpg.Connection, start: dt.datetime, end: dt.datetime, share: float
) -> list[asyncpg.Record]:
    """ceil(share × n) random orders of each lead unit's n orders closed in [start, end)."""
    return await conn.fetch(
        """
        SELECT id, caller_phone, caller_name, hotline_code, lead_enterprise_id FROM (
            SELECT o.id, o.caller_phone, o.caller_name, o.hotline_code, o.lead_enterprise_id,
                   row_number() OVER (PARTITION BY o.lead_enterprise_id ORDER BY random()) AS n,
                   count(*) OVER (PARTITION BY o.lead_enterprise_id) AS total
              FROM work_orders o
             WHERE o.status = 'closed' AND o.closed_at >= $1 AND o.closed_at < $2
               AND o.caller_phone IS NOT NULL AND o.lead_enterprise_id IS NOT NULL) ranked
         WHERE n <= ceil($3::float8 * total)
        """,
        start,
        end,
        share,
    )


async def get_survey(
    conn: asyncpg.Connection, survey_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE OF s" if for_update else ""
    return await conn.fetchrow(
        f"""
        SELECT {SURVEY_COLUMNS}, c.kind AS campaign_kind, c.state AS campaign_state
          FROM callback_surveys s JOIN callback_campaigns c ON c.id = s.campaign_id
         WHERE s.id = $1{lock}
        """,
        survey_id,
    )


async def open_sms_survey(conn: asyncpg.Connection, phone: str) -> asyncpg.Record | None:
    """The newest open SMS survey of a phone that has had its SMS."""
    row = await conn.fetchrow(
        """
        SELECT s.id FROM callback_surveys s
         WHERE s.phone = $1 AND s.state = 'open' AND s.channel = 'sms'
           AND EXISTS (SELECT 1 FROM callback_attempts a
                        WHERE a.survey_id = s.id AND a.state IN ('placed', 'done'))
         ORDER BY s.id DESC LIMIT 1
        """,
        phone,
    )
    return await get_survey(conn, row["id"], for_update=True) if row else None


async def record_solved(conn: asyncpg.Connection, survey_id: int, solved: bool) -> None:
    await conn.execute(
        "UPDATE callback_surveys SET solved = $2, step = 'rating' WHERE id = $1",
        survey_id,
        solved,
    )


async def finish_survey(
    conn: asyncpg.Connection,
    survey_id: int,
    *,
    state: str,
    outcome: str | None,
    now: dt.datetime,
    solved: bool | None = None,
    rating: int | None = None,
    comment: str = "",
    answered_by: int | None = None,
) -> None:
    await conn.execute(
        """
        UPDATE callback_surveys
           SET state = $2, step = 'done', solved = coalesce($3, solved),
               rating = coalesce($4, rating),
               comment = CASE WHEN $5 = '' THEN comment ELSE $5 END,
               outcome = $6, answered_by = $7,
               answered_at = CASE WHEN $2 = 'answered' THEN $8 ELSE answered_at END
         WHERE id = $1
        """,
        survey_id,
        state,
        solved,
        rating,
        comment,
        outcome,
        answered_by,
        now,
    )


async def set_recording(conn: asyncpg.Connection, survey_id: int, url: str) -> None:
    await conn.execute(
        "UPDATE callback_surveys SET recording_url = $2 WHERE id = $1", survey_id, url
    )


async def order_surveys(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT {SURVEY_COLUMNS}, c.kind AS campaign_kind,
               (SELECT coalesce(json_agg(json_build_object(
                        'id', a.id, 'number', a.number, 'channel', a.channel, 'state', a.state,
                        'outcome', a.outcome, 'due_at', a.due_at, 'placed_at', a.placed_at,
                        'finished_at', a.finished_at) ORDER BY a.number), '[]')
                  FROM callback_attempts a WHERE a.survey_id = s.id) AS attempts
          FROM callback_surveys s JOIN callback_campaigns c ON c.id = s.campaign_id
         WHERE s.order_id = $1 ORDER BY s.id
        """,
        order_id,
    )


async def latest_answers(
    conn: asyncpg.Connection, order_ids: list[int]
) -> dict[int, asyncpg.Record]:
    """The last answered survey of each of ``order_ids`` that has one: what the citizen
    said of the latest round of work (solved, rating, when)."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (order_id) order_id, solved, rating, outcome, answered_at
          FROM callback_surveys
         WHERE order_id = ANY($1::bigint[]) AND state = 'answered'
         ORDER BY order_id, answered_at DESC, id DESC
        """,
        order_ids,
    )
    return {r["order_id"]: r for r in rows}


# ------------------------------------------------------------------ attempts


async def get_attempt(
    conn: asyncpg.Connection, attempt_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    """The attempt, whether it is due by the database's clock, and the survey's channel."""
    lock = " FOR UPDATE OF a" if for_update else ""
    return await conn.fetchrow(
        f"""
        SELECT {ATTEMPT_COLUMNS}, a.due_at <= now() AS due, s.phone, s.hotline_code,
               s.order_id, s.state AS survey_state, s.step
          FROM callback_attempts a JOIN callback_surveys s ON s.id = a.survey_id
         WHERE a.id = $1{lock}
        """,
        attempt_id,
    )


async def insert_attempt(
    conn: asyncpg.Connection,
    *,
    survey_id: int,
    number: int,
    channel: str,
    state: str,
    due_at: dt.datetime,
) -> int | None:
    """The next attempt of a survey; the same number twice is one attempt."""
    return await conn.fetchval(
        """
        INSERT INTO callback_attempts (survey_id, number, channel, effect_key, state, due_at)
        VALUES ($1, $2, $3, format('callback:%s:%s', $1::bigint, $2::integer), $4, $5)
        ON CONFLICT (survey_id, number) DO NOTHING RETURNING id
        """,
        survey_id,
        number,
        channel,
        state,
        due_at,
    )


async def defer_attempt(conn: asyncpg.Connection, attempt_id: int, due_at: dt.datetime) -> None:
    """Not now: due again at ``due_at``, free for the next relay pass after that."""
    await conn.execute(
        "UPDATE callback_attempts SET due_at = $2, lease_until = NULL, placing_at = NULL "
        "WHERE id = $1 AND state = 'pending'",
        attempt_id,
        due_at,
    )


async def clear_placing(conn: asyncpg.Connection, attempt_id: int) -> None:
    """The call was not started after all (its slot was missed): free to place again."""
    await conn.execute("UPDATE callback_attempts SET placing_at = NULL WHERE id = $1", attempt_id)


async def wait_for_status(conn: asyncpg.Connection, attempt_id: int, until: dt.datetime) -> None:
    """A placement whose outcome is unknown: look at it again at ``until``."""
    await conn.execute(
        "UPDATE callback_attempts SET due_at = $2, lease_until = NULL WHERE id = $1",
        attempt_id,
        until,
    )


async def in_flight_calls(
    conn: asyncpg.Connection, provider: str, stale_before: dt.datetime
) -> int:
    """Calls of a provider account being placed or under way (no final status yet).
    Placements before ``stale_before`` do not count: a survey call is over long before,
    and a lost status callback must not hold a line for ever."""
    return await conn.fetchval(
        """
        SELECT count(*) FROM callback_attempts
         WHERE provider = $1 AND channel = 'voice' AND placing_at > $2
           AND (state = 'placed' OR state = 'pending')
        """,
        provider,
        stale_before,
    )


async def start_placing(
    conn: asyncpg.Connection, attempt_id: int, provider: str, now: dt.datetime
) -> None:
    await conn.execute(
        "UPDATE callback_attempts SET placing_at = $3, provider = $2 WHERE id = $1",
        attempt_id,
        provider,
        now,
    )


async def mark_placed(
    conn: asyncpg.Connection,
    attempt_id: int,
    *,
    provider: str,
    provider_sid: str | None,
    now: dt.datetime,
) -> None:
    await conn.execute(
        """
        UPDATE callback_attempts SET state = 'placed', provider = $2,
               provider_sid = coalesce($3, provider_sid), placed_at = $4, lease_until = NULL
         WHERE id = $1
        """,
        attempt_id,
        provider,
        provider_sid,
        now,
    )


async def set_attempt_note(
    conn: asyncpg.Connection, attempt_id: int, *, outcome: str, provider_sid: str | None
) -> None:
    """What we learnt of a call still under way (a machine answered; its SID)."""
    await conn.execute(
        "UPDATE callback_attempts SET outcome = $2, provider_sid = coalesce($3, provider_sid) "
        "WHERE id = $1",
        attempt_id,
        outcome,
        provider_sid,
    )


async def finish_attempt(
    conn: asyncpg.Connection,
    attempt_id: int,
    *,
    outcome: str,
    now: dt.datetime,
    error: str = "",
    provider_sid: str | None = None,
) -> None:
    await conn.execute(
        """
        UPDATE callback_attempts SET state = 'done', outcome = $2, finished_at = $3,
               last_error = $4, provider_sid = coalesce($5, provider_sid), lease_until = NULL
         WHERE id = $1
        """,
        attempt_id,
        outcome,
        now,
        error,
        provider_sid,
    )


async def settle_survey_attempts(
    conn: asyncpg.Connection, survey_id: int, now: dt.datetime
) -> None:
    """The survey is over: waiting attempts are cancelled and sent SMS are done; a call
    still under way stays ``placed`` until its final status arrives."""
    await conn.execute(
        """
        UPDATE callback_attempts
           SET state = CASE WHEN state = 'placed' THEN 'done' ELSE 'cancelled' END,
               outcome = CASE WHEN state = 'placed' THEN 'answered' ELSE 'not needed' END,
               finished_at = $2, lease_until = NULL
         WHERE survey_id = $1 AND placing_at IS NULL
           AND (state IN ('pending', 'held', 'manual') OR (state = 'placed' AND channel <> 'voice'))
        """,
        survey_id,
        now,
    )


async def due_manual_attempts(
    conn: asyncpg.Connection, now: dt.datetime, limit: int, hotlines: list[str] | None
) -> list[asyncpg.Record]:
    """Due manual callbacks, of ``hotlines`` only unless None."""
    return await conn.fetch(
        f"""
        SELECT {ATTEMPT_COLUMNS}, s.phone, s.contact_name, s.order_id, s.step, s.solved,
               o.number AS order_number, o.description, o.reply, c.kind AS campaign_kind,
               c.name AS campaign_name
          FROM callback_attempts a
          JOIN callback_surveys s ON s.id = a.survey_id
          JOIN callback_campaigns c ON c.id = s.campaign_id
          LEFT JOIN work_orders o ON o.id = s.order_id
         WHERE a.state = 'manual' AND a.due_at <= $1
           AND ($3::text[] IS NULL OR s.hotline_code = ANY($3::text[]))
         ORDER BY a.due_at, a.id LIMIT $2
        """,
        now,
        limit,
        hotlines,
    )


# --------------------------------------------------------------------- pacer


async def lock_pacer(
    conn: asyncpg.Connection, account: str
) -> tuple[dt.datetime, int, dt.datetime]:
    """The account's pacer row, locked until commit: (second being filled, calls in it,
    the database's clock now)."""
    await conn.execute(
        "INSERT INTO callback_pacers (account, second) "
        "VALUES ($1, date_trunc('second', clock_timestamp())) ON CONFLICT DO NOTHING",
        account,
    )
    row = await conn.fetchrow(
        "SELECT second, used, clock_timestamp() AS now FROM callback_pacers "
        "WHERE account = $1 FOR UPDATE",
        account,
    )
    return row["second"], row["used"], row["now"]


async def save_pacer(
    conn: asyncpg.Connection, account: str, second: dt.datetime, used: int
) -> None:
    await conn.execute(
        "UPDATE callback_pacers SET second = $2, used = $3 WHERE account = $1",
        account,
        second,
        used,
    )


async def lock_account(conn: asyncpg.Connection, account: str) -> None:
    """Serialise the concurrent-call check of one account until commit."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"callback-calls:{account}"
    )


# ------------------------------------------------------------------- ratings


async def rate_dispatch(
    conn: asyncpg.Connection,
    dispatch_id: int,
    *,
    solved: bool | None,
    rating: int | None,
    outcome: str,
    now: dt.datetime,
    keep_answer: bool = False,
) -> None:
    """The dispatch's rating by its callback; an approved appeal stays approved.
    ``keep_answer``: an answer the dispatch already has (good or bad) stays."""
    await conn.execute(
        """
        INSERT INTO dispatch_ratings (dispatch_id, solved, rating, callback_outcome, rated_at)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (dispatch_id) DO UPDATE SET solved = EXCLUDED.solved,
            rating = EXCLUDED.rating, callback_outcome = EXCLUDED.callback_outcome,
            rated_at = EXCLUDED.rated_at
         WHERE NOT $6 OR coalesce(dispatch_ratings.callback_outcome, '') NOT IN ('good', 'bad')
        """,
        dispatch_id,
        solved,
        rating,
        outcome,
        now,
        keep_answer,
    )


async def dispatch_rating(
    conn: asyncpg.Connection, dispatch_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    """The dispatch with its rating (none: null outcome); ``for_update`` locks the
    dispatch, which its rating's writers share-lock (migration 0017)."""
    lock = " FOR UPDATE OF d" if for_update else ""
    return await conn.fetchrow(
        "SELECT d.order_id, d.enterprise_id, d.role, r.callback_outcome, "
        "coalesce(r.score_excluded, false) AS score_excluded "
        "FROM dispatches d LEFT JOIN dispatch_ratings r ON r.dispatch_id = d.id "
        f"WHERE d.id = $1{lock}",
        dispatch_id,
    )


# ------------------------------------------------------------------- appeals


async def insert_appeal(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO rating_appeals (dispatch_id, enterprise_id, reason, appealed_by, created_at)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING *
        """,
        values["dispatch_id"],
        values["enterprise_id"],
        values["reason"],
        values["appealed_by"],
        values["now"],
    )


async def get_appeal(
    conn: asyncpg.Connection, appeal_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM rating_appeals WHERE id = $1{lock}", appeal_id)


async def pending_appeals(
    conn: asyncpg.Connection, limit: int, hotlines: list[str] | None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT ap.*, d.order_id, r.rating, r.solved, o.number AS order_number
          FROM rating_appeals ap
          JOIN dispatches d ON d.id = ap.dispatch_id
          LEFT JOIN dispatch_ratings r ON r.dispatch_id = ap.dispatch_id
          JOIN work_orders o ON o.id = d.order_id
         WHERE ap.state = 'pending'
           AND ($2::text[] IS NULL OR o.hotline_code = ANY($2::text[]))
         ORDER BY ap.created_at LIMIT $1
        """,
        limit,
        hotlines,
    )


async def decide_appeal(
    conn: asyncpg.Connection,
    appeal_id: int,
    *,
    state: str,
    user_id: int | None,
    note: str,
    now: dt.datetime,
) -> asyncpg.Record:
    return await conn.fetchrow(
        "UPDATE rating_appeals SET state = $2, decided_by = $3, decided_at = $4, note = $5 "
        "WHERE id = $1 RETURNING *",
        appeal_id,
        state,
        user_id,
        now,
        note,
    )


async def exclude_from_score(conn: asyncpg.Connection, dispatch_id: int) -> None:
    await conn.execute(
        "UPDATE dispatch_ratings SET score_excluded = true WHERE dispatch_id = $1", dispatch_id
    )


# ------------------------------------------------------------------- figures

# What the figures group by: fixed maps, because the expressions go into SQL text. The
# kept counts (figure_day_counts, c) hold the unit, item and hotline; the live part
# reads dispatches (d) and their orders (o). A group (集团) is the unit itself or, for a
# branch, its parent (e: the unit's enterprises row, joined only for it).
GROUP = "coalesce(e.parent_id, e.id)::text"
KEPT_KEYS = {
    "unit": "c.enterprise_id::text",
    "group": GROUP,
    "service_item": "c.service_item_code",
    "hotline": "c.hotline_code",
}
LIVE_KEYS = {
    "unit": "d.enterprise_id::text",
    "group": GROUP,
    "service_item": "o.service_item_code",
    "hotline": "o.hotline_code",
}
COUNTS = (
    "dispatched",
    "signed_on_time",
    "completed",
    "completed_on_time",
    "called_back",
    "unreachable",
    "reopened",
    "answered",
    "solved",
    "rated",
    "good",
)


async def figures(
    conn: asyncpg.Connection,
    by: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    *,
    per_day: bool = False,
) -> list[asyncpg.Record]:
    """The counts behind the rates (docs/callbacks.md), per ``by`` key (and local day),
    for dispatches made on the local days [start, end) (response) and lead dispatches
    completed on them (the rest)."""
    return await conn.fetch(figures_sql(by, per_day=per_day), start, end, now)


# The counts' time zone, as one value computed once per statement (a join would leave the
# planner guessing its row count and overestimating everything after it).
ZONE = "(SELECT timezone FROM figure_settings)"


def figures_sql(by: str, *, per_day: bool = False) -> str:
    """The counts the writes keep per day (figure_day_counts, migrations 0012 and 0014),
    read through its primary key, plus the one count that changes with time alone:
    unsigned dispatches whose sign-for deadline ($3) has passed and which the ladder's
    reminder has not marked yet, read through dispatches_unmarked_idx; and, apart, the
    suspensions (挂起) that started in the period with the hours they lasted (until $3
    for one still open), read through order_suspensions_started_idx (few rows: a
    suspension needs the centre's approval). $1 and $2 are local days of
    figure_settings' time zone.

    The late dispatches are found on their own (a materialized CTE) before they meet
    their orders: planned together, the planner takes the unmarked dispatches for
    thousands (it multiplies the selectivities of signed_at, state and the mark as if
    unrelated) and at ten million orders preferred walking every dispatch of the
    period in parallel to that many lookups of their orders (86 ms instead of 1)."""

    def unit_of(table: str) -> str:
        return f" JOIN enterprises e ON e.id = {table}.enterprise_id" if by == "group" else ""

    day_kept = ", c.day" if per_day else ""
    day_live = f", (d.created_at AT TIME ZONE {ZONE})::date AS day" if per_day else ""
    group = "1, 2" if per_day else "1"
    day_paused = f", (d.started_at AT TIME ZONE {ZONE})::date AS day" if per_day else ""
    same_day = " AND v.day = k.day" if per_day else ""
    same_day_paused = " AND p.day = coalesce(k.day, v.day)" if per_day else ""
    day_out = ", coalesce(k.day, v.day, p.day) AS day" if per_day else ""
    sums = ", ".join(f"sum(c.{n})::bigint AS {n}" for n in COUNTS[2:])
    rest = ", ".join(f"coalesce(k.{n}, 0) AS {n}" for n in COUNTS[2:])
    everything = ", ".join(f"sum(c.{n})" for n in COUNTS)
    return f"""
        WITH kept AS (
            SELECT {KEPT_KEYS[by]} AS key{day_kept},
                   sum(c.dispatched)::bigint AS dispatched,
                   sum(c.signed_on_time)::bigint AS signed_on_time, {sums}
              FROM figure_day_counts c{unit_of("c")}
             WHERE c.day >= $1 AND c.day < $2
             GROUP BY {group}
            -- Rows whose counts went back to zero (a counted dispatch withdrawn) count
            -- nothing: left out, as a recount leaves them out.
            HAVING greatest({everything}) > 0
        ), late AS MATERIALIZED (
            SELECT d.order_id, d.enterprise_id, d.created_at
              FROM dispatches d
             WHERE d.signed_at IS NULL AND d.state NOT IN ('returned', 'withdrawn')
               AND d.sign_for_missed_at IS NULL
               AND d.created_at >= ($1::date::timestamp AT TIME ZONE {ZONE})
               AND d.created_at < ($2::date::timestamp AT TIME ZONE {ZONE})
               AND d.sign_for_due_at < $3
        ), overdue AS (
            SELECT {LIVE_KEYS[by]} AS key{day_live}, count(*) AS unsigned
              FROM late d JOIN work_orders o ON o.id = d.order_id{unit_of("d")}
             GROUP BY {group}
        ), paused AS (
            SELECT {LIVE_KEYS[by]} AS key{day_paused}, count(*) AS suspensions,
                   sum(extract(epoch FROM coalesce(d.ended_at, $3) - d.started_at))
                       AS suspended_seconds
              FROM order_suspensions d JOIN work_orders o ON o.id = d.order_id{unit_of("d")}
             WHERE d.started_at >= ($1::date::timestamp AT TIME ZONE {ZONE})
               AND d.started_at < ($2::date::timestamp AT TIME ZONE {ZONE})
             GROUP BY {group}
        )
        SELECT coalesce(k.key, v.key, p.key) AS key{day_out},
               coalesce(k.dispatched, 0) + coalesce(v.unsigned, 0) AS dispatched,
               coalesce(k.signed_on_time, 0) AS signed_on_time, {rest},
               coalesce(p.suspensions, 0) AS suspensions,
               round(coalesce(p.suspended_seconds, 0) / 3600, 2)::float8 AS suspended_hours
          FROM kept k FULL JOIN overdue v ON v.key = k.key{same_day}
          FULL JOIN paused p ON p.key = coalesce(k.key, v.key){same_day_paused}
         ORDER BY {group}
        """


async def hard_case_figures(
    conn: asyncpg.Connection, start: dt.date, end: dt.date, now: dt.datetime
) -> list[asyncpg.Record]:
    """The hard cases' counts per hotline: registered on the local days [start, end),
    completed on them (and by the hard-case due; before routing has set it, by the
    resolution due), open and overdue at ``now``. Hard cases are few; their partial
    index finds them."""
    return await conn.fetch(
        f"""
        WITH period AS (
            SELECT ($1::date::timestamp AT TIME ZONE {ZONE}) AS since,
                   ($2::date::timestamp AT TIME ZONE {ZONE}) AS until
        ), cases AS (
            SELECT o.hotline_code, o.{OPEN_PREDICATE} AS open,
                   coalesce(o.hard_case_due_at, o.resolution_due_at) AS due,
                   o.created_at >= p.since AND o.created_at < p.until AS registered,
                   coalesce(o.completed_at >= p.since AND o.completed_at < p.until, false)
                       AS completed,
                   o.completed_at
              FROM work_orders o CROSS JOIN period p
             WHERE o.hard_case AND o.status <> 'draft'
        )
        SELECT hotline_code AS key,
               count(*) FILTER (WHERE registered) AS registered,
               count(*) FILTER (WHERE completed) AS completed,
               count(*) FILTER (WHERE completed AND completed_at <= due) AS completed_on_time,
               count(*) FILTER (WHERE open) AS open,
               count(*) FILTER (WHERE open AND due < $3) AS overdue
          FROM cases
         WHERE registered OR completed OR open
         GROUP BY 1
         ORDER BY 1
        """,
        start,
        end,
        now,
    )


async def rebuild_figure_counts(conn: asyncpg.Connection) -> int:
    """Count every day again (after a bulk load that skipped the trigger)."""
    return int(await conn.fetchval("SELECT figure_counts_rebuild()"))


async def figure_names(conn: asyncpg.Connection, by: str, keys: list[str]) -> dict[str, str]:
    """Readable names of the keys: units and groups, service items, hotlines."""
    units = "SELECT id::text AS key, name_zh AS name FROM enterprises WHERE id::text = ANY($1)"
    sql = {
        "unit": units,
        "group": units,
        "service_item": (
            "SELECT code AS key, name_zh AS name FROM service_items WHERE code = ANY($1)"
        ),
        "hotline": "SELECT code AS key, name_zh AS name FROM hotlines WHERE code = ANY($1)",
    }[by]
    return {r["key"]: r["name"] for r in await conn.fetch(sql, keys)}
