"""How a process learns that reference data changed (migration 0047): the version the
database keeps for each kind, and a signal that Redis carries to every process as soon
as an administrator's change commits. A cache checks the version when the signal came
or its check interval passed: the message makes a change immediate, the check makes a
lost message harmless."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Literal

import asyncpg
import redis
import redis.asyncio as aioredis

log = logging.getLogger(__name__)

Kind = Literal["reference", "calendar"]
# The Redis channel an administrator's change is announced on, after its commit.
CHANNEL = "hotline:reference-changed"
# Seconds a cache goes without comparing versions when no announcement came: how late a
# change can be when its message was lost.
CHECK_EVERY = 5.0


class Signal:
    """Counts the announcements this process heard. A cache keeps the count it saw when
    it last checked; a different count means: check now."""

    def __init__(self) -> None:
        self._heard = 0
        self._lock = threading.Lock()

    def hear(self) -> None:
        with self._lock:
            self._heard += 1

    @property
    def heard(self) -> int:
        return self._heard


signal = Signal()


@dataclass
class Seen:
    """The version a cache holds, and when and after which announcement it checked."""

    version: int
    heard: int
    checked_at: float

    def due(self, every: float) -> bool:
        """True when an announcement came since, or ``every`` seconds passed."""
        return signal.heard != self.heard or time.monotonic() - self.checked_at >= every


async def look(conn: asyncpg.Connection, kind: Kind) -> Seen:
    """The database's version of ``kind`` now. The announcements are counted before the
    version is read: one arriving meanwhile makes the next use check again."""
    heard = signal.heard
    version = await conn.fetchval("SELECT version FROM reference_versions WHERE name = $1", kind)
    return Seen(version=int(version), heard=heard, checked_at=time.monotonic())


def listen(redis_url: str, stopping: threading.Event) -> threading.Thread:
    """A daemon thread that hears the announcements until ``stopping`` is set; when Redis
    is away it tries again each second (the caches' own checks cover the gap)."""

    def run() -> None:
        while not stopping.is_set():
            try:
                client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(CHANNEL)
                signal.hear()  # what changed while nobody listened
                while not stopping.is_set():
                    if pubsub.get_message(timeout=1.0) is not None:
                        signal.hear()
            except redis.RedisError as exc:
                log.debug("reference announcements: %s; listening again", exc)
                stopping.wait(1.0)

    thread = threading.Thread(target=run, name="reference-changes", daemon=True)
    thread.start()
    return thread


async def announce(client: aioredis.Redis, kind: Kind) -> None:
    """After a change committed: tell every process now. A failure is logged, not
    raised: the change is in the database, and each cache's check finds it soon."""
    try:
        await client.publish(CHANNEL, kind)
    except redis.RedisError as exc:
        log.warning(
            "reference change not announced (%s); caches see it within %s s", exc, CHECK_EVERY
        )
