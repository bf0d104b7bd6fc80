"""Who acts when a deadline of a given kind is reached (the routing engine's ladder)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import asyncpg

# (connection, the locked deadline row, now)
DeadlineHandler = Callable[[asyncpg.Connection, asyncpg.Record, dt.datetime], Awaitable[None]]

_handlers: dict[str, list[DeadlineHandler]] = {}


def on_deadline(kind: str, handler: DeadlineHandler) -> None:
    if handler not in _handlers.setdefault(kind, []):
        _handlers[kind].append(handler)


def handlers_for(kind: str) -> list[DeadlineHandler]:
    return list(_handlers.get(kind, ()))
