"""A web process's side of agent presence (``hotline.board.presence``; docs/console.md,
"Agent presence"): the call takers' connections it holds, written to PostgreSQL as they
come and go and rewritten whole every heartbeat, with a sweep on each pass."""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket

import asyncpg

from hotline.board import queries
from hotline.board.presence import do_presence_pass
from hotline.db import transaction
from hotline.settings import Settings
from hotline.users.models import CALL_TAKER_ROLES, Actor

log = logging.getLogger(__name__)


class Presence:
    def __init__(self, settings: Settings) -> None:
        # New at each start: a restarted process must not renew its dead self's rows.
        self.process_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.grace = dt.timedelta(seconds=settings.agent_presence_grace_seconds)
        self.heartbeat = dt.timedelta(seconds=settings.live_heartbeat_seconds)
        self.connections: dict[str, int] = {}  # sid → user id, call takers only
        self.passes = 0  # committed heartbeats and sweeps so far (tests wait on it)

    @property
    def interval(self) -> float:
        """Seconds between passes: at least every heartbeat, and often enough that an
        agent goes offline soon after the grace period."""
        return min(self.heartbeat, self.grace / 3).total_seconds()

    async def connected(self, pool: asyncpg.Pool, sid: str, actor: Actor) -> None:
        if actor.user_id is None or actor.role not in CALL_TAKER_ROLES:
            return
        self.connections[sid] = actor.user_id
        # At once, so that an agent reconnecting is seen before the grace runs out; a
        # failed write is mended by the next heartbeat.
        try:
            async with transaction(pool) as conn:
                await queries.add_connection(conn, self.process_id, sid, actor.user_id)
        except Exception:
            log.exception("could not record a console connection; the heartbeat will")

    async def disconnected(self, pool: asyncpg.Pool, sid: str) -> None:
        if self.connections.pop(sid, None) is None:
            return
        try:
            async with pool.acquire() as conn:
                await queries.remove_connection(conn, self.process_id, sid)
        except Exception:
            log.exception("could not forget a console connection; the heartbeat will")

    async def run_pass(self, pool: asyncpg.Pool) -> list[asyncpg.Record]:
        """Heartbeat and sweep; returns the agents set offline (committed)."""
        async with transaction(pool) as conn:
            # The set is read once the transaction has begun (``renew_process`` relies
            # on it to keep a connection recorded meanwhile).
            offline = await do_presence_pass(
                conn,
                self.process_id,
                dict(self.connections),
                grace=self.grace,
                heartbeat=self.heartbeat,
            )
        self.passes += 1
        return offline

    async def stop(self, pool: asyncpg.Pool) -> None:
        """The process stops: its connections are gone now (their consoles reconnect to
        another process within the grace period, or their agents go offline)."""
        self.connections.clear()
        try:
            async with pool.acquire() as conn:
                await queries.remove_process(conn, self.process_id)
        except Exception:
            log.exception("could not remove this process's connections; they expire")
