"""Live pushes: every order event reaches the consoles that may see it, once and in
order, from the relay's publisher through Redis to socket.io clients (the real
python-socketio client against the real server); rooms, joins, replay after a
reconnect, and connections dropped when their session ends."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import asyncpg
import pytest
import socketio
from aiohttp.test_utils import TestServer

from hotline.orders.models import NewDraft
from hotline.orders.service import do_register_draft, record_event
from hotline.settings import Settings
from hotline.stream import queries as stream
from hotline.stream.horizon import Horizon
from tests.factories import Clock, dispatch_to, log_in, make_user, order_in_status
from tests.routing_support import Desk, enterprise_ids, open_desks, settle
from web.keys import POOL
from web.live import HUB, SOCKETS, end_sessions
from web.live_publisher import Publisher
from web.live_stream import STREAM_EVENT

MOBILE = "+8613812345678"


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "energy", "water") as opened:
        yield opened


class Running:
    """A publisher running in this process (as in the relay's) until stopped."""

    def __init__(self, settings: Settings) -> None:
        assert settings.database_url and settings.redis_url
        self.publisher = Publisher(
            settings.database_url, settings.redis_url, settings.live_channel, interval=0.05
        )
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.publisher.run(self._stop))

    async def leading(self) -> None:
        await asyncio.wait_for(self.publisher.leading.wait(), timeout=30)

    async def stop(self) -> None:
        self._stop.set()
        await self._task


@pytest.fixture
async def publisher(settings: Settings) -> AsyncIterator[Running]:
    running = Running(settings)
    await running.leading()
    yield running
    await running.stop()


