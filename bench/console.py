"""The console at scale: (a) fan-out latency from one event to many connected
consoles; (b) the supervisors' SLA board's queries at millions of orders.

Part (a), fan-out. 1,000 socket.io clients (python-socketio, in a process of their own)
are connected to real ``hotline web`` processes as one supervisor (so all are in the
``centre`` room). For each of ``--events`` order events, one at a time, the bench
publishes the batch the relay's publisher would publish on the Redis channel; each web
process's hub sends it to its clients. Latency = arrival at a client - publish, for
every (client, event), and per event until the last client has it. Measured:

1. the raw baseline: a plain aiohttp websocket server that takes the same message from
   Redis and sends it to its 1,000 websocket clients in a loop (same Redis hop, same
   JSON, no socket.io);
2. socket.io, one web process with the 1,000 clients;
3. socket.io, two web processes joined by Redis, 500 clients each;
4. for 2 and 3, commit to console: events written in transactions and carried by the
   real publisher (``agents_ui/live_publisher.py``, polling every
   ``HOTLINE_LIVE_POLL_SECONDS``).

Both kinds of client parse each message's JSON, and both clients' processes freeze
their heap once connected (``run_clients``). Each round writes the events it publishes
and starts its web processes just before them, so no hub has a hole to catch up on.

Part (b), the board (``bench/board.py`` generates the orders and says how): every
query the board screen sends, called through the functions the views call, at each
``--sizes`` count of orders (about 2% open), each in a database of its own: p95 of
``--runs`` runs each, the ratio of the largest size to the smallest, and a full
``count(*)`` of the orders (median of one per round) as the raw baseline. The sizes are
measured in turns (``--rounds``), so that whatever else the machine does falls on both
alike. Before timing, each statement's plan (EXPLAIN, FORMAT JSON, for its values and
generic) is checked: a sequential scan of work_orders or dispatches stops the bench.
One and ten million orders take about 9 GB of disk together (dropped after) and about
10 minutes on two cores.

    python -m bench.console [--only fanout|board] [--clients 1000] [--events 100]
                            [--gap 0.25] [--sizes 1000000,10000000] [--runs 200]
                            [--rounds 4]

Uses HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL when set (else embedded servers) and
databases (one per part and size) and a live channel of its own. Targets: fan-out p99 <= 250 ms,
two processes / one process <= 1.5; board p95 <= 100 ms, 10M/1M <= 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import resource
import socket
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import redis.asyncio as aioredis
import socketio
from aiohttp import web

from bench.board import measure_boards, prepare_board, print_summary
from bench.scratch import run_on_scratch_database, run_on_scratch_databases
from hotline import db
from hotline.migrate import migrate
from hotline.orders.service import record_event
from hotline.settings import Settings
from hotline.stream import queries as stream
from hotline.users.service import do_create_user
from testkit.orders import insert_order
from web.live import tune_collector
from web.live_publisher import Publisher
from web.live_stream import STREAM_EVENT
from wiring.seed import seed_reference

PASSWORD = "bench-password-1"
START_TIMEOUT = 60.0
REPORT_LIMIT = 256 * 1024 * 1024


def cuts(values: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(values, n=100)
    return q[49], q[98]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def more_files() -> None:
    """A thousand sockets in one process need more descriptors than the usual soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))


# --------------------------------------------------------------------- the clients


