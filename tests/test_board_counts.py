"""The board's counts kept by the writes (migrations 0013, 0057): whatever is written,
and whether its changes are folded yet or not, each counter equals a count of the
tables from scratch, at any instant, on the hour or between hours; so do the periodic
report's overdue and late counts, per hotline. The overdue list reads the open orders
by due time."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from redis import Redis
from rq import Queue

from hotline import db
from hotline.board.queries import board_counters
from hotline.migrate import migrate
from hotline.orders import queries as order_queries
from hotline.orders.lifecycle import OPEN, Status
from hotline.relay import Relay
from reports.periodic import queries as report_queries
from tests.factories import dispatch_to, order_in_status
from tests.process_support import migrations_before
from tests.routing_support import Desk, open_desks
from wiring.seed import seed_reference

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Far from the other tests' orders, so that the lists below are these tests' alone.
T0 = dt.datetime(2031, 3, 5, 10, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


async def counted_from_scratch(
    conn: asyncpg.Connection, day_start: dt.datetime, now: dt.datetime, soon: dt.datetime
) -> dict[str, int]:
    """The board's counters as plain counts of the tables."""
    row = await conn.fetchrow(
        """
        SELECT
          (SELECT count(*) FROM work_orders WHERE status <> 'draft' AND created_at >= $2)
              AS registered_today,
          (SELECT count(*) FROM work_orders WHERE status = ANY($1)) AS open,
          (SELECT count(*) FROM work_orders WHERE status = ANY($1) AND resolution_due_at >= $3
              AND resolution_due_at < $4) AS due_soon,
          (SELECT count(*) FROM work_orders WHERE status = ANY($1)
              AND resolution_due_at < $3) AS overdue,
          (SELECT count(*) FROM work_orders WHERE status = 'escalated') AS in_coordination,
          (SELECT count(*) FROM order_returns WHERE state = 'pending') AS returns_pending,
          (SELECT count(*) FROM time_requests WHERE state = 'pending') AS time_requests_pending,
          (SELECT count(*) FROM work_orders WHERE status IN ('completed', 'callback'))
              AS callbacks_due,
          (SELECT count(*) FROM work_orders WHERE status = 'draft') AS drafts
        """,
        sorted(OPEN),
        day_start,
        now,
        soon,
    )
    assert row is not None
    return dict(row)


# Instants on the hour, just after it, just before the next, with "soon" in the same
# hour or hours later, and a day that starts on the hour or between hours.
PROBES = [
    (T0.astimezone(SHANGHAI).replace(hour=0), T0, T0 + 4 * 60 * MINUTE),
    (T0 - 150 * MINUTE, T0 + 17 * MINUTE, T0 + 37 * MINUTE),
    (T0 - 3 * MINUTE, T0 + 59 * MINUTE + dt.timedelta(seconds=59), T0 + 5 * 60 * MINUTE),
    (T0 - 20 * 60 * MINUTE, T0 - 61 * MINUTE, T0 + 241 * MINUTE),
]


HOTLINES = ["12319", "96111", "96556"]


async def assert_counts_exact(conn: asyncpg.Connection) -> None:
    for day_start, now, soon in PROBES:
        kept = await board_counters(conn, day_start=day_start, now=now, soon=soon)
        assert kept == await counted_from_scratch(conn, day_start, now, soon), (now, soon)
    await assert_report_counts_exact(conn)


async def assert_report_counts_exact(conn: asyncpg.Connection) -> None:
    """The periodic report's overdue and late counts (the kept counts by hotline, the
    minutes at the ends from the orders) against plain counts, for all hotlines, one
    and two, over periods on the hour, across hours and within one."""
    for codes in (None, ["96111"], ["12319", "96556"]):
        for day_start, now, soon in PROBES:
            for start, end in ((day_start, now), (now, soon), (day_start, soon)):
                count, _ = await report_queries.completed_late(conn, start, end, codes, 1)
                assert count == await conn.fetchval(
                    """
                    SELECT count(*) FROM work_orders
                     WHERE completed_at >= $1 AND completed_at < $2
                       AND completed_at > resolution_due_at
                       AND ($3::text[] IS NULL OR hotline_code = ANY($3::text[]))
                    """,
                    start,
                    end,
                    codes,
                ), (start, end, codes)
            for before in (day_start, now, soon):
                count, _ = await report_queries.overdue(conn, before, codes, 1)
                assert count == await conn.fetchval(
                    """
                    SELECT count(*) FROM work_orders
                     WHERE status = ANY($1) AND resolution_due_at < $2
                       AND ($3::text[] IS NULL OR hotline_code = ANY($3::text[]))
                    """,
                    sorted(OPEN),
                    before,
                    codes,
                ), (before, codes)


