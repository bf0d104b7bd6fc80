"""Who acts when a deadline of a given kind is reached (the routing engine's ladder).

A handler runs inside the transaction that marks the deadline fired."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import asyncpg

from hotline.registry import HandlerRegistry

# (connection, the locked deadline row, now)
DeadlineHandler = Callable[[asyncpg.Connection, asyncpg.Record, dt.datetime], Awaitable[None]]

kinds: HandlerRegistry[DeadlineHandler] = HandlerRegistry()
