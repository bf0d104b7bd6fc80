"""SQL for routing: rules and their history, dispatches, returns, time requests, the
ladder's notices, duplicates and outages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import asyncpg

from hotline import i18n
from hotline.orders import queries as order_queries
from hotline.orders.queries import HAS_RECORDING

RULE_COLUMNS = """r.id, r.service_item_code, r.domain, r.area_code, r.candidates, r.assisting,
    r.active, r.note, r.created_at, r.updated_at, r.created_by, r.updated_by"""

# ----------------------------------------------------------------------------- rules


async def matching_rules(
    conn: asyncpg.Connection, *, item_code: str, domain: str | None, areas: list[str]
) -> list[asyncpg.Record]:
    """Active rules for the item (or its domain) and the order's area, its district or
    any area; most specific first: item before domain, street before district before any."""
    return await conn.fetch(
        f"""
        SELECT {RULE_COLUMNS},
               si.name_zh AS item_name, si.name_en AS item_name_en,
               a.name_zh AS area_name, a.name_en AS area_name_en
          FROM routing_rules r
          LEFT JOIN service_items si ON si.code = r.service_item_code
          LEFT JOIN areas a ON a.code = r.area_code
         WHERE r.active
           AND (r.service_item_code = $1 OR (r.service_item_code IS NULL AND r.domain = $2))
           AND (r.area_code IS NULL OR r.area_code = ANY($3::text[]))
         ORDER BY (r.service_item_code IS NULL),
                  array_position($3::text[], r.area_code) NULLS LAST,
                  r.id
        """,
        item_code,
        domain,
        areas,
    )


async def list_rules(conn: asyncpg.Connection, *, include_inactive: bool) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {RULE_COLUMNS} FROM routing_rules r WHERE $1 OR r.active "
        "ORDER BY r.service_item_code NULLS LAST, r.domain, r.area_code NULLS LAST, r.id",
        include_inactive,
    )


async def rules_naming(conn: asyncpg.Connection, enterprise_id: int) -> list[asyncpg.Record]:
    """The active rules that name a unit, as a candidate or as assisting."""
    return await conn.fetch(
        f"SELECT {RULE_COLUMNS} FROM routing_rules r WHERE r.active"
        " AND ($1 = ANY (r.candidates) OR $1 = ANY (r.assisting)) ORDER BY r.id FOR UPDATE",
        enterprise_id,
    )


async def get_rule(
    conn: asyncpg.Connection, rule_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {RULE_COLUMNS} FROM routing_rules r WHERE r.id = $1{lock}", rule_id
    )


async def active_rule_with_key(
    conn: asyncpg.Connection,
    *,
    item_code: str | None,
    domain: str | None,
    area_code: str | None,
    except_id: int | None,
    include_inactive: bool = False,
) -> int | None:
    return await conn.fetchval(
        """
        SELECT id FROM routing_rules
         WHERE (active OR $5) AND service_item_code IS NOT DISTINCT FROM $1
           AND domain IS NOT DISTINCT FROM $2 AND area_code IS NOT DISTINCT FROM $3
           AND id IS DISTINCT FROM $4
         ORDER BY active DESC, id LIMIT 1
        """,
        item_code,
        domain,
        area_code,
        except_id,
        include_inactive,
    )


async def domain_group(conn: asyncpg.Connection, domain: str) -> int | None:
    """The unit answerable for ``domain`` as a whole, if one is configured."""
    value = await conn.fetchval("SELECT enterprise_id FROM domain_groups WHERE domain = $1", domain)
    return int(value) if value is not None else None


async def set_domain_group(conn: asyncpg.Connection, domain: str, enterprise_id: int) -> None:
    await conn.execute(
        """
        INSERT INTO domain_groups (domain, enterprise_id) VALUES ($1, $2)
        ON CONFLICT (domain) DO UPDATE SET enterprise_id = EXCLUDED.enterprise_id
        """,
        domain,
        enterprise_id,
    )


async def insert_rule(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        INSERT INTO routing_rules AS r (service_item_code, domain, area_code, candidates,
            assisting, note, active, created_by, updated_by, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $9, $7, $7, $8, $8)
        RETURNING {RULE_COLUMNS}
        """,
        values["service_item_code"],
        values["domain"],
        values["area_code"],
        values["candidates"],
        values["assisting"],
        values["note"],
        values["user_id"],
        values["now"],
        values["active"],
    )
    assert row is not None
    return row


