"""Intake: a signed Twilio recording callback in, a durable draft order out.

A real ``hotline web`` process answers ``POST /twilio/recording`` requests signed as
Twilio signs them (the twilio library's own ``RequestValidator``): the web process
checks the signature, claims the delivery key, stores the recording on its call and
writes the draft order, its event and its outbox row in one transaction before it
answers. The baseline writes the same rows with raw asyncpg statements in one
transaction, at the same concurrency, from this process, in the same run.

1. Throughput: every request as soon as the previous one of its lane is answered
   (closed loop, ``--concurrency`` lanes), webhook vs raw; and the web process's CPU
   time per webhook, which other work on the machine changes less than the rates.
2. Latency at fixed offered rates (open loop: request i is due at start + i/rate and
   its latency counts from that moment, so a slow answer delays nothing it should not
   hide): p50/p99 and the achieved rate, webhook and raw.

    python -m bench.intake [--requests 3000] [--concurrency 16] [--rates 100,200,300]
                           [--seconds 10]

Uses HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL when set (else embedded servers) and a
database of its own. Targets on a 2-core machine: webhook at least 0.6 of the raw rate;
p99 <= 50 ms at 300 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg
import psutil
from twilio.request_validator import RequestValidator

from bench.scratch import run_on_scratch_database
from hotline import db
from hotline.migrate import migrate
from hotline.settings import Settings
from testkit.local_server import free_port
from wiring.seed import seed_reference

TOKEN = "bench-twilio-auth-token"
HOTLINE_NUMBER = "96111"
PATH = "/twilio/recording"


@dataclass(frozen=True)
class Signed:
    call_sid: str
    form: dict[str, str]
    signature: str


async def make_calls(pool: asyncpg.Pool, count: int, label: str) -> list[str]:
    """``count`` calls that waited and left the queue: each will send one recording."""
    sids = [f"CA{label}{uuid.uuid4().hex}" for _ in range(count)]
    async with pool.acquire() as conn:
        await conn.executemany(
            "INSERT INTO calls (call_sid, hotline_code, from_phone, to_number, status, "
            "status_rank, menu_choice, queued_at, left_queue_at, queue_result) "
            "VALUES ($1, $2, $3, $2, 'in-progress', 2, '1', now(), now(), 'leave')",
            [(sid, HOTLINE_NUMBER, f"+86138{i % 100_000_000:08d}") for i, sid in enumerate(sids)],
        )
    return sids


def sign(base_url: str, sids: list[str]) -> list[Signed]:
    """Twilio's signature of every request, made before the clock starts (the client's
    CPU is the server's on this machine)."""
    validator = RequestValidator(TOKEN)
    signed = []
    for sid in sids:
        form = {
            "AccountSid": "AC" + "0" * 32,
            "CallSid": sid,
            "RecordingSid": "RE" + sid[2:],
            "RecordingUrl": f"https://api.twilio.com/recordings/RE{sid[2:]}",
            "RecordingDuration": "17",
            "RecordingStatus": "completed",
            "RecordingChannels": "1",
            "RecordingSource": "RecordVerb",
        }
        signed.append(Signed(sid, form, validator.compute_signature(base_url + PATH, form)))
    return signed


async def raw_rows(pool: asyncpg.Pool, request: Signed) -> None:
    """The rows one recording makes, written plainly: delivery key, the call's
    recording, the order (with a made-up number: no numbering at all), its event, its
    outbox row, the stored answer."""
    form = request.form
    async with db.transaction(pool) as conn:
        delivery = await conn.fetchval(
            "INSERT INTO twilio_deliveries (kind, sid) VALUES ('recording', $1) RETURNING id",
            form["RecordingSid"],
        )
        call = await conn.fetchrow(
            "UPDATE calls SET recording_sid = $2, recording_url = $3, recording_seconds = 17 "
            "WHERE call_sid = $1 RETURNING id, from_phone",
            request.call_sid,
            form["RecordingSid"],
            form["RecordingUrl"],
        )
        order_id = await conn.fetchval(
            "INSERT INTO work_orders (number, hotline_code, channel, description, status, "
            "caller_phone, media_url, call_id) VALUES ($1, '96111', 'voice', $2, 'draft', "
            "$3, $4, $5) RETURNING id",
            f"raw-{uuid.uuid4().hex}",
            f"留言录音 / voice message: {form['RecordingUrl']}",
            call["from_phone"],
            form["RecordingUrl"],
            call["id"],
        )
        seq = await conn.fetchval(
            "INSERT INTO order_events (order_id, type, to_status) "
            "VALUES ($1, 'order.drafted', 'draft') RETURNING seq",
            order_id,
        )
        await conn.execute(
            "INSERT INTO outbox (topic, key, payload) VALUES ('order.drafted', $1, $2)",
            f"raw:{order_id}",
            {"order_id": order_id, "seq": seq},
        )
        await conn.execute(
            "UPDATE twilio_deliveries SET response_body = '<Response/>' WHERE id = $1", delivery
        )


