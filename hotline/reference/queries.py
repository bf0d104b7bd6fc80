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
        SELECT e.id, e.code, e.parent_id, p.code AS parent_code, e.kind, e.name_zh, e.name_en,
               e.domains, e.hotline_code, e.active,
               (SELECT count(*) FROM service_windows w WHERE w.enterprise_id = e.id) AS windows
          FROM enterprises e
          LEFT JOIN enterprises p ON p.id = e.parent_id
         ORDER BY e.parent_id NULLS FIRST, e.id
        """
    )


async def get_enterprise_by_code(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    """The row, with its parent's code (``parent_code``: a branch is written naming it)."""
    return await conn.fetchrow(
        """
        SELECT e.*, p.code AS parent_code
          FROM enterprises e
          LEFT JOIN enterprises p ON p.id = e.parent_id
         WHERE e.code = $1
        """,
        code,
    )


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


async def years_kept_by_administrators(conn: asyncpg.Connection) -> set[int]:
    """The calendar's years an administrator confirmed or changed (imported, edited a
    day: the history's entity ``calendar_year``); none in a database migrated only part
    of the way, before years were kept."""
    if await conn.fetchval("SELECT to_regclass('calendar_years')") is None:
        return set()
    rows = await conn.fetch(
        """
        SELECT year FROM calendar_years WHERE confirmed_by IS NOT NULL
        UNION
        SELECT entity_key::integer FROM admin_changes
         WHERE entity = 'calendar_year' AND entity_key ~ '^[0-9]{4}$'
        """
    )
    return {r["year"] for r in rows}


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
    "classification_codes": "code",
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


# The national classification of hotline services, GB/T 39666 (migration 0052).

# A code with the names of the classes it sits in: its major class, its middle class (a
# middle or minor code) and itself.
_CLASSIFICATION_PATH = """
    SELECT c.code, c.level, c.parent_code, c.name_zh, c.name_en, c.active,
           c.created_at, c.updated_at,
           major.code AS major_code, major.name_zh AS major_name_zh,
           major.name_en AS major_name_en,
           middle.code AS middle_code, middle.name_zh AS middle_name_zh,
           middle.name_en AS middle_name_en,
           minor.code AS minor_code, minor.name_zh AS minor_name_zh,
           minor.name_en AS minor_name_en
      FROM classification_codes c
      JOIN classification_codes major ON major.code = left(c.code, 2) || '0000'
      LEFT JOIN classification_codes middle
             ON c.level <> 'major' AND middle.code = left(c.code, 4) || '00'
      LEFT JOIN classification_codes minor ON c.level = 'minor' AND minor.code = c.code
"""


async def list_classifications(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every code, retired too, by code (a class before what sits in it), with the names
    of its classes and how many active service items are mapped to it."""
    return await conn.fetch(
        f"""
        SELECT p.*, (SELECT count(*) FROM service_items i
                      WHERE i.classification_code = p.code AND i.active) AS items
          FROM ({_CLASSIFICATION_PATH}) p
         ORDER BY p.code
        """
    )


async def classification_path(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    """One code with the names of its classes."""
    return await conn.fetchrow(_CLASSIFICATION_PATH + " WHERE c.code = $1", code)


async def get_classification(conn: asyncpg.Connection, code: str) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM classification_codes WHERE code = $1", code)


async def classification_codes(conn: asyncpg.Connection, codes: list[str]) -> list[asyncpg.Record]:
    """The rows of ``codes`` that exist (an import's check and its record)."""
    return await conn.fetch(
        "SELECT * FROM classification_codes WHERE code = ANY($1::text[]) ORDER BY code", codes
    )


async def upsert_classification(
    conn: asyncpg.Connection, code: str, name_zh: str, name_en: str
) -> None:
    """A code with its names: new ones active, known ones renamed (their state kept)."""
    await conn.execute(
        """
        INSERT INTO classification_codes (code, name_zh, name_en) VALUES ($1, $2, $3)
        ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh,
            name_en = EXCLUDED.name_en
         WHERE (classification_codes.name_zh, classification_codes.name_en)
               IS DISTINCT FROM (EXCLUDED.name_zh, EXCLUDED.name_en)
        """,
        code,
        name_zh,
        name_en,
    )


async def insert_missing_classification(
    conn: asyncpg.Connection, code: str, name_zh: str, name_en: str
) -> None:
    """A code unless it exists: the demo's set never overwrites an administrator's."""
    await conn.execute(
        """
        INSERT INTO classification_codes (code, name_zh, name_en) VALUES ($1, $2, $3)
        ON CONFLICT (code) DO NOTHING
        """,
        code,
        name_zh,
        name_en,
    )


async def set_item_classification(
    conn: asyncpg.Connection, item_code: str, classification: str | None
) -> None:
    await conn.execute(
        "UPDATE service_items SET classification_code = $2 WHERE code = $1"
        " AND classification_code IS DISTINCT FROM $2",
        item_code,
        classification,
    )


async def classification_in_use(conn: asyncpg.Connection, code: str) -> asyncpg.Record:
    """What still needs ``code``: the active items mapped to it or to a class under it,
    and its active sub-classes."""
    return await conn.fetchrow(
        """
        SELECT
          (SELECT coalesce(array_agg(i.code ORDER BY i.code), '{}') FROM service_items i
            WHERE i.active AND i.classification_code IN (
                  SELECT c.code FROM classification_codes c
                   WHERE c.code = $1 OR c.parent_code = $1
                      OR c.parent_code IN (SELECT code FROM classification_codes
                                            WHERE parent_code = $1))) AS items,
          (SELECT count(*) FROM classification_codes c
            WHERE c.parent_code = $1 AND c.active) AS classes
        """,
        code,
    )
