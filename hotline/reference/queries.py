"""SQL for the reference data: hotlines, areas, enterprises, the catalogue, the calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from hotline.orders.lifecycle import OPEN


async def list_hotlines(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM hotlines ORDER BY code")


async def get_hotline(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM hotlines WHERE code = $1", code)


async def list_areas(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT * FROM areas ORDER BY level, code")


async def get_area(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM areas WHERE code = $1", code)


async def list_enterprises(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        """
        SELECT e.id, e.code, e.parent_id, e.kind, e.name_zh, e.name_en, e.domains,
               e.hotline_code, e.active,
               (SELECT count(*) FROM service_windows w WHERE w.enterprise_id = e.id) AS windows
          FROM enterprises e
         ORDER BY e.parent_id NULLS FIRST, e.id
        """
    )


async def get_enterprise_by_code(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM enterprises WHERE code = $1", code)


async def list_service_items(
    conn: asyncpg.Connection, *, retired: bool = False
) -> list[asyncpg.Record]:
    """The catalogue; with ``retired`` also items no longer offered (old orders use them)."""
    return await conn.fetch(
        "SELECT * FROM service_items WHERE active OR $1 ORDER BY domain NULLS LAST, code",
        retired,
    )


async def get_service_item(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM service_items WHERE code = $1", code)


async def calendar_overrides(conn: asyncpg.Connection) -> dict[dt.date, bool]:
    rows = await conn.fetch("SELECT day, workday FROM calendar_days")
    return {r["day"]: r["workday"] for r in rows}


async def count_hotlines(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM hotlines"))


async def upsert_hotline(conn: asyncpg.Connection, h: dict[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO hotlines (code, name_zh, name_en, number, voice_number, domain,
                              greeting_zh, greeting_en, fixed_sms)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (code) DO UPDATE SET
            name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en, number = EXCLUDED.number,
            voice_number = EXCLUDED.voice_number, domain = EXCLUDED.domain,
            greeting_zh = EXCLUDED.greeting_zh, greeting_en = EXCLUDED.greeting_en,
            fixed_sms = EXCLUDED.fixed_sms
        """,
        h["code"],
        h["name_zh"],
        h["name_en"],
        h["number"],
        h.get("voice_number"),
        h.get("domain"),
        h.get("greeting_zh", ""),
        h.get("greeting_en", ""),
        h.get("fixed_sms", False),
    )


async def upsert_area(conn: asyncpg.Connection, a: dict[str, Any], parent_code: str | None) -> None:
    await conn.execute(
        """
        INSERT INTO areas (code, parent_code, level, name_zh, name_en)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (code) DO UPDATE SET
            parent_code = EXCLUDED.parent_code, level = EXCLUDED.level,
            name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en
        """,
        a["code"],
        parent_code,
        "street" if parent_code else "district",
        a["name_zh"],
        a["name_en"],
    )


async def upsert_enterprise(
    conn: asyncpg.Connection, e: dict[str, Any], *, kind: str, parent_id: int | None
) -> int:
    return int(
        await conn.fetchval(
            """
            INSERT INTO enterprises (code, parent_id, kind, name_zh, name_en, domains,
                                     hotline_code)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (code) DO UPDATE SET
                parent_id = EXCLUDED.parent_id, kind = EXCLUDED.kind,
                name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en,
                domains = EXCLUDED.domains, hotline_code = EXCLUDED.hotline_code
            RETURNING id
            """,
            e["code"],
            parent_id,
            kind,
            e["name_zh"],
            e["name_en"],
            e.get("domains", []),
            e.get("hotline"),
        )
    )


async def upsert_window(conn: asyncpg.Connection, enterprise_id: int, w: dict[str, Any]) -> None:
    await conn.execute(
        """
        INSERT INTO service_windows (enterprise_id, code, name_zh, name_en, area_code)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (code) DO UPDATE SET
            enterprise_id = EXCLUDED.enterprise_id, name_zh = EXCLUDED.name_zh,
            name_en = EXCLUDED.name_en, area_code = EXCLUDED.area_code
        """,
        enterprise_id,
        w["code"],
        w["name_zh"],
        w["name_en"],
        w.get("area"),
    )


