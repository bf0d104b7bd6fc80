"""Part (b) of ``bench/console.py``: the supervisors' SLA board at millions of orders.

Generated history, set-based in SQL: orders spread over two years, about 2% still open
(recent, with resolution deadlines around now: some overdue, some due soon), the rest
closed, resolved on the call, cancelled or merged, a few completed and waiting for
their callback, a few drafts. Each dispatched order has its lead dispatch; one in ten
an assisting unit; one in twenty a unit that returned it first (pending review while
the order is ``returned``); some in-progress orders a pending time request; one in
three closed orders its lead's callback rating. No order events: no board query reads
them. Each order says what a citizen said (a line of the suggestion corpus, under the
hotline and item it was registered with), at an address on the gazetteer's roads, with a
caller's name, its words indexed as the application indexes them; a caller's phone comes
back on about three orders.

How the load differs from the application's writes, so that ten million rows fit in
minutes on two cores: the indexes of work_orders and dispatches that back no
constraint are dropped before the load and rebuilt from their own definitions after it
(same schema, built by sorting instead of one row at a time); the load runs with
``session_replication_role = replica``, which skips the foreign-key triggers (the
generator draws every reference from the seeded tables) and the triggers of migrations
0012, 0013 and 0017 that keep the figures' day counts and the board's counts. Then VACUUM
ANALYZE, as autovacuum would leave a settled table, and ``figure_counts_rebuild()`` and
``board_counts_rebuild()`` count the whole history once (timed), as the triggers would
have kept it.

Each size has a database of its own, so that ids follow creation time over the whole
two years at every size, as they do in a table that filled in life.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from agents_ui.views.console import DUE_SOON_HOURS
from callbacks import queries as callback_queries
from hotline.board import queries as board_queries
from hotline.orders import queries as order_queries
from hotline.orders.models import OrderFilter
from hotline.orders.searching import search_orders
from hotline.users.models import Actor, Role
from hotline.words import shared_words
from routing import queries as routing_queries

# Rows per INSERT, so progress shows while the big sizes load.
CHUNK = 1_000_000
BOARD_TARGET_MS = 100.0
RATIO_TARGET = 1.5
WHOLE_TABLES = ("work_orders", "dispatches")
COUNT_ALL = "count(*) of all orders"

# One order per id, ids in the order of creation (as the table fills in life) over two
# years up to now. An order of age a days is still open with probability exp(-a/15),
# about 2% of all, most of them recent, their deadlines (5 to 15 days) around now;
# else completed and awaiting its callback with probability 0.3 exp(-a/4); else in
# the history's mix: closed, resolved on the call, cancelled, merged. A few of the last
# day's are drafts. $1, $2: the ids to make; $3: now; $4: the order count of the run;
# $5..$9: the seeded hotlines, service items (codes and kinds), areas and units.
ORDERS_SQL = """
INSERT INTO work_orders (id, number, hotline_code, channel, kind, service_item_code,
    area_code, address, description, status, caller_phone, caller_name, lead_enterprise_id,
    resolution_due_at, first_due_at, created_at, updated_at, completed_at, closed_at,
    search_words)