def some_time(rng: random.Random, minutes: int) -> dt.datetime:
    """Within ``minutes`` either side of T0, to the second (most not on the hour)."""
    return T0 + dt.timedelta(seconds=rng.randint(-minutes * 60, minutes * 60))


async def write_everything(conn: asyncpg.Connection, rng: random.Random) -> list[int]:
    """Orders in every status, due or not; returns and time requests, pending and
    decided. Returns the new orders' ids."""
    ids = []
    for _ in range(120):
        order = await order_in_status(conn, rng.choice(list(Status)), some_time(rng, 3 * 1440))
        due = None if rng.random() < 0.2 else some_time(rng, 2 * 1440)
        completed = None if rng.random() < 0.3 else some_time(rng, 2 * 1440)
        await conn.execute(
            "UPDATE work_orders SET resolution_due_at = $2, completed_at = $3, hotline_code = $4"
            " WHERE id = $1",
            order["id"],
            due,
            completed,
            rng.choice(HOTLINES),
        )
        ids.append(order["id"])
    # And at every probe's bounds, a second either side.
    second = dt.timedelta(seconds=1)
    for day_start, now, soon in PROBES:
        for at in (day_start, now, soon):
            for when in (at - second, at, at + second):
                order = await order_in_status(conn, rng.choice(sorted(OPEN)), when)
                await conn.execute(
                    "UPDATE work_orders SET resolution_due_at = $2 WHERE id = $1",
                    order["id"],
                    when,
                )
                # and one completed then, late
                done = await order_in_status(conn, "closed", when - dt.timedelta(days=2))
                await conn.execute(
                    "UPDATE work_orders SET resolution_due_at = $2, completed_at = $3,"
                    " hotline_code = $4 WHERE id = $1",
                    done["id"],
                    when - dt.timedelta(hours=1),
                    when,
                    rng.choice(HOTLINES),
                )
                ids += [order["id"], done["id"]]
    for order_id in rng.sample(ids, 30):
        dispatch = await dispatch_to(conn, order_id, "qd-water", T0)
        if rng.random() < 0.5:
            await conn.execute(
                "INSERT INTO order_returns (order_id, dispatch_id, enterprise_id, reason_code,"
                " returned_by, created_at, state) VALUES ($1, $2, $3, 'other', 't', $4, $5)",
                order_id,
                dispatch["id"],
                dispatch["enterprise_id"],
                T0,
                rng.choice(["pending", "pending", "upheld"]),
            )
        else:
            await conn.execute(
                "INSERT INTO time_requests (order_id, dispatch_id, kind, reason,"
                " requested_due_at, requested_by, created_at, state)"
                " VALUES ($1, $2, 'extension', 't', $3, 't', $3, $4)",
                order_id,
                dispatch["id"],
                T0,
                rng.choice(["pending", "approved"]),
            )
    return ids


