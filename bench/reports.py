"""Reports at scale (docs/reports.md): a month's periodic report, the units' ranking and
the hot-issue analysis at millions of orders, each as its view computes it.

**History.** ``bench/board.py`` generates the orders, their dispatches, ratings, returns
and time requests over two years (its docstring says how). To these the bench adds,
set-based: an inbound call for each order that came by voice (queued a few seconds to a
few minutes before the order, answered by one of twenty agents, one in twelve abandoned
instead), and the moves the day counts read from the orders' history (a ``dispatched``
event per dispatch, ``returned`` per return). Then the day counts are rolled the way
the schedule rolls them (``reports.days.service.do_roll_days``: every family, the hot
issues' repeats and words), for the days the measures read: the month measured, the
eight calendar months before it (the hot issues' baseline) and the same month a year
before; in a kept database, the days not rolled yet. The roll's time per day is printed:
what the morning run costs.

**Measured**, for the last whole month, through the functions the views call:

- *month report*: ``reports.periodic.document.build_document`` for the whole centre (the
  month, the month before and the same month a year before, each with the figures);
- *ranking*: ``reports.rankings.service.compute_ranking`` of the units for the month,
  with the change since the month before;
- *hot issues*: what ``#/hot`` loads: rising items and districts, the heat table,
  repeated addresses and callers, orders reopened more than once and the words, one
  after another (each also timed alone).

p95 of ``--runs`` runs in ``--rounds`` turns over the sizes (so that whatever else the
machine does falls on each alike), and the ratio of the largest size to the smallest.
**Raw baseline**, in the same turns: the month's registered orders counted straight from
``work_orders`` (``count(*)`` over its registration index), which grows with the orders
where the reports should not.

    python -m bench.reports [--sizes 1000000,10000000] [--runs 40] [--rounds 4] [--keep]

Uses HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL when set (else embedded servers) and
databases of its own, dropped after (kept with ``--keep``: bench/scratch.py). Targets:
p95 <= 500 ms each, 10M / 1M <= 1.5.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from bench.board import Stopwatch, load_history, timed_ms
from bench.scratch import kept_names, mark_stage, run_on_scratch_databases, stage_done
from hotline import db
from hotline.settings import Settings
from reports.days.service import do_roll_days
from reports.hot import service as hot
from reports.periodic.document import build_document
from reports.periodic.periods import month_of
from reports.rankings.service import RankingQuery, compute_ranking

TARGET_MS = 500.0
RATIO_TARGET = 1.5
TZ = ZoneInfo("Asia/Shanghai")
RAW = "count of the month (raw)"
AGENTS = 20

# An inbound call for each voice order: queued 5 s to 4 min before it, answered by one of
# the bench's agents after 3 to 40 s, ended when the order was registered; one in twelve
# left the queue unanswered instead (and its order came from a callback).
CALLS_SQL = """
INSERT INTO calls (call_sid, hotline_code, from_phone, to_number, status, status_rank,
                   agent_user_id, queued_at, answered_at, ended_at, left_queue_at,
                   queue_result, created_at, updated_at)
SELECT 'CAbench' || o.id, o.hotline_code, coalesce(o.caller_phone, '+8613800000000'), '12319',
       'completed', 5,
       CASE WHEN o.id % 12 <> 0 THEN ($1::bigint[])[1 + o.id % array_length($1::bigint[], 1)] END,
       q.queued_at,
       CASE WHEN o.id % 12 <> 0 THEN q.queued_at + make_interval(secs => 3 + o.id % 38) END,
       o.created_at,
       CASE WHEN o.id % 12 = 0 THEN q.queued_at + make_interval(secs => 20 + o.id % 90) END,
       CASE WHEN o.id % 12 = 0 THEN 'hangup' END,
       q.queued_at, o.created_at
  FROM work_orders o
 CROSS JOIN LATERAL (SELECT o.created_at - make_interval(secs => 5 + o.id % 235) AS queued_at) q
 WHERE o.channel = 'voice' AND o.status <> 'draft'
