"""Live pushes to the consoles over socket.io, across processes through Redis
(protocol: docs/console.md, "Event protocol").

Web processes run a socket.io ``AsyncServer`` whose Redis manager (``StreamManager``)
listens on the live channel: the order events the publisher sends (``live_publisher``,
in the relay process) and messages web processes emit through their own server, such
as the agent's screen-pop.

A connection is authenticated from the session cookie (no session, no connection) and
its Origin must be this site. On connect it joins the rooms its role may see; it may
join an order it may see; it is dropped when its session ends. With ``last_seq`` in its
auth payload it first gets what it missed (``live_stream.Hub.replay``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any

import asyncpg
import socketio
from aiohttp import web
from redis.exceptions import RedisError

from hotline.errors import NotFound
from hotline.orders import queries as order_queries
from hotline.orders.service import access_order_by_id
from hotline.reference import queries as reference_queries
from hotline.settings import Settings
from hotline.users import queries as user_queries
from hotline.users.models import SUPERVISOR_ROLES, Actor
from hotline.users.service import hash_token, session_actor
from web.api import MAX_ID
from web.auth import SESSION_COOKIE
from web.keys import CLOCK, FALLBACKS, POOL, REDIS, SETTINGS
from web.live_stream import (
    BOARD_ROOM,
    CENTRE_ROOM,
    NAMESPACE,
    Hub,
    StreamManager,
    Viewer,
    enterprise_room,
    hotline_room,
    order_room,
    user_room,
)
from web.presence import Presence

log = logging.getLogger(__name__)

# Cancellations of a live task, 0.1 s apart, before shutdown goes on without it.
CANCEL_ATTEMPTS = 50

SOCKETS = web.AppKey("sockets", socketio.AsyncServer)
HUB = web.AppKey("live_hub", Hub)
PRESENCE = web.AppKey("presence", Presence)
# Pushed to the board and to the agent when an agent's status changes (docs/console.md).
AGENT_STATUS_EVENT = "agent_status"
ANNOUNCE_SECONDS = 2.0
# Web processes are told on this Redis channel to check their connections' sessions
# (someone logged out); they also check every HOTLINE_LIVE_SESSION_CHECK_SECONDS.
SESSIONS_CHANNEL_SUFFIX = ":sessions"


# Allocations between young-generation collections in a web process (CPython's default
# is 700); see ``tune_collector``.
YOUNG_COLLECTION_THRESHOLD = 50_000


def tune_collector() -> None:
    """Garbage collection for a web process, once its app is built and before it serves.

    Each engine.io connection keeps a few hundred objects (its tasks, their waiters and
    timers), renewed with every message it is sent. Under the default thresholds those
    caught alive by the frequent young collections are promoted, and with a thousand
    connections a full collection (some 200 ms over about 250,000 objects) follows every
    few seconds, stalling every send. Collecting the young generation every 50,000
    allocations instead lets most of them die first (young passes take about 15 ms), and
    what the process loaded at start (modules, dictionaries) is frozen out of every pass.
    """
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, older, oldest)


def attach(app: web.Application, settings: Settings) -> socketio.AsyncServer:
    """The socket.io server of this web process, at ``/socket.io/``."""
    assert settings.redis_url, "the Redis URL is resolved before the app starts"
    hub = Hub(
        replay_limit=settings.live_replay_limit,
        replay_age=dt.timedelta(hours=settings.live_replay_hours),
        clock=app[CLOCK],
    )
    server = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=StreamManager(settings.redis_url, settings.live_channel, hub),
        cors_allowed_origins=[settings.base_url],
        # The consoles connect by websocket only. A long-polling session, which nothing
        # of ours opens, would hold the app's shutdown while it waits out its poll.
        transports=["websocket"],
        logger=False,
        engineio_logger=False,
    )
    presence = Presence(settings)
    _handlers(app, server, hub, presence)
    server.attach(app)
    app[SOCKETS] = server
    app[HUB] = hub
    app[PRESENCE] = presence
    app.cleanup_ctx.append(_running)
    return server


async def _running(app: web.Application) -> AsyncIterator[None]:
    server = app[SOCKETS]
    await app[HUB].start(server, app[POOL])
    watcher = asyncio.create_task(_watch_sessions(app))
    keeper = asyncio.create_task(_keep_presence(app))
    yield
    # The manager's Redis listener too: it would outlive the app (tests run many).
    for task in (watcher, keeper, getattr(server.manager, "thread", None)):
        if task is not None:
            await _cancel(task)
    await app[PRESENCE].stop(app[POOL])


async def _cancel(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it to end. redis-py swallows a cancellation that
    arrives while a connection is being set up (the task then goes on reading, and an
    app that failed right after starting, e.g. on a taken port, never shut down): so
    cancel again until the task ends, for a few seconds at most."""
    for _ in range(CANCEL_ATTEMPTS):
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
        if task.done():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                task.result()
            return
    log.warning("a live task did not stop when cancelled: %r", task)