async def until(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def passes(running: Running, n: int) -> None:
    """Let the publisher look at the stream ``n`` more times."""
    target = running.publisher.passes + n
    await until(lambda: running.publisher.passes >= target, f"{n} publisher passes")


def cookie_of(d: Desk, server: TestServer) -> str:
    jar = d.client.cookie_jar.filter_cookies(server.make_url("/"))
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


class Console:
    """A console's socket: everything it hears, in the order it heard it."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.heard: list[tuple[str, Any]] = []
        self.gone = False
        for name in ("order_event", "replay_done", "resync", "session_ended"):
            self.client.on(name, self._hearer(name))
        self.client.on("disconnect", self._gone)

    def _hearer(self, name: str) -> Callable[[Any], None]:
        return lambda data: self.heard.append((name, data))

    def _gone(self, *args: Any) -> None:
        self.gone = True

    async def open(
        self, server: TestServer, headers: dict[str, str], auth: dict[str, Any] | None = None
    ) -> Console:
        try:
            await self.client.connect(
                str(server.make_url("/")),
                headers=headers,
                auth=auth,
                transports=["websocket"],
                wait_timeout=5,
            )
        except socketio.exceptions.ConnectionError:
            # A refused engine.io client keeps the HTTP session it opened; close it.
            if self.client.eio.http is not None:
                await self.client.eio.http.close()
            raise
        return self

    def events(self, order_id: int | None = None) -> list[dict[str, Any]]:
        return [
            data
            for name, data in self.heard
            if name == "order_event" and order_id in (None, data["order_id"])
        ]

    def seqs(self, order_id: int | None = None) -> list[int]:
        return [e["seq"] for e in self.events(order_id)]

    def said(self, name: str) -> list[Any]:
        return [data for heard, data in self.heard if heard == name]

    async def join(self, room: str) -> Any:
        return await self.client.call("join", {"room": room}, timeout=10)

    async def close(self) -> None:
        await self.client.disconnect()


@contextlib.asynccontextmanager
async def consoles(
    server: TestServer,
    settings: Settings,
    *desks: Desk,
    auth: dict[str, Any] | None = None,
) -> AsyncIterator[list[Console]]:
    """Connected consoles of these desks' sessions, closed at the end."""
    opened: list[Console] = []
    try:
        for d in desks:
            headers = {"Cookie": cookie_of(d, server), "Origin": settings.base_url}
            opened.append(await Console().open(server, headers, auth))
        yield opened
    finally:
        for console in opened:
            await console.close()


async def history(desk: Desk, order_id: int) -> list[dict[str, Any]]:
    return list((await desk.get(f"/api/v1/orders/{order_id}"))["events"])


async def an_order(pool: asyncpg.Pool, *, dispatched_to: str | None = None) -> int:
    """An order standing registered (dispatched to the unit, if given), with a caller."""
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn, conn.transaction():
        order = await order_in_status(
            conn, "registered" if dispatched_to is None else "dispatched", now
        )
        await conn.execute(
            "UPDATE work_orders SET caller_phone = $2 WHERE id = $1", order["id"], MOBILE
        )
        if dispatched_to is not None:
            await dispatch_to(conn, order["id"], dispatched_to, now)
    return int(order["id"])


async def an_event(pool: asyncpg.Pool, order_id: int, **data: Any) -> int:
    async with pool.acquire() as conn, conn.transaction():
        row = await record_event(
            conn, order_id, "test.note", None, dt.datetime.now(dt.UTC), data=data
        )
    return int(row["seq"])


# ------------------------------------------------------------------ the stream


async def test_a_unit_hears_its_dispatch_made_by_a_worker_and_no_other_unit_does(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    server: TestServer,
    publisher: Running,
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "G06", "area": "370215001", "candidates": [ids["qd-energy"]]},
        status=201,
    )
    async with consoles(server, settings, desks["energy"], desks["water"], desks["agent"]) as (
        energy,
        water,
        agent,
    ):
        order = await desks["agent"].post(
            "/api/v1/orders",
            {
                "hotline": "96556",
                "service_item": "G06",
                "area": "370215001",
                "description": "申请停气检修",
            },
            status=201,
        )
        await settle(pool, settings)  # the worker, another process, dispatches
        events = await history(desks["agent"], order["id"])
        await until(lambda: len(agent.events(order["id"])) == len(events), "the agent hears all")
        dispatched = next(e for e in events if e["type"] == "order.dispatch")
        await until(lambda: dispatched["seq"] in energy.seqs(order["id"]), "the unit hears")

    # The centre hears every event of the order, as the REST history has them, in order.
    assert agent.seqs(order["id"]) == [e["seq"] for e in events]
    assert [e["type"] for e in agent.events(order["id"])] == [e["type"] for e in events]
    (heard,) = [e for e in energy.events(order["id"]) if e["seq"] == dispatched["seq"]]
    assert set(heard) == {"seq", "type", "order_id", "number", "hotline", "status"} | {
        "at",
        "actor",
        "owner_id",
        "data",
    }
    # Every event names the order's owner (首问负责制): its console notices their outcomes.
    owner = (await desks["agent"].get("/api/v1/auth/me"))["user"]["id"]
    assert heard["owner_id"] == owner
    assert {e["owner_id"] for e in agent.events(order["id"])} == {owner}
    assert heard["type"] == "order.dispatch" and heard["number"] == order["number"]
    assert heard["hotline"] == "96556" and heard["status"] == "dispatched"
    assert heard["data"]["dispatch_id"] == dispatched["data"]["dispatch_id"]
    assert heard["data"]["enterprise_id"] == ids["qd-energy"]
    assert dt.datetime.fromisoformat(heard["at"]) == dt.datetime.fromisoformat(
        dispatched["created_at"]
    )
    # The unit had no dispatch when the registration was pushed: it hears the events from
    # the transaction that dispatched it to it on.
    registered = events[0]["seq"]
    assert energy.seqs(order["id"]) == [e["seq"] for e in events if e["seq"] > registered]
    assert water.events(order["id"]) == []


