"""Live pushes to the consoles over socket.io, across processes through Redis.

Web processes run a socket.io ``AsyncServer`` whose ``AsyncRedisManager`` listens on a
Redis channel; workers publish to that channel with a write-only ``RedisManager``, so an
event made anywhere reaches a browser connected to any web process.

A connection is authenticated from the session cookie (no session, no connection) and
its Origin must be this site. On connect it joins the rooms its role may see: an
enterprise user the rooms of its enterprise and branches, centre staff the centre room
and a room of their own.
"""

from __future__ import annotations

import datetime as dt
import logging
from http.cookies import SimpleCookie
from typing import Any

import asyncpg
import socketio
from aiohttp import web

from agents_ui.auth import SESSION_COOKIE
from agents_ui.keys import CLOCK, POOL
from hotline.orders import queries as order_queries
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.users.service import session_actor
from routing import queries as routing_queries

log = logging.getLogger(__name__)

CHANNEL = "hotline-live"
CENTRE_ROOM = "centre"


def enterprise_room(enterprise_id: int) -> str:
    return f"enterprise:{enterprise_id}"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    assert settings.redis_url, "the Redis URL is resolved before the app starts"
    manager = socketio.AsyncRedisManager(
        settings.redis_url, channel=CHANNEL, redis_options={"socket_timeout": None}
    )
    server = socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=[settings.base_url],
        logger=False,
        engineio_logger=False,
    )
    server.on("connect", _connect_handler(server))
    return server


def _connect_handler(server: socketio.AsyncServer) -> Any:
    async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        request: web.Request = environ["aiohttp.request"]
        cookie = SimpleCookie(environ.get("HTTP_COOKIE", ""))
        token = cookie[SESSION_COOKIE].value if SESSION_COOKIE in cookie else None
        if not token:
            return False
        async with request.app[POOL].acquire() as conn:
            found = await session_actor(conn, token, request.app[CLOCK]())
            if found is None:
                return False
            actor, _ = found
            rooms = await rooms_for(conn, actor)
        for room in rooms:
            await server.enter_room(sid, room)
        await server.save_session(sid, {"user_id": actor.user_id, "rooms": rooms})
        return True

    return connect


async def rooms_for(conn: asyncpg.Connection, actor: Actor) -> list[str]:
    """The rooms an actor joins on connecting."""
    rooms = [user_room(actor.user_id)] if actor.user_id is not None else []
    if actor.is_centre:
        rooms.append(CENTRE_ROOM)
    elif actor.enterprise_id is not None:
        scope = await order_queries.enterprise_scope(conn, actor.enterprise_id)
        rooms += [enterprise_room(i) for i in scope]
    return rooms


_emitter: socketio.RedisManager | None = None


def emitter() -> socketio.RedisManager:
    """The process's write-only publisher (workers have no socket.io server)."""
    global _emitter
    if _emitter is None:
        url = Settings().redis_url
        if not url:
            raise RuntimeError("HOTLINE_REDIS_URL is not set for this process")
        _emitter = socketio.RedisManager(url, channel=CHANNEL, write_only=True)
    return _emitter


async def push_dispatch(conn: asyncpg.Connection, payload: dict[str, Any]) -> None:
    """Outbox handler for ``dispatch.created``: tell the unit's consoles and the centre.

    The message carries the event's global sequence number, so a console that sees it
    twice (a retried job) can tell."""
    row = await routing_queries.dispatch_summary(conn, payload["dispatch_id"])
    if row is None:
        return
    message = {
        "type": "dispatch.created",
        "seq": row["seq"],
        "order_id": row["order_id"],
        "dispatch_id": row["id"],
        "number": row["number"],
        "role": row["role"],
        "service_item": row["item_name"],
        "sign_for_due_at": _iso(row["sign_for_due_at"]),
    }
    manager = emitter()
    manager.emit("order_event", message, room=enterprise_room(row["enterprise_id"]))
    manager.emit("order_event", message, room=CENTRE_ROOM)


async def push_notice(conn: asyncpg.Connection, payload: dict[str, Any]) -> None:
    """Outbox handler for ``notice.created``: a ladder step (催办, warnings, 督办, 通报)
    alerts the supervisors and the unit concerned."""
    row = await routing_queries.get_notice(conn, payload["notice_id"])
    if row is None:
        return
    message = {
        "type": "notice.created",
        "seq": payload["seq"],
        "order_id": row["order_id"],
        "notice_id": row["id"],
        "number": row["number"],
        "level": row["level"],
        "message": row["message"],
    }
    manager = emitter()
    manager.emit("order_event", message, room=CENTRE_ROOM)
    if row["enterprise_id"] is not None:
        manager.emit("order_event", message, room=enterprise_room(row["enterprise_id"]))


async def push_draft(conn: asyncpg.Connection, payload: dict[str, Any]) -> None:
    """Outbox handler for ``order.drafted``: a report waits for an agent to confirm it."""
    order = await order_queries.get_order(conn, payload["order_id"])
    if order is None:
        return
    emitter().emit(
        "order_event",
        {
            "type": "order.drafted",
            "seq": payload["seq"],
            "order_id": order["id"],
            "number": order["number"],
            "hotline": order["hotline_code"],
            "channel": order["channel"],
        },
        room=CENTRE_ROOM,
    )


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
