"""The area suggested from an address (issue 16, item 4; docs/suggest.md, "Area from the
address"): the caller's history before the centre's orders naming the road, those before
the seed road list, a road in two districts offered as alternatives unless the address
names one, and nothing (but 200) for an address that says nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientSession

from hotline.callers.models import CallerUpdate
from hotline.callers.service import do_update_caller
from hotline.reference.cache import reference
from hotline.settings import Settings
from hotline.suggest.area_queries import CALLER_HISTORY, STREETS_OF_ROADS
from hotline.suggest.areas import parse_address
from tests.factories import log_in, make_user, register_order

URL = "/api/v1/areas/suggest"


@pytest.fixture
async def agent(client: ClientSession, pool: asyncpg.Pool) -> Any:
    async with pool.acquire() as conn:
        username, actor = await make_user(conn, "agent", hotline_code="96111")
    await log_in(client, username)
    return actor


async def _suggest(client: ClientSession, **query: str) -> dict[str, Any]:
    response = await client.get(URL, params=query)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def _orders(
    pool: asyncpg.Pool,
    actor: Any,
    settings: Settings,
    now: dt.datetime,
    area: str,
    address: str,
    count: int,
    phone: str = "13812345678",
) -> None:
    async with pool.acquire() as conn:
        for _ in range(count):
            await register_order(
                conn, actor, settings, now, area=area, address=address, caller_phone=phone
            )


def _codes(answer: dict[str, Any]) -> list[str]:
    return [(a["street"] or a["district"])["code"] for a in answer["alternatives"]]


@pytest.mark.parametrize(
    ("address", "district", "roads"),
    [
        ("市南区香港中路10号", "370202", ["香港中路"]),
        ("崂山区松岭路88号3单元", "370212", ["松岭路"]),
        ("李沧区九水路", "370213", ["九水路"]),
        ("黄岛长江中路华润中心", "370211", ["长江中路"]),
        ("俺家在福州北路那边", None, ["福州北路"]),
        ("市北区 胶州路 ５号 201室", "370203", ["胶州路"]),  # 胶州路 is not 胶州市
        ("西海岸新区长江中路12号", "370211", ["长江中路"]),
        ("靠近延吉路跟哈尔滨路", None, ["延吉路", "哈尔滨路"]),
        ("青岛市崂山", "370212", []),
        ("地铁1号线", None, []),
    ],
)
async def test_an_address_names_its_district_and_roads(
    pool: asyncpg.Pool, address: str, district: str | None, roads: list[str]
) -> None:
    async with pool.acquire() as conn:
        areas = await reference.areas(conn)
    place = parse_address(address, areas)
    assert (place.district, place.roads) == (district, roads)


async def test_the_seed_road_list_answers_before_the_centre_has_orders(
    client: ClientSession, agent: Any
) -> None:
    answer = await _suggest(client, address="俺家在福州北路那边")
    assert answer["source"] == "seed"
    assert answer["road"] == "福州北路"
    assert answer["district"]["code"] == "370203"
    assert answer["street"] == {
        "code": "370203006",
        "name_zh": "浮山新区街道",
        "name_en": "Fushanxinqu Subdistrict",
    }
    assert answer["reason"] == "福州北路（道路名录）"
    assert answer["orders"] is None


async def test_the_centres_orders_naming_a_road_beat_the_seed(
    client: ClientSession, agent: Any, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    # The seed puts 松岭路 in 中韩; the agents have put its orders in 金家岭.
    await _orders(pool, agent, settings, now, "370212005", "崂山区松岭路88号", 2)
    await _orders(pool, agent, settings, now, "370212", "松岭路 1 号", 3)  # no street: no help
    answer = await _suggest(client, address="松岭路100号2单元")
    assert (answer["source"], answer["street"]["code"], answer["orders"]) == (
        "orders",
        "370212005",
        2,
    )
    assert answer["reason"] == "松岭路（2 张工单）"
    assert _codes(answer) == ["370212001"]  # the seed's street, offered
    assert answer["alternatives"][0]["source"] == "seed"


async def test_a_road_in_two_districts_gives_alternatives_unless_the_address_names_one(
    client: ClientSession, agent: Any
) -> None:
    answer = await _suggest(client, address="天津路5号")
    assert (answer["district"], answer["street"], answer["source"]) == (None, None, "seed")
    assert answer["reason"] == "多个区市都有天津路"
    assert sorted(a["district"]["code"] for a in answer["alternatives"]) == ["370202", "370283"]

    answer = await _suggest(client, address="平度市天津路5号")
    assert (answer["district"]["code"], answer["street"]["code"]) == ("370283", "370283002")
    # The alias 香港路 names 市南's 香港中路 and 胶州's own 香港路.
    answer = await _suggest(client, address="香港路")
    assert answer["street"] is None and len(answer["alternatives"]) == 2


async def test_the_orders_of_a_road_spread_over_districts_are_not_a_suggestion(
    client: ClientSession, agent: Any, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    await _orders(pool, agent, settings, now, "370203001", "台东梧桐巷3号", 2)
    await _orders(pool, agent, settings, now, "370214002", "流亭梧桐巷8号", 2)
    answer = await _suggest(client, address="梧桐巷")
    assert (answer["street"], answer["source"], answer["road"]) == (None, "orders", "梧桐巷")
    assert sorted(_codes(answer)) == ["370203001", "370214002"]
    answer = await _suggest(client, address="城阳区梧桐巷")
    assert answer["street"]["code"] == "370214002"


async def test_the_callers_own_orders_come_first(
    client: ClientSession, agent: Any, pool: asyncpg.Pool, settings: Settings, now: dt.datetime
) -> None:
    phone = "13712340034"
    await _orders(pool, agent, settings, now, "370213001", "李沧区青枫苑路3号", 3)
    await _orders(pool, agent, settings, now, "370213002", "青枫苑路7号2单元", 1, phone)

    answer = await _suggest(client, address="青枫苑路7号", phone=phone)
    assert (answer["source"], answer["street"]["code"], answer["orders"]) == (
        "caller",
        "370213002",
        1,
    )
    assert answer["reason"] == "来电人此前在青枫苑路的 1 张工单"
    assert _codes(answer) == ["370213001"]  # what the other orders say

    answer = await _suggest(client, address="青枫苑路7号")
    assert (answer["source"], answer["street"]["code"]) == ("orders", "370213001")

    # Nothing said yet: where the caller usually is.
    answer = await _suggest(client, phone="+86 137 1234 0034")
    assert (answer["source"], answer["street"]["code"]) == ("caller", "370213002")


async def test_the_callers_profile_gives_their_area_on_its_road(
    client: ClientSession, agent: Any, pool: asyncpg.Pool, now: dt.datetime
) -> None:
    phone = "13712350034"
    update = CallerUpdate(area_code="370203003", address="登州路 56 号")
    async with pool.acquire() as conn, conn.transaction():
        await do_update_caller(conn, agent, phone, update, now)
    answer = await _suggest(client, address="登州路56号2单元", phone=phone)
    assert (answer["source"], answer["street"]["code"]) == ("caller", "370203003")
    assert answer["reason"] == "来电人档案"
    answer = await _suggest(client, phone=phone)
    assert (answer["source"], answer["street"]["code"]) == ("caller", "370203003")
    # Another road: the profile says nothing of it.
    answer = await _suggest(client, address="延吉路", phone=phone)
    assert answer["source"] == "seed"


async def test_a_named_district_alone_gives_the_district(client: ClientSession, agent: Any) -> None:
    answer = await _suggest(client, address="崂山区北宅那边一个村子")
    assert answer["source"] == "district_name"
    assert (answer["district"]["code"], answer["street"]) == ("370212", None)
    assert answer["reason"] == "地址中写明了崂山区"
    answer = await _suggest(client, address="湛山街道", **{})
    assert answer["street"]["code"] == "370202005"


@pytest.mark.parametrize("address", ["", "   ", "不知道", "12345", "!!@@", "我也不知道"])
async def test_an_address_that_says_nothing_gets_nothing(
    client: ClientSession, agent: Any, address: str
) -> None:
    answer = await _suggest(client, address=address)
    assert answer == {
        "district": None,
        "street": None,
        "source": None,
        "road": None,
        "reason": "未能从地址中识别出道路或区市",
        "orders": None,
        "alternatives": [],
    }


async def test_the_reason_follows_the_requests_language(client: ClientSession, agent: Any) -> None:
    response = await client.get(
        URL, params={"address": "九水路"}, headers={"Accept-Language": "en"}
    )
    answer = await response.json()
    assert answer["reason"] == "九水路 (road list)"
    assert answer["district"]["name_en"] == "Licang District"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"address": "x" * 301}, "address"),
        ({"address": "香港中路", "phone": "not-a-phone"}, "phone"),
        ({"address": "香港中路", "phone": ""}, "phone"),
        ({"address": "香港中路", "area": "370202"}, None),
    ],
)
async def test_bad_input_is_refused(
    client: ClientSession, agent: Any, query: dict[str, str], field: str | None
) -> None:
    response = await client.get(URL, params=query)
    assert response.status in (400, 422), await response.text()
    if field:
        assert field in (await response.json())["error"]["fields"]


async def test_only_the_centre_asks(client: ClientSession, pool: asyncpg.Pool) -> None:
    assert (await client.get(URL, params={"address": "九水路"})).status == 401
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "enterprise_user", enterprise_code="qd-water")
    await log_in(client, username)
    assert (await client.get(URL, params={"address": "九水路"})).status == 403


@pytest.mark.parametrize(
    ("statement", "args", "indexes"),
    [
        (STREETS_OF_ROADS, (["香港中路", "九水路"], 500), ["work_orders_address_trgm_idx"]),
        (CALLER_HISTORY, ("+8613712340034", 50), ["work_orders_citizen_idx"]),
    ],
)
async def test_asked_as_the_agent_types_it_reads_indexes_not_every_order(
    pool: asyncpg.Pool, statement: str, args: tuple[Any, ...], indexes: list[str]
) -> None:
    """With sequential scans priced out (the test's tables are too small for the planner
    to prefer an index unprompted), the orders are found through an index."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in await conn.fetch("EXPLAIN " + statement, *args))
    assert "Seq Scan on work_orders " not in plan, plan
    for index in indexes:
        assert index in plan, plan
