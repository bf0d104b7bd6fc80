"""SQL for the area suggestion: the seed gazetteer, the orders naming a road, and the
caller's own history."""

from __future__ import annotations

import asyncpg

# asyncpg has no types: each fetch is wrapped in list() so mypy sees the declared type
# (the "*.queries" modules are exempted in pyproject.toml instead; this name is not).


async def upsert_seed_road(
    conn: asyncpg.Connection, name: str, street_code: str, road: str
) -> None:
    await conn.execute(
        """
        INSERT INTO seed_roads (name, street_code, road) VALUES ($1, $2, $3)
        ON CONFLICT (name, street_code) DO UPDATE SET road = EXCLUDED.road
        """,
        name,
        street_code,
        road,
    )


async def seed_roads_in(conn: asyncpg.Connection, address: str) -> list[asyncpg.Record]:
    """The seed's names that ``address`` contains, with their street and its district.
    The seed is a few hundred rows: reading them all is cheaper than any index."""
    return list(
        await conn.fetch(
            """
            SELECT s.name, s.road, s.street_code, a.parent_code AS district_code
              FROM seed_roads s JOIN areas a ON a.code = s.street_code
             WHERE strpos($1, s.name) > 0
             ORDER BY strpos($1, s.name), length(s.name) DESC, s.street_code
            """,
            address,
        )
    )


# For each road, the streets of registered orders whose address names it.
STREETS_OF_ROADS = """
    SELECT r.road, o.area_code AS street_code, o.parent_code AS district_code,
           count(*)::int AS orders
      FROM unnest($1::text[]) WITH ORDINALITY AS r (road, position)
     CROSS JOIN LATERAL (
           SELECT w.area_code, a.parent_code
             FROM work_orders w JOIN areas a ON a.code = w.area_code
            WHERE w.address LIKE '%' || r.road || '%'
              AND w.area_code IS NOT NULL AND w.status <> 'draft'
              AND a.level = 'street'
            LIMIT $2) o
     GROUP BY r.position, r.road, o.area_code, o.parent_code
     ORDER BY r.position, orders DESC, o.area_code
"""


async def streets_of_roads(
    conn: asyncpg.Connection, roads: list[str], limit: int
) -> list[asyncpg.Record]:
    """For each road, how many registered orders with a street (街道) as their area name
    it in their address, per street; at most ``limit`` orders are read per road, so a
    road named by thousands of orders costs no more than one named by a few hundred."""
    return list(await conn.fetch(STREETS_OF_ROADS, roads, limit))


# The caller's profile place (created_at null) and their latest orders with an area.
CALLER_HISTORY = """
    WITH c AS (SELECT id, area_code, address FROM citizens WHERE phone = $1)
    SELECT c.area_code, c.address, NULL::timestamptz AS created_at
      FROM c WHERE c.area_code IS NOT NULL
    UNION ALL
    (SELECT w.area_code, w.address, w.created_at
       FROM work_orders w JOIN c ON w.citizen_id = c.id
      WHERE w.area_code IS NOT NULL AND w.status <> 'draft'
      ORDER BY w.created_at DESC LIMIT $2)
"""


async def caller_history(conn: asyncpg.Connection, phone: str, limit: int) -> list[asyncpg.Record]:
    """The caller's profile place (``created_at`` null) and the areas and addresses of
    their latest registered orders with an area."""
    return list(await conn.fetch(CALLER_HISTORY, phone, limit))
