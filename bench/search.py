"""Finding at scale: order search at millions of orders, knowledge search at tens of
thousands of articles (docs/core.md "Finding orders", docs/knowledge.md "Search").

**Orders.** ``bench/board.py`` generates them (its docstring says how): two years of
history in which every order carries a citizen's own words (the suggestion corpus),
an address on the gazetteer's roads and a caller's name, indexed as the application
indexes them. Each search the console sends, as the role that sends it, through the
function the view calls (``hotline.orders.searching.search_orders``): words alone and
with filters, an address, a house number, a phone, an order number, an enterprise's
history, a supervisor's filters without words, and a later page. Each size
(``--sizes``) has a database of its own; the sizes are measured in turns
(``--rounds``) so that whatever else the machine does falls on both alike. p95 of
``--runs`` runs of each search, and the ratio of the largest size to the smallest.

Raw baselines, measured in the same run and the same turns:

- *hand-written page*: the first search's page as one hand-written statement (the words'
  index, newest first, 50 rows): what PostgreSQL itself takes, without the
  application's layers (parsing the text, scoping, the second query for the page after);
- *ILIKE scan*: the same words matched as the search matched them before the words were
  indexed (``description ILIKE '%...%'``): a parallel scan of the whole table, the
  median of one per turn.

Before timing, every statement's plan (EXPLAIN, for its values and generic) is checked:
a sequential scan of work_orders or dispatches stops the bench.

**Words against trigrams** (``--only compare``, or without ``--only``; on the smallest
size): why the search cuts words with jieba rather than matching trigrams (pg_trgm). A
GIN trigram index is built on the same texts (description, address, caller name) and
each query is asked both ways: how many orders each finds and a page of 51, newest
first (p50/p95).

**Knowledge.** ``--articles`` published articles, made from the seed articles
(``config/knowledge/articles.json``), each a seed article's texts at a street of its own
with part of another's body, written through the knowledge base's own functions. Timed:
the agent console's suggestion for citizens' descriptions (the corpus, at their
hotline) and explicit searches of agents' questions, through the functions the views
call; p95 of each. Raw baseline: the same questions' first word by ILIKE over every
version's body (a whole-table scan).

    python -m bench.search [--only orders|compare|knowledge]
                           [--sizes 1000000,10000000] [--runs 200] [--rounds 4]
                           [--articles 20000] [--keep]

Uses HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL when set (else embedded servers) and
databases of its own, dropped after (the orders' kept with ``--keep``, shared with
``bench.reports`` and ``bench.exports``: bench/scratch.py). One and ten million orders
take about 10 GB of disk and an hour or more on two cores. Targets: order search p95
<= 100 ms at 10 million orders; knowledge search p95 <= 30 ms at 20,000 articles.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from bench.board import CORPUS, ROOT, WORDS, Stopwatch, check_plans, load_history, timed_ms
from bench.scratch import kept_names, mark_stage, run_on_scratch_databases, stage_done
from hotline import db
from hotline.knowledge import queries as knowledge_queries
from hotline.knowledge import service as knowledge
from hotline.knowledge.models import ArticleFilter
from hotline.migrate import migrate
from hotline.orders.models import OrderFilter
from hotline.orders.searching import search_orders
from hotline.settings import Settings
from hotline.users.models import Actor, Role
from wiring.seed import seed_reference

ORDER_TARGET_MS = 100.0
KNOWLEDGE_TARGET_MS = 30.0
TZ = ZoneInfo("Asia/Shanghai")
ARTICLES = ROOT / "config/knowledge/articles.json"
HAND_WRITTEN = "hand-written page (raw)"
ILIKE_SCAN = "ILIKE scan (raw, median)"
# The first search's words, for the raw baselines.
FIRST_WORDS = "漏水"

# What agents ask the knowledge base in their own words (explicit searches).
QUESTIONS = [
    "暖气费怎么交",
    "煤气泄漏怎么办",
    "过户需要什么材料",
    "营业厅几点上班",
    "阶梯水价",
    "水表校验",
    "停水通知在哪里看",
    "供暖期",
    "室温不达标",
    "燃气安检",
    "水发黄",
    "开户",
    "销户要带什么",
    "IC卡充值",
    "报停暖气",
    "工单进度",
    "水压低",
    "燃气表坏了",
    "供热 投诉",
    "缴费 方式",
]

Search = Callable[[Any], Awaitable[Any]]


# ------------------------------------------------------------------------------ orders


async def order_searches(conn: asyncpg.Connection, now: dt.datetime) -> dict[str, Search]:
    """The searches the console sends, by whom, as the view sends them."""
    unit = await conn.fetchval("SELECT min(id) FROM enterprises WHERE parent_id IS NULL")
    street = await conn.fetchval(
        "SELECT area_code FROM work_orders WHERE address LIKE '%香港中路%' LIMIT 1"
    )
    district = await conn.fetchval("SELECT parent_code FROM areas WHERE code = $1", street)
    phone = await conn.fetchval("SELECT caller_phone FROM work_orders ORDER BY id DESC LIMIT 1")
    number = await conn.fetchval("SELECT number FROM work_orders ORDER BY id DESC LIMIT 1")
    agent = Actor(
        user_id=None, name="bench", role=Role.AGENT, hotlines=frozenset({"96111", "12319"})
    )
    supervisor = Actor(user_id=None, name="bench", role=Role.SUPERVISOR)
    enterprise = Actor(user_id=None, name="bench", role=Role.ENTERPRISE_USER, enterprise_id=unit)
    month_ago = (now.astimezone(TZ) - dt.timedelta(days=30)).date()

    def search(actor: Actor, **criteria: Any) -> Search:
        return lambda c: search_orders(c, actor, OrderFilter(**criteria), now, TZ)

    # The second page alone: its cursor is the first page's, asked for once here.
    first = OrderFilter(q="暖气 不热", limit=50)
    _, cursor = await search_orders(conn, agent, first, now, TZ)
    second = first.model_copy(update={"cursor": cursor})

    async def second_page(c: Any) -> Any:
        return await search_orders(c, agent, second, now, TZ)

    return {
        "words (common)": search(agent, q=FIRST_WORDS),
        "words (rare pair)": search(agent, q="水表 走字"),
        "words, synonym": search(supervisor, q="煤气 味"),
        "words + status": search(supervisor, q="暖气 不热", status=["in_progress"]),
        "words + 30 days": search(supervisor, q="停水", registered_from=month_ago),
        "words + district": search(supervisor, q="漏水", area=district),
        "words + unit": search(supervisor, q="水表", enterprise_id=unit),
        "words + overdue": search(supervisor, q="暖气", overdue=True),
        "words + rated bad": search(supervisor, q="水表", rating="bad"),
        "words + coordination": search(supervisor, q="燃气", coordination=True),
        "words by due": search(supervisor, q="漏水", sort="due"),
        "words by completed": search(supervisor, q="水表", sort="completed"),
        "address": search(supervisor, q="香港中路"),
        "house number": search(supervisor, q="香港中路99号"),
        "phone": search(supervisor, q=phone.removeprefix("+86")),
        "order number": search(supervisor, q=number),
        "gas, no words": search(supervisor, domain="gas"),
        "enterprise history": search(enterprise, status=["closed"]),
        "enterprise words": search(enterprise, q="漏水"),
        "rated bad, 30 days": search(supervisor, rating="bad", completed_from=month_ago),
        "later page": second_page,
    }


async def hand_written_page(conn: asyncpg.Connection) -> None:
    await conn.fetch(
        "SELECT id FROM work_orders WHERE search_words @@ to_tsquery('simple', $1) "
        "AND hotline_code = ANY($2) ORDER BY created_at DESC, id DESC LIMIT 51",
        FIRST_WORDS,
        ["96111", "12319"],
    )


async def ilike_scan_ms(conn: asyncpg.Connection) -> float:
    started = time.perf_counter()
    await conn.fetch(
        "SELECT id FROM work_orders WHERE description ILIKE $1 "
        "ORDER BY created_at DESC, id DESC LIMIT 51",
        f"%{FIRST_WORDS}%",
    )
    return (time.perf_counter() - started) * 1000


async def prepare_orders(url: str, size: int) -> None:
    clock = Stopwatch()
    await load_history(url, size, clock)
    conn = await db.connect(url)
    try:
        await conn.execute("CHECKPOINT")
        clock.step("CHECKPOINT")
    finally:
        await conn.close()


async def measure_orders(urls: dict[int, str], runs: int, rounds: int) -> None:
    now = dt.datetime.now(dt.UTC)
    conns = {size: await asyncpg.connect(url) for size, url in urls.items()}
    searches = {size: await order_searches(conn, now) for size, conn in conns.items()}
    times: dict[int, dict[str, list[float]]] = {size: {} for size in urls}
    try:
        for size, conn in conns.items():
            for name, query in searches[size].items():
                # A search is always planned for its values (plan_for_values in
                # hotline/orders/searching.py): it never runs a generic plan.
                await check_plans(conn, name, query, generic=False)
                await timed_ms(conn, query, 3)  # warm the cache and the prepared statements
            print(f"{size:,} orders: plans checked", flush=True)
        for turn in range(rounds):
            for size, conn in conns.items():
                for name, query in searches[size].items():
                    times[size].setdefault(name, []).extend(
                        await timed_ms(conn, query, runs // rounds)
                    )
                times[size].setdefault(HAND_WRITTEN, []).extend(
                    await timed_ms(conn, hand_written_page, runs // rounds)
                )
                times[size].setdefault(ILIKE_SCAN, []).append(await ilike_scan_ms(conn))
            print(f"  round {turn + 1} of {rounds} done", flush=True)
    finally:
        for conn in conns.values():
            await conn.close()
    results = {size: summarise(by_name, ILIKE_SCAN) for size, by_name in times.items()}
    for size, figures in results.items():
        print(f"{size:,} orders; p95 of {runs} runs each in {rounds} rounds:")
        print_figures(figures, ILIKE_SCAN)
    sizes = sorted(results)
    small, large = results[sizes[0]], results[sizes[-1]]
    searched = [n for n in large if n not in (HAND_WRITTEN, ILIKE_SCAN)]
    print(f"order search, {sizes[-1]:,} vs {sizes[0]:,} orders:")
    for name in [*searched, HAND_WRITTEN, ILIKE_SCAN]:
        print(
            f"  {name:<26} {small[name]:8.1f} ms -> {large[name]:8.1f} ms   "
            f"ratio {large[name] / small[name]:6.2f}"
        )
    worst = max(large[n] for n in searched)
    print(f"  slowest search p95 = {worst:.1f} ms   (target <= {ORDER_TARGET_MS:.0f} ms)")
    print(
        f"  first search / hand-written page = "
        f"{large['words (common)'] / large[HAND_WRITTEN]:.2f};   "
        f"ILIKE scan / first search = {large[ILIKE_SCAN] / large['words (common)']:.0f}"
    )


def summarise(by_name: dict[str, list[float]], median_of: str) -> dict[str, float]:
    return {
        name: statistics.median(t) if name == median_of else statistics.quantiles(t, n=100)[94]
        for name, t in by_name.items()
    }


def print_figures(figures: dict[str, float], median_of: str) -> None:
    for name, value in figures.items():
        label = "median" if name == median_of else "p95"
        print(f"  {name:<26} {label:>6} {value:8.1f} ms")


def run_orders(
    sizes: list[int], runs: int, rounds: int, *, measure: bool, trigrams: bool, keep: bool
) -> None:
    async def work(every: list[Settings]) -> None:
        urls = {size: database_url(s) for size, s in zip(sizes, every, strict=True)}
        for size, url in urls.items():
            await prepare_orders(url, size)
        if measure:
            await measure_orders(urls, runs, rounds)
        if trigrams:
            print(f"words against trigrams, {sizes[0]:,} orders:")
            await compare(urls[sizes[0]], max(10, runs // 10))

    run_on_scratch_databases(len(sizes), work, kept=kept_names(sizes) if keep else None)


# ---------------------------------------------------------------- words against trigrams

# Two-character words, longer words, a road, a house number, a name.
COMPARED = ["漏水", "燃气", "水表", "暖气", "水表不准", "燃气泄漏", "香港中路", "12号", "王先生"]
TRIGRAM_TEXT = "(description || ' ' || address || ' ' || caller_name)"


async def compare(url: str, runs: int) -> None:
    """Each of COMPARED by the words' index and by a trigram index on the same texts:
    the orders found and a page of 51, newest first."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            f"CREATE INDEX bench_trgm_idx ON work_orders USING gin ({TRIGRAM_TEXT} gin_trgm_ops)"
        )
        await conn.execute("VACUUM ANALYZE work_orders")
        sizes = await conn.fetchrow(
            "SELECT pg_relation_size('work_orders_search_words_idx') AS words, "
            "pg_relation_size('bench_trgm_idx') AS trgm"
        )
        print(
            f"index sizes: words {sizes['words'] / 2**20:.0f} MiB, "
            f"trigrams {sizes['trgm'] / 2**20:.0f} MiB"
        )
        print(f"{'query':<10} {'words':>8} {'trigrams':>9}  page p50/p95 ms (words | trigrams)")
        for q in COMPARED:
            ways = {
                "words": (
                    "search_words @@ to_tsquery('simple', $1)",
                    WORDS.tsquery(WORDS.for_query(q)),
                ),
                "trigrams": (f"{TRIGRAM_TEXT} ILIKE $1", f"%{q}%"),
            }
            counts, pages = {}, {}
            for way, (condition, arg) in ways.items():
                counts[way] = await conn.fetchval(
                    f"SELECT count(*) FROM work_orders WHERE {condition}", arg
                )
                sql = (
                    f"SELECT id FROM work_orders WHERE {condition} "
                    "ORDER BY created_at DESC, id DESC LIMIT 51"
                )

                async def page(c: Any, sql: str = sql, arg: Any = arg) -> None:
                    await c.fetch(sql, arg)

                times = await timed_ms(conn, page, runs)
                cut = statistics.quantiles(times, n=100)
                pages[way] = (cut[49], cut[94])
            print(
                f"{q:<10} {counts['words']:>8} {counts['trigrams']:>9}  "
                f"{pages['words'][0]:.1f}/{pages['words'][1]:.1f} | "
                f"{pages['trigrams'][0]:.1f}/{pages['trigrams'][1]:.1f}"
            )
        await conn.execute("DROP INDEX bench_trgm_idx")
    finally:
        await conn.close()