OVERRIDING SYSTEM VALUE
SELECT g.id, format('%s-bench-%s', h.code, g.id), h.code,
       (ARRAY['voice', 'voice', 'voice', 'sms', 'web', 'wechat', 'open311'])[1 + g.id % 7],
       CASE WHEN s.status <> 'draft' THEN i.kind END,
       CASE WHEN s.status <> 'draft' THEN i.code END,
       a.area, a.address, x.description, s.status,
       format('+86138%s', lpad(((g.id * 7919) % (($4::bigint / 3) + 1))::text, 8, '0')),
       n.name,
       CASE WHEN s.status NOT IN ('draft', 'registered', 'dispatching', 'resolved_on_call',
                                  'cancelled', 'merged')
            THEN u.id END,
       CASE WHEN s.status <> 'draft' THEN t.created + t.allowed END,
       CASE WHEN s.status <> 'draft' THEN t.created + t.allowed END,
       t.created, least(t.created + t.allowed * 0.5, $3),
       CASE WHEN s.status IN ('completed', 'callback', 'closed') THEN t.done END,
       CASE WHEN s.status = 'closed' THEN least(t.done + interval '2 days', $3) END,
       to_tsvector('simple', x.words || ' ' || a.words || ' ' || n.words)
  -- The draws in the row source: a lateral subquery that does not name the row would
  -- be run once for all rows.
  FROM (SELECT id, random() AS r, random() AS v, random() AS u,
               $3::timestamptz - interval '730 days' * (1 - id::float8 / $4) AS created,
               interval '5 days' + interval '10 days' * random() AS allowed
          FROM generate_series($1::bigint, $2::bigint) AS id) g
  CROSS JOIN LATERAL (SELECT extract(epoch FROM $3 - g.created)::float8 / 86400 AS age) e
  CROSS JOIN LATERAL (SELECT CASE
      WHEN e.age < 1 AND g.v < 0.01 THEN 'draft'
      WHEN g.r < exp(-e.age / 15) THEN (ARRAY['registered', 'dispatching', 'dispatched',
            'dispatched', 'in_progress', 'in_progress', 'in_progress', 'in_progress',
            'in_progress', 'returned', 'escalated', 'reopened'])[1 + floor(g.v * 12)::int]
      WHEN g.r < exp(-e.age / 15) + 0.3 * exp(-e.age / 4)
           THEN (ARRAY['completed', 'callback'])[1 + floor(g.v * 2)::int]
      WHEN g.v < 0.08 THEN 'resolved_on_call'
      WHEN g.v < 0.09 THEN 'cancelled'
      WHEN g.v < 0.10 THEN 'merged'
      ELSE 'closed' END AS status) s
  -- Work done within 1.2 times the time allowed (about one in six late), never after now.
  CROSS JOIN LATERAL (SELECT g.created, g.allowed,
      least(g.created + g.allowed * 1.2 * g.u, $3 - interval '1 minute') AS done) t
  CROSS JOIN LATERAL (SELECT $5::text[] AS hotlines, $6::text[] AS items,
      $7::text[] AS kinds, $8::text[] AS descriptions, $9::text[] AS description_words,
      $10::text[] AS addresses, $11::text[] AS address_words, $12::text[] AS areas,
      $13::text[] AS names, $14::text[] AS name_words, $15::bigint[] AS units) ref
  -- A citizen's text with the item and hotline it was registered under.
  CROSS JOIN LATERAL (SELECT 1 + (g.id * 7919) % cardinality(ref.descriptions) AS k) tx
  CROSS JOIN LATERAL (SELECT ref.descriptions[tx.k] AS description,
                             ref.description_words[tx.k] AS words) x
  CROSS JOIN LATERAL (SELECT ref.hotlines[tx.k] AS code) h
  CROSS JOIN LATERAL (SELECT ref.items[tx.k] AS code, ref.kinds[tx.k] AS kind) i
  CROSS JOIN LATERAL (SELECT 1 + (g.id / 3) % cardinality(ref.addresses) AS k) ax
  CROSS JOIN LATERAL (SELECT ref.addresses[ax.k] AS address, ref.address_words[ax.k] AS words,
                             ref.areas[ax.k] AS area) a
  CROSS JOIN LATERAL (SELECT 1 + (g.id * 31) % cardinality(ref.names) AS k) nx
  CROSS JOIN LATERAL (SELECT ref.names[nx.k] AS name, ref.name_words[nx.k] AS words) n
  CROSS JOIN LATERAL (SELECT ref.units[1 + (g.id / 5) % cardinality(ref.units)] AS id) u
"""

# The dispatches of the orders $1..$2: a unit that returned the order first (one in
# twenty, and every order now ``returned``), the lead (live while the order is with a
# unit, completed once it was done), and an assisting unit for one in ten. $3: units.
# $4: now; a lead still unsigned past its sign-for deadline is marked, as the ladder's
# reminder marks it when that deadline passes.
DISPATCHES_SQL = """
INSERT INTO dispatches (order_id, enterprise_id, role, state, sign_for_due_at, created_at,
    signed_at, finished_at, completed_on_time, sign_for_missed_at)