async def update_rule(
    conn: asyncpg.Connection, rule_id: int, values: dict[str, Any]
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        UPDATE routing_rules AS r SET service_item_code = $2, domain = $3, area_code = $4,
               candidates = $5, assisting = $6, note = $7, active = $8, updated_by = $9,
               updated_at = $10
         WHERE r.id = $1
        RETURNING {RULE_COLUMNS}
        """,
        rule_id,
        values["service_item_code"],
        values["domain"],
        values["area_code"],
        values["candidates"],
        values["assisting"],
        values["note"],
        values["active"],
        values["user_id"],
        values["now"],
    )
    assert row is not None
    return row


async def insert_rule_history(
    conn: asyncpg.Connection,
    *,
    rule_id: int,
    action: str,
    user_id: int | None,
    now: dt.datetime,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    await conn.execute(
        """
        INSERT INTO routing_rule_history (rule_id, action, changed_by, changed_at, before, after)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        rule_id,
        action,
        user_id,
        now,
        before,
        after,
    )


async def rule_history(conn: asyncpg.Connection, rule_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT h.id, h.action, h.changed_at, h.before, h.after, u.display_name AS changed_by
          FROM routing_rule_history h LEFT JOIN users u ON u.id = h.changed_by
         WHERE h.rule_id = $1 ORDER BY h.id
        """,
        rule_id,
    )


async def enterprises_by_id(conn: asyncpg.Connection, ids: list[int]) -> dict[int, asyncpg.Record]:
    rows = await conn.fetch(
        "SELECT id, code, name_zh, name_en, active FROM enterprises WHERE id = ANY($1::bigint[])",
        ids,
    )
    return {r["id"]: r for r in rows}


async def representative_enterprise(
    conn: asyncpg.Connection, citizen_id: int
) -> asyncpg.Record | None:
    """The unit of a key customer's named representative (客户代表), if any."""
    return await conn.fetchrow(
        """
        SELECT e.id, e.name_zh, u.display_name AS representative
          FROM citizens c
          JOIN users u ON u.id = c.representative_user_id AND u.active
          JOIN enterprises e ON e.id = u.enterprise_id AND e.active
         WHERE c.id = $1 AND c.key_account
        """,
        citizen_id,
    )


# ------------------------------------------------------------------------ dispatches

DISPATCH_COLUMNS = """d.id, d.order_id, d.enterprise_id, d.role, d.state, d.sign_for_due_at,
    d.created_at, d.signed_at, d.finished_at, d.rule_id, d.reason, d.forced, d.reply, d.due_at"""


async def insert_dispatch(
    conn: asyncpg.Connection,
    *,
    order_id: int,
    enterprise_id: int,
    role: str,
    sign_for_due_at: dt.datetime | None,
    now: dt.datetime,
    rule_id: int | None = None,
    reason: i18n.Text | None = None,
    forced: bool = False,
    due_at: dt.datetime | None = None,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        INSERT INTO dispatches AS d (order_id, enterprise_id, role, sign_for_due_at, created_at,
                                     rule_id, reason, forced, due_at, texts)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING {DISPATCH_COLUMNS}
        """,
        order_id,
        enterprise_id,
        role,
        sign_for_due_at,
        now,
        rule_id,
        reason.render(i18n.CHINESE) if reason else "",
        forced,
        due_at,
        {"reason": reason.to_json()} if reason else {},
    )
    assert row is not None
    return row


async def get_dispatch(
    conn: asyncpg.Connection, dispatch_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT {DISPATCH_COLUMNS} FROM dispatches d WHERE d.id = $1{lock}", dispatch_id
    )


async def set_dispatch_state(
    conn: asyncpg.Connection,
    dispatch_id: int,
    *,
    state: str,
    now: dt.datetime,
    reply: str | None = None,
    on_time: bool | None = None,
) -> None:
    """A dispatch's new state; a completion says whether it came within the time limit
    (the figures' on-time rate), in the same write."""
    await conn.execute(
        """
        UPDATE dispatches SET state = $2,
               signed_at = CASE WHEN $2 = 'signed' THEN $3 ELSE signed_at END,
               finished_at = CASE WHEN $2 IN ('returned', 'completed', 'withdrawn')
                                  THEN $3 ELSE finished_at END,
               reply = coalesce($4, reply),
               completed_on_time = coalesce($5, completed_on_time)
         WHERE id = $1
        """,
        dispatch_id,
        state,
        now,
        reply,
        on_time,
    )


async def mark_sign_for_missed(
    conn: asyncpg.Connection, dispatch_id: int, now: dt.datetime
) -> None:
    """The dispatch is still unsigned at its sign-for deadline: marked, so the figures
    count it from then on as a kept count (migration 0014) instead of at every read."""
    await conn.execute(
        "UPDATE dispatches SET sign_for_missed_at = $2 "
        "WHERE id = $1 AND signed_at IS NULL AND sign_for_missed_at IS NULL",
        dispatch_id,
        now,
    )


async def unsigned_dispatches(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    """The order's dispatches still waiting to be signed for, their reminder not yet due."""
    return await conn.fetch(
        f"SELECT {DISPATCH_COLUMNS} FROM dispatches d "
        "WHERE d.order_id = $1 AND d.state = 'pending' AND d.sign_for_missed_at IS NULL "
        "ORDER BY d.id",
        order_id,
    )


async def move_sign_for_due(
    conn: asyncpg.Connection, dispatch_id: int, due_at: dt.datetime
) -> None:
    await conn.execute(
        "UPDATE dispatches SET sign_for_due_at = $2 WHERE id = $1", dispatch_id, due_at
    )


async def withdraw_open_dispatches(
    conn: asyncpg.Connection,
    order_id: int,
    now: dt.datetime,
    *,
    reason: i18n.Text,
    role: str | None = None,
) -> list[asyncpg.Record]:
    """Withdraw the order's open dispatches (only those of ``role``, if given), saying
    why; returns them, withdrawn."""
    return await conn.fetch(
        f"""
        UPDATE dispatches d SET state = 'withdrawn', finished_at = $2, withdrawn_reason = $3,
                                texts = d.texts || jsonb_build_object('withdrawn_reason', $5::jsonb)
         WHERE d.order_id = $1 AND d.state IN ('pending', 'signed')
           AND ($4::text IS NULL OR d.role = $4)
        RETURNING {DISPATCH_COLUMNS}
        """,
        order_id,
        now,
        reason.render(i18n.CHINESE),
        role,
        reason.to_json(),
    )


async def routing_history(conn: asyncpg.Connection, order_id: int) -> tuple[set[int], bool]:
    """Units whose return of the order stands, and whether it was ever dispatched."""
    row = await conn.fetchrow(
        """
        SELECT array(SELECT DISTINCT enterprise_id FROM order_returns
                      WHERE order_id = $1 AND state <> 'overruled') AS returned,
               EXISTS (SELECT 1 FROM dispatches WHERE order_id = $1) AS dispatched
        """,
        order_id,
    )
    assert row is not None
    return set(row["returned"]), row["dispatched"]


async def standing_returns(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    """The units whose return of the order stands (not overruled; pending or upheld),
    each with its latest return, in the order they returned it."""
    return await conn.fetch(
        """
        SELECT * FROM (
            SELECT DISTINCT ON (r.enterprise_id) r.enterprise_id, e.name_zh AS name,
                   r.id AS return_id, r.reason_code, r.reason_text, r.state,
                   r.created_at AS returned_at
              FROM order_returns r JOIN enterprises e ON e.id = r.enterprise_id
             WHERE r.order_id = $1 AND r.state <> 'overruled'
             ORDER BY r.enterprise_id, r.created_at DESC, r.id DESC) latest
         ORDER BY returned_at, return_id
        """,
        order_id,
    )


async def inbox(
    conn: asyncpg.Connection, scope: list[int], states: list[str], limit: int
) -> list[asyncpg.Record]:
    """A unit's dispatches with their orders, most urgent first; a lead dispatch carries
    the on-site visit it owes (``visit_id``, ``visit_due_at``), if any."""
    return await conn.fetch(
        f"""
        SELECT {DISPATCH_COLUMNS}, d.withdrawn_reason, d.texts, e.name_zh AS enterprise_name,
               o.number, o.status AS order_status, o.service_item_code, si.name_zh AS item_name,
               o.area_code, o.address, o.description, o.priority, o.caller_name,
               o.caller_phone, o.resolution_due_at, o.created_at AS order_created_at,
               o.channel, o.call_id, o.media_url, {HAS_RECORDING},
               EXISTS (SELECT 1 FROM order_suspensions s
                        WHERE s.order_id = o.id AND s.ended_at IS NULL) AS suspended,
               v.id AS visit_id, v.due_at AS visit_due_at, v.created_at AS visit_opened_at
          FROM dispatches d
          JOIN work_orders o ON o.id = d.order_id
          JOIN enterprises e ON e.id = d.enterprise_id
          JOIN service_items si ON si.code = o.service_item_code
          -- The on-site visit the lead unit owes before it completes again.
          LEFT JOIN onsite_visits v
                 ON v.order_id = o.id AND v.state = 'pending' AND d.role = 'lead'
         WHERE d.enterprise_id = ANY($1::bigint[]) AND d.state = ANY($2::text[])
         ORDER BY coalesce(d.sign_for_due_at, o.resolution_due_at), d.id
         LIMIT $3
        """,
        scope,
        states,
        limit,
    )


async def unit_history(
    conn: asyncpg.Connection,
    scope: list[int],
    *,
    q: str,
    after: tuple[dt.datetime, int] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """A unit's completed dispatches (its replies and assisting parts), the latest
    finished first, keyset-paged on (finished_at, id); ``q`` finds a piece of the order's
    number, address or description. The caller asks for ``limit + 1`` rows to know
    whether a next page exists."""
    return await conn.fetch(
        f"""
        SELECT {DISPATCH_COLUMNS}, e.name_zh AS enterprise_name,
               o.number, o.status AS order_status, o.service_item_code, o.area_code,
               o.address, o.description, o.priority, o.caller_name, o.caller_phone,
               o.created_at AS order_created_at
          FROM dispatches d
          JOIN work_orders o ON o.id = d.order_id
          JOIN enterprises e ON e.id = d.enterprise_id
         WHERE d.enterprise_id = ANY($1::bigint[]) AND d.state = 'completed'
           AND ($2 = '' OR o.number ILIKE $2 OR o.address ILIKE $2 OR o.description ILIKE $2)
           AND ($3::timestamptz IS NULL OR (d.finished_at, d.id) < ($3, $4::bigint))
         ORDER BY d.finished_at DESC, d.id DESC
         LIMIT $5
        """,
        scope,
        f"%{order_queries.escape_like(q)}%" if q else "",
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )


# --------------------------------------------------------------------------- returns


async def insert_return(
    conn: asyncpg.Connection,
    *,
    order_id: int,
    dispatch_id: int,
    enterprise_id: int,
    reason_code: str,
    reason_text: str,
    returned_by: str,
    now: dt.datetime,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO order_returns (order_id, dispatch_id, enterprise_id, reason_code,
                                   reason_text, returned_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *
        """,
        order_id,
        dispatch_id,
        enterprise_id,
        reason_code,
        reason_text,
        returned_by,
        now,
    )
    assert row is not None
    return row


async def get_return(
    conn: asyncpg.Connection, return_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM order_returns WHERE id = $1{lock}", return_id)


# The review lists' page size is written into their SQL, not passed as a parameter: with
# LIMIT $1, a prepared statement's generic plan guesses a tenth of the pending rows, and
# once they are many (ten million orders) it looks dearer than the plan made for 100, so
# PostgreSQL plans the statement again on every call (0.6 ms of a 1.5 ms list).


async def pending_returns(
    conn: asyncpg.Connection, limit: int, hotlines: list[str] | None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT r.*, e.name_zh AS enterprise_name, o.number, o.bounce_count,
               o.service_item_code, o.description
          FROM order_returns r
          JOIN enterprises e ON e.id = r.enterprise_id
          JOIN work_orders o ON o.id = r.order_id
         WHERE r.state = 'pending' AND ($1::text[] IS NULL OR o.hotline_code = ANY($1::text[]))
         ORDER BY r.created_at LIMIT {int(limit)}
        """,
        hotlines,
    )


async def decide_return(
    conn: asyncpg.Connection,
    return_id: int,
    *,
    state: str,
    user_id: int | None,
    now: dt.datetime,
    note: str,
) -> None:
    await conn.execute(
        "UPDATE order_returns SET state = $2, reviewed_by = $3, reviewed_at = $4, "
        "review_note = $5 WHERE id = $1",
        return_id,
        state,
        user_id,
        now,
        note,
    )


# --------------------------------------------------------------------- time requests


async def insert_time_request(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO time_requests (order_id, dispatch_id, kind, reason, requested_due_at,
                                   requested_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *
        """,
        values["order_id"],
        values["dispatch_id"],
        values["kind"],
        values["reason"],
        values["requested_due_at"],
        values["requested_by"],
        values["now"],
    )
    assert row is not None
    return row


async def pending_time_request_exists(conn: asyncpg.Connection, order_id: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM time_requests WHERE order_id = $1 AND state = 'pending')",
            order_id,
        )
    )


async def get_time_request(
    conn: asyncpg.Connection, request_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT * FROM time_requests WHERE id = $1{lock}", request_id)


async def pending_time_requests(
    conn: asyncpg.Connection, limit: int, hotlines: list[str] | None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"""
        SELECT t.*, o.number, o.resolution_due_at, e.name_zh AS enterprise_name
          FROM time_requests t
          JOIN work_orders o ON o.id = t.order_id
          JOIN dispatches d ON d.id = t.dispatch_id
          JOIN enterprises e ON e.id = d.enterprise_id
         WHERE t.state = 'pending' AND ($1::text[] IS NULL OR o.hotline_code = ANY($1::text[]))
         ORDER BY t.created_at LIMIT {int(limit)}
        """,
        hotlines,
    )


async def decide_time_request(
    conn: asyncpg.Connection,
    request_id: int,
    *,
    state: str,
    user_id: int | None,
    now: dt.datetime,
    note: str,
) -> None:
    await conn.execute(
        "UPDATE time_requests SET state = $2, decided_by = $3, decided_at = $4, "
        "decision_note = $5 WHERE id = $1",
        request_id,
        state,
        user_id,
        now,
        note,
    )


# ---------------------------------------------------------------------------- ladder


async def insert_notice(
    conn: asyncpg.Connection,
    *,
    order_id: int,
    dispatch_id: int | None,
    enterprise_id: int | None,
    level: str,
    message: str,
    now: dt.datetime,
) -> int | None:
    """A ladder step, once: returns None when this step was already taken."""
    return await conn.fetchval(
        """
        INSERT INTO supervision_notices (order_id, dispatch_id, enterprise_id, level, message,
                                         created_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (order_id, coalesce(dispatch_id, 0), level) DO NOTHING
        RETURNING id
        """,
        order_id,
        dispatch_id,
        enterprise_id,
        level,
        message,
        now,
    )


async def list_notices(
    conn: asyncpg.Connection, levels: list[str], limit: int, hotlines: list[str] | None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT n.*, o.number, e.name_zh AS enterprise_name
          FROM supervision_notices n
          JOIN work_orders o ON o.id = n.order_id
          LEFT JOIN enterprises e ON e.id = n.enterprise_id
         WHERE n.level = ANY($1::text[])
           AND ($3::text[] IS NULL OR o.hotline_code = ANY($3::text[]))
         ORDER BY n.created_at DESC LIMIT $2
        """,
        levels,
        limit,
        hotlines,
    )


async def pending_deadline_due(
    conn: asyncpg.Connection, order_id: int, kind: str
) -> dt.datetime | None:
    """When the order's own deadline of ``kind`` is due, if it has not fired yet."""
    return await conn.fetchval(
        "SELECT min(due_at) FROM deadlines WHERE order_id = $1 AND dispatch_id IS NULL "
        "AND kind = $2 AND state IN ('pending', 'enqueued')",
        order_id,
        kind,
    )


async def open_deadline_kinds(conn: asyncpg.Connection, order_id: int) -> set[str]:
    rows = await conn.fetch(
        "SELECT DISTINCT kind FROM deadlines WHERE order_id = $1 AND dispatch_id IS NULL",
        order_id,
    )
    return {r["kind"] for r in rows}


# ------------------------------------------------------------------------ duplicates


async def possible_duplicates(
    conn: asyncpg.Connection,
    *,
    order_id: int | None,
    item_code: str,
    area_code: str | None,
    address: str,
    citizen_id: int | None,
    since: dt.datetime,
    similarity: float,
    excluded_statuses: list[str],
    hotlines: list[str] | None,
) -> list[asyncpg.Record]:
    """Open orders like this one (``order_id``; None: one not registered yet): same item
    and area with a similar address, or the same caller, registered since ``since``, of
    ``hotlines`` (None: any). The item/area/time index narrows the candidates first, so
    comparing addresses needs no index of its own."""
    return await conn.fetch(
        """
        WITH candidates AS (
            SELECT o.id, o.number, o.status, o.address, o.caller_phone, o.created_at,
                   o.service_item_code, o.parent_id,
                   CASE WHEN o.service_item_code = $2 AND o.area_code IS NOT DISTINCT FROM $3
                             AND address_key($4) <> ''
                        THEN greatest(
                            similarity(address_key(o.address), address_key($4)),
                            word_similarity(address_key(o.address), address_key($4)),
                            word_similarity(address_key($4), address_key(o.address)))
                        ELSE 0 END AS address_similarity,
                   coalesce(o.citizen_id = $5, false) AS same_caller
              FROM work_orders o
             WHERE o.id IS DISTINCT FROM $1 AND o.created_at >= $6 AND o.status <> ALL($8::text[])
               AND ($9::text[] IS NULL OR o.hotline_code = ANY($9::text[]))
               AND ((o.service_item_code = $2 AND o.area_code IS NOT DISTINCT FROM $3)
                    OR o.citizen_id = $5)
        )
        SELECT * FROM candidates
         WHERE same_caller OR address_similarity >= $7
         ORDER BY same_caller DESC, address_similarity DESC, created_at DESC
         LIMIT 10
        """,
        order_id,
        item_code,
        area_code,
        address,
        citizen_id,
        since,
        similarity,
        excluded_statuses,
        hotlines,
    )


async def merge_root(conn: asyncpg.Connection, order_id: int) -> int | None:
    """The order ``order_id`` is merged into, following the chain (an order merged into
    an outage's parent that was itself merged later) to one not merged; itself if not,
    None if there is no such order."""
    root = await conn.fetchval(
        """
        WITH RECURSIVE up (id, parent_id, depth) AS (
            SELECT id, parent_id, 0 FROM work_orders WHERE id = $1
            UNION ALL
            SELECT w.id, w.parent_id, up.depth + 1
              FROM work_orders w JOIN up ON w.id = up.parent_id
             WHERE up.depth < 100
        )
        SELECT id FROM up ORDER BY depth DESC LIMIT 1
        """,
        order_id,
    )
    return None if root is None else int(root)


async def merged_children(
    conn: asyncpg.Connection, parent_id: int, hotlines: list[str] | None
) -> list[asyncpg.Record]:
    """The orders merged into this one, of ``hotlines`` (None: any)."""
    return await conn.fetch(
        "SELECT id, number, caller_phone, caller_name, created_at FROM work_orders "
        "WHERE parent_id = $1 AND ($2::text[] IS NULL OR hotline_code = ANY($2::text[])) "
        "ORDER BY id",
        parent_id,
        hotlines,
    )


# --------------------------------------------------------------------------- outages


async def insert_outage(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO outage_notices (domain, kind, title, description, area_codes, starts_at,
                                    ends_at, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *
        """,
        values["domain"],
        values["kind"],
        values["title"],
        values["description"],
        values["area_codes"],
        values["starts_at"],
        values["ends_at"],
        values["created_by"],
    )
    assert row is not None
    return row


# An outage runs from its start until its end unless it is cancelled ($1: the moment).
# The one definition: orders are linked to it, callers hear of it, the public guide
# shows it.
_RUNNING = "cancelled_at IS NULL AND starts_at <= $1 AND ends_at > $1"


async def active_outage_for(
    conn: asyncpg.Connection,
    *,
    domain: str,
    areas: list[str],
    at: dt.datetime,
    for_update: bool = True,
) -> asyncpg.Record | None:
    """The active outage covering one of ``areas`` (oldest first), locked for linking
    unless only looked at."""
    lock = "FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"""
        SELECT * FROM outage_notices
         WHERE {_RUNNING} AND domain = $2 AND area_codes && $3::text[]
         ORDER BY starts_at, id LIMIT 1
         {lock}
        """,
        at,
        domain,
        areas,
    )


async def running_outages(
    conn: asyncpg.Connection,
    at: dt.datetime,
    *,
    domains: Sequence[str],
    areas: Sequence[str] = (),
    limit: int | None = None,
) -> list[asyncpg.Record]:
    """The running outages of ``domains``: those covering one of ``areas`` first, then
    the newest first; all of them without a ``limit``.

    Read only, no lock: a greeting, a screen-pop and the public guide only show them
    (``active_outage_for`` locks the one an order is linked to)."""
    return await conn.fetch(
        f"""
        SELECT id, domain, kind, title, description, area_codes, starts_at, ends_at
          FROM outage_notices
         WHERE {_RUNNING} AND domain = ANY($2::text[])
         ORDER BY area_codes && $3::text[] DESC, starts_at DESC, id DESC
         LIMIT $4
        """,
        at,
        list(domains),
        list(areas),
        limit,
    )


async def set_outage_parent(conn: asyncpg.Connection, outage_id: int, order_id: int) -> None:
    await conn.execute(
        "UPDATE outage_notices SET parent_order_id = $2 WHERE id = $1", outage_id, order_id
    )


async def list_outages(conn: asyncpg.Connection, at: dt.datetime) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM outage_notices WHERE cancelled_at IS NULL AND ends_at > $1 "
        "ORDER BY starts_at",
        at,
    )


# ----------------------------------------------------------------------- attachments


async def insert_attachment(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        INSERT INTO attachments (order_id, dispatch_id, filename, content_type, size_bytes,
                                 sha256, storage_key, uploaded_by, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING id, order_id, dispatch_id, filename, content_type, size_bytes, sha256,
                  uploaded_by, created_at
        """,
        values["order_id"],
        values["dispatch_id"],
        values["filename"],
        values["content_type"],
        values["size_bytes"],
        values["sha256"],
        values["storage_key"],
        values["uploaded_by"],
        values["now"],
    )
    assert row is not None
    return row


async def attachment_ids_of_order(
    conn: asyncpg.Connection, order_id: int, ids: list[int]
) -> set[int]:
    rows = await conn.fetch(
        "SELECT id FROM attachments WHERE id = ANY($1::bigint[]) AND order_id = $2",
        ids,
        order_id,
    )
    return {r["id"] for r in rows}


async def get_attachment(conn: asyncpg.Connection, attachment_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM attachments WHERE id = $1", attachment_id)


ATTACHMENT_COLUMNS = (
    "id, order_id, dispatch_id, filename, content_type, size_bytes, uploaded_by, created_at"
)


async def order_attachments(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE order_id = $1 ORDER BY id",
        order_id,
    )


async def attachments_of_orders(
    conn: asyncpg.Connection, order_ids: list[int]
) -> list[asyncpg.Record]:
    """The files of several orders (an inbox page), oldest first."""
    return await conn.fetch(
        f"SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE order_id = ANY($1::bigint[]) "
        "ORDER BY id",
        order_ids,
    )


# ------------------------------------------------------------------------ suspensions


async def insert_suspension(conn: asyncpg.Connection, values: dict[str, Any]) -> asyncpg.Record:
    return await conn.fetchrow(
        """
        INSERT INTO order_suspensions (order_id, dispatch_id, enterprise_id, time_request_id,
                                       started_at, resume_by, remaining_seconds,
                                       remaining_unit, warning_seconds)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *
        """,
        values["order_id"],
        values["dispatch_id"],
        values["enterprise_id"],
        values["time_request_id"],
        values["started_at"],
        values["resume_by"],
        values["remaining_seconds"],
        values["remaining_unit"],
        values["warning_seconds"],
    )


async def open_suspension(conn: asyncpg.Connection, order_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM order_suspensions WHERE order_id = $1 AND ended_at IS NULL FOR UPDATE",
        order_id,
    )


async def end_suspension(
    conn: asyncpg.Connection, order_id: int, *, now: dt.datetime, by: str
) -> asyncpg.Record | None:
    """The order's open suspension ended (None if it had none)."""
    return await conn.fetchrow(
        "UPDATE order_suspensions SET ended_at = $2, ended_by = $3 "
        "WHERE order_id = $1 AND ended_at IS NULL RETURNING *",
        order_id,
        now,
        by,
    )


async def order_suspensions(
    conn: asyncpg.Connection, order_id: int, now: dt.datetime
) -> list[asyncpg.Record]:
    """The order's suspensions, oldest first, with the time each lasted (until ``now``
    for one still open)."""
    return await conn.fetch(
        """
        SELECT s.id, s.enterprise_id, s.started_at, s.resume_by, s.ended_at, s.ended_by,
               s.remaining_seconds::float8 AS remaining_seconds, s.remaining_unit,
               extract(epoch FROM coalesce(s.ended_at, $2) - s.started_at)::float8
                   AS suspended_seconds
          FROM order_suspensions s
         WHERE s.order_id = $1 ORDER BY s.id
        """,
        order_id,
        now,
    )


# --------------------------------------------------------------------- on-site visits


async def insert_visit(
    conn: asyncpg.Connection,
    *,
    order_id: int,
    round: int,
    reason: str,
    texts: dict[str, Any],
    due_at: dt.datetime,
    now: dt.datetime,
) -> asyncpg.Record | None:
    """The round's visit, once: None when it was already opened."""
    return await conn.fetchrow(
        """
        INSERT INTO onsite_visits (order_id, round, reason, texts, due_at, created_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (order_id, round) DO NOTHING
        RETURNING *
        """,
        order_id,
        round,
        reason,
        texts,
        due_at,
        now,
    )


async def pending_visit(
    conn: asyncpg.Connection, order_id: int, *, for_update: bool = False
) -> asyncpg.Record | None:
    lock = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(
        f"SELECT * FROM onsite_visits WHERE order_id = $1 AND state = 'pending'{lock}", order_id
    )


async def get_visit(conn: asyncpg.Connection, visit_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM onsite_visits WHERE id = $1", visit_id)


async def order_visits(conn: asyncpg.Connection, order_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM onsite_visits WHERE order_id = $1 ORDER BY round", order_id
    )


async def record_visit(
    conn: asyncpg.Connection, visit_id: int, fields: dict[str, Any]
) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        UPDATE onsite_visits
           SET state = 'recorded', dispatch_id = $2, enterprise_id = $3, visited_at = $4,
               visitors = $5, findings = $6, attachment_ids = $7,
               citizen_confirmation = $8, recorded_by = $9, recorded_at = $10
         WHERE id = $1 AND state = 'pending'
        RETURNING *
        """,
        visit_id,
        fields["dispatch_id"],
        fields["enterprise_id"],
        fields["visited_at"],
        fields["visitors"],
        fields["findings"],
        fields["attachment_ids"],
        fields["citizen_confirmation"],
        fields["recorded_by"],
        fields["now"],
    )
    assert row is not None  # the caller holds the pending row's lock
    return row


async def rule_visit(
    conn: asyncpg.Connection, visit_id: int, *, ruled_by: str, ruling: str, now: dt.datetime
) -> None:
    await conn.execute(
        """
        UPDATE onsite_visits SET state = 'ruled', ruled_by = $2, ruling = $3, ruled_at = $4
         WHERE id = $1 AND state = 'pending'
        """,
        visit_id,
        ruled_by,
        ruling,
        now,
    )


async def round_visit(conn: asyncpg.Connection, order_id: int, round: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM onsite_visits WHERE order_id = $1 AND round = $2", order_id, round
    )
