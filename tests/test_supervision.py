"""Processes that keep serving when one of them dies or Redis goes away: ``hotline up``
restarts a killed worker while the web keeps answering, gives up on a crash loop, and a
worker and the relay ride out a Redis restart in the middle of a job."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg
import psutil
import pytest

from hotline import db
from hotline.settings import Settings
from tests.factories import make_user, register_order
from tests.process_support import (
    OwnRedis,
    Running,
    deployment,
    deployment_settings,
    new_database,
    wait_until_healthy,
)
from tests.waiting import until, waiting_on_a_lock
from wiring.services import ServiceUrls
from wiring.supervisor import STEADY_SECONDS, Child, CrashLoop

# Processes start slowly on a busy machine, and a worker cut off from Redis backs off
# before it tries again: waits are bounded generously (in 50 ms steps).
MINUTES = 20 * 60


@pytest.fixture(scope="module")
async def own_database(fresh_database: Callable[[str], Awaitable[str]]) -> str:
    return await new_database(fresh_database, "supervision")


@pytest.fixture
async def own_pool(own_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(own_database, min_size=1, max_size=3)
    yield pool
    await pool.close()


def channel() -> dict[str, str]:
    # The live publisher of each deployment on its own channel: other runs share Redis.
    return {"HOTLINE_LIVE_CHANNEL": f"hotline-live-test-{uuid.uuid4().hex[:8]}"}


async def new_order(pool: asyncpg.Pool, settings: Settings) -> int:
    async with pool.acquire() as conn:
        _, actor = await make_user(conn, "agent")
        order = await register_order(conn, actor, settings, dt.datetime.now(dt.UTC))
    return int(order["id"])


async def routed(pool: asyncpg.Pool, order_id: int) -> bool:
    """Whether the order's registration job is done (its outbox row)."""
    states = await pool.fetch(
        "SELECT state FROM outbox WHERE topic = 'order.registered' AND payload->>'order_id' = $1",
        str(order_id),
    )
    return [r["state"] for r in states] == ["done"]