async def change_everything(conn: asyncpg.Connection, rng: random.Random, ids: list[int]) -> None:
    """Moves, new deadlines (some taken away), new registration and completion times,
    other hotlines, decisions, and orders deleted: every write the triggers follow."""
    for _ in range(300):
        order_id = rng.choice(ids)
        change = rng.randrange(6)
        if change == 0:
            await conn.execute(
                "UPDATE work_orders SET status = $2 WHERE id = $1",
                order_id,
                rng.choice(list(Status)),
            )
        elif change == 1:
            due = None if rng.random() < 0.2 else some_time(rng, 2 * 1440)
            await conn.execute(
                "UPDATE work_orders SET resolution_due_at = $2 WHERE id = $1", order_id, due
            )
        elif change == 2:
            await conn.execute(
                "UPDATE work_orders SET created_at = $2 WHERE id = $1",
                order_id,
                some_time(rng, 3 * 1440),
            )
        elif change == 3:
            completed = None if rng.random() < 0.2 else some_time(rng, 2 * 1440)
            await conn.execute(
                "UPDATE work_orders SET completed_at = $2 WHERE id = $1", order_id, completed
            )
        elif change == 4:
            await conn.execute(
                "UPDATE work_orders SET hotline_code = $2 WHERE id = $1",
                order_id,
                rng.choice(HOTLINES),
            )
        else:
            await conn.execute(
                "UPDATE work_orders SET status = status WHERE id = $1", order_id
            )  # no change: nothing to count
    await conn.execute(
        "UPDATE order_returns SET state = 'overruled' WHERE state = 'pending' AND created_at = $1",
        T0,
    )
    await conn.execute(
        "UPDATE time_requests SET state = 'rejected' WHERE id IN "
        "(SELECT id FROM time_requests WHERE state = 'pending' AND created_at = $1 LIMIT 3)",
        T0,
    )
    await conn.execute(
        "DELETE FROM work_orders WHERE id = ANY($1) AND NOT EXISTS "
        "(SELECT 1 FROM dispatches d WHERE d.order_id = work_orders.id)",
        rng.sample(ids, 20),
    )


async def fold_all(conn: asyncpg.Connection, batch: int = 5000) -> int:
    folded = 0
    while taken := await order_queries.fold_board_counts(conn, batch):
        folded += taken
    return folded


async def kept_rows(conn: asyncpg.Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await conn.fetch("SELECT * FROM board_counts ORDER BY 1, 2, 3")]


async def test_every_count_is_exact_before_and_after_its_changes_are_folded(
    pool: asyncpg.Pool,
) -> None:
    rng = random.Random(13)
    async with pool.acquire() as conn:
        ids = await write_everything(conn, rng)
        assert await conn.fetchval("SELECT count(*) FROM board_count_changes") > 0
        await assert_counts_exact(conn)  # nothing folded yet
        assert await fold_all(conn) > 0
        await assert_counts_exact(conn)

        await change_everything(conn, rng, ids)
        await assert_counts_exact(conn)
        assert await order_queries.fold_board_counts(conn, 7) == 7  # part of them
        await assert_counts_exact(conn)
        await fold_all(conn, batch=50)
        assert await conn.fetchval("SELECT count(*) FROM board_count_changes") == 0
        await assert_counts_exact(conn)

        # The running sums are what counting every order again gives, and a row that
        # fell to zero is gone: the due hours left are those of open orders.
        kept = await kept_rows(conn)
        assert all(row[3] != 0 for row in kept)
        await order_queries.rebuild_board_counts(conn)
        assert await kept_rows(conn) == kept


async def test_writers_at_once_and_two_folders_lose_no_change(pool: asyncpg.Pool) -> None:
    """Writers append their changes and never wait on one another; two relays folding
    at the same time take each change once."""
    writing = True

    async def writer(seed: int) -> None:
        rng = random.Random(seed)
        async with pool.acquire() as conn:
            for _ in range(40):
                async with conn.transaction():
                    order = await order_in_status(conn, "registered", some_time(rng, 60))
                    await conn.execute(
                        "UPDATE work_orders SET status = $2, resolution_due_at = $3 WHERE id = $1",
                        order["id"],
                        rng.choice(["dispatched", "in_progress", "completed", "closed"]),
                        some_time(rng, 600),
                    )

    async def folder() -> None:
        async with pool.acquire() as conn:
            while writing:
                await order_queries.fold_board_counts(conn, 25)
                await asyncio.sleep(0)

    folders = [asyncio.create_task(folder()) for _ in range(2)]
    await asyncio.gather(*(writer(seed) for seed in range(6)))
    writing = False
    await asyncio.gather(*folders)
    async with pool.acquire() as conn:
        await fold_all(conn)
        await assert_counts_exact(conn)
        kept = await kept_rows(conn)
        await order_queries.rebuild_board_counts(conn)
        assert await kept_rows(conn) == kept


async def test_the_relay_folds_the_changes_on_each_pass(
    pool: asyncpg.Pool, redis_conn: Redis
) -> None:
    async with pool.acquire() as conn:
        await fold_all(conn)
        await order_in_status(conn, "registered", T0)
    counts = await Relay(pool, Queue("board-fold", connection=redis_conn), sources=()).run_once()
    assert counts["board_counts"] == 2  # its status and its registration hour
    assert await pool.fetchval("SELECT count(*) FROM board_count_changes") == 0


