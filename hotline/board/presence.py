"""Agent presence follows the live connection (docs/console.md, "Agent presence").

Web processes record the consoles' connections of call takers in PostgreSQL
(``live_connections``, by process) and renew their own row (``live_processes``) every
heartbeat; every process sweeps now and then. An agent who is not offline and has no
connection on a live process is noted away, and set offline when still away after the
grace period; a reconnect within it changes nothing. A process that stops renewing
(crashed, killed, cut off) is dropped with its connections after three heartbeats, so
its agents go offline too. Logging out sets the agent offline at once.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from hotline.board import queries
from hotline.users.service import do_log_out

# A web process silent for this many heartbeats is taken as dead.
HEARTBEATS_TO_EXPIRY = 3


async def do_presence_pass(
    conn: asyncpg.Connection,
    process_id: str,
    connections: dict[str, int],
    *,
    grace: dt.timedelta,
    heartbeat: dt.timedelta,
) -> list[asyncpg.Record]:
    """One web process's heartbeat (it holds ``connections``, sid → user id) and a
    sweep; returns the agents set offline, to be announced after commit."""
    await queries.renew_process(conn, process_id, connections)
    return await queries.sweep_presence(conn, grace=grace, expiry=heartbeat * HEARTBEATS_TO_EXPIRY)


async def do_sign_off(
    conn: asyncpg.Connection, token: str, now: dt.datetime
) -> asyncpg.Record | None:
    """Log out: the session ends and its agent is offline from ``now``. Returns the new
    status to announce, or None when there is nothing to announce."""
    user_id = await do_log_out(conn, token)
    return None if user_id is None else await queries.set_offline(conn, user_id, now)
