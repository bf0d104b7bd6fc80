"""Login throttling by account and by client address.

Failures in a row are counted per account name and per client address. The first
``free`` failures are answered at once; after them the next attempt is accepted only
1 s, 2 s, 4 s … (at most ``max_delay_seconds``) after the last failure, and one that
comes earlier is refused with 429 and ``Retry-After`` without its password being
checked. The server never holds a request open to slow it down: a delay is a time before
which attempts are refused, so waiting costs the attacker, not a connection of ours.
``lockout_failures`` failures in a row lock an account until an administrator unlocks
it; a locked account refuses even its right password. Failures are forgotten a day
after the last one, and those of an account and an address at a successful login of
that account from that address.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import math
from dataclasses import dataclass

import asyncpg

from hotline.settings import Settings

# Failures older than this (since the last one) no longer count.
FORGET_AFTER = dt.timedelta(hours=24)


@dataclass(frozen=True)
class LoginPolicy:
    free_failures: int
    address_free_failures: int
    lockout_failures: int
    max_delay_seconds: int

    @classmethod
    def of(cls, settings: Settings) -> LoginPolicy:
        return cls(
            free_failures=settings.login_free_failures,
            address_free_failures=settings.login_address_free_failures,
            lockout_failures=settings.login_lockout_failures,
            max_delay_seconds=settings.login_max_delay_seconds,
        )

    def free(self, scope: str) -> int:
        return self.free_failures if scope == "account" else self.address_free_failures


def account_key(username: str) -> str:
    return username.strip().lower()


def address_key(address: str) -> str:
    """IPv6 clients by their /64: one subscriber is given a whole /64, and would otherwise
    get a fresh allowance from each of its addresses."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def seconds_to_wait(row: asyncpg.Record, policy: LoginPolicy, now: dt.datetime) -> int:
    """How long the next attempt on this throttle row must still wait (0: none)."""
    if now - row["last_failure_at"] >= FORGET_AFTER:
        return 0
    beyond = row["failures"] - policy.free(row["scope"])
    if beyond < 0:
        return 0
    delay = dt.timedelta(seconds=min(2 ** min(beyond, 30), policy.max_delay_seconds))
    due: dt.datetime = row["last_failure_at"] + delay
    return max(0, math.ceil((due - now).total_seconds()))