class Webhook:
    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        self.session = session
        self.url = base_url + PATH

    async def send(self, request: Signed) -> None:
        async with self.session.post(
            self.url, data=request.form, headers={"X-Twilio-Signature": request.signature}
        ) as response:
            await response.read()
            if response.status != 200:
                raise RuntimeError(f"webhook answered {response.status}")


def percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


async def closed_loop(
    label: str, requests: list[Signed], concurrency: int, one: Callable[[Signed], Awaitable[None]]
) -> float:
    latencies: list[float] = []
    pending = iter(requests)

    async def lane() -> None:
        for request in pending:
            started = time.perf_counter()
            await one(request)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    rate = len(requests) / (time.perf_counter() - started)
    p50, p99 = percentiles(latencies)
    print(f"  {label:<10} {rate:7.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    return rate


async def open_loop(
    label: str, requests: list[Signed], rate: int, one: Callable[[Signed], Awaitable[None]]
) -> tuple[float, float]:
    latencies: list[float] = []
    start = time.perf_counter() + 0.05

    async def fire(i: int, request: Signed) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await one(request)
        latencies.append(time.perf_counter() - due)

    await asyncio.gather(*(fire(i, r) for i, r in enumerate(requests)))
    achieved = len(requests) / (time.perf_counter() - start)
    p50, p99 = percentiles(latencies)
    print(
        f"  {label:<10} offered {rate:4d}/s  achieved {achieved:6.1f}/s   "
        f"p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
    )
    return p50, p99


async def check_durable(pool: asyncpg.Pool, expected: int) -> None:
    """Every answered request left its order, event and outbox row."""
    async with pool.acquire() as conn:
        orders = await conn.fetchval(
            "SELECT count(*) FROM work_orders WHERE channel = 'voice' AND number NOT LIKE 'raw-%'"
        )
        events = await conn.fetchval(
            "SELECT count(*) FROM order_events e JOIN work_orders o ON o.id = e.order_id "
            "WHERE e.type = 'order.drafted' AND o.number NOT LIKE 'raw-%'"
        )
        outbox = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = 'order.drafted' AND key NOT LIKE 'raw:%'"
        )
    counts = {"orders": orders, "events": events, "outbox rows": outbox}
    if any(n != expected for n in counts.values()):
        raise SystemExit(f"expected {expected} of each, found {counts}")
    print(f"durable: {expected} voice orders, each with its event and outbox row")


def start_web(settings: Settings, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HOTLINE_DATABASE_URL": settings.database_url or "",
        "HOTLINE_REDIS_URL": settings.redis_url or "",
        "HOTLINE_QUEUE_NAME": settings.queue_name,
        "HOTLINE_PORT": str(port),
        "HOTLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "HOTLINE_TWILIO_AUTH_TOKEN": TOKEN,
        "HOTLINE_LOG_LEVEL": "WARNING",
    }
    command = [str(Path(sys.executable).parent / "hotline"), "web"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


async def wait_until_up(session: aiohttp.ClientSession, base_url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            async with session.get(base_url + "/health") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("hotline web did not come up within 30 s")


async def run(settings: Settings, args: argparse.Namespace) -> None:
    url = settings.database_url or ""
    await migrate(url)
    pool = await db.create_pool(url, min_size=args.concurrency, max_size=args.concurrency)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    web = start_web(settings, port)
    connector = aiohttp.TCPConnector(limit=0)
    try:
        async with pool.acquire() as conn:
            await seed_reference(conn)
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_until_up(session, base_url)
            webhook = Webhook(session, base_url)

            async def batch(count: int, label: str) -> list[Signed]:
                return sign(base_url, await make_calls(pool, count, label))

            def raw(request: Signed) -> Awaitable[None]:
                return raw_rows(pool, request)

            answered = 0
            await closed_loop("warm-up", await batch(300, "w"), args.concurrency, webhook.send)
            answered += 300
            print(f"throughput, {args.requests} requests, concurrency {args.concurrency}:")
            raw_rate = await closed_loop(
                "raw", await batch(args.requests, "r"), args.concurrency, raw
            )
            requests = await batch(args.requests, "h")
            cpu = psutil.Process(web.pid)
            before = sum(cpu.cpu_times()[:2])
            rate = await closed_loop("webhook", requests, args.concurrency, webhook.send)
            used = (sum(cpu.cpu_times()[:2]) - before) / args.requests
            answered += args.requests
            print(f"  web process CPU per webhook: {used * 1000:.2f} ms")
            print(f"  webhook / raw = {rate / raw_rate:.2f}   (target >= 0.6)")
            print(f"latency at fixed offered rates, {args.seconds} s each:")
            for offered in args.rates:
                count = offered * args.seconds
                await open_loop("raw", await batch(count, "q"), offered, raw)
                _, p99 = await open_loop("webhook", await batch(count, "o"), offered, webhook.send)
                answered += count
            print(f"  p99 at {args.rates[-1]}/s = {p99:.1f} ms   (target <= 50 ms)")
            await check_durable(pool, answered)
    finally:
        web.terminate()
        web.wait(timeout=15)
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rates", default="100,200,300", help="offered rates, comma-separated")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    args.rates = [int(r) for r in args.rates.split(",")]
    run_on_scratch_database(lambda settings: run(settings, args))


if __name__ == "__main__":
    main()
