"""Rate limits for public intake (Open311, the web form, SMS): a fixed window in Redis.

Each window of ``window_seconds`` (aligned to the epoch) has its own counter,
``{key}:{window index}``, incremented and given an expiry in one pipeline. A fixed
window lets a burst of up to twice the limit through across a window boundary; that is
accepted here in exchange for one round trip and one small key per caller, where a
sliding window would keep a sorted set of every hit. The window index in the name (not
``EXPIRE ... NX``) is what makes a counter start from zero, so Redis 6.2 (the embedded
server) works as well as 7.

Redis is the only state: flushing it forgives everyone, which is the right failure for
a limit that only protects against floods. For the same reason a limit fails open: when
Redis cannot be reached (refused, or no answer within the client's short timeouts), the
hit is let through, so that a citizen's report is stored rather than refused while Redis
is away; the ``Limiter``'s fallback logs it (not once per request) and counts it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from hotline.errors import TooManyRequests
from hotline.fallbacks import Fallback, Fallbacks

log = logging.getLogger(__name__)

FAIL_OPEN = "ratelimit_open"
FAIL_OPEN_MESSAGE = "rate limits let requests through: Redis cannot be reached"
# After a failure, hits are let through without asking Redis for this long: a stalled
# Redis costs one request a wait of the client's timeout, not every request.
PROBE_SECONDS = 1.0


def ip_key(scope: str, ip: str) -> str:
    """The counter for one client address on one channel, e.g. ``rl:open311:ip:1.2.3.4``."""
    return f"rl:{scope}:ip:{ip}"


def phone_key(scope: str, e164: str) -> str:
    """The counter for one phone number on one channel, e.g. ``rl:sms:phone:+86138...``."""
    return f"rl:{scope}:phone:{e164}"


def order_key(scope: str, number: str) -> str:
    """The counter for one order number on one channel, e.g. ``rl:track:order:12319-...``."""
    return f"rl:{scope}:order:{number}"


@dataclass(frozen=True)
class Limiter:
    """The limits' Redis, and what is done without it."""

    redis: aioredis.Redis
    unreachable: Fallback

    async def hit(
        self, key: str, *, limit: int, window_seconds: int, now: float | None = None
    ) -> None:
        """``hit`` on this Redis, let through when Redis cannot be reached."""
        if self.unreachable.failed_within(PROBE_SECONDS):
            self.unreachable.skipped()
            return
        try:
            await hit(self.redis, key, limit=limit, window_seconds=window_seconds, now=now)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            self.unreachable.happened(exc)
            return
        self.unreachable.ended()


def limiter(redis: aioredis.Redis, fallbacks: Fallbacks) -> Limiter:
    """The limiter of an application: its Redis, its fallbacks (for the metrics)."""
    return Limiter(redis, fallbacks.get(FAIL_OPEN, FAIL_OPEN_MESSAGE, log=log))


async def hit(
    redis: aioredis.Redis,
    key: str,
    *,
    limit: int,
    window_seconds: int,
    now: float | None = None,
) -> None:
    """Count one hit on ``key``.

    Precondition: ``limit`` >= 0 and ``window_seconds`` >= 1. ``now`` (epoch seconds)
    defaults to this machine's clock; tests pass it to pin the window.
    Effect: the window's counter grows by one, refused hits included (a client that
    keeps hammering stays refused until the window ends).
    Raises ``TooManyRequests`` when this is hit number ``limit + 1`` or later in the
    current window; ``retry_after`` is the whole seconds until the window ends (>= 1).
    """
    moment = time.time() if now is None else now
    window = int(moment // window_seconds)
    counter = f"{key}:{window}"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(counter)
        # Kept one extra window so a clock a little behind Redis's never reads a
        # counter that has just expired.
        pipe.expire(counter, window_seconds * 2)
        count, _ = await pipe.execute()
    if int(count) > limit:
        retry_after = max(1, math.ceil((window + 1) * window_seconds - moment))
        raise TooManyRequests(
            "too many requests; try again in {retry_after} seconds", retry_after=retry_after
        )
