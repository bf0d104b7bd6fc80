"""Finding orders through GET /api/v1/orders (docs/core.md, "Finding orders"): words
with synonyms, phones, numbers, every filter, every sort both ways across pages, each
role's scope, the words of older orders filled by the relay, and saved filters.

The test database is shared by the session: each test finds its own orders by a marker
word of its own in their descriptions."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp import ClientSession

from hotline.orders import queries, searching
from hotline.orders.models import NewDraft
from hotline.orders.searching import fill_missing_words
from hotline.orders.service import do_register_draft
from hotline.settings import Settings
from hotline.users.models import Actor
from tests.factories import Clock, dispatch_to, log_in, make_user, register_order, unique

CHINA = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=CHINA)


def marker() -> str:
    """A word no other order has (jieba keeps a run of letters and digits whole)."""
    return unique("mk").lower() + "x"


async def user(conn: asyncpg.Connection, role: str, **kwargs: Any) -> tuple[str, Actor]:
    return await make_user(conn, role, **kwargs)


async def as_user(client: ClientSession, username: str) -> dict[str, str]:
    """Sign ``client`` in as ``username`` (a new session: the old one's cookie goes)."""
    client.cookie_jar.clear()
    return {"X-CSRF-Token": await log_in(client, username)}


async def find(client: ClientSession, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/orders", params=_query(params))
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def found_ids(client: ClientSession, **params: Any) -> list[int]:
    return [o["id"] for o in (await find(client, limit=200, **params))["items"]]


async def every_page(client: ClientSession, **params: Any) -> list[int]:
    """The ids of every page of a search, following its cursors (at most ten pages)."""
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = await find(client, **params, **({"cursor": cursor} if cursor else {}))
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return seen


def _query(params: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    for name, value in params.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, str(one).lower() if isinstance(one, bool) else str(one)))
    return pairs


async def order(
    conn: asyncpg.Connection,
    admin: Actor,
    settings: Settings,
    *,
    at: dt.datetime = NOW,
    **fields: Any,
) -> int:
    row = await register_order(conn, admin, settings, at, **fields)
    return int(row["id"])


async def test_words_find_orders_by_description_address_name_and_synonym(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    clock.set(NOW)
    mark = marker()
    async with pool.acquire() as conn:
        admin_name, admin = await user(conn, "admin")
        gas = await order(
            conn,
            admin,
            settings,
            hotline="96556",
            service_item="G05",
            description=f"{mark} 厨房燃气管道有异味，怀疑泄漏",
            address="延安三路 28 号",
            caller_name="欧阳娜娜",
        )
        water = await order(
            conn,
            admin,
            settings,
            description=f"{mark} 自来水水压太低，楼上没水",
            address="香港中路 100 号",
        )
    await as_user(client, admin_name)
    assert await found_ids(client, q=f"{mark} 煤气") == [gas]  # 煤气 is a synonym of 燃气
    assert await found_ids(client, q=f"{mark} 燃气") == [gas]
    assert await found_ids(client, q=f"{mark} 香港中路") == [water]
    assert await found_ids(client, q=f"{mark} 延安三路") == [gas]
    assert await found_ids(client, q=f"{mark} 欧阳娜娜") == [gas]
    assert await found_ids(client, q=f"{mark} 供水") == [water]  # 自来水
    assert await found_ids(client, q=f"{mark} 暖气") == []
    assert set(await found_ids(client, q=mark)) == {gas, water}


async def test_a_phone_finds_that_callers_orders_masked_for_a_unit(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    clock.set(NOW)
    mark = marker()
    async with pool.acquire() as conn:
        admin_name, admin = await user(conn, "admin")
        unit_name, _ = await user(conn, "enterprise_user", enterprise_code="qd-water")
        phone = "139" + unique("").zfill(8)[-8:]
        mine = [
            await order(conn, admin, settings, description=f"{mark} 一", caller_phone=phone),
            await order(conn, admin, settings, description=f"{mark} 二", caller_phone=phone),
        ]
        other = await order(conn, admin, settings, description=f"{mark} 三")
        for order_id in [*mine, other]:
            dispatch = await dispatch_to(conn, order_id, "qd-water", NOW)
            # Finished: the unit no longer handles them, so it sees the phones masked.
            await conn.execute(
                "UPDATE dispatches SET state = 'completed', finished_at = $2 WHERE id = $1",
                dispatch["id"],
                NOW,
            )
    await as_user(client, admin_name)
    spaced = f"+86 {phone[:3]} {phone[3:7]} {phone[7:]}"
    assert await found_ids(client, q=spaced) == sorted(mine, reverse=True)
    assert await found_ids(client, q=f"{phone[:3]}-{phone[3:7]}-{phone[7:]}") == sorted(
        mine, reverse=True
    )
    whole = await find(client, q=phone)
    assert {o["caller_phone"] for o in whole["items"]} == {f"+86{phone}"}

    await as_user(client, unit_name)
    masked = await find(client, q=phone)
    assert [o["id"] for o in masked["items"]] == sorted(mine, reverse=True)
    for item in masked["items"]:
        assert item["caller_phone"] != f"+86{phone}" and "*" in item["caller_phone"]
        assert item["enterprise"] is None or item["enterprise"]["name_zh"]


async def test_an_order_number_or_its_tail_finds_that_order(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings
) -> None:
    async with pool.acquire() as conn:
        admin_name, admin = await user(conn, "admin")
        row = await register_order(conn, admin, settings, NOW, description=marker())
    await as_user(client, admin_name)
    number = row["number"]
    assert await found_ids(client, q=number) == [row["id"]]
    tail = number.split("-", 1)[1]
    assert row["id"] in await found_ids(client, q=tail)
    assert await found_ids(client, q=f"99999-{tail}") == []


async def test_each_filter(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    clock.set(NOW)
    mark = marker()
    async with pool.acquire() as conn:
        admin_name, admin = await user(conn, "admin")

        async def make(**fields: Any) -> int:
            at = fields.pop("at", NOW - dt.timedelta(days=1))
            return await order(conn, admin, settings, at=at, description=mark, **fields)

        plain = await make(area="370202001")
        gas = await make(hotline="96556", service_item="G05", channel="voice", area="370203")
        old = await make(at=dt.datetime(2026, 11, 1, 0, 30, tzinfo=CHINA))  # Nov 1, China
        late = await make(at=NOW - dt.timedelta(days=30))  # due long ago, still open
        hard = await make(hard_case=True, tried_elsewhere="街道办")
        redo = await make()
        coordinated = await make()
        rated = {outcome: await make() for outcome in ("good", "bad", "unreachable")}
        done = await make()
        await conn.execute(
            "UPDATE work_orders SET status = 'completed', completed_at = $2 WHERE id = $1",
            done,
            dt.datetime(2026, 11, 10, 23, 30, tzinfo=CHINA),
        )
        await conn.execute("UPDATE work_orders SET redo_count = 1 WHERE id = $1", redo)
        await conn.execute(
            "INSERT INTO order_events (order_id, type, actor, from_status, to_status, data) "
            "VALUES ($1, 'order.escalate', 'system', 'registered', 'escalated', '{}')",
            coordinated,
        )
        for outcome, order_id in rated.items():
            dispatch = await dispatch_to(conn, order_id, "qd-water", NOW)
            await conn.execute(
                "INSERT INTO dispatch_ratings (dispatch_id, callback_outcome) VALUES ($1, $2)",
                dispatch["id"],
                outcome,
            )
            await conn.execute(
                "UPDATE work_orders SET lead_enterprise_id = $2 WHERE id = $1",
                order_id,
                dispatch["enterprise_id"],
            )
        unit = await conn.fetchval("SELECT id FROM enterprises WHERE code = 'qd-water'")
    everything = {plain, gas, old, late, hard, redo, coordinated, *rated.values(), done}
    await as_user(client, admin_name)

    async def ids(**params: Any) -> set[int]:
        return set(await found_ids(client, q=mark, **params))

    assert await ids() == everything
    assert await ids(hotline="96556") == {gas}
    assert await ids(domain="gas") == {gas}
    assert await ids(service_item="G05") == {gas}
    assert await ids(kind="repair") == {gas}
    assert await ids(channel=["voice", "sms"]) == {gas}
    assert await ids(channel="voice,sms") == {gas}
    assert await ids(area="370202") == everything - {gas}  # the district has its streets
    assert await ids(area="370202001") == {plain}
    assert await ids(status="completed") == {done}
    assert await ids(registered_from="2026-11-01", registered_to="2026-11-01") == {old}
    assert await ids(registered_to="2026-10-31") == {late}
    assert await ids(completed_from="2026-11-10", completed_to="2026-11-10") == {done}
    assert await ids(completed_from="2026-11-11") == set()
    # G05 (a gas leak) runs on hours: a day after, it is overdue too.
    assert await ids(overdue=True) == {gas, old, late}
    assert await ids(overdue=False) == everything - {gas, old, late}
    assert await ids(hard_case=True) == {hard}
    assert await ids(redo=True) == {redo}
    assert await ids(redo=False) == everything - {redo}
    assert await ids(coordination=True) == {coordinated}
    assert await ids(coordination=False) == everything - {coordinated}
    for outcome, order_id in rated.items():
        assert await ids(rating=outcome) == {order_id}
    assert await ids(rating="none") == everything - set(rated.values())
    assert await ids(enterprise_id=unit) == set(rated.values())
    listed = (await find(client, q=mark, overdue=True))["items"]
    assert [o["overdue"] for o in listed] == [True, True, True]
    assert not any(o["overdue"] for o in (await find(client, q=mark, overdue=False))["items"])
    lead = (await find(client, q=mark, rating="good"))["items"][0]
    assert lead["enterprise"] == {
        "id": unit,
        "name_zh": "青岛水务集团",
        "name_en": "Qingdao Water Group",
    }
    assert (await find(client, q=mark, hard_case=True))["items"][0]["enterprise"] is None


SORT_KEYS = {
    "registered": "created_at",
    "due": "resolution_due_at",
    "completed": "completed_at",
    "number": "number",
    "updated": "updated_at",
}


@pytest.mark.parametrize("sort", sorted(SORT_KEYS))
async def test_each_sort_both_ways_pages_without_gaps_or_duplicates(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings, sort: str
) -> None:
    mark = marker()
    async with pool.acquire() as conn:
        admin_name, admin = await user(conn, "admin")
        ids = []
        for i in range(7):
            at = NOW - dt.timedelta(hours=i * 5)
            ids.append(await order(conn, admin, settings, at=at, description=mark))
        # Equal keys (paged by id) and missing ones (due, completed: paged last).
        await conn.execute(
            "UPDATE work_orders SET updated_at = $2, completed_at = $3 WHERE id = ANY($1)",
            ids[:3],
            NOW,
            NOW - dt.timedelta(days=1),
        )
        await conn.execute(
            "UPDATE work_orders SET resolution_due_at = NULL WHERE id = ANY($1)", ids[5:]
        )
        rows = await conn.fetch(
            f"SELECT id, {SORT_KEYS[sort]} AS key FROM work_orders WHERE id = ANY($1)", ids
        )
    await as_user(client, admin_name)
    for descending in (True, False):
        with_key = sorted(
            (r for r in rows if r["key"] is not None),
            key=lambda r: (r["key"], r["id"]),
            reverse=descending,
        )
        without = sorted((r["id"] for r in rows if r["key"] is None), reverse=descending)
        expected = [r["id"] for r in with_key] + without
        seen = await every_page(client, q=mark, sort=sort, desc=descending, limit=2)
        assert seen == expected, (sort, descending)


async def test_the_old_sorts_keep_their_meaning(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings
) -> None:
    mark = marker()
    async with pool.acquire() as conn:
        admin_name, admin = await user(conn, "admin")
        first = await order(conn, admin, settings, at=NOW - dt.timedelta(days=2), description=mark)
        second = await order(conn, admin, settings, at=NOW, description=mark)
    await as_user(client, admin_name)
    assert await found_ids(client, q=mark, sort="newest") == [second, first]
    assert await found_ids(client, q=mark, sort="due") == [first, second]
    assert await found_ids(client, q=mark) == [second, first]


async def test_each_role_sees_its_own(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings
) -> None:
    mark = marker()
    async with pool.acquire() as conn:
        _, admin = await user(conn, "admin")
        agent_name, _ = await user(conn, "agent", hotline_code="96111")
        supervisor_name, _ = await user(conn, "supervisor")
        water_name, _ = await user(conn, "enterprise_user", enterprise_code="qd-water")
        water_admin_name, _ = await user(conn, "enterprise_admin", enterprise_code="qd-water")
        energy_name, _ = await user(conn, "enterprise_user", enterprise_code="qd-energy")
        water_open = await order(conn, admin, settings, description=mark)
        water_done = await order(conn, admin, settings, description=mark)
        gas = await order(
            conn, admin, settings, hotline="96556", service_item="G05", description=mark
        )
        undispatched = await order(conn, admin, settings, description=mark)
        await dispatch_to(conn, water_open, "qd-water-east", NOW)  # a branch of qd-water
        finished = await dispatch_to(conn, water_done, "qd-water", NOW)
        await conn.execute(
            "UPDATE dispatches SET state = 'completed', finished_at = $2 WHERE id = $1",
            finished["id"],
            NOW,
        )
        await conn.execute(
            "UPDATE work_orders SET status = 'closed', closed_at = $2 WHERE id = $1",
            water_done,
            NOW,
        )
        await dispatch_to(conn, gas, "qd-energy", NOW)
    everything = {water_open, water_done, gas, undispatched}
    for username, expected in (
        (agent_name, {water_open, water_done, undispatched}),
        (supervisor_name, everything),
        (water_name, {water_open, water_done}),
        (water_admin_name, {water_open, water_done}),
        (energy_name, {gas}),
    ):
        await as_user(client, username)
        assert set(await found_ids(client, q=mark)) == expected, username


async def test_orders_without_words_are_found_and_the_relay_fills_them(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings
) -> None:
    mark = marker()
    async with pool.acquire() as conn:
        admin_name, admin = await user(conn, "admin")
        older = await order(conn, admin, settings, description=f"{mark}燃气表不走字")
        # As an order written before migration 0035.
        await conn.execute("UPDATE work_orders SET search_words = NULL WHERE id = $1", older)
    await as_user(client, admin_name)
    assert await found_ids(client, q=mark) == [older]  # by its text meanwhile
    async with pool.acquire() as conn:
        while await fill_missing_words(conn, 100):
            pass
        words = await conn.fetchval(
            "SELECT search_words::text FROM work_orders WHERE id = $1", older
        )
    assert words is not None and "燃气" in words
    assert await found_ids(client, q=f"{mark} 煤气") == [older]  # now with synonyms


async def test_words_with_overdue_find_the_open_late_orders_newest_first(
    client: ClientSession, pool: asyncpg.Pool, settings: Settings, clock: Clock
) -> None:
    """Words with ``overdue`` walk the open orders newest first (migration 0044): the
    late ones whose words match, those written before the words (filled by the relay,
    or still matched by their text) included; not the orders on time, done, or late
    with other words."""
    clock.set(NOW)
    mark = marker()
    async with pool.acquire() as conn:
        admin_name, admin = await user(conn, "admin")

        async def make(days_ago: int, text: str = "燃气表不走字") -> int:
            at = NOW - dt.timedelta(days=days_ago)
            return await order(conn, admin, settings, at=at, description=f"{mark}{text}")

        late = await make(40)
        filled = await make(30)  # its words written by the relay's chore
        unfilled = await make(20)  # no words yet: found by its text
        await make(0)  # open, on time
        done = await make(35)
        other = await order(conn, admin, settings, at=NOW - dt.timedelta(days=25))
        await conn.execute(
            "UPDATE work_orders SET status = 'closed', completed_at = $2 WHERE id = $1",
            done,
            NOW - dt.timedelta(days=34),
        )
        # As orders written before migration 0035: one filled by the chore, then one
        # left without words, and a late order with other words.
        await conn.execute("UPDATE work_orders SET search_words = NULL WHERE id = $1", filled)
        assert await fill_missing_words_of(conn, filled)
        await conn.execute(
            "UPDATE work_orders SET search_words = NULL WHERE id = ANY($1::bigint[])",
            [unfilled, other],
        )
    await as_user(client, admin_name)

    assert await found_ids(client, q=mark, overdue=True) == [unfilled, filled, late]
    # A page at a time, each order once.
    pages: list[int] = []
    query: dict[str, Any] = {"q": mark, "overdue": True, "limit": 1}
    while True:
        page = await find(client, **query)
        pages += [o["id"] for o in page["items"]]
        if not page["next_cursor"]:
            break
        query["cursor"] = page["next_cursor"]
    assert pages == [unfilled, filled, late]
    # The filled words have synonyms (煤气 finds 燃气); the text match has not.
    assert await found_ids(client, q=f"{mark} 煤气", overdue=True) == [filled, late]


async def fill_missing_words_of(conn: asyncpg.Connection, order_id: int) -> bool:
    """The relay's chore until ``order_id`` has its words (other tests' orders without
    words may come first); whether it has them."""
    while await conn.fetchval(
        "SELECT search_words IS NULL FROM work_orders WHERE id = $1", order_id
    ):
        if not await fill_missing_words(conn, 100):
            return False
    return True


async def test_a_draft_confirmed_with_other_words_is_found_by_them(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    mark = marker()
    async with pool.acquire() as conn:
        agent_name, _ = await user(conn, "agent", hotline_code="96111")
        async with conn.transaction():
            draft = await do_register_draft(
                conn,
                NewDraft(hotline="96111", channel="sms", description=f"{mark} 家里没水了"),
                NOW,
            )
    headers = await as_user(client, agent_name)
    assert await found_ids(client, q=f"{mark} 停水") == [draft["id"]]  # 没水: a synonym
    confirmed = await client.post(
        f"/api/v1/orders/{draft['id']}/confirm",
        json={
            "service_item": "W05",
            "description": f"{mark} 小区水管爆裂",
            "address": "太平路 1 号",
            "caller_name": "诸葛亮",
        },
        headers=headers,
    )
    assert confirmed.status == 200, await confirmed.text()
    for words in ("管道", "太平路", "诸葛亮"):
        assert await found_ids(client, q=f"{mark} {words}") == [draft["id"]], words
    assert await found_ids(client, q=f"{mark} 停水") == []


async def test_bad_parameters_answer_400_invalid_query_with_the_field(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        agent_name, _ = await user(conn, "agent", hotline_code="96111")
    await as_user(client, agent_name)
    for params, field in (
        ({"limit": "0"}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
        ({"sort": "name"}, "sort"),
        ({"domain": "air"}, "domain"),
        ({"rating": "great"}, "rating"),
        ({"registered_from": "2026-13-01"}, "registered_from"),
        ({"redo": "maybe"}, "redo"),
        ({"colour": "red"}, "colour"),
    ):
        response = await client.get("/api/v1/orders", params=params)
        assert response.status == 400, params
        error = (await response.json())["error"]
        assert error["code"] == "invalid_query" and field in error["fields"], error
    page = await find(client, sort="due", desc=True, limit=1)
    other_sort = await client.get(
        "/api/v1/orders", params={"sort": "due", "cursor": page["next_cursor"] or "x"}
    )
    assert other_sort.status == 400  # a cursor of another direction


async def test_saved_filters(client: ClientSession, pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        first_name, _ = await user(conn, "agent", hotline_code="96111")
        second_name, _ = await user(conn, "agent", hotline_code="96111")
    headers = await as_user(client, first_name)
    url = "/api/v1/saved-filters"
    body = {"name": "超期燃气", "params": {"domain": "gas", "overdue": True, "status": ["signed"]}}
    created = await client.post(url, json=body, headers=headers)
    assert created.status == 201, await created.text()
    saved = await created.json()
    assert saved["params"] == {"domain": "gas", "overdue": True, "status": ["signed"]}
    again = await client.post(
        url, json={"name": "超期燃气", "params": {"domain": "heating"}}, headers=headers
    )
    assert again.status == 200
    assert (await again.json())["id"] == saved["id"]
    other = await client.post(url, json={"name": "我的", "params": {}}, headers=headers)
    assert other.status == 201
    listed = (await (await client.get(url)).json())["items"]
    assert [(f["name"], f["params"]) for f in listed] == [
        ("我的", {}),
        ("超期燃气", {"domain": "heating"}),
    ]
    for params, field in (
        ({"colour": "red"}, "colour"),
        ({"rating": "great"}, "rating"),
        ({"cursor": "abc"}, "cursor"),
        ({"limit": 5}, "limit"),
    ):
        bad = await client.post(url, json={"name": "坏的", "params": params}, headers=headers)
        assert bad.status == 400, params
        error = (await bad.json())["error"]
        assert error["code"] == "invalid_query" and field in error["fields"], error
    too_long = await client.post(url, json={"name": "长" * 41, "params": {}}, headers=headers)
    assert too_long.status == 422

    headers = await as_user(client, second_name)
    assert (await (await client.get(url)).json())["items"] == []
    assert (await client.delete(f"{url}/{saved['id']}", headers=headers)).status == 404

    headers = await as_user(client, first_name)
    assert (await client.delete(f"{url}/{saved['id']}", headers=headers)).status == 204
    assert (await client.delete(f"{url}/{saved['id']}", headers=headers)).status == 404
    remaining = (await (await client.get(url)).json())["items"]
    assert [f["name"] for f in remaining] == ["我的"]


@pytest.mark.parametrize("walked", [1, 6, 1000])
async def test_several_words_page_the_same_whether_the_walk_fills_a_page_or_ends_short(
    client: ClientSession,
    pool: asyncpg.Pool,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    walked: int,
) -> None:
    """A search of several words with no filter walks the newest orders first
    (``searching.WALKED`` of them) and searches as before when the walk ends short: the
    pages are the same either way. The orders are the newest of the database, every
    other one with both words."""
    monkeypatch.setattr(searching, "WALKED", walked)
    first, second = marker(), marker()
    async with pool.acquire() as conn:
        admin_name, admin = await user(conn, "admin")
        both = []
        for i in range(8):
            at = dt.datetime(2031, 1, 1, tzinfo=CHINA) + dt.timedelta(days=walked, hours=i)
            words = f"{first} {second}" if i % 2 == 0 else first
            found = await order(conn, admin, settings, at=at, description=f"{words} 水管漏水")
            if i % 2 == 0:
                both.append(found)
    await as_user(client, admin_name)
    assert searching._walks(
        queries.Search(hotlines=["96111"], tsquery=f"({first}) & ({second})", pattern="x")
    )
    assert await every_page(client, q=f"{first} {second}", limit=2) == both[::-1]


def test_only_several_words_with_no_filter_but_the_hotlines_walk() -> None:
    def pair(**filters: Any) -> queries.Search:
        return queries.Search(tsquery="('香港') & ('中路')", pattern="香港中路", **filters)

    assert searching._walks(pair())
    assert searching._walks(pair(hotlines=["96111", "12319"], hotline="96111"))
    assert not searching._walks(queries.Search(tsquery="('漏水')", pattern="漏水"))
    assert not searching._walks(pair(area="370202"))
    assert not searching._walks(pair(status=["closed"]))
    assert not searching._walks(pair(scope=[1]))
    assert not searching._walks(queries.Search(phone="+8613812345678"))