async def run_clients(urls: list[str], count: int, kind: str, cookie: str) -> None:
    """``count`` clients spread over ``urls``; prints ``ready``, records each message's
    arrival, and prints them as JSON when a line comes on standard input."""
    more_files()
    arrivals: dict[int, list[float]] = {}

    def arrived(data: Any) -> None:
        now = time.time()
        message = json.loads(data) if isinstance(data, str) else data
        arrivals.setdefault(message["seq"], []).append(now)

    gate = asyncio.Semaphore(50)
    closers: list[Any] = []
    # One HTTP session for all; engine.io moves the Cookie header into its jar. Each open
    # websocket holds one of the connector's connections: the default cap of 100 would
    # leave the 101st client waiting for ever.
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )

    async def socketio_client(url: str) -> None:
        client = socketio.AsyncClient(reconnection=False, http_session=session)
        client.on("order_event", arrived)
        async with gate:
            await client.connect(
                url,
                headers={"Cookie": cookie, "Origin": url},
                transports=["websocket"],
                wait_timeout=30,
            )
        closers.append(client.disconnect)

    async def websocket_client(url: str) -> None:
        async with gate:
            ws = await session.ws_connect(url + "/ws")
        closers.append(ws.close)

        async def read() -> None:
            async for message in ws:
                arrived(message.data)

        asyncio.get_running_loop().create_task(read())

    make = socketio_client if kind == "socketio" else websocket_client
    await asyncio.gather(*(make(urls[i % len(urls)]) for i in range(count)))
    # The connected clients' objects live to the end, and a full collection walks all of
    # them: some 200 ms with a thousand clients, added to every arrival it delays, where
    # a thousand browsers would each collect a small heap of their own. Frozen, they are
    # left out; the collector still runs over what the messages allocate.
    gc.freeze()
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    print(json.dumps(arrivals), flush=True)
    for close in closers:
        with contextlib.suppress(Exception):
            await close()
    await session.close()


# --------------------------------------------------------------------- the raw baseline


async def run_websocket_server(port: int, redis_url: str, channel: str) -> None:
    """Plain aiohttp: websockets, and a loop that sends each Redis message to all. Its
    collector is tuned as the web processes' is, so that only the sending differs."""
    more_files()
    tune_collector()
    clients: list[web.WebSocketResponse] = []

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        clients.append(ws)
        async for _ in ws:
            pass
        clients.remove(ws)
        return ws

    async def fan_out(app: web.Application) -> AsyncIterator[None]:
        async def relay() -> None:
            connection = aioredis.Redis.from_url(redis_url)
            async with connection.pubsub() as pubsub:
                await pubsub.subscribe(channel)
                async for message in pubsub.listen():
                    if message["type"] != "message":
                        continue
                    text = message["data"].decode()
                    for ws in list(clients):
                        await ws.send_str(text)

        task = asyncio.create_task(relay())
        yield
        task.cancel()

    app = web.Application()
    app.router.add_get("/ws", ws_handler)
    app.cleanup_ctx.append(fan_out)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


# --------------------------------------------------------------------- the bench