async def test_supervisors_hear_a_sign_for_reminder(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    server: TestServer,
    publisher: Running,
) -> None:
    ids = await enterprise_ids(desks["supervisor"])
    await desks["supervisor"].post(
        "/api/v1/routing/rules",
        {"service_item": "G07", "area": "370215002", "candidates": [ids["qd-energy"]]},
        status=201,
    )
    async with consoles(server, settings, desks["supervisor"], desks["energy"]) as (
        supervisor,
        energy,
    ):
        order = await desks["agent"].post(
            "/api/v1/orders",
            {
                "hotline": "96556",
                "service_item": "G07",
                "area": "370215002",
                "description": "预约燃气安全检查",
            },
            status=201,
        )
        await settle(pool, settings)
        detail = await desks["agent"].get(f"/api/v1/orders/{order['id']}")
        (sign_for,) = [d for d in detail["deadlines"] if d["kind"] == "sign_for"]
        late = dt.datetime.fromisoformat(sign_for["due_at"]) + dt.timedelta(seconds=1)
        await settle(pool, settings, at=late)

        def reminders(console: Console) -> list[dict[str, Any]]:
            return [e for e in console.events(order["id"]) if e["type"] == "ladder.reminder"]

        await until(lambda: bool(reminders(supervisor) and reminders(energy)), "reminders")
    (reminder,) = reminders(supervisor)
    assert reminder["data"]["level"] == "reminder" and reminder["actor"] == "system"
    assert reminder["data"]["enterprise_id"] == ids["qd-energy"] and reminders(energy) == [reminder]


async def test_agents_hear_of_a_new_draft(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    server: TestServer,
    publisher: Running,
) -> None:
    async with consoles(server, settings, desks["agent"]) as (agent,):
        async with pool.acquire() as conn, conn.transaction():
            draft = await do_register_draft(
                conn,
                NewDraft(
                    hotline="12319",
                    channel="sms",
                    description="路灯不亮了",
                    caller_phone="13900001234",
                ),
                dt.datetime.now(dt.UTC),
            )
        await until(lambda: bool(agent.events(draft["id"])), "the draft is heard")
    (message,) = agent.events(draft["id"])
    assert message["type"] == "order.drafted" and message["status"] == "draft"
    assert message["data"]["channel"] == "sms" and message["number"] == draft["number"]


async def test_phone_numbers_reach_only_the_units_working_on_the_order(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    server: TestServer,
    publisher: Running,
) -> None:
    order_id = await an_order(pool)
    async with pool.acquire() as conn:
        returned = await dispatch_to(conn, order_id, "qd-water", dt.datetime.now(dt.UTC))
        await conn.execute("UPDATE dispatches SET state = 'returned' WHERE id = $1", returned["id"])
        await dispatch_to(conn, order_id, "qd-energy", dt.datetime.now(dt.UTC))
    async with consoles(
        server, settings, desks["supervisor"], desks["energy"], desks["water"]
    ) as listening:
        seq = await an_event(
            pool, order_id, caller_phone=MOBILE, callers=[{"phone": MOBILE, "name": "甲"}]
        )
        await until(lambda: all(seq in c.seqs(order_id) for c in listening), "all hear it")
    supervisor, energy, water = (
        [e for e in c.events(order_id) if e["seq"] == seq] for c in listening
    )
    full = {"caller_phone": MOBILE, "callers": [{"phone": MOBILE, "name": "甲"}]}
    hidden = "+86138****5678"
    assert supervisor[0]["data"] == full and energy[0]["data"] == full
    assert water[0]["data"] == {
        "caller_phone": hidden,
        "callers": [{"phone": hidden, "name": "甲"}],
    }
    assert len(supervisor) == len(energy) == len(water) == 1  # once each, whatever the rooms


# ------------------------------------------------------------------ late commits