"""

# The moves the day counts read: each dispatch made, each return. seq from the sequence,
# as the trigger the load skips would take it.
EVENTS_SQL = """
INSERT INTO order_events (seq, order_id, type, actor, from_status, to_status, created_at)
SELECT nextval('order_events_seq_seq'), d.order_id, 'dispatch', 'routing', 'dispatching',
       'dispatched', d.created_at
  FROM dispatches d
UNION ALL
SELECT nextval('order_events_seq_seq'), r.order_id, 'return', 'unit', 'dispatched',
       'returned', r.created_at
  FROM order_returns r
"""


async def add_calls_and_moves(conn: asyncpg.Connection, clock: Stopwatch) -> None:
    agents = await conn.fetchval(
        """
        WITH made AS (
            INSERT INTO users (username, display_name, role, password_hash, hotline_code)
            SELECT 'bench-agent-' || g, '话务员' || g, 'agent', 'x', '12319'
              FROM generate_series(1, $1) g
            RETURNING id)
        SELECT array_agg(id ORDER BY id) FROM made
        """,
        AGENTS,
    )
    await conn.execute("SET session_replication_role = replica")
    await conn.execute(CALLS_SQL, agents)
    await conn.execute(EVENTS_SQL)
    await conn.execute("SET session_replication_role = origin")
    await conn.execute("VACUUM ANALYZE calls, order_events")
    clock.step("calls and the orders' moves")


def measured_days(month: tuple[dt.date, dt.date]) -> list[tuple[dt.date, dt.date]]:
    """The runs of days the measures read: the month and the eight calendar months
    before it (the hot issues' baseline of a calendar month), and the same month a year
    before."""
    first, end = month
    year_ago = first.replace(year=first.year - 1)
    return [(year_ago, year_ago + (end - first)), (month_of(first).back(8).first, end)]


async def prepare(url: str, size: int, month: tuple[dt.date, dt.date]) -> None:
    clock = Stopwatch()
    await load_history(url, size, clock)
    conn = await db.connect(url)
    try:
        if not await stage_done(conn, "calls and moves"):
            await add_calls_and_moves(conn, clock)
            await mark_stage(conn, "calls and moves")
        # Only the days not rolled yet: a kept database has the earlier runs' days.
        now = dt.datetime.now(dt.UTC)
        rolled = 0
        for start, end in measured_days(month):
            missing = await conn.fetch(
                """
                SELECT d::date AS day FROM generate_series($1::date, $2::date - 1, '1 day') d
                 WHERE NOT EXISTS (SELECT FROM report_days r WHERE r.day = d::date)
                 ORDER BY 1
                """,
                start,
                end,
            )
            started = time.perf_counter()
            for r in missing:
                day = r["day"]
                await do_roll_days(conn, day, day + dt.timedelta(days=1), now)
            if missing:
                took = time.perf_counter() - started
                clock.step(
                    f"rolled {len(missing)} days from {missing[0]['day']}: "
                    f"{took / len(missing) * 1000:.0f} ms a day"
                )
            rolled += len(missing)
        if rolled:
            await conn.execute("VACUUM ANALYZE")
            await conn.execute("CHECKPOINT")
            clock.step("VACUUM ANALYZE, CHECKPOINT")
        else:
            clock.step(f"calls, moves and day counts for {month[0]:%Y-%m} kept from an earlier run")
    finally:
        await conn.close()


Report = Callable[[asyncpg.Connection], Awaitable[Any]]


def reports_of(settings: Settings, month: tuple[dt.date, dt.date]) -> dict[str, Report]:
    now = dt.datetime.now(dt.UTC)
    first, end = month
    periodic = month_of(first)
    period = hot.period_of(first, end - dt.timedelta(days=1))
    ranking = RankingQuery(period="month", date=first)

    def hot_part(name: str) -> Report:
        parts: dict[str, Report] = {
            "rising items": lambda c: hot.rising(c, period, "item", None, limit=20),
            "rising districts": lambda c: hot.rising(c, period, "district", None, limit=20),
            "heat table": lambda c: hot.heat(c, period, None, items=10),
            "repeated addresses": lambda c: hot.repeats(
                c, period, "address", None, min_orders=3, limit=20
            ),
            "repeat callers": lambda c: hot.repeats(
                c, period, "caller", None, min_orders=3, limit=20
            ),
            "reopened": lambda c: hot.reopened(c, period, None, limit=20),
            "words": lambda c: hot.words(c, period, None, limit=50),
        }
        return parts[name]

    parts = [
        "rising items",
        "rising districts",
        "heat table",
        "repeated addresses",
        "repeat callers",
        "reopened",
        "words",
    ]

    async def hot_page(c: asyncpg.Connection) -> None:
        for name in parts:
            await hot_part(name)(c)

    async def raw_count(c: asyncpg.Connection) -> None:
        await c.fetchval(
            "SELECT count(*) FROM work_orders WHERE status <> 'draft' "
            "AND created_at >= ($1::date::timestamp AT TIME ZONE 'Asia/Shanghai') "
            "AND created_at < ($2::date::timestamp AT TIME ZONE 'Asia/Shanghai')",
            first,
            end,
        )

    return {
        "month report": lambda c: build_document(c, periodic, "", settings, now),
        "ranking": lambda c: compute_ranking(c, ranking, settings, now, end),
        "hot issues (page)": hot_page,
        **{f"  hot: {name}": hot_part(name) for name in parts},
        RAW: raw_count,
    }


async def measure(
    urls: dict[int, str],
    settings: Settings,
    month: tuple[dt.date, dt.date],
    runs: int,
    rounds: int,
) -> None:
    conns = {size: await db.connect(url) for size, url in urls.items()}
    reports = reports_of(settings, month)
    times: dict[int, dict[str, list[float]]] = {size: {} for size in urls}
    try:
        for conn in conns.values():
            for query in reports.values():
                await timed_ms(conn, query, 2)  # warm the cache and the prepared statements
        for turn in range(rounds):
            for size, conn in conns.items():
                for name, query in reports.items():
                    times[size].setdefault(name, []).extend(
                        await timed_ms(conn, query, runs // rounds)
                    )
            print(f"  round {turn + 1} of {rounds} done", flush=True)
    finally:
        for conn in conns.values():
            await conn.close()
    p95 = {
        size: {name: statistics.quantiles(t, n=100)[94] for name, t in by_name.items()}
        for size, by_name in times.items()
    }
    sizes = sorted(p95)
    print(f"month {month[0]} to {month[1] - dt.timedelta(days=1)}; p95 of {runs} runs each:")
    print(f"  {'':<26}" + "".join(f"{s:>14,}" for s in sizes) + "   ratio")
    for name in reports:
        row = "".join(f"{p95[s][name]:11.1f} ms" for s in sizes)
        ratio = p95[sizes[-1]][name] / p95[sizes[0]][name]
        print(f"  {name:<26}{row}   {ratio:5.2f}")
    largest = p95[sizes[-1]]
    measured = ("month report", "ranking", "hot issues (page)")
    worst = max(largest[n] for n in measured)
    print(f"  slowest at {sizes[-1]:,}: {worst:.1f} ms (target <= {TARGET_MS:.0f} ms)")
    if len(sizes) > 1:
        ratio = max(largest[n] / p95[sizes[0]][n] for n in measured)
        print(f"  largest ratio {ratio:.2f} (target <= {RATIO_TARGET})")


def last_whole_month(today: dt.date) -> tuple[dt.date, dt.date]:
    end = today.replace(day=1)
    return (end - dt.timedelta(days=1)).replace(day=1), end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--keep", action="store_true", help="keep the loaded databases (bench/scratch.py)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    month = last_whole_month(dt.datetime.now(TZ).date())

    async def work(every: list[Settings]) -> None:
        urls: dict[int, str] = {}
        for size, settings in zip(sizes, every, strict=True):
            assert settings.database_url
            urls[size] = settings.database_url
            print(f"{size:,} orders:", flush=True)
            await prepare(settings.database_url, size, month)
        await measure(urls, every[0], month, args.runs, args.rounds)

    run_on_scratch_databases(len(sizes), work, kept=kept_names(sizes) if args.keep else None)


if __name__ == "__main__":
    main()
