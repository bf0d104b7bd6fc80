"""The public-intake limits of the settings, applied per client address and per phone."""

from __future__ import annotations

from hotline.settings import Settings
from integrations.ratelimit import Limiter, ip_key, phone_key


async def limit_address(limiter: Limiter, settings: Settings, scope: str, ip: str) -> None:
    """Count a request from ``ip`` on channel ``scope``; ``TooManyRequests`` over the limit."""
    await limiter.hit(
        ip_key(scope, ip),
        limit=settings.public_rate_per_ip,
        window_seconds=settings.public_rate_window_seconds,
    )


async def limit_phone(limiter: Limiter, settings: Settings, scope: str, e164: str) -> None:
    """Count a report giving ``e164`` on channel ``scope``; ``TooManyRequests`` over the limit."""
    await limiter.hit(
        phone_key(scope, e164),
        limit=settings.public_rate_per_phone,
        window_seconds=settings.public_rate_window_seconds,
    )