def _handlers(
    app: web.Application, server: socketio.AsyncServer, hub: Hub, presence: Presence
) -> None:
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        token = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None
        if not token:
            return False
        async with app[POOL].acquire() as conn:
            found = await session_actor(conn, token, app[CLOCK]())
            if found is None:
                return False
            actor, _ = found
            rooms = await rooms_for(conn, actor)
        scope = None
        if not actor.is_centre:
            scope = frozenset(int(r.split(":")[1]) for r in rooms if r.startswith("enterprise:"))
        # Held before it is in any room: nothing reaches it before its replay.
        hub.admit(sid, Viewer(actor, hash_token(token), scope), _last_seq(auth))
        for room in rooms:
            await server.enter_room(sid, room)
        await presence.connected(app[POOL], sid, actor)
        return True

    async def disconnect(sid: str, reason: Any = None) -> None:
        hub.forget(sid)
        await presence.disconnected(app[POOL], sid)

    async def join(sid: str, data: Any) -> dict[str, Any]:
        order_id = _order_id(data)
        viewer = hub.viewers.get(sid)
        if order_id is None or viewer is None:
            return _refused("bad_room", "only order:{id} rooms can be joined")
        async with app[POOL].acquire() as conn:
            try:
                await access_order_by_id(conn, viewer.actor, order_id)
            except NotFound as exc:
                return _refused(exc.code, exc.message)
        # An enterprise user hears every event of this order in its unit's rooms already
        # (the masking rule of those rooms applies); only the centre's order room is real.
        if viewer.scope is None:
            await server.enter_room(sid, order_room(order_id))
        return {"ok": True}

    async def leave(sid: str, data: Any) -> dict[str, Any]:
        order_id = _order_id(data)
        if order_id is None:
            return _refused("bad_room", "only order:{id} rooms can be left")
        await server.leave_room(sid, order_room(order_id))
        return {"ok": True}

    async def replay(sid: str, data: Any) -> dict[str, Any]:
        last_seq = _last_seq(data)
        if last_seq is None or sid not in hub.viewers:
            return _refused("bad_request", "send {last_seq: N}, a whole number >= 0")
        if hub.is_held(sid):
            return _refused("busy", "a replay is already running on this connection")
        await hub.replay(sid, last_seq)
        return {"ok": True}

    for name, handler in (
        ("connect", connect),
        ("disconnect", disconnect),
        ("join", join),
        ("leave", leave),
        ("replay", replay),
    ):
        server.on(name, handler)


def _refused(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}


