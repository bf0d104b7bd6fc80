"""SQL for the calendar's years and their days."""

from __future__ import annotations

import datetime as dt

import asyncpg

from hotline.calendar_admin.check import DayEntry


def _entry(row: asyncpg.Record) -> DayEntry:
    # Stored days as they are: one entered with SQL may lack the name a file must give.
    return DayEntry.model_construct(date=row["day"], workday=row["workday"], name=row["name"])


def _bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)


async def list_years(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """
        SELECT y.year, y.state, y.source, y.updated_at, y.confirmed_at,
               u.username AS confirmed_by,
               count(d.day) FILTER (WHERE NOT d.workday) AS holidays,
               count(d.day) FILTER (WHERE d.workday) AS workdays
          FROM calendar_years y
          LEFT JOIN calendar_days d
                 ON d.day >= make_date(y.year, 1, 1) AND d.day < make_date(y.year + 1, 1, 1)
          LEFT JOIN users u ON u.id = y.confirmed_by
         GROUP BY y.year, u.username
         ORDER BY y.year
        """
        )
    )


async def get_year(
    conn: asyncpg.Connection, year: int, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        """
        SELECT y.year, y.state, y.source, y.updated_at, y.confirmed_at,
               u.username AS confirmed_by
          FROM calendar_years y LEFT JOIN users u ON u.id = y.confirmed_by
         WHERE y.year = $1
        """
        + (" FOR UPDATE OF y" if lock else ""),
        year,
    )


async def year_days(conn: asyncpg.Connection, year: int) -> list[DayEntry]:
    rows = await conn.fetch(
        "SELECT day, workday, name FROM calendar_days WHERE day >= $1 AND day < $2 ORDER BY day",
        *_bounds(year),
    )
    return [_entry(r) for r in rows]


async def all_days(conn: asyncpg.Connection) -> list[DayEntry]:
    rows = await conn.fetch("SELECT day, workday, name FROM calendar_days ORDER BY day")
    return [_entry(r) for r in rows]


async def mark_year(conn: asyncpg.Connection, year: int, source: str | None) -> None:
    """The year provisional (a change to its days needs confirming again); its source
    replaced when one is given."""
    await conn.execute(
        """
        INSERT INTO calendar_years (year, state, source)
        VALUES ($1, 'provisional', coalesce($2, ''))
        ON CONFLICT (year) DO UPDATE SET
            state = 'provisional', source = coalesce($2, calendar_years.source),
            updated_at = now(), confirmed_by = NULL, confirmed_at = NULL
        """,
        year,
        source,
    )


async def confirm_year(
    conn: asyncpg.Connection, year: int, source: str | None, user_id: int | None, now: dt.datetime
) -> None:
    await conn.execute(
        """
        UPDATE calendar_years
           SET state = 'confirmed', source = coalesce($2, source), updated_at = $4,
               confirmed_by = $3, confirmed_at = $4
         WHERE year = $1
        """,
        year,
        source,
        user_id,
        now,
    )


async def replace_days(
    conn: asyncpg.Connection, year: int, days: list[DayEntry], source: str
) -> None:
    await conn.execute("DELETE FROM calendar_days WHERE day >= $1 AND day < $2", *_bounds(year))
    await conn.executemany(
        "INSERT INTO calendar_days (day, workday, name, source) VALUES ($1, $2, $3, $4)",
        [(d.date, d.workday, d.name, source) for d in days],
    )


async def set_day(conn: asyncpg.Connection, day: DayEntry, source: str) -> None:
    await conn.execute(
        """
        INSERT INTO calendar_days (day, workday, name, source) VALUES ($1, $2, $3, $4)
        ON CONFLICT (day) DO UPDATE SET workday = EXCLUDED.workday, name = EXCLUDED.name,
            source = EXCLUDED.source, updated_at = now()
        """,
        day.date,
        day.workday,
        day.name,
        source,
    )


async def remove_day(conn: asyncpg.Connection, day: dt.date) -> bool:
    return (
        await conn.fetchval("DELETE FROM calendar_days WHERE day = $1 RETURNING true", day) is True
    )