SELECT o.id, x.enterprise_id, x.role, x.state, x.at + interval '2 hours', x.at,
       CASE WHEN x.state IN ('signed', 'completed')
            THEN x.at + interval '3 hours' * random() END,
       CASE WHEN x.state = 'completed' THEN o.completed_at
            WHEN x.state = 'returned' THEN x.at + interval '1 hour' END,
       CASE WHEN x.state = 'completed' THEN o.completed_at <= o.resolution_due_at END,
       CASE WHEN x.state = 'pending' AND x.at + interval '2 hours' < $4
            THEN x.at + interval '2 hours' END
  FROM work_orders o
  CROSS JOIN LATERAL (SELECT $3::bigint[] AS units) ref
  CROSS JOIN LATERAL (SELECT ref.units[1 + (o.id / 7) % cardinality(ref.units)] AS unit) other
  CROSS JOIN LATERAL (VALUES
      (o.id % 20 = 0 OR o.status = 'returned',
       'lead', 'returned', o.created_at + interval '10 minutes', other.unit),
      (o.status <> 'returned',
       'lead',
       CASE WHEN o.status = 'dispatched' THEN 'pending'
            WHEN o.status IN ('in_progress', 'escalated') THEN 'signed'
            ELSE 'completed' END,
       o.created_at + interval '30 minutes', o.lead_enterprise_id),
      (o.id % 10 = 1 AND o.status <> 'returned',
       'assisting', CASE WHEN o.status IN ('dispatched', 'in_progress', 'escalated')
                         THEN 'signed' ELSE 'completed' END,
       o.created_at + interval '30 minutes', other.unit)
  ) AS x(wanted, role, state, at, enterprise_id)
 WHERE o.id BETWEEN $1 AND $2 AND o.lead_enterprise_id IS NOT NULL AND x.wanted
"""

# The callback ratings of the orders $1..$2: the lead's, for one in three closed orders.
RATINGS_SQL = """
INSERT INTO dispatch_ratings (dispatch_id, solved, rating, rated_at, callback_outcome)
SELECT d.id, o.id % 9 <> 0, (5 - o.id % 4)::smallint, o.closed_at,
       CASE WHEN o.id % 9 = 0 THEN 'bad' ELSE 'good' END
  FROM dispatches d JOIN work_orders o ON o.id = d.order_id
 WHERE d.order_id BETWEEN $1 AND $2 AND o.status = 'closed' AND o.id % 3 = 0
   AND d.role = 'lead' AND d.state = 'completed'
"""

# The order's copy of its callback outcome (migration 0038's, set-based: the load has
# no index of dispatches by order for the trigger's function to use).
OUTCOMES_SQL = """
UPDATE work_orders o SET callback_outcome = x.outcome
  FROM (SELECT DISTINCT ON (d.order_id) d.order_id, r.callback_outcome AS outcome
          FROM dispatches d JOIN dispatch_ratings r ON r.dispatch_id = d.id
         WHERE d.role = 'lead' AND r.callback_outcome IS NOT NULL
         ORDER BY d.order_id, d.id DESC) x
 WHERE o.id = x.order_id
"""

# Every returned dispatch of the orders $1..$2 with its return, pending review while the
# order is ``returned``; and for one in fifty in-progress orders a pending time request.
RETURNS_SQL = """
INSERT INTO order_returns (order_id, dispatch_id, enterprise_id, reason_code, reason_text,
    returned_by, created_at, state)
SELECT d.order_id, d.id, d.enterprise_id, 'not_our_duty', '非本单位职责', 'bench', d.finished_at,
       CASE WHEN o.status = 'returned' THEN 'pending' ELSE 'upheld' END
  FROM dispatches d JOIN work_orders o ON o.id = d.order_id
 WHERE d.order_id BETWEEN $1 AND $2 AND d.state = 'returned'
"""
TIME_REQUESTS_SQL = """
INSERT INTO time_requests (order_id, dispatch_id, kind, reason, requested_due_at,
    requested_by, created_at, state)
SELECT d.order_id, d.id, 'extension', '需更换管道', o.resolution_due_at + interval '3 days',
       'bench', d.signed_at, 'pending'
  FROM dispatches d JOIN work_orders o ON o.id = d.order_id
 WHERE d.order_id BETWEEN $1 AND $2 AND o.status = 'in_progress' AND o.id % 50 = 7
   AND d.role = 'lead' AND d.state = 'signed'
"""

# Indexes that back no constraint: dropped for a load and rebuilt after it.
LOADED_INDEXES_SQL = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid IN ('work_orders'::regclass, 'dispatches'::regclass)
   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
"""


WORDS = shared_words()
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "config/suggest/corpus.jsonl"
ROADS = ROOT / "config/demo/roads.json"
HOUSE_NUMBERS = range(1, 240, 7)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡"
TITLES = ("先生", "女士", "师傅", "阿姨", "")