def _last_seq(data: Any) -> int | None:
    value = data.get("last_seq") if isinstance(data, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _order_id(data: Any) -> int | None:
    room = data.get("room") if isinstance(data, dict) else None
    digits = room[6:] if isinstance(room, str) and room.startswith("order:") else ""
    # ASCII digits of an id a row can have: a larger number would reach PostgreSQL.
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= MAX_ID:
        return int(digits)
    return None


async def rooms_for(conn: asyncpg.Connection, actor: Actor) -> list[str]:
    """The rooms an actor joins on connecting."""
    rooms = [user_room(actor.user_id)] if actor.user_id is not None else []
    if actor.is_centre and actor.hotlines is not None:
        # Limited to some hotlines: the centre's and the board's rooms carry every
        # hotline's events, so only its hotlines' rooms (docs/core.md, "Who may see what").
        rooms += [hotline_room(code) for code in sorted(actor.hotlines)]
    elif actor.is_centre:
        rooms.append(CENTRE_ROOM)
        if actor.role in SUPERVISOR_ROLES:
            hotlines = [h["code"] for h in await reference_queries.list_hotlines(conn)]
            rooms += [hotline_room(code) for code in hotlines] + [BOARD_ROOM]
        elif actor.hotline_code:
            rooms.append(hotline_room(actor.hotline_code))
    elif actor.enterprise_id is not None:
        scope = await order_queries.enterprise_scope(conn, actor.enterprise_id)
        rooms += [enterprise_room(i) for i in scope]
    return rooms


# ----------------------------------------------------------------- presence


async def announce_agent_status(app: web.Application, rows: list[asyncpg.Record]) -> None:
    """After a status change commits: the board and the agent's own consoles hear it,
    on every web process (through Redis; without it they see it on their next reload)."""
    server = app[SOCKETS]
    for row in rows:
        message = {
            "user_id": row["user_id"],
            "status": row["status"],
            "since": row["since"].isoformat(),
        }
        try:
            # Bounded: the manager's Redis client waits without limit, and neither a
            # request nor the presence heartbeat may hang on a Redis that does not answer.
            await asyncio.wait_for(
                server.emit(
                    AGENT_STATUS_EVENT, message, to=[BOARD_ROOM, user_room(row["user_id"])]
                ),
                timeout=ANNOUNCE_SECONDS,
            )
        except Exception:
            log.exception("could not announce an agent's status")


async def _keep_presence(app: web.Application) -> None:
    presence = app[PRESENCE]
    while True:
        try:
            offline = await presence.run_pass(app[POOL])
            await announce_agent_status(app, offline)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("agent presence pass failed; again in %.1fs", presence.interval)
        await asyncio.sleep(presence.interval)


# ----------------------------------------------------------------- sessions


async def end_sessions(app: web.Application) -> int:
    """Drop this process's connections whose session has ended (logged out, expired,
    user deactivated); returns how many."""
    hub, server = app[HUB], app[SOCKETS]
    manager = server.manager
    viewers = dict(hub.viewers)
    for sid in list(viewers):
        if not manager.is_connected(sid, NAMESPACE) and not manager.is_pre_connected(
            sid, NAMESPACE
        ):
            # Gone before it finished connecting: socket.io said nothing of it.
            hub.forget(sid)
            await app[PRESENCE].disconnected(app[POOL], sid)
            del viewers[sid]
    if not viewers:
        return 0
    async with app[POOL].acquire() as conn:
        alive = await user_queries.live_session_hashes(
            conn, list({v.token_hash for v in viewers.values()}), app[CLOCK]()
        )
    dropped = 0
    for sid, viewer in viewers.items():
        if viewer.token_hash in alive:
            continue
        dropped += 1
        await server.emit("session_ended", {}, to=sid, ignore_queue=True)
        await server.disconnect(sid, ignore_queue=True)
        hub.forget(sid)  # also when it never finished connecting
    return dropped


async def announce_logout(app: web.Application) -> None:
    """After a logout commits: every web process checks its connections now (without
    Redis, they still do within HOTLINE_LIVE_SESSION_CHECK_SECONDS)."""
    channel = app[SETTINGS].live_channel + SESSIONS_CHANNEL_SUFFIX
    try:
        await app[REDIS].publish(channel, "logout")
    except Exception:
        log.exception("could not announce a logout to the live connections")


async def _watch_sessions(app: web.Application) -> None:
    channel = app[SETTINGS].live_channel + SESSIONS_CHANNEL_SUFFIX
    interval = app[SETTINGS].live_session_check_seconds
    # Without Redis no logout is heard from other processes: sessions are still looked
    # up on the interval, and the outage is logged once a minute, not once a look.
    redis_away = app[FALLBACKS].get(
        "sessions_polled",
        "live sessions checked every interval: Redis cannot be reached",
        log=log,
    )
    while True:
        try:
            async with app[REDIS].pubsub() as pubsub:
                await pubsub.subscribe(channel)
                redis_away.ended()
                while True:
                    # A logout anywhere wakes this up; otherwise look now and then.
                    await pubsub.get_message(ignore_subscribe_messages=True, timeout=interval)
                    await end_sessions(app)
        except asyncio.CancelledError:
            raise
        except RedisError as exc:
            redis_away.happened(exc)
        except Exception:
            log.exception("checking live sessions failed; again in %.0fs", interval)
        await asyncio.sleep(interval)
        try:
            await end_sessions(app)
        except Exception:
            log.exception("checking live sessions failed; again in %.0fs", interval)