class Processes:
    """Child processes of this run, stopped at the end."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.children: list[asyncio.subprocess.Process] = []

    async def start(
        self, *args: str, talks: bool = False, **env: str
    ) -> asyncio.subprocess.Process:
        """``talks``: this bench reads its standard output and writes to its input."""
        pipe = asyncio.subprocess.PIPE if talks else asyncio.subprocess.DEVNULL
        # The clients' report is one line of every arrival (megabytes for 1,000 clients),
        # far past the stream reader's default 64 KiB line limit.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *args,
            env={**self.env, **env},
            stdin=pipe,
            stdout=pipe,
            limit=REPORT_LIMIT,
        )
        self.children.append(process)
        return process

    async def stop_all(self) -> None:
        for process in self.children:
            if process.returncode is None:
                process.terminate()
        for process in self.children:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), timeout=20)
        self.children.clear()


async def until_up(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + "/health") as response:
                    if response.status < 500:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not start")


async def web_processes(processes: Processes, count: int) -> list[str]:
    urls = []
    for _ in range(count):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        await processes.start(
            "-m", "wiring.cli", "web", HOTLINE_PORT=str(port), HOTLINE_PUBLIC_URL=url
        )
        urls.append(url)
    for url in urls:
        await until_up(url)
    return urls


async def log_in(url: str, username: str) -> str:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        response = await session.post(
            url + "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
        )
        assert response.status == 200, await response.text()
        return "; ".join(f"{c.key}={c.value}" for c in session.cookie_jar)


async def clients(
    processes: Processes, urls: list[str], count: int, kind: str, cookie: str
) -> asyncio.subprocess.Process:
    process = await processes.start(
        "-m", "bench.console", "clients", kind, str(count), cookie, *urls, talks=True
    )
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=300)
    if line.strip() != b"ready":
        raise RuntimeError(f"clients did not connect: {line!r}")
    return process


async def arrivals(process: asyncio.subprocess.Process) -> dict[int, list[float]]:
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(b"report\n")
    await process.stdin.drain()
    line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
    await process.wait()
    return {int(seq): times for seq, times in json.loads(line).items()}


def report(
    label: str, sent: dict[int, float], got: dict[int, list[float]], count: int
) -> tuple[float, float]:
    every = [t - sent[seq] for seq, times in got.items() if seq in sent for t in times]
    last = [max(times) - sent[seq] for seq, times in got.items() if seq in sent]
    delivered = sum(len(got.get(seq, [])) for seq in sent)
    p50, p99 = cuts(every)
    l50, l99 = cuts(last)
    print(
        f"{label:<42} p50 {p50 * 1000:6.1f} ms  p99 {p99 * 1000:6.1f} ms   "
        f"last client p50 {l50 * 1000:6.1f} ms  p99 {l99 * 1000:6.1f} ms   "
        f"delivered {delivered}/{len(sent) * count}"
    )
    return p50, p99


async def publish_events(
    manager: socketio.AsyncRedisManager, events: list[dict[str, Any]], gap: float
) -> dict[int, float]:
    """Each event alone, as the publisher would publish it; returns when each went."""
    sent = {}
    for event in events:
        sent[event["seq"]] = time.time()
        batch = {"prev": event["seq"] - 1, "upto": event["seq"], "events": [event]}
        await manager.emit(STREAM_EVENT, batch, room="stream")
        await asyncio.sleep(gap)
    return sent


async def publish_raw(
    redis_url: str, channel: str, events: list[dict[str, Any]], gap: float
) -> dict[int, float]:
    connection = aioredis.Redis.from_url(redis_url)
    sent = {}
    for event in events:
        sent[event["seq"]] = time.time()
        await connection.publish(channel, json.dumps(event, ensure_ascii=False))
        await asyncio.sleep(gap)
    await connection.aclose()
    return sent


async def committed_events(
    pool: asyncpg.Pool, order_id: int, count: int, gap: float
) -> dict[int, float]:
    """Events written one transaction at a time; returns when each committed."""
    sent = {}
    for i in range(count):
        async with db.transaction(pool) as conn:
            row = await note(conn, order_id, i)
        sent[row["seq"]] = time.time()
        await asyncio.sleep(gap)
    return sent


async def new_events(pool: asyncpg.Pool, order_id: int, count: int) -> list[dict[str, Any]]:
    """``count`` new events as the stream reads them, the stream marked published up to
    just before them: web processes started now begin there. Started further back, their
    hubs would first read the events in between from the database and send them (as they
    should on a hole), delaying the round's first events by seconds."""
    async with db.transaction(pool) as conn:
        rows = [await note(conn, order_id, i) for i in range(count)]
    first = rows[0]["seq"]
    async with pool.acquire() as conn:
        await stream.save_published(conn, first - 1)
        return await stream.read_events(conn, after=first - 1, upto=first + count - 1, limit=count)


async def note(conn: asyncpg.Connection, order_id: int, i: int) -> asyncpg.Record:
    return await record_event(
        conn, order_id, "bench.note", None, dt.datetime.now(dt.UTC), data={"i": i}
    )