async def test_the_horizon_waits_for_a_seq_that_commits_late(pool: asyncpg.Pool) -> None:
    order_id = await an_order(pool)
    async with pool.acquire() as early, pool.acquire() as late, pool.acquire() as reader:
        horizon = Horizon(await stream.last_allocated_seq(reader))
        transaction = late.transaction()
        await transaction.start()
        first = await record_event(late, order_id, "test.slow", None, dt.datetime.now(dt.UTC))
        async with early.transaction():
            second = await record_event(early, order_id, "test.fast", None, dt.datetime.now(dt.UTC))
        assert first["seq"] < second["seq"]
        # The later seq is committed, the earlier one is not: nothing past it is final.
        assert await horizon.advance(reader) < first["seq"]
        assert await horizon.advance(reader) < first["seq"]
        await transaction.commit()
        assert await horizon.advance(reader) >= second["seq"]
        seqs = [
            e["seq"]
            for e in await stream.read_events(
                reader, after=first["seq"] - 1, upto=second["seq"], limit=10
            )
        ]
        assert seqs == [first["seq"], second["seq"]]


async def test_a_rolled_back_seq_holds_the_stream_only_until_it_ends(pool: asyncpg.Pool) -> None:
    order_id = await an_order(pool)
    async with pool.acquire() as doomed, pool.acquire() as reader:
        horizon = Horizon(await stream.last_allocated_seq(reader))
        transaction = doomed.transaction()
        await transaction.start()
        lost = await record_event(doomed, order_id, "test.lost", None, dt.datetime.now(dt.UTC))
        kept = await an_event(pool, order_id)
        assert await horizon.advance(reader) < lost["seq"]
        await transaction.rollback()
        assert await horizon.advance(reader) >= kept


async def test_a_console_hears_an_event_that_commits_late_before_the_later_ones(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    server: TestServer,
    publisher: Running,
) -> None:
    order_id = await an_order(pool)
    async with consoles(server, settings, desks["supervisor"]) as (supervisor,):
        async with pool.acquire() as late:
            transaction = late.transaction()
            await transaction.start()
            slow = await record_event(late, order_id, "test.slow", None, dt.datetime.now(dt.UTC))
            fast = await an_event(pool, order_id)
            await passes(publisher, 3)  # it looked, with `fast` committed and `slow` not
            async with pool.acquire() as conn:
                assert await stream.published_seq(conn) < slow["seq"]
            assert supervisor.seqs(order_id) == []
            await transaction.commit()
        await until(lambda: len(supervisor.seqs(order_id)) == 2, "both are heard")
    assert supervisor.seqs(order_id) == [slow["seq"], fast]


# ------------------------------------------------------------------ rooms


