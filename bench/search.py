"""The order search at scale: jieba's words (a tsvector, GIN) against trigrams (pg_trgm,
GIN) for the same texts, then the app's own search (``hotline.orders.searching``) with
the common filters, its latency and its plans (no whole-table scan of work_orders or
dispatches, in the custom plan nor the generic one).

    python -m bench.search --size 300000 --runs 30

The orders are the board's generated history (``bench/board.py``) with texts people
wrote: the suggestion corpus's descriptions (config/suggest/corpus.jsonl), an address on
a road of the gazetteer with a house number, and a caller's name. Their words are cut
with ``hotline.words`` as the application cuts them (timed: the cost of the backfill).
The figures are in docs/core.md, "Finding orders".
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from bench.board import Recorder, Stopwatch, generate_orders, whole_table_scans
from bench.scratch import run_on_scratch_database
from hotline.migrate import migrate
from hotline.orders.models import OrderFilter
from hotline.orders.searching import WORDS, search_orders
from hotline.settings import Settings
from hotline.users.models import Actor, Role
from wiring.seed import seed_reference

ROOT = Path(__file__).resolve().parent.parent
NAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "欧阳"]
GIVEN = ["", "先生", "女士", "建国", "秀英", "桂兰", "志强", "丽娟", "海涛", "小明"]
BATCH = 20_000

# The texts asked: two-character words, longer words, a road, a house number, a name.
QUERIES = ["漏水", "燃气", "水表", "暖气", "水表不准", "燃气泄漏", "香港中路", "12号", "欧阳"]
TRIGRAM_TEXT = "(description || ' ' || address || ' ' || caller_name)"

TEXTS_SQL = """
UPDATE work_orders o
   SET description = ($1::text[])[1 + (o.id * 7919) % cardinality($1::text[])],
       address = ($2::text[])[1 + (o.id * 104729) % cardinality($2::text[])]
                 || ' ' || (1 + o.id % 300) || '号',
       caller_name = ($3::text[])[1 + o.id % cardinality($3::text[])]