async def order_texts(conn: asyncpg.Connection) -> list[list[str]]:
    """What the generated orders say, as ORDERS_SQL takes it ($5..$14): the citizens'
    own words from the suggestion corpus with the hotline and item each was registered
    under, addresses on the gazetteer's roads with the street each lies in, callers'
    names; each with its words as the application indexes them (hotline.words)."""
    kinds = dict(await conn.fetch("SELECT code, kind FROM service_items WHERE kind IS NOT NULL"))
    lines = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line["item"] in kinds]
    districts = dict(await conn.fetch("SELECT code, name_zh FROM areas WHERE level = 'district'"))
    parents = dict(await conn.fetch("SELECT code, parent_code FROM areas WHERE level = 'street'"))
    roads = [
        (road["road"], road["street"])
        for road in json.loads(ROADS.read_text(encoding="utf-8"))
        if road["street"] in parents
    ]
    addresses = [
        (f"{districts[parents[street]]}{road}{number}号", street)
        for road, street in roads
        for number in HOUSE_NUMBERS
    ]
    names = [f"{surname}{title}" for surname in SURNAMES for title in TITLES]
    cut = WORDS.for_index
    return [
        [line["hotline"] for line in lines],
        [line["item"] for line in lines],
        [kinds[line["item"]] for line in lines],
        [line["text"] for line in lines],
        [cut(line["text"]) for line in lines],
        [address for address, _ in addresses],
        [cut(address) for address, _ in addresses],
        [street for _, street in addresses],
        names,
        [cut(name) for name in names],
    ]


class Stopwatch:
    """Prints each step with the time since the bench's part (b) started."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def step(self, text: str) -> None:
        print(f"  [{time.monotonic() - self.started:7.1f} s] {text}", flush=True)


async def generate_orders(
    conn: asyncpg.Connection, total: int, now: dt.datetime, clock: Stopwatch
) -> None:
    """``total`` orders with their dispatches, returns and time requests, into empty tables."""
    units = await conn.fetchval("SELECT array_agg(id ORDER BY id) FROM enterprises")
    reference = [*await order_texts(conn), units]
    clock.step("the citizens' texts, addresses and names cut into words")
    indexes = await conn.fetch(LOADED_INDEXES_SQL)
    await conn.execute("SET session_replication_role = replica")
    await conn.execute("SET maintenance_work_mem = '1GB'")
    for index in indexes:
        await conn.execute(f'DROP INDEX "{index[0]}"')
    clock.step(f"dropped {len(indexes)} indexes for the load")
    for lo in range(1, total + 1, CHUNK):
        hi = min(lo + CHUNK - 1, total)
        await conn.execute(ORDERS_SQL, lo, hi, now, total, *reference)
        await conn.execute(DISPATCHES_SQL, lo, hi, units, now)
        clock.step(f"orders and dispatches up to {hi:,}")
    await conn.execute(RATINGS_SQL, 1, total)
    # The order's copy of its callback outcome, which a trigger keeps (migration 0037)
    # and the load skips.
    await conn.execute(OUTCOMES_SQL)
    await conn.execute(RETURNS_SQL, 1, total)
    await conn.execute(TIME_REQUESTS_SQL, 1, total)
    clock.step("ratings, returns and time requests")
    for name, definition in indexes:
        await conn.execute(definition)
        clock.step(f"rebuilt {name}")
    await conn.execute("SET session_replication_role = origin")
    await conn.execute(
        "SELECT setval(pg_get_serial_sequence('work_orders', 'id'), max(id)) FROM work_orders"
    )
    for table in (
        "work_orders",
        "dispatches",
        "dispatch_ratings",
        "order_returns",
        "time_requests",
    ):
        await conn.execute(f"VACUUM ANALYZE {table}")
    clock.step("VACUUM ANALYZE")


async def load_history(url: str, size: int, clock: Stopwatch) -> None:
    """Migrate and seed ``url`` and load ``size`` orders with their history, unless a
    kept database (bench/scratch.py) already has them."""
    # Here: the migrations and the seed are the composition root's, which only the
    # load needs.
    from bench.scratch import mark_stage, stage_done
    from hotline.migrate import migrate
    from wiring.seed import seed_reference

    await migrate(url)
    conn = await asyncpg.connect(url)
    try:
        if await stage_done(conn, "orders"):
            clock.step(f"{size:,} orders kept from an earlier run")
            return
        await seed_reference(conn)
        clock.step(f"generating {size:,} orders")
        await generate_orders(conn, size, dt.datetime.now(dt.UTC), clock)
        await callback_queries.rebuild_figure_counts(conn)
        clock.step("the figures' day counts")
        await mark_stage(conn, "orders")
    finally:
        await conn.close()


# ------------------------------------------------------------------ the board's queries


class Recorder:
    """Stands in for a connection: remembers each statement a query function sends and
    passes it on, so the plans checked are those of the functions the app calls."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        self.statements.append((sql, args))
        rows: list[asyncpg.Record] = await self.conn.fetch(sql, *args)
        return rows

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record | None:
        self.statements.append((sql, args))
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.statements.append((sql, args))
        return await self.conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> str:
        """Settings (no plan to check), passed on."""
        status: str = await self.conn.execute(sql, *args)
        return status

    def transaction(self) -> Any:
        return self.conn.transaction()


