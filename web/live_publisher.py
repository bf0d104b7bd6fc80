"""The publisher of the order event stream; runs in the relay process (``hotline relay``).

It reads committed events from ``order_events`` up to the horizon (``hotline.stream.
horizon``: no lower seq can still commit) and publishes them in batches on the live
Redis channel, where every web process's hub sends them to its connections
(``live_stream``). Nothing is pushed before the transaction that wrote it commits, and
a seq that commits late is not skipped.

One publisher at a time holds a session advisory lock; another relay's publisher waits
for it. ``live_cursor`` keeps how far it got, so a restarted publisher carries on there.
Each batch says where it starts (``prev``) and ends (``upto``), so a web process that
missed one reads the gap from the database; an idle publisher sends an empty batch now
and then so that such a gap is noticed even when nothing happens.

When Redis cannot be reached, a batch is not counted as published: ``live_cursor`` stays
where it was and the same events are read and sent again on the next pass, until Redis
answers. Events committed meanwhile wait in ``order_events`` and reach the consoles, in
order and once (the hubs drop what they have already sent), as soon as Redis is back.
The outage is logged when it starts, now and then while it lasts, and when it ends.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import asyncpg
import socketio
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hotline import db
from hotline.fallbacks import Fallback, fail_fast_redis
from hotline.relay import wait_or_stop
from hotline.stream import queries as stream
from hotline.stream.horizon import Horizon
from web.live_stream import STREAM_EVENT

log = logging.getLogger(__name__)

BATCH = 500
HEARTBEAT_SECONDS = 5.0
STREAM_ROOM = "stream"  # no connection is ever in it: the hubs fan the batch out
RETRY_SECONDS = 2.0


class _Channel(socketio.AsyncRedisManager):  # type: ignore[misc]
    """python-socketio's write-only Redis manager, except that a publish Redis refuses
    raises instead of being logged and dropped: the publisher must know, to send it
    again."""

    async def _publish(self, data: Any) -> Any:
        if not self.connected:
            self._redis_connect()
        return await self.redis.publish(self.channel, self.json.dumps(data))


class Publisher:
    def __init__(
        self,
        database_url: str,
        redis_url: str,
        channel: str,
        *,
        interval: float,
        batch: int = BATCH,
        heartbeat: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.database_url = database_url
        self.manager = _Channel(
            redis_url,
            channel=channel,
            write_only=True,
            # A publish Redis does not answer gives up soon; the next pass tries again.
            redis_options=fail_fast_redis(),
        )
        self.redis_away = Fallback(
            "live_publish_deferred",
            "live publisher: Redis cannot be reached; events wait in order_events",
            log=log,
        )
        self.interval = interval
        self.batch = batch
        self.heartbeat = heartbeat
        self.passes = 0  # looks at the stream so far (tests wait on it)
        self.leading = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set; a lost database starts it over."""
        while not stop.is_set():
            try:
                conn = await db.connect(self.database_url)
                try:
                    if await self._lead(conn, stop):
                        await self._publish(conn, stop)
                finally:
                    self.leading.clear()
                    await conn.close()
            except Exception:
                log.exception("live publisher failed; starting again in %.0fs", RETRY_SECONDS)
                await wait_or_stop(stop, RETRY_SECONDS)

    async def _lead(self, conn: asyncpg.Connection, stop: asyncio.Event) -> bool:
        while not await stream.try_lead(conn):
            if await wait_or_stop(stop, RETRY_SECONDS):
                return False
        log.info("live publisher leading")
        self.leading.set()
        return True

    async def _publish(self, conn: asyncpg.Connection, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        position = await stream.published_seq(conn)
        horizon = Horizon(position)
        last_sent = loop.time()
        while True:
            safe = await horizon.advance(conn)
            try:
                while position < safe:
                    events = await stream.read_events(
                        conn, after=position, upto=safe, limit=self.batch
                    )
                    upto = events[-1]["seq"] if len(events) == self.batch else safe
                    await self._send(position, upto, events)
                    await stream.save_published(conn, upto)
                    position, last_sent = upto, loop.time()
                if loop.time() - last_sent >= self.heartbeat:
                    await self._send(position, position, [])
                    last_sent = loop.time()
            except (RedisConnectionError, RedisTimeoutError) as exc:
                # Not published, so not saved: the next pass sends the batch again.
                self.redis_away.happened(exc)
            else:
                self.redis_away.ended()
            self.passes += 1
            if await wait_or_stop(stop, self.interval):
                return

    async def _send(self, prev: int, upto: int, events: list[dict[str, Any]]) -> None:
        await self.manager.emit(
            STREAM_EVENT, {"prev": prev, "upto": upto, "events": events}, room=STREAM_ROOM
        )