# --------------------------------------------------------------------------- knowledge


async def write_articles(conn: asyncpg.Connection, count: int) -> None:
    """``count`` published articles made from the seed articles, through the knowledge
    base's own writes, each at a street of its own with part of another's body."""
    seeds = json.loads(ARTICLES.read_text(encoding="utf-8"))
    owners = dict(await conn.fetch("SELECT code, id FROM enterprises"))
    streets = await conn.fetch("SELECT code, name_zh FROM areas WHERE level = 'street'")
    now = dt.datetime.now(dt.UTC)
    clock = Stopwatch()
    for i in range(count):
        seed, other = seeds[i % len(seeds)], seeds[(i * 7 + 3) % len(seeds)]
        street = streets[i % len(streets)]
        text = {
            "title": f"{seed['title']}（{street['name_zh']}）",
            "body": seed["body"] + "\n\n" + other["body"][: len(other["body"]) // 2],
            "script": seed["script"],
            "documents": seed["documents"],
            "fees": seed["fees"],
            "time_limit": seed["time_limit"],
            "steps": seed["steps"],
            "en": seed["en"],
        }
        links = {
            "service_items": seed["service_items"],
            "hotlines": seed["hotlines"],
            "areas": [street["code"]],
            "valid_from": None,
            "valid_until": None,
            "review_due": None,
        }
        async with conn.transaction():
            article_id = await knowledge_queries.insert_article(
                conn,
                code=None,
                kind=seed["kind"],
                owner_enterprise_id=owners.get(seed["owner"]),
                created_by=None,
                now=now,
            )
            await knowledge.add_version(
                conn,
                article_id,
                1,
                state="published",
                text=text,
                links=links,
                demo=True,
                change_note="bench",
                written_by=None,
                now=now,
            )
        if (i + 1) % 2000 == 0:
            clock.step(f"{i + 1:,} articles written")
    await conn.execute("VACUUM ANALYZE kb_articles, kb_article_versions, kb_postings, kb_words")


async def measure_knowledge(url: str, count: int, runs: int) -> None:
    await migrate(url)
    conn = await db.connect(url)
    try:
        if not await stage_done(conn, "articles"):
            await seed_reference(conn)
            await write_articles(conn, count)
            await mark_stage(conn, "articles")
        today = dt.datetime.now(TZ).date()
        agent = Actor(user_id=None, name="bench", role=Role.AGENT)
        lines = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
        described = random.Random(17).sample(lines, 200)

        async def suggested(line: dict[str, Any]) -> Any:
            return await knowledge.suggest(
                conn,
                line["text"],
                hotline=line["hotline"],
                service_item=None,
                area=None,
                today=today,
            )

        async def searched(question: str) -> Any:
            return await knowledge.list_articles(
                conn, agent, ArticleFilter(q=question, limit=20), today
            )

        raw: list[float] = []
        suggest_ms: list[float] = []
        search_ms: list[float] = []
        # Warm: the segmenter's dictionary, the cache, the prepared statements.
        for line in described[:20]:
            await suggested(line)
        for question in QUESTIONS:
            await searched(question)
        for _ in range(max(1, runs // len(described))):
            for line in described:
                started = time.perf_counter()
                await suggested(line)
                suggest_ms.append((time.perf_counter() - started) * 1000)
        for _ in range(max(1, runs // len(QUESTIONS))):
            for question in QUESTIONS:
                started = time.perf_counter()
                await searched(question)
                search_ms.append((time.perf_counter() - started) * 1000)
        for question in QUESTIONS:
            word = WORDS.for_query(question)[0]
            started = time.perf_counter()
            await conn.fetch(
                "SELECT article_id FROM kb_article_versions WHERE body ILIKE $1 LIMIT 20",
                f"%{word}%",
            )
            raw.append((time.perf_counter() - started) * 1000)
        versions = await conn.fetchval("SELECT count(*) FROM kb_article_versions")
        figures = {
            "suggestion as the agent types": statistics.quantiles(suggest_ms, n=100)[94],
            "search": statistics.quantiles(search_ms, n=100)[94],
            "ILIKE scan (raw)": statistics.quantiles(raw, n=100)[94],
        }
        print(f"knowledge, {versions:,} published articles; p95:")
        for name, value in figures.items():
            print(f"  {name:<30} {value:8.1f} ms")
        worst = max(figures["suggestion as the agent types"], figures["search"])
        print(f"  slowest p95 = {worst:.1f} ms   (target <= {KNOWLEDGE_TARGET_MS:.0f} ms)")
        print(f"  ILIKE scan / slowest = {figures['ILIKE scan (raw)'] / worst:.1f}")
    finally:
        await conn.close()


def run_knowledge(count: int, runs: int, *, keep: bool) -> None:
    async def work(every: list[Settings]) -> None:
        await measure_knowledge(database_url(every[0]), count, runs)

    run_on_scratch_databases(1, work, kept=[f"hotline_bench_kb_{count}"] if keep else None)


def database_url(settings: Settings) -> str:
    assert settings.database_url is not None  # the scratch databases are given one
    return settings.database_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["orders", "compare", "knowledge"])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument(
        "--keep", action="store_true", help="keep the loaded orders (bench/scratch.py)"
    )
    args = parser.parse_args()
    if args.only in (None, "knowledge"):
        run_knowledge(args.articles, args.runs, keep=args.keep)
    if args.only != "knowledge":
        sizes = sorted(int(s) for s in args.sizes.split(","))
        if args.only == "compare":
            sizes = sizes[:1]
        run_orders(
            sizes,
            args.runs,
            args.rounds,
            measure=args.only != "compare",
            trigrams=args.only != "orders",
            keep=args.keep,
        )


if __name__ == "__main__":
    main()