async def test_the_open_statuses_are_the_same_in_the_counts_and_the_queries(
    pool: asyncpg.Pool,
) -> None:
    due = {
        status
        for status in Status
        if await pool.fetchval(
            "SELECT count(*) FROM board_order_rows($1, now(), now(), '12319', NULL)"
            " WHERE family = 'due'",
            status.value,
        )
    }
    assert due == OPEN
    assert order_queries.OPEN_PREDICATE.count("'") == 2 * len(OPEN)


# ------------------------------------------------------------ the overdue list


@pytest.fixture
async def supervisor(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[Desk]:
    async with open_desks(server, pool, "supervisor") as opened:
        yield opened["supervisor"]


async def test_the_overdue_list_is_the_most_overdue_first_page_by_page(
    pool: asyncpg.Pool, supervisor: Desk
) -> None:
    async with pool.acquire() as conn:
        for minutes, status in [(-900, "dispatched"), (-30, "in_progress"), (-30, "returned")]:
            order = await order_in_status(conn, status, T0 - 2 * 1440 * MINUTE)
            await conn.execute(
                "UPDATE work_orders SET resolution_due_at = $2 WHERE id = $1",
                order["id"],
                dt.datetime(1999, 1, 1, tzinfo=dt.UTC) + minutes * MINUTE,
            )
        expected = [
            r["id"]
            for r in await conn.fetch(
                f"SELECT id FROM work_orders WHERE {order_queries.OPEN_PREDICATE} "
                "AND resolution_due_at < now() ORDER BY resolution_due_at, id"
            )
        ]
    pages: list[int] = []
    query = {"overdue": "true", "sort": "due", "limit": "2"}
    while True:
        page = await supervisor.get("/api/v1/orders", **query)
        pages += [o["id"] for o in page["items"]]
        if not page["next_cursor"]:
            break
        query["cursor"] = page["next_cursor"]
    assert pages == expected
    assert len(expected) >= 3

    newest = await supervisor.get("/api/v1/orders", limit="1")
    response = await supervisor.client.get(
        "/api/v1/orders", params={"sort": "due", "cursor": newest["next_cursor"]}
    )
    assert response.status == 400  # another list's cursor
    assert set((await response.json())["error"]["fields"]) == {"cursor"}


async def test_the_upgrade_counts_the_hotlines_and_late_hours_of_the_orders_already_there(
    fresh_database: Callable[[str], Awaitable[str]], tmp_path: Path
) -> None:
    """Migration 0057 on a database whose counts have no hotline keys and no late hours:
    the changes it writes, folded or not, make the counts a recount gives."""
    url = await fresh_database("board_late")
    await migrate(url, migrations_before(tmp_path, "0057"))
    rng = random.Random(57)
    conn = await db.connect(url)
    try:
        await seed_reference(conn)
        for i in range(200):
            await conn.execute(
                """
                INSERT INTO work_orders (number, hotline_code, channel, kind, description,
                                         service_item_code, status, created_at, updated_at,
                                         resolution_due_at, completed_at)
                VALUES ($1, $2, 'voice', 'complaint', '测试', 'G-CONSULT', $3, $4, $4, $5, $6)
                """,
                f"B{i}",
                rng.choice(HOTLINES),
                rng.choice(list(Status)).value,
                some_time(rng, 1440),
                None if rng.random() < 0.2 else some_time(rng, 1440),
                None if rng.random() < 0.4 else some_time(rng, 1440),
            )
        await fold_all(conn, batch=70)  # some folded, the last ones not
        await conn.execute(
            "UPDATE work_orders SET status = 'dispatched' WHERE number IN ('B1', 'B2', 'B3')"
        )
        await migrate(url)
        await assert_report_counts_exact(conn)
        await fold_all(conn)
        await assert_report_counts_exact(conn)
        kept = await kept_rows(conn)
        await order_queries.rebuild_board_counts(conn)
        assert await kept_rows(conn) == kept
        assert {row[0] for row in kept} >= {"due", "late"}
    finally:
        await conn.close()
