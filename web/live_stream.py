"""A web process's side of the order event stream (protocol: docs/console.md).

The publisher (``live_publisher``, in the relay process) sends batches of committed
events, in ``seq`` order, on the socket.io Redis channel under an internal event name.
Every web process's manager hands those batches to its ``Hub``, which sends each event
to the rooms that may see it, on this process only. So that each connection gets every
event it may see exactly once and in order:

- the hub keeps its position in the stream; a batch that starts past it (Redis dropped
  the subscription for a while, or the process started between two batches) is
  preceded by the missing events read from the database, and events at or before the
  position are not sent again;
- a connection that is connecting or replaying is *held*: events for it are queued
  instead of sent, and after the replay only those past what the replay covered go out.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import socketio
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from socketio import packet as sio_packet

from hotline.orders.presenting import without_carrier_urls
from hotline.phones import mask_phone_fields
from hotline.stream import queries as stream
from hotline.users.models import Actor

log = logging.getLogger(__name__)

# The name of the publisher's batches on the Redis channel; web processes take them in
# and never send them to a browser.
STREAM_EVENT = "hotline:order-events"
ORDER_EVENT = "order_event"
NAMESPACE = "/"
READ_CHUNK = 500  # events read from the database at a time (catching up, replays)
PUBLIC_FIELDS = (
    "seq",
    "type",
    "order_id",
    "number",
    "hotline",
    "status",
    "at",
    "actor",
    "owner_id",
    "data",
)

CENTRE_ROOM = "centre"
BOARD_ROOM = "board"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def enterprise_room(enterprise_id: int) -> str:
    return f"enterprise:{enterprise_id}"


def hotline_room(code: str) -> str:
    return f"hotline:{code}"


def order_room(order_id: int) -> str:
    return f"order:{order_id}"


def public(event: dict[str, Any]) -> dict[str, Any]:
    """The ``order_event`` message of an event read from the stream, for centre staff."""
    message = {name: event[name] for name in PUBLIC_FIELDS}
    return {**message, "data": without_carrier_urls(message["data"])}


def masked(message: dict[str, Any]) -> dict[str, Any]:
    """The message for a unit that is not working on the order: phone numbers masked."""
    return {**message, "data": mask_phone_fields(message["data"])}


@dataclass(frozen=True)
class Viewer:
    """Who is behind a connection, as the stream needs it."""

    actor: Actor
    token_hash: bytes  # the session's, to drop the connection when the session ends
    scope: frozenset[int] | None  # an enterprise user's units; None for centre staff

    def message(self, event: dict[str, Any]) -> dict[str, Any]:
        """The event as this viewer may see it (the rule the rooms apply, for replays)."""
        full = public(event)
        if self.scope is None or self.scope & set(event["active_units"]):
            return full
        return masked(full)


class Hub:
    """Sends the stream's events to this process's connections; replays for one."""

    def __init__(
        self, *, replay_limit: int, replay_age: dt.timedelta, clock: Callable[[], dt.datetime]
    ) -> None:
        self.replay_limit = replay_limit
        self.replay_age = replay_age
        self.clock = clock
        self.server: socketio.AsyncServer | None = None
        self.pool: asyncpg.Pool | None = None
        # Every event up to here has been sent to the connections of this process.
        self.position = 0
        self.viewers: dict[str, Viewer] = {}
        self._held: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self._replay_on_connect: dict[str, int | None] = {}

    async def start(self, server: socketio.AsyncServer, pool: asyncpg.Pool) -> None:
        """At the web process's start: where the stream stands, and listen to Redis now
        rather than at the first connection."""
        self.server, self.pool = server, pool
        async with pool.acquire() as conn:
            self.position = await stream.published_seq(conn)
        if not server.manager_initialized:
            server.manager_initialized = True
            server.manager.initialize()

    # ------------------------------------------------------------ connections

    def admit(self, sid: str, viewer: Viewer, last_seq: int | None) -> None:
        """A connection being accepted: held until it is connected (and has replayed
        from ``last_seq``, if given). Called before it enters its rooms."""
        self.viewers[sid] = viewer
        self._held[sid] = []
        self._replay_on_connect[sid] = last_seq

    def connected(self, sid: str) -> None:
        """The connection's CONNECT has gone out: replay, or just let it go."""
        if sid not in self._replay_on_connect:
            return
        last_seq = self._replay_on_connect.pop(sid)
        assert self.server is not None
        self.server.start_background_task(self._first_replay, sid, last_seq)

    def forget(self, sid: str) -> None:
        self.viewers.pop(sid, None)
        self._held.pop(sid, None)
        self._replay_on_connect.pop(sid, None)

    def is_held(self, sid: str) -> bool:
        return sid in self._held

    async def _first_replay(self, sid: str, last_seq: int | None) -> None:
        if last_seq is None:
            await self._release(sid, after=0)
            return
        try:
            await self.replay(sid, last_seq)
        except Exception:
            log.exception("replay for %s failed", sid)
            # The console reloads through the API rather than waiting for events.
            await self._to(sid, "resync", {"reason": "unavailable", "last_seq": self.position})
            await self._release(sid, after=self.position)

    async def replay(self, sid: str, last_seq: int) -> None:
        """Send the connection what it may see after ``last_seq``, then ``replay_done``;
        or ``resync`` when that is too much or too old. Live events wait meanwhile."""
        assert self.pool is not None
        viewer = self.viewers[sid]
        self._held.setdefault(sid, [])
        upto = self.position
        async with self.pool.acquire() as conn:
            reason = await self._replay_refused(conn, last_seq, upto)
            events: list[dict[str, Any]] = []
            if reason is None and last_seq < upto:
                events = await stream.read_events(
                    conn,
                    after=last_seq,
                    upto=upto,
                    limit=self.replay_limit + 1,
                    scope=sorted(viewer.scope) if viewer.scope is not None else None,
                )
                if len(events) > self.replay_limit:
                    reason = "too_many"
        if reason is not None:
            await self._to(sid, "resync", {"reason": reason, "last_seq": upto})
            await self._release(sid, after=upto)
            return
        for event in events:
            # The rooms a centre user joins carry only its hotlines' events: so does this.
            if viewer.actor.sees_hotline(event["hotline"]):
                await self._to(sid, ORDER_EVENT, viewer.message(event))
        reached = max(upto, last_seq)
        await self._to(sid, "replay_done", {"last_seq": reached})
        await self._release(sid, after=reached)

    async def _replay_refused(
        self, conn: asyncpg.Connection, last_seq: int, upto: int
    ) -> str | None:
        if last_seq > upto and last_seq > await stream.last_allocated_seq(conn):
            return "unknown_seq"  # not from this database (restored, or another site)
        first = await stream.first_event_at(conn, last_seq) if last_seq < upto else None
        if first is not None and first < self.clock() - self.replay_age:
            return "too_old"
        return None

    async def _release(self, sid: str, *, after: int) -> None:
        """Send what was held for the connection past ``after``, then stop holding."""
        queue = self._held.get(sid)
        while queue:  # events keep arriving while these are sent
            seq, message = queue.pop(0)
            if seq > after:
                await self._to(sid, ORDER_EVENT, message)
        self._held.pop(sid, None)

    async def _to(self, sid: str, event: str, data: dict[str, Any]) -> None:
        assert self.server is not None
        await self.server.emit(event, data, to=sid, ignore_queue=True)

    # ------------------------------------------------------------ the stream

    async def receive(self, batch: dict[str, Any]) -> None:
        """A batch from the publisher: ``prev`` (where it starts), ``upto`` (where it ends),
        ``events`` in seq order."""
        if batch["prev"] > self.position:
            await self._catch_up(batch["prev"])
        for event in batch["events"]:
            if event["seq"] > self.position:
                await self._fan_out(event)
        self.position = max(self.position, batch["upto"])

    async def _catch_up(self, upto: int) -> None:
        assert self.pool is not None
        log.info("live stream: reading events %d..%d missed on Redis", self.position + 1, upto)
        async with self.pool.acquire() as conn:
            while self.position < upto:
                events = await stream.read_events(
                    conn, after=self.position, upto=upto, limit=READ_CHUNK
                )
                for event in events:
                    await self._fan_out(event)
                if len(events) < READ_CHUNK:
                    self.position = upto

    async def _fan_out(self, event: dict[str, Any]) -> None:
        """One event to its rooms, each connection once: in full to the centre's rooms and
        the units working on the order, masked to the other units with a dispatch."""
        active = set(event["active_units"])
        full_rooms = [
            order_room(event["order_id"]),
            CENTRE_ROOM,
            hotline_room(event["hotline"]),
            BOARD_ROOM,
            *(enterprise_room(unit) for unit in active),
        ]
        message = public(event)
        reached = await self._send(event["seq"], message, full_rooms, skip=set())
        others = [enterprise_room(unit) for unit in event["units"] if unit not in active]
        if others:
            await self._send(event["seq"], masked(message), others, skip=reached)
        self.position = event["seq"]

    async def _send(
        self, seq: int, message: dict[str, Any], rooms: list[str], *, skip: set[str]
    ) -> set[str]:
        """``message`` to the connections in ``rooms`` but not in ``skip``; returns them.

        Encoded once and queued on each connection's engine.io socket in one pass:
        ``server.emit`` to a list of sids would make a task per connection (a thousand
        per event in the centre room), which costs more than the sends and, living
        across collections, makes the garbage collector's full passes frequent."""
        assert self.server is not None
        recipients = {
            sid: eio_sid
            for sid, eio_sid in self.server.manager.get_participants(NAMESPACE, rooms)
            if sid not in skip
        }
        frame: eio_packet.Packet | None = None
        for sid, eio_sid in recipients.items():
            held = self._held.get(sid)
            if held is not None:
                held.append((seq, message))
                continue
            if frame is None:
                frame = self._frame(ORDER_EVENT, message)
            # A socket closing meanwhile is the disconnect handler's to clean up.
            with contextlib.suppress(eio_exceptions.SocketIsClosedError):
                await self.server.eio.send_packet(eio_sid, frame)
        return set(recipients)

    def _frame(self, event: str, data: dict[str, Any]) -> eio_packet.Packet:
        """The engine.io packet carrying a socket.io EVENT, as ``server.emit`` builds it."""
        assert self.server is not None
        packet = self.server.packet_class(sio_packet.EVENT, namespace=NAMESPACE, data=[event, data])
        return eio_packet.Packet(eio_packet.MESSAGE, packet.encode())


class StreamManager(socketio.AsyncRedisManager):  # type: ignore[misc]
    """python-socketio's Redis manager, handing the publisher's batches to the hub and
    telling it when a connection is complete."""

    def __init__(self, url: str, channel: str, hub: Hub) -> None:
        super().__init__(url, channel=channel, redis_options={"socket_timeout": None})
        self.hub = hub

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        if message.get("event") == STREAM_EVENT:
            (batch,) = message["data"]
            await self.hub.receive(batch)
            return
        await super()._handle_emit(message)

    async def connect(self, sid: str, namespace: str) -> Any:
        result = await super().connect(sid, namespace)
        self.hub.connected(sid)
        return result