async def test_connections_join_the_rooms_of_their_role(
    desks: dict[str, Desk], server: TestServer, settings: Settings, pool: asyncpg.Pool
) -> None:
    sockets = server.app[SOCKETS]
    async with pool.acquire() as conn:
        hotlines = {r["code"] for r in await conn.fetch("SELECT code FROM hotlines")}
        energy_scope = {
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM enterprises WHERE code = 'qd-energy' "
                "OR parent_id = (SELECT id FROM enterprises WHERE code = 'qd-energy')"
            )
        }
        username, _ = await make_user(conn, "agent", hotline_code="96111")
    browser = aiohttp.ClientSession(
        base_url=str(server.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )
    desks = {**desks, "agent": Desk(browser, await log_in(browser, username))}
    me = {name: (await d.get("/api/v1/auth/me"))["user"] for name, d in desks.items()}
    async with consoles(server, settings, *desks.values()) as opened:
        rooms = {
            name: set(sockets.rooms(c.client.get_sid(), namespace="/")) - {c.client.get_sid()}
            for name, c in zip(desks, opened, strict=True)
        }
    await browser.close()
    # An agent of one hotline hears only that hotline's orders: not the centre's room.
    assert rooms["agent"] == {f"user:{me['agent']['id']}", "hotline:96111"}
    assert rooms["supervisor"] == {f"user:{me['supervisor']['id']}", "centre", "board"} | {
        f"hotline:{code}" for code in hotlines
    }
    assert rooms["energy"] == {f"user:{me['energy']['id']}"} | {
        f"enterprise:{i}" for i in energy_scope
    }


async def test_joining_an_order_follows_the_apis_visibility(
    desks: dict[str, Desk], server: TestServer, settings: Settings, pool: asyncpg.Pool
) -> None:
    theirs = await an_order(pool, dispatched_to="qd-energy")
    sockets = server.app[SOCKETS]
    async with consoles(server, settings, desks["agent"], desks["energy"], desks["water"]) as (
        agent,
        energy,
        water,
    ):
        assert await agent.join(f"order:{theirs}") == {"ok": True}
        assert f"order:{theirs}" in sockets.rooms(agent.client.get_sid(), namespace="/")
        assert await energy.join(f"order:{theirs}") == {"ok": True}
        refused = await water.join(f"order:{theirs}")
        assert refused["ok"] is False and refused["error"]["code"] == "not_found"
        assert (await agent.join("order:999999999"))["error"]["code"] == "not_found"
        for room in ("centre", "board", "enterprise:1", f"user:{theirs}", "order:x", None):
            answer = await water.join(room)  # type: ignore[arg-type]
            assert answer["ok"] is False and answer["error"]["code"] == "bad_room", room
        assert await agent.client.call("leave", {"room": f"order:{theirs}"}, timeout=10) == {
            "ok": True
        }
        assert f"order:{theirs}" not in sockets.rooms(agent.client.get_sid(), namespace="/")


async def test_an_enterprise_user_enters_no_other_units_rooms(
    desks: dict[str, Desk], server: TestServer, settings: Settings, pool: asyncpg.Pool
) -> None:
    """Neither another unit's enterprise room nor another unit's order; a foreign order
    is refused exactly as a missing one (no existence oracle), and ids no row can have
    are refused as malformed rooms, without a database lookup."""
    theirs = await an_order(pool, dispatched_to="qd-energy")
    ours = await an_order(pool, dispatched_to="qd-water")
    energy = await pool.fetchval("SELECT id FROM enterprises WHERE code = 'qd-energy'")
    missing = 2**62
    sockets = server.app[SOCKETS]
    async with consoles(server, settings, desks["water"]) as (water,):
        sid = water.client.get_sid()
        before = set(sockets.rooms(sid, namespace="/"))
        assert f"enterprise:{energy}" not in before
        foreign, unknown = await water.join(f"order:{theirs}"), await water.join(f"order:{missing}")
        assert foreign["error"]["code"] == unknown["error"]["code"] == "not_found"
        assert foreign["error"]["message"].replace(str(theirs), "ID") == unknown["error"][
            "message"
        ].replace(str(missing), "ID")
        for room in (
            f"enterprise:{energy}",
            "order:99999999999999999999",
            "order:0",
            "order:\u0661\u0662",  # digits, but not ASCII ones
            "order:1\x00",
        ):
            answer = await water.join(room)
            assert answer["ok"] is False and answer["error"]["code"] == "bad_room", room
        # Its own unit's order is granted, and heard in the unit's rooms it is already in.
        assert await water.join(f"order:{ours}") == {"ok": True}
        assert set(sockets.rooms(sid, namespace="/")) == before


async def test_no_session_or_a_foreign_origin_gets_no_connection(
    desks: dict[str, Desk], server: TestServer, settings: Settings
) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Console().open(server, {"Origin": settings.base_url})
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Console().open(
            server, {"Cookie": cookie_of(desks["water"], server), "Origin": "https://evil.example"}
        )


# ------------------------------------------------------------------ replay


async def test_a_reconnecting_console_gets_what_it_missed_and_may_see(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    server: TestServer,
    publisher: Running,
) -> None:
    hub = server.app[HUB]
    mine = await an_order(pool, dispatched_to="qd-energy")
    other = await an_order(pool, dispatched_to="qd-water")
    before = await an_event(pool, mine)
    await until(lambda: hub.position >= before, "the stream passes the first event")
    missed = [await an_event(pool, order) for order in (mine, other, mine)]
    await until(lambda: hub.position >= missed[-1], "the stream passes the missed ones")
    async with consoles(
        server, settings, desks["energy"], desks["supervisor"], auth={"last_seq": before}
    ) as (energy, supervisor):
        await until(
            lambda: bool(energy.said("replay_done") and supervisor.said("replay_done")), "replays"
        )
        after = await an_event(pool, mine)
        await until(lambda: after in energy.seqs() and after in supervisor.seqs(), "live again")
    for console in (energy, supervisor):
        names = [name for name, _ in console.heard]
        done = names.index("replay_done")
        replayed, live = console.seqs()[:done], console.seqs()[done:]
        assert all(seq > before for seq in replayed) and replayed == sorted(replayed)
        (reached,) = console.said("replay_done")
        assert reached["last_seq"] >= missed[-1] and after in live
        assert all(seq > reached["last_seq"] for seq in live)
    assert [s for s in energy.seqs() if s in missed] == [
        missed[0],
        missed[2],
    ]  # not the other unit's
    assert [s for s in supervisor.seqs() if s in missed] == missed


async def test_events_pushed_during_a_replay_come_after_it(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    server: TestServer,
    publisher: Running,
) -> None:
    hub = server.app[HUB]
    order_id = await an_order(pool)
    before = await an_event(pool, order_id)
    missed = await an_event(pool, order_id)
    await until(lambda: hub.position >= missed, "the stream passes the missed event")
    app_pool = server.app[POOL]
    async with consoles(server, settings, desks["supervisor"]) as (supervisor,):
        # The replay waits for a database connection while events go out live.
        taken = [await app_pool.acquire() for _ in range(app_pool.get_max_size())]
        try:
            replaying = asyncio.create_task(
                supervisor.client.call("replay", {"last_seq": before}, timeout=30)
            )
            await until(lambda: hub.is_held(supervisor.client.get_sid()), "the replay holds")
            during = await an_event(pool, order_id)
            await until(lambda: hub.position >= during, "the hub has the live event")
            assert during not in supervisor.seqs()
        finally:
            for conn in taken:
                await app_pool.release(conn)
        assert await replaying == {"ok": True}
        await until(lambda: during in supervisor.seqs(), "the live event")
    names = [name for name, _ in supervisor.heard]
    (done,) = supervisor.said("replay_done")
    replayed = supervisor.seqs()[: names.index("replay_done")]
    live = supervisor.seqs()[names.index("replay_done") :]
    assert missed in replayed and all(before < seq <= done["last_seq"] for seq in replayed)
    assert live == [during] and during > done["last_seq"]


async def test_too_much_too_old_or_unknown_asks_the_console_to_reload(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    server: TestServer,
    publisher: Running,
) -> None:
    hub = server.app[HUB]
    order_id = await an_order(pool)
    before = await an_event(pool, order_id)
    for _ in range(3):
        last = await an_event(pool, order_id)
    await until(lambda: hub.position >= last, "the stream passes the events")
    limit = hub.replay_limit
    hub.replay_limit = 2
    try:
        async with consoles(server, settings, desks["supervisor"], auth={"last_seq": before}) as (
            c,
        ):
            await until(lambda: bool(c.said("resync")), "resync")
    finally:
        hub.replay_limit = limit
    assert c.said("resync") == [{"reason": "too_many", "last_seq": c.said("resync")[0]["last_seq"]}]
    assert c.said("resync")[0]["last_seq"] >= last and not c.said("replay_done")
    assert not [s for s in c.seqs() if s <= c.said("resync")[0]["last_seq"]]

    # An event of a day ago, first after the console's last one.
    async with pool.acquire() as conn, conn.transaction():
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=settings.live_replay_hours + 1)
        old = (await record_event(conn, order_id, "test.note", None, long_ago))["seq"]
    await until(lambda: hub.position >= old, "the stream passes it")
    async with consoles(server, settings, desks["supervisor"], auth={"last_seq": old - 1}) as (c,):
        await until(lambda: bool(c.said("resync")), "resync")
    assert c.said("resync")[0]["reason"] == "too_old"

    async with consoles(server, settings, desks["supervisor"], auth={"last_seq": 10**15}) as (c,):
        await until(lambda: bool(c.said("resync")), "resync")
    assert c.said("resync")[0]["reason"] == "unknown_seq"