async def bench(settings: Settings, args: argparse.Namespace) -> None:
    url = settings.database_url
    assert url and settings.redis_url
    channel = f"hotline-live-bench-{uuid.uuid4().hex[:8]}"
    await migrate(url)
    pool = await db.create_pool(url, min_size=2, max_size=4)
    async with pool.acquire() as conn:
        await seed_reference(conn)
        async with conn.transaction():
            await do_create_user(
                conn, username="bench-supervisor", password=PASSWORD, role="supervisor"
            )
            order = await insert_order(
                conn,
                {
                    "number": "12319-bench-0001",
                    "hotline_code": "12319",
                    "channel": "agent",
                    "kind": "consultation",
                    "service_item_code": "G-CONSULT",
                    "description": "基准测试",
                    "status": "registered",
                },
            )
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": url,
        "HOTLINE_REDIS_URL": settings.redis_url,
        "HOTLINE_LIVE_CHANNEL": channel,
        "HOTLINE_LOG_LEVEL": "WARNING",
        "HOTLINE_ENV": "development",
    }
    processes = Processes(env)
    manager = socketio.AsyncRedisManager(settings.redis_url, channel=channel, write_only=True)
    results: dict[str, tuple[float, float]] = {}
    print(
        f"{args.clients} clients in one process, {args.events} events {args.gap:.2f} s apart; "
        f"{os.cpu_count()} cores (shared with whatever else runs on this machine)"
    )
    try:
        events = await new_events(pool, order["id"], args.events)
        port = free_port()
        raw_url = f"http://127.0.0.1:{port}"
        await processes.start("-m", "bench.console", "ws-server", str(port), channel)
        await asyncio.sleep(1.0)
        listening = await clients(processes, [raw_url], args.clients, "ws", "")
        sent = await publish_raw(settings.redis_url, channel, events, args.gap)
        await asyncio.sleep(2.0)
        results["raw"] = report(
            "aiohttp websocket send loop, 1 process", sent, await arrivals(listening), args.clients
        )
        await processes.stop_all()

        for servers in (1, 2):
            events = await new_events(pool, order["id"], args.events)
            urls = await web_processes(processes, servers)
            cookie = await log_in(urls[0], "bench-supervisor")
            listening = await clients(processes, urls, args.clients, "socketio", cookie)
            sent = await publish_events(manager, events, args.gap)
            await asyncio.sleep(2.0)
            got = await arrivals(listening)
            label = f"socket.io, {servers} web process{'es' if servers > 1 else ''}"
            results[f"sio{servers}"] = report(label, sent, got, args.clients)

            # Commit to console, through the real publisher.
            listening = await clients(processes, urls, args.clients, "socketio", cookie)
            async with pool.acquire() as conn:
                await stream.save_published(conn, await stream.last_allocated_seq(conn))
            publisher = Publisher(
                url, settings.redis_url, channel, interval=settings.live_poll_seconds
            )
            stop = asyncio.Event()
            running = asyncio.create_task(publisher.run(stop))
            await publisher.leading.wait()
            sent = await committed_events(pool, order["id"], args.events, args.gap)
            await asyncio.sleep(2.0)
            stop.set()
            await running
            report(
                f"  commit -> console, {servers} process(es)",
                sent,
                await arrivals(listening),
                args.clients,
            )
            await processes.stop_all()
    finally:
        await processes.stop_all()
        await pool.close()
    _, raw99 = results["raw"]
    _, one99 = results["sio1"]
    _, two99 = results["sio2"]
    print(f"socket.io 1 process p99 / raw p99 = {one99 / raw99:.2f}")
    print(f"two processes / one process (p99) = {two99 / one99:.2f}   (target <= 1.5)")
    print(f"fan-out p99: {one99 * 1000:.0f} ms and {two99 * 1000:.0f} ms   (target <= 250 ms)")


async def boards(settings: list[Settings], args: argparse.Namespace) -> None:
    """A database per size, filled, then measured in turns."""
    urls = {}
    for size, each in zip(sorted(args.sizes), settings, strict=True):
        url = each.database_url
        assert url
        await migrate(url)
        conn = await asyncpg.connect(url)
        try:
            await seed_reference(conn)
        finally:
            await conn.close()
        await prepare_board(url, size)
        urls[size] = url
    tz = ZoneInfo(settings[0].timezone)
    by_size = await measure_boards(urls, tz, args.runs, args.rounds)
    if len(by_size) > 1:
        print_summary(by_size)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "clients":
        kind, count, cookie, *urls = sys.argv[2:]
        asyncio.run(run_clients(urls, int(count), kind, cookie))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "ws-server":
        port, channel = sys.argv[2:]
        asyncio.run(run_websocket_server(int(port), Settings().redis_url or "", channel))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100)
    parser.add_argument("--gap", type=float, default=0.25, help="seconds between events")
    parser.add_argument("--only", choices=("fanout", "board"), help="run one part (default: both)")
    parser.add_argument(
        "--sizes", default="1000000,10000000", help="order counts for the board, comma-separated"
    )
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each board query")
    parser.add_argument("--rounds", type=int, default=4, help="turns the sizes take")
    args = parser.parse_args()
    args.sizes = [int(n) for n in args.sizes.split(",")]
    if args.only != "board":
        run_on_scratch_database(lambda settings: bench(settings, args))
    if args.only != "fanout":
        run_on_scratch_databases(len(args.sizes), lambda every: boards(every, args))


if __name__ == "__main__":
    main()