async def upsert_service_item(conn: asyncpg.Connection, item: dict[str, Any]) -> None:
    """One catalogue entry; ``urgent`` (natural hours) is optional: an item without it
    has no urgent limits. ``visit_after_bad_rating`` (上门回访 after an unsatisfied
    callback) defaults to on for repairs, off for the rest."""
    urgent = item.get("urgent") or {}
    await conn.execute(
        """
        INSERT INTO service_items (code, domain, kind, name_zh, name_en,
            sign_for_amount, sign_for_unit, first_contact_amount, first_contact_unit,
            resolution_amount, resolution_unit, keywords, urgent_sign_for_hours,
            urgent_first_contact_hours, urgent_resolution_hours, visit_after_bad_rating)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        ON CONFLICT (code) DO UPDATE SET
            domain = EXCLUDED.domain, kind = EXCLUDED.kind, name_zh = EXCLUDED.name_zh,
            name_en = EXCLUDED.name_en, sign_for_amount = EXCLUDED.sign_for_amount,
            sign_for_unit = EXCLUDED.sign_for_unit,
            first_contact_amount = EXCLUDED.first_contact_amount,
            first_contact_unit = EXCLUDED.first_contact_unit,
            resolution_amount = EXCLUDED.resolution_amount,
            resolution_unit = EXCLUDED.resolution_unit, keywords = EXCLUDED.keywords,
            urgent_sign_for_hours = EXCLUDED.urgent_sign_for_hours,
            urgent_first_contact_hours = EXCLUDED.urgent_first_contact_hours,
            urgent_resolution_hours = EXCLUDED.urgent_resolution_hours,
            visit_after_bad_rating = EXCLUDED.visit_after_bad_rating
        """,
        item["code"],
        item["domain"],
        item["kind"],
        item["name_zh"],
        item["name_en"],
        item["sign_for"]["amount"],
        item["sign_for"]["unit"],
        item["first_contact"]["amount"],
        item["first_contact"]["unit"],
        item["resolution"]["amount"],
        item["resolution"]["unit"],
        item["keywords"],
        urgent.get("sign_for_hours"),
        urgent.get("first_contact_hours"),
        urgent.get("resolution_hours"),
        item.get("visit_after_bad_rating", item["kind"] == "repair"),
    )


async def upsert_calendar_day(
    conn: asyncpg.Connection, day: dt.date, workday: bool, name: str, source: str
) -> None:
    await conn.execute(
        """
        INSERT INTO calendar_days (day, workday, name, source) VALUES ($1, $2, $3, $4)
        ON CONFLICT (day) DO UPDATE SET workday = EXCLUDED.workday, name = EXCLUDED.name,
            source = EXCLUDED.source, updated_at = now()
        """,
        day,
        workday,
        name,
        source,
    )


# Administration (hotline/reference/admin.py): reads for its checks, and the active flag.

# An order still being worked on (drafts have no item yet; done orders need nothing).
OPEN_PREDICATE_O = "status IN (" + ", ".join(f"'{s.value}'" for s in sorted(OPEN)) + ")"


async def get_enterprise_by_id(
    conn: asyncpg.Connection, enterprise_id: int
) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM enterprises WHERE id = $1", enterprise_id)


async def list_windows(conn: asyncpg.Connection, enterprise_id: int) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM service_windows WHERE enterprise_id = $1 ORDER BY code", enterprise_id
    )


async def get_window(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM service_windows WHERE code = $1", code)


# The tables an administrator retires a row of, and the column naming the row.
RETIRABLE = {
    "areas": "code",
    "enterprises": "code",
    "service_windows": "code",
    "service_items": "code",
}


async def set_active(conn: asyncpg.Connection, table: str, code: str, active: bool) -> None:
    await conn.execute(
        f"UPDATE {table} SET active = $2 WHERE {RETIRABLE[table]} = $1", code, active
    )


async def area_in_use(conn: asyncpg.Connection, code: str) -> asyncpg.Record:
    """What still needs area ``code`` (a district: also its streets): open orders, active
    streets, active windows, active routing rules."""
    return await conn.fetchrow(
        f"""
        WITH covered AS (SELECT code FROM areas WHERE code = $1 OR parent_code = $1)
        SELECT
          (SELECT count(*) FROM work_orders o WHERE o.area_code IN (SELECT code FROM covered)
              AND o.{OPEN_PREDICATE_O}) AS orders,
          (SELECT count(*) FROM areas a WHERE a.parent_code = $1 AND a.active) AS streets,
          (SELECT count(*) FROM service_windows w WHERE w.area_code = $1 AND w.active) AS windows,
          (SELECT count(*) FROM routing_rules r WHERE r.area_code = $1 AND r.active) AS rules
        """,
        code,
    )


async def item_in_use(conn: asyncpg.Connection, code: str) -> asyncpg.Record:
    """What still needs service item ``code``: its open orders."""
    return await conn.fetchrow(
        f"""
        SELECT (SELECT count(*) FROM work_orders o WHERE o.service_item_code = $1
                   AND o.{OPEN_PREDICATE_O}) AS orders
        """,
        code,
    )


async def enterprise_in_use(conn: asyncpg.Connection, enterprise_id: int) -> asyncpg.Record:
    """What still needs a unit: its live dispatches, active branches, active rules."""
    return await conn.fetchrow(
        """
        SELECT
          (SELECT count(*) FROM dispatches d WHERE d.enterprise_id = $1
              AND d.state IN ('pending', 'signed')) AS dispatches,
          (SELECT count(*) FROM enterprises b WHERE b.parent_id = $1 AND b.active) AS branches,
          (SELECT count(*) FROM routing_rules r WHERE r.active
              AND ($1 = ANY (r.candidates) OR $1 = ANY (r.assisting))) AS rules
        """,
        enterprise_id,
    )