BoardQuery = Callable[[Any], Awaitable[Any]]


def board_queries_at(now: dt.datetime, tz: ZoneInfo) -> dict[str, BoardQuery]:
    """What the board screen asks for, as the views ask it (agents_ui/views/console.py,
    orders.py, supervision.py; the rates as callbacks/figures.py counts them)."""
    supervisor = Actor(user_id=None, name="bench", role=Role.SUPERVISOR)
    local_today = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)

    def figures(days: int, *, per_day: bool = False) -> BoardQuery:
        start = local_today.date() - dt.timedelta(days=days - 1)
        end = local_today.date() + dt.timedelta(days=1)
        return lambda conn: callback_queries.figures(conn, "unit", start, end, now, per_day=per_day)

    return {
        "counters": lambda conn: board_queries.board_counters(
            conn,
            day_start=local_today,
            now=now,
            soon=now + dt.timedelta(hours=DUE_SOON_HOURS),
        ),
        "overdue list": lambda conn: search_orders(
            conn, supervisor, OrderFilter(overdue=True, sort="due", limit=50), now, tz
        ),
        "coordination list": lambda conn: search_orders(
            conn, supervisor, OrderFilter(status=["escalated"], limit=50), now, tz
        ),
        "returns to review": lambda conn: routing_queries.pending_returns(conn, 100, None),
        "time requests": lambda conn: routing_queries.pending_time_requests(conn, 100, None),
        "unit figures, 7 days": figures(7),
        "unit figures, 30 days": figures(30),
        "unit trend, 30 days": figures(30, per_day=True),
    }


def whole_table_scans(plan: dict[str, Any]) -> list[str]:
    """Sequential scans of the big tables anywhere in a JSON plan."""
    found = []
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in WHOLE_TABLES:
        found.append(plan["Relation Name"])
    for child in plan.get("Plans", []):
        found += whole_table_scans(child)
    return found


async def check_plans(
    conn: asyncpg.Connection, name: str, query: BoardQuery, *, generic: bool = True
) -> None:
    """Fails loudly when a statement of ``query`` would read work_orders or dispatches
    whole, in the plan made for its values or (``generic``) in the generic plan a
    prepared statement may switch to after five runs."""
    recorder = Recorder(conn)
    await query(recorder)
    for sql, args in recorder.statements:
        plans = [("custom", await custom_plan(conn, sql, args))]
        if generic:
            plans.append(("generic", await generic_plan(conn, sql, args)))
        for mode, plan in plans:
            scans = whole_table_scans(plan["Plan"])
            if scans:
                raise SystemExit(
                    f"query {name!r} scans {', '.join(scans)} whole ({mode} plan):\n"
                    + json.dumps(plan, indent=1)
                )


async def custom_plan(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> Any:
    """The plan for these values (EXPLAIN of a statement with parameters is always
    planned for the values bound)."""
    return json.loads(await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args))[0]