"""


def cuts(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100)
    return q[49], q[94]


async def timed(conn: asyncpg.Connection, sql: str, args: list[Any], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await conn.fetch(sql, *args)
        times.append((time.perf_counter() - started) * 1000)
    return times


async def fill_texts(conn: asyncpg.Connection) -> None:
    corpus = [
        json.loads(line)["text"]
        for line in (ROOT / "config/suggest/corpus.jsonl").read_text().splitlines()
        if line.strip()
    ]
    roads = [r["road"] for r in json.loads((ROOT / "config/demo/roads.json").read_text())]
    names = [f"{n}{g}" for n in NAMES for g in GIVEN]
    await conn.execute(TEXTS_SQL, corpus, roads, names)


async def fill_words(conn: asyncpg.Connection, clock: Stopwatch) -> float:
    """Every order's words, as the relay's chore writes them; the seconds jieba took."""
    jieba_seconds = 0.0
    await conn.execute("DROP INDEX work_orders_search_words_idx")
    await conn.execute("CREATE TEMP TABLE words (id bigint, words text)")
    last = 0
    while True:
        rows = await conn.fetch(
            "SELECT id, description, address, caller_name FROM work_orders "
            "WHERE id > $1 ORDER BY id LIMIT $2",
            last,
            BATCH,
        )
        if not rows:
            break
        started = time.perf_counter()
        cut = [
            (r["id"], WORDS.for_index(r["description"], r["address"], r["caller_name"]))
            for r in rows
        ]
        jieba_seconds += time.perf_counter() - started
        await conn.copy_records_to_table("words", records=cut)
        last = rows[-1]["id"]
    clock.step(f"jieba: {jieba_seconds:.1f} s")
    await conn.execute(
        "UPDATE work_orders o SET search_words = to_tsvector('simple', w.words) "
        "FROM words w WHERE w.id = o.id"
    )
    clock.step("search_words written")
    await conn.execute(
        "CREATE INDEX work_orders_search_words_idx ON work_orders USING gin (search_words)"
    )
    clock.step("GIN index on the words")
    await conn.execute(
        f"CREATE INDEX bench_trgm_idx ON work_orders USING gin ({TRIGRAM_TEXT} gin_trgm_ops)"
    )
    clock.step("GIN trigram index on the same texts")
    await conn.execute("VACUUM ANALYZE work_orders")
    sizes = await conn.fetchrow(
        "SELECT pg_relation_size('work_orders_search_words_idx') AS words, "
        "pg_relation_size('bench_trgm_idx') AS trgm"
    )
    clock.step(
        f"index sizes: words {sizes['words'] / 2**20:.0f} MiB, "
        f"trigrams {sizes['trgm'] / 2**20:.0f} MiB"
    )
    return jieba_seconds


async def compare(conn: asyncpg.Connection, runs: int) -> None:
    """A page (51 rows, newest first) and the count of matches, each way."""
    print(f"{'query':<10} {'words':>8} {'trigrams':>9}  page p50/p95 ms (words | trigrams)")
    for q in QUERIES:
        tsquery = WORDS.tsquery(WORDS.for_query(q))
        ways: dict[str, tuple[str, list[Any]]] = {
            "words": ("o.search_words @@ to_tsquery('simple', $1)", [tsquery]),
            "trigrams": (f"{TRIGRAM_TEXT} ILIKE $1", [f"%{q}%"]),
        }
        counts, pages = {}, {}
        for way, (condition, args) in ways.items():
            counts[way] = await conn.fetchval(
                f"SELECT count(*) FROM work_orders o WHERE {condition}", *args
            )
            page = (
                f"SELECT o.id FROM work_orders o WHERE {condition} "
                "ORDER BY o.created_at DESC, o.id DESC LIMIT 51"
            )
            pages[way] = cuts(await timed(conn, page, args, runs))
        print(
            f"{q:<10} {counts['words']:>8} {counts['trigrams']:>9}  "
            f"{pages['words'][0]:.1f}/{pages['words'][1]:.1f} | "
            f"{pages['trigrams'][0]:.1f}/{pages['trigrams'][1]:.1f}"
        )


SEARCHES: dict[str, dict[str, Any]] = {
    "words": {"q": "燃气泄漏"},
    "two characters": {"q": "漏水"},
    "words + status": {"q": "水表", "status": ["in_progress"]},
    "words + district": {"q": "漏水", "area": "370202"},
    "words + unit": {"q": "水表", "enterprise_id": 1},
    "words + registered month": {"q": "燃气", "registered_from": "MONTH_START"},
    "words + overdue": {"q": "暖气", "overdue": True},
    "words + rating bad": {"q": "水表", "rating": "bad"},
    "words + coordination": {"q": "燃气", "coordination": True},
    "words, by due": {"q": "漏水", "sort": "due"},
    "words, by completed": {"q": "水表", "sort": "completed"},
    "phone": {"q": "13800012345"},
    "number tail": {"q": "TAIL"},
    "no text, gas, newest": {"domain": "gas"},
    "no text, completed last week": {"completed_from": "WEEK_START"},
}


async def app_searches(conn: asyncpg.Connection, runs: int, tz: ZoneInfo) -> None:
    """The application's search, as the API runs it, for a supervisor (every order)."""
    now = dt.datetime.now(dt.UTC)
    await conn.execute(
        "UPDATE work_orders SET number = '96111-20261120-0042' WHERE id = (SELECT max(id) "
        "FROM work_orders WHERE hotline_code = '96111')"
    )
    today = now.astimezone(tz).date()
    actor = Actor(user_id=None, name="bench", role=Role.SUPERVISOR)
    print(f"\n{'search':<30} {'p50 ms':>7} {'p95 ms':>7}  whole-table scans")
    for name, raw in SEARCHES.items():
        params = {
            k: {
                "MONTH_START": str(today.replace(day=1)),
                "WEEK_START": str(today - dt.timedelta(days=7)),
                "TAIL": "20261120-0042",
            }.get(v, v)
            if isinstance(v, str)
            else v
            for k, v in raw.items()
        }
        criteria = OrderFilter.model_validate(params)
        recorder = Recorder(conn)
        await search_orders(recorder, actor, criteria, now, tz)
        scans = set()
        for sql, args in recorder.statements:
            for mode in ("force_custom_plan", "force_generic_plan"):
                await conn.execute(f"SET plan_cache_mode = {mode}")
                plan = json.loads(await conn.fetchval("EXPLAIN (FORMAT JSON) " + sql, *args))
                scans |= {f"{s} ({mode[6:-5]})" for s in whole_table_scans(plan[0]["Plan"])}
        await conn.execute("RESET plan_cache_mode")
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            await search_orders(conn, actor, criteria, now, tz)
            times.append((time.perf_counter() - started) * 1000)
        p50, p95 = cuts(times)
        print(f"{name:<30} {p50:>7.1f} {p95:>7.1f}  {', '.join(sorted(scans)) or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each app search")
    parser.add_argument(
        "--compare-runs", type=int, default=30, help="timed runs of each words/trigrams page"
    )
    args = parser.parse_args()

    async def work(settings: Settings) -> None:
        clock = Stopwatch()
        assert settings.database_url is not None
        await migrate(settings.database_url)
        conn = await asyncpg.connect(settings.database_url)
        try:
            await seed_reference(conn)
            await generate_orders(conn, args.size, dt.datetime.now(dt.UTC), clock)
            await fill_texts(conn)
            clock.step("texts")
            seconds = await fill_words(conn, clock)
            print(f"  jieba: {seconds / args.size * 1e6:.0f} µs an order")
            await compare(conn, args.compare_runs)
            await app_searches(conn, args.runs, ZoneInfo(settings.timezone))
        finally:
            await conn.close()

    run_on_scratch_database(work)


if __name__ == "__main__":
    main()