# ------------------------------------------------------------------ missed on Redis


async def test_a_web_process_that_missed_a_batch_reads_it_from_the_database(
    desks: dict[str, Desk], pool: asyncpg.Pool, settings: Settings, server: TestServer
) -> None:
    """No publisher runs: this test publishes as one that lost a batch on the way."""
    hub = server.app[HUB]
    order_id = await an_order(pool)
    async with pool.acquire() as conn:
        lost = await an_event(pool, order_id)
        await stream.save_published(conn, lost)
    assert settings.redis_url
    manager = socketio.AsyncRedisManager(
        settings.redis_url, channel=settings.live_channel, write_only=True
    )
    async with consoles(server, settings, desks["supervisor"]) as (supervisor,):
        await manager.emit(STREAM_EVENT, {"prev": lost, "upto": lost, "events": []}, room="x")
        await until(lambda: lost in supervisor.seqs(), "the lost event")
        # Again, as a late duplicate of the lost batch: not sent twice.
        events = await stream_events(pool, lost)
        await manager.emit(
            STREAM_EVENT, {"prev": lost - 1, "upto": lost, "events": events}, room="x"
        )
        marker = await an_event(pool, order_id)
        async with pool.acquire() as conn:
            await stream.save_published(conn, marker)
        await manager.emit(STREAM_EVENT, {"prev": marker, "upto": marker, "events": []}, room="x")
        await until(lambda: marker in supervisor.seqs(), "the next one")
    assert supervisor.seqs(order_id) == [lost, marker]
    assert hub.position >= marker