async def generic_plan(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> Any:
    """The plan for any values: the statement prepared by name and explained as an
    EXECUTE of the values written out, under ``force_generic_plan`` (EXPLAIN with bound
    parameters would plan for them whatever plan_cache_mode says)."""
    await conn.execute(f"PREPARE bench_generic AS {sql}")
    try:
        types = await conn.fetchval(
            "SELECT parameter_types::text[] FROM pg_prepared_statements "
            "WHERE name = 'bench_generic'"
        )
        values = [
            await conn.fetchval(f"SELECT quote_nullable($1::{t}::text) || '::{t}'", arg)
            for t, arg in zip(types, args, strict=True)
        ]
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        explained = await conn.fetchval(
            f"EXPLAIN (FORMAT JSON) EXECUTE bench_generic({', '.join(values)})"
        )
        return json.loads(explained)[0]
    finally:
        await conn.execute("RESET plan_cache_mode")
        await conn.execute("DEALLOCATE bench_generic")


async def timed_ms(conn: asyncpg.Connection, query: BoardQuery, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await query(conn)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def count_all_ms(conn: asyncpg.Connection) -> float:
    """The raw baseline: one full count of the orders (parallel workers allowed)."""
    started = time.perf_counter()
    await conn.fetchval("SELECT count(*) FROM work_orders")
    return (time.perf_counter() - started) * 1000


async def measure_boards(
    urls: dict[int, str], tz: ZoneInfo, runs: int, rounds: int
) -> dict[int, dict[str, float]]:
    """p95 (ms) of each board query at each size, and the median full count, after
    checking every plan. The sizes take turns, ``rounds`` times, so that whatever else
    the machine does falls on both alike rather than on the one measured last."""
    now = dt.datetime.now(dt.UTC)
    queries = board_queries_at(now, tz)
    conns = {size: await asyncpg.connect(url) for size, url in urls.items()}
    times: dict[int, dict[str, list[float]]] = {size: {} for size in urls}
    try:
        for size, conn in conns.items():
            for name, query in queries.items():
                await check_plans(conn, name, query)
                await timed_ms(conn, query, 3)  # warm the cache and the prepared statements
            open_orders = await conn.fetchval(
                f"SELECT count(*) FROM work_orders WHERE {order_queries.OPEN_PREDICATE}"
            )
            print(f"{size:,} orders ({open_orders:,} open): plans checked")
        for turn in range(rounds):
            for size, conn in conns.items():
                for name, query in queries.items():
                    times[size].setdefault(name, []).extend(
                        await timed_ms(conn, query, runs // rounds)
                    )
                times[size].setdefault(COUNT_ALL, []).append(await count_all_ms(conn))
            print(f"  round {turn + 1} of {rounds} done", flush=True)
    finally:
        for conn in conns.values():
            await conn.close()
    results = {}
    for size, by_name in times.items():
        results[size] = {
            name: statistics.median(t) if name == COUNT_ALL else statistics.quantiles(t, n=100)[94]
            for name, t in by_name.items()
        }
        print(f"{size:,} orders; p95 of {runs} runs each in {rounds} rounds:")
        for name, value in results[size].items():
            print(f"  {name:<24} {'median' if name == COUNT_ALL else 'p95':>6} {value:8.1f} ms")
    return results


def print_summary(by_size: dict[int, dict[str, float]]) -> None:
    sizes = sorted(by_size)
    small, large = by_size[sizes[0]], by_size[sizes[-1]]
    names = [n for n in large if n != COUNT_ALL]
    print(f"board, {sizes[-1]:,} vs {sizes[0]:,} orders:")
    for name in names:
        print(
            f"  {name:<24} {small[name]:8.1f} ms -> {large[name]:8.1f} ms   "
            f"ratio {large[name] / small[name]:5.2f}"
        )
    worst = max(large[n] for n in names)
    ratio = max(large[n] / small[n] for n in names)
    print(f"  slowest board query p95 = {worst:.1f} ms   (target <= {BOARD_TARGET_MS:.0f} ms)")
    print(f"  largest {sizes[-1]:,}/{sizes[0]:,} ratio = {ratio:.2f}   (target <= {RATIO_TARGET})")
    count_ratio = large[COUNT_ALL] / small[COUNT_ALL]
    print(f"  count(*) of all orders ratio = {count_ratio:.2f}   (the raw baseline)")


async def prepare_board(url: str, size: int) -> None:
    """Into a migrated, seeded, empty database: ``size`` orders and their counts, then
    a checkpoint, so that no measure meets the load's writes being flushed."""
    clock = Stopwatch()
    conn = await asyncpg.connect(url)
    try:
        clock.step(f"generating {size:,} orders")
        await generate_orders(conn, size, dt.datetime.now(dt.UTC), clock)
        started = time.perf_counter()
        rows = await callback_queries.rebuild_figure_counts(conn)
        took = time.perf_counter() - started
        clock.step(f"figures: the history counted into {rows:,} day rows in {took:.1f} s")
        started = time.perf_counter()
        rows = await order_queries.rebuild_board_counts(conn)
        took = time.perf_counter() - started
        clock.step(f"board: the orders counted into {rows:,} rows in {took:.1f} s")
        await conn.execute("VACUUM ANALYZE figure_day_counts, board_counts")
        await conn.execute("CHECKPOINT")
        clock.step("VACUUM ANALYZE, CHECKPOINT")
    finally:
        await conn.close()
