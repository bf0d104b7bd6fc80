"""Pacing of outbound survey calls per provider account: at most ``calls_per_second``
calls started in any clock second, at most ``max_concurrent`` under way at once.

The pacer is a row per account in PostgreSQL (the clock second being filled and how
many calls it holds), locked for the few milliseconds a reservation takes, with the
database's clock: workers on many machines share one count and one time. A second
hands out its slots evenly over its first ``1 - GUARD`` part; a call must start before
that part ends, so a call started on time reaches the provider within the same second
even with a little network delay. A worker that wakes too late reserves again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from dataclasses import dataclass

import asyncpg

from callbacks import queries

GUARD = 0.2  # the share of each second left free for the network
ONE_SECOND = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class Slot:
    wait: float  # seconds from the reservation to the slot
    deadline: float  # seconds from the reservation by which the call must have started


@dataclass(frozen=True)
class Pacer:
    account: str
    calls_per_second: float
    max_concurrent: int

    @property
    def bucket(self) -> dt.timedelta:
        """The stretch of time that holds ``per_bucket`` calls: one second, or more
        when fewer than one call a second is allowed."""
        return ONE_SECOND * max(1.0, 1 / self.calls_per_second)

    @property
    def per_bucket(self) -> int:
        return max(1, math.floor(self.calls_per_second))

    def next_slot(
        self, second: dt.datetime, used: int, now: dt.datetime
    ) -> tuple[dt.datetime, int, dt.datetime]:
        """Pure: the bucket start and its new count after taking the next free slot,
        and the slot itself, given the pacer's state and the clock."""
        usable = self.bucket * (1 - GUARD)
        if now >= second + self.bucket:  # a new bucket: the one ``now`` falls in
            buckets = (now - second) // self.bucket
            second, used = second + self.bucket * buckets, 0
        while True:
            slot = max(now, second + usable * used / self.per_bucket)
            if used < self.per_bucket and slot < second + usable:
                return second, used + 1, slot
            second, used = second + self.bucket, 0

    async def reserve(self, conn: asyncpg.Connection) -> Slot:
        """Take the next free slot (one short transaction)."""
        async with conn.transaction():
            second, used, now = await queries.lock_pacer(conn, self.account)
            second, used, slot = self.next_slot(second, used, now)
            await queries.save_pacer(conn, self.account, second, used)
        deadline = second + self.bucket * (1 - GUARD)
        return Slot((slot - now).total_seconds(), (deadline - now).total_seconds())

    async def wait_for_slot(self, conn: asyncpg.Connection) -> float:
        """Sleep until a reserved slot; returns the monotonic time by which the call must
        start (a later start takes a new slot)."""
        slot = await self.reserve(conn)
        reserved = time.monotonic()
        await asyncio.sleep(max(0.0, slot.wait))
        return reserved + slot.deadline

    async def has_line(self, conn: asyncpg.Connection, stale_before: dt.datetime) -> bool:
        """Whether another call may start now. Precondition: in the transaction that
        marks the call as being placed (the account lock is held until it commits)."""
        await queries.lock_account(conn, self.account)
        busy = await queries.in_flight_calls(conn, self.account, stale_before)
        return bool(busy < self.max_concurrent)