async def stream_events(pool: asyncpg.Pool, seq: int) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        return await stream.read_events(conn, after=seq - 1, upto=seq, limit=1)


async def test_one_publisher_at_a_time_and_another_takes_over(
    desks: dict[str, Desk],
    pool: asyncpg.Pool,
    settings: Settings,
    server: TestServer,
    publisher: Running,
) -> None:
    standby = Running(settings)
    try:
        order_id = await an_order(pool)
        async with consoles(server, settings, desks["agent"]) as (agent,):
            first = await an_event(pool, order_id)
            await until(lambda: first in agent.seqs(), "the leader publishes")
            await passes(publisher, 3)
            assert not standby.publisher.leading.is_set()
            await publisher.stop()
            await standby.leading()
            second = await an_event(pool, order_id)
            await until(lambda: second in agent.seqs(), "the new leader publishes")
        assert agent.seqs(order_id) == [first, second]
    finally:
        await standby.stop()


# ------------------------------------------------------------------ sessions


async def test_a_logout_drops_the_sessions_connections(
    server: TestServer, pool: asyncpg.Pool, settings: Settings
) -> None:
    async with (
        open_desks(server, pool, "agent") as opened,
        consoles(server, settings, opened["agent"]) as (agent,),
    ):
        sid = agent.client.get_sid()
        assert sid in server.app[HUB].viewers
        await opened["agent"].post("/api/v1/auth/logout", status=204)
        await until(lambda: agent.gone, "the connection is dropped")
    assert agent.said("session_ended") == [{}]
    assert sid not in server.app[HUB].viewers


async def test_an_expired_session_is_dropped_at_the_next_check(
    desks: dict[str, Desk], server: TestServer, settings: Settings, clock: Clock
) -> None:
    async with consoles(server, settings, desks["agent"], desks["water"]) as (agent, water):
        assert await end_sessions(server.app) == 0
        clock.set(dt.datetime.now(dt.UTC) + dt.timedelta(hours=settings.session_hours, minutes=1))
        assert await end_sessions(server.app) == 2
        await until(lambda: agent.gone and water.gone, "both dropped")


async def test_long_polling_is_refused(client: aiohttp.ClientSession) -> None:
    # Only websockets are served (web/live.py): a polling handshake gets nothing open.
    async with client.get("/socket.io/?EIO=4&transport=polling") as response:
        assert response.status == 400