def logged(process: Running, text: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return text in process.output()

    return check


def child(up: Running, label: str) -> psutil.Process | None:
    """The supervisor's child running ``label`` (a worker's scheduler is its child)."""
    for process in psutil.Process(up.process.pid).children():
        with contextlib.suppress(psutil.Error):  # one that exits meanwhile
            if f"--label {label}" in " ".join(process.cmdline()):
                return process
    return None


def test_restart_waits_grow_and_start_over_and_a_crash_loop_has_a_window() -> None:
    child = Child("worker1", "worker")

    def exit_at(now: float, started: float | None = None) -> float:
        child.started_at = now - 1 if started is None else started
        return child.exited(-9, now, max_crashes=4, window=100)

    assert [exit_at(t) for t in (10, 20, 30)] == [1, 2, 4]  # 3 exits within 100 s
    # Up long enough: the wait starts over; the exits at 10 and 20 fell out of the window.
    assert exit_at(125, started=125 - STEADY_SECONDS) == 1
    assert exit_at(126) == 2
    # The fourth exit within 100 s (30, 125, 126, 127) is a crash loop.
    message = r"worker1 exited 4 times within 100 s \(last exit code -9\): a crash loop"
    with pytest.raises(CrashLoop, match=message):
        exit_at(127)


async def test_a_killed_worker_is_restarted_while_the_web_keeps_answering(
    services: ServiceUrls, own_database: str, own_pool: asyncpg.Pool, tmp_path: Path
) -> None:
    settings = deployment_settings(own_database, services.redis_url)
    async with deployment(settings, tmp_path, **channel()) as processes:
        up = processes.start("up", "up")
        await wait_until_healthy(up, attempts=MINUTES // 5)

        async def scheduling() -> bool:  # the worker has forked its scheduler
            worker = child(up, "worker1")
            return worker is not None and bool(worker.children())

        await until(scheduling, "worker1 starts its scheduler", attempts=MINUTES)
        worker = child(up, "worker1")
        assert worker is not None
        scheduler = worker.children()[0]

        answers: list[int | str] = []

        async def ask_health() -> None:
            async with aiohttp.ClientSession() as session:
                while True:
                    try:
                        async with session.get(
                            f"{up.url}/health", timeout=aiohttp.ClientTimeout(total=30)
                        ) as response:
                            answers.append(response.status)
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        answers.append(repr(exc))
                    await asyncio.sleep(0.1)

        health = asyncio.create_task(ask_health())
        try:
            worker.send_signal(signal.SIGKILL)
            # Queued while no worker runs: the new one takes it.
            order_id = await new_order(own_pool, settings)
            await until(logged(up, "worker1 exited with code -9"), "the exit is logged", MINUTES)
            await until(logged(up, "restarting worker1"), "worker1 is restarted", attempts=MINUTES)
            await until(lambda: routed(own_pool, order_id), "the job is done", attempts=MINUTES)
            seen = len(answers)

            async def answered_again() -> bool:
                return len(answers) > seen

            await until(answered_again, "the web answers after all that", attempts=MINUTES)
        finally:
            health.cancel()
        assert answers and set(answers) == {200}, [a for a in answers if a != 200]
        # What the dead worker left (its scheduler) went with its process group.
        assert not scheduler.is_running() or scheduler.status() == psutil.STATUS_ZOMBIE
        restarted = child(up, "worker1")
        assert restarted is not None and restarted.pid != worker.pid
        up.process.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(up.process.wait, 60) == 0, up.output()
    assert "all processes stopped" in up.output()


async def test_a_crash_loop_stops_everything_with_a_clear_message(
    services: ServiceUrls, own_database: str, tmp_path: Path
) -> None:
    settings = deployment_settings(own_database, services.redis_url)
    # The web cannot listen: the port is taken, so it exits every time it starts.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        async with deployment(
            settings, tmp_path, HOTLINE_PORT=port, HOTLINE_RESTART_MAX_CRASHES="3", **channel()
        ) as processes:
            up = processes.start("up", "up")
            code = await asyncio.to_thread(up.process.wait, 300)
    output = up.output()
    assert code == 1, output
    assert output.count("restarting web") == 2, output
    assert "web exited 3 times within 300 s" in output and "a crash loop" in output, output
    assert "all processes stopped" in output


@pytest.mark.parametrize("keep_data", [False, True], ids=["data-lost", "data-kept"])
async def test_a_worker_and_the_relay_ride_out_a_redis_restart_during_a_job(
    own_database: str, own_pool: asyncpg.Pool, tmp_path: Path, keep_data: bool
) -> None:
    redis = OwnRedis(tmp_path, keep_data=keep_data)
    await redis.start()
    settings = deployment_settings(own_database, redis.url)
    try:
        async with deployment(settings, tmp_path, **channel()) as processes:
            worker = processes.start("worker", "worker")
            relay = processes.start("relay", "relay")
            first = await new_order(own_pool, settings)
            async with own_pool.acquire() as blocker, blocker.transaction():
                # The job waits on the order's row: it is running when Redis goes.
                await blocker.execute("SELECT 1 FROM work_orders WHERE id = $1 FOR UPDATE", first)
                await until(
                    lambda: waiting_on_a_lock(own_pool, "work_orders"),
                    "the job runs",
                    attempts=MINUTES,
                )
                redis.stop()
            # The job ends while Redis is away: its work commits, RQ cannot record it.
            await until(lambda: routed(own_pool, first), "the job completes", attempts=MINUTES)

            # Twice: it came back while Redis was still away (making a worker failed).
            async def backed_off_twice() -> bool:
                return worker.output().count("worker stopped (") >= 2

            await until(backed_off_twice, "the worker backs off", attempts=MINUTES)
            # Registered during the outage: the relay cannot enqueue it yet.
            second = await new_order(own_pool, settings)
            await until(logged(relay, "relay pass failed"), "the relay cannot enqueue", MINUTES)
            await redis.start()
            await until(lambda: routed(own_pool, second), "after the outage", attempts=MINUTES)
            assert worker.process.poll() is None and relay.process.poll() is None
            # The interrupted job ran once: claimed once, and the same events as the next.
            attempts = await own_pool.fetchval(
                "SELECT attempts FROM outbox WHERE topic = 'order.registered'"
                " AND payload->>'order_id' = $1",
                str(first),
            )
            events = [
                await own_pool.fetchval(
                    "SELECT count(*) FROM order_events WHERE order_id = $1", order_id
                )
                for order_id in (first, second)
            ]
            assert attempts == 1 and events[0] == events[1], (attempts, events)
            worker.process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(worker.process.wait, 60) == 0, worker.output()
    finally:
        redis.stop()
