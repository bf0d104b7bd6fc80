"""Rankings of the units (排名) over a period from the callbacks' figures, with ties, the
unmeasured and the change since the previous period; notices (通报) drafted from them,
edited, published and read, each role seeing what it may (docs/reports.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from reports.rankings import queries
from reports.rankings.service import RankingQuery, period_of, previous_period, ranks
from tests.factories import order_in_status
from tests.routing_support import Desk, open_desks
from tests.test_callbacks import enterprise_id, local, unit_dispatch

HOUR = dt.timedelta(hours=1)
# A week no other test uses, and the one before it.
WEEK = ("2023-05-08", "2023-05-14")


@pytest.fixture
async def desks(server: TestServer, pool: asyncpg.Pool) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(server, pool, "agent", "supervisor", "water", "billing") as opened:
        yield opened


async def call(
    desk: Desk,
    method: str,
    path: str,
    *,
    status: int,
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> Any:
    """A request answered with ``status``; its JSON."""
    headers = {"X-CSRF-Token": desk.csrf, **(headers or {})}
    async with desk.client.request(method, path, headers=headers, **kwargs) as response:
        text = await response.text()
        assert response.status == status, f"{path}: {response.status} {text}"
        return await response.json() if text else None


async def good(conn: asyncpg.Connection, unit: str, day: dt.datetime) -> int:
    """A dispatch signed in time, completed in time, solved and rated good."""
    return await unit_dispatch(
        conn,
        unit,
        day,
        signed=day + HOUR,
        completed=(day + 5 * HOUR, True),
        answer=(True, 5, "good"),
    )


async def bad(conn: asyncpg.Connection, unit: str, day: dt.datetime) -> int:
    """A dispatch signed late, completed late, unsolved and rated bad."""
    return await unit_dispatch(
        conn,
        unit,
        day,
        signed=day + 3 * HOUR,
        completed=(day + 48 * HOUR, False),
        answer=(False, 2, "bad"),
    )


async def order_of(conn: asyncpg.Connection, dispatch_id: int) -> int:
    return int(await conn.fetchval("SELECT order_id FROM dispatches WHERE id = $1", dispatch_id))


# Made once per test session (its database): the tests below read the same two weeks.
MADE: dict[int, dict[str, Any]] = {}


async def two_weeks(pool: asyncpg.Pool) -> dict[str, Any]:
    if id(pool) not in MADE:
        MADE[id(pool)] = await make_two_weeks(pool)
    return MADE[id(pool)]


async def make_two_weeks(pool: asyncpg.Pool) -> dict[str, Any]:
    """The week before WEEK: water 100, billing 50. WEEK: billing and heat 100 (a tie),
    water 50 (one bad dispatch completed late), energy only an unsigned dispatch (no
    score: unranked). Water also leads an order still open past its due."""
    before, week = local(2023, 5, 2, 10, 0), local(2023, 5, 9, 10, 0)
    async with pool.acquire() as conn, conn.transaction():
        await good(conn, "qd-water", before)
        await good(conn, "qd-billing", before)
        await bad(conn, "qd-billing", before)
        await good(conn, "qd-water", week)
        late = await order_of(conn, await bad(conn, "qd-water", week))
        await good(conn, "qd-billing", week)
        await good(conn, "huadian-heat", week)
        await unit_dispatch(conn, "qd-energy", week)
        water = await enterprise_id(conn, "qd-water")
        stuck = await order_in_status(conn, "in_progress", week)
        await conn.execute(
            "UPDATE work_orders SET lead_enterprise_id = $2, resolution_due_at = $3 WHERE id = $1",
            stuck["id"],
            water,
            week + 24 * HOUR,
        )
        units = {
            code: await enterprise_id(conn, code)
            for code in ("qd-water", "qd-billing", "huadian-heat", "qd-energy")
        }
    return {"late": late, "stuck": int(stuck["id"]), **units}


def test_periods_are_local_days_and_the_previous_has_the_same_length() -> None:
    day = dt.date(2024, 3, 13)  # a Wednesday
    assert period_of(RankingQuery(period="day", date=day), day) == (day, day)
    week = period_of(RankingQuery(period="week"), day)
    assert week == (dt.date(2024, 3, 11), dt.date(2024, 3, 17))
    assert previous_period("week", *week) == (dt.date(2024, 3, 4), dt.date(2024, 3, 10))
    month = period_of(RankingQuery(period="month", date=day), day)
    assert month == (dt.date(2024, 3, 1), dt.date(2024, 3, 31))
    assert previous_period("month", *month) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    custom = (dt.date(2024, 3, 5), dt.date(2024, 3, 7))
    assert previous_period("custom", *custom) == (dt.date(2024, 3, 2), dt.date(2024, 3, 4))


def test_ties_share_a_rank_and_the_unmeasured_have_none() -> None:
    rows: list[dict[str, Any]] = [
        {"key": "a", "score": 90.0, "reopen_rate": 0.1},
        {"key": "b", "score": 95.0, "reopen_rate": 0.1},
        {"key": "c", "score": 90.0, "reopen_rate": 0.0},
        {"key": "d", "score": None, "reopen_rate": None},
        {"key": "e", "score": 80.0, "reopen_rate": 0.3},
    ]
    assert ranks(rows, "score") == {"b": 1, "a": 2, "c": 2, "e": 4}
    assert ranks(rows, "reopen_rate") == {"c": 1, "a": 2, "b": 2, "e": 4}  # lower is better


async def test_units_are_ranked_with_ties_unranked_last_and_the_change(
    pool: asyncpg.Pool, desks: dict[str, Desk]
) -> None:
    made = await two_weeks(pool)
    ranking = await desks["supervisor"].get(
        "/api/v1/rankings", period="week", date="2023-05-10", by="unit"
    )
    assert (ranking["start"], ranking["end"]) == WEEK
    assert ranking["previous"] == {"start": "2023-05-01", "end": "2023-05-07"}
    rows = {row["unit_id"]: row for row in ranking["items"]}
    water, billing, heat = (rows[made[c]] for c in ("qd-water", "qd-billing", "huadian-heat"))
    energy = rows[made["qd-energy"]]
    # The scores are the figures' (30/35/35 of response, resolution, satisfaction).
    assert (billing["score"], heat["score"], water["score"], energy["score"]) == (
        100.0,
        100.0,
        50.0,
        None,
    )
    assert billing["rank"]["score"] == heat["rank"]["score"] == 1
    assert water["rank"]["score"] == 3
    assert energy["rank"]["score"] is None
    assert energy["rank"]["response_rate"] == 4  # measured there: 0 of 1 in time
    assert [r["unit_id"] for r in ranking["items"]][-1] == made["qd-energy"]
    assert ranking["ranked"] == 3
    # Water was first the week before, billing second; heat was not ranked.
    assert (water["previous_rank"]["score"], water["change"]["score"]) == (1, -2)
    assert (billing["previous_rank"]["score"], billing["change"]["score"]) == (2, 1)
    assert heat["change"]["score"] is None
    # Reopened: the bad rating reopens; less is better.
    assert water["reopen_rate"] == 0.5 and water["rank"]["reopen_rate"] == 3
    by_reopen = await desks["supervisor"].get(
        "/api/v1/rankings", period="custom", start=WEEK[0], end=WEEK[1], rank_by="reopen_rate"
    )
    assert by_reopen["items"][2]["unit_id"] == made["qd-water"]


async def test_a_notice_is_drafted_edited_published_and_read_by_its_units_only(
    pool: asyncpg.Pool, desks: dict[str, Desk]
) -> None:
    made = await two_weeks(pool)
    boss, water, billing = desks["supervisor"], desks["water"], desks["billing"]
    notice = await call(
        boss,
        "POST",
        "/api/v1/notices",
        status=201,
        json={"period": "week", "date": "2023-05-10", "worst": 1},
        headers={"Accept-Language": "zh-CN"},
    )
    assert notice["state"] == "draft"
    assert [u["enterprise_id"] for u in notice["unit_list"]] == [made["qd-water"]]
    assert notice["unit_list"][0]["rank"] == 3
    assert "2023-05-08至2023-05-14" in notice["title"]
    assert "青岛水务集团" in notice["body"]
    reasons = {o["order_id"]: o["reason"] for o in notice["orders"]}
    assert reasons[made["late"]] == "completed_late"
    assert reasons[made["stuck"]] == "open_overdue"
    path = f"/api/v1/notices/{notice['id']}"
    # Not published yet: no unit sees it.
    before = await water.get("/api/v1/notices")
    assert notice["id"] not in [n["id"] for n in before["items"]]
    await call(water, "GET", path, status=404)

    # The supervisor names billing too, drops the late order, rewrites the title.
    edited = await call(
        boss,
        "PATCH",
        path,
        status=200,
        json={
            "title": "关于五月第二周排名的通报",
            "units": [made["qd-water"], made["qd-billing"]],
            "orders": [made["stuck"]],
        },
    )
    assert edited["title"] == "关于五月第二周排名的通报"
    assert [u["enterprise_id"] for u in edited["unit_list"]] == [
        made["qd-water"],
        made["qd-billing"],
    ]
    assert [o["order_id"] for o in edited["orders"]] == [made["stuck"]]
    error = await call(boss, "PATCH", path, status=422, json={"orders": [made["late"] + 10**9]})
    assert error["error"]["code"] == "order_not_of_unit"

    await call(boss, "POST", f"{path}/publish", status=200)
    again = await call(boss, "POST", f"{path}/publish", status=409)
    assert again["error"]["code"] == "notice_published"
    late_edit = await call(boss, "PATCH", path, status=409, json={"title": "x"})
    assert late_edit["error"]["code"] == "notice_published"

    inbox = await water.get("/api/v1/notices")
    assert inbox["items"][0]["id"] == notice["id"] and inbox["unread"] == before["unread"] + 1
    seen = await water.get(path)
    assert seen["read_at"] is None and "changes" not in seen
    assert [o["order_id"] for o in seen["orders"]] == [made["stuck"]]
    # Billing sees the notice but not water's orders, nor who read it.
    billing_view = await billing.get(path)
    assert billing_view["orders"] == []
    assert all("read_at" not in u for u in billing_view["unit_list"])
    await call(water, "POST", f"{path}/read", status=200)
    await call(water, "POST", f"{path}/read", status=200)  # once is enough
    assert (await water.get("/api/v1/notices"))["unread"] == before["unread"]

    full = await boss.get(path)
    read = {u["enterprise_id"]: u["read_at"] for u in full["unit_list"]}
    assert read[made["qd-water"]] is not None and read[made["qd-billing"]] is None
    assert [c["action"] for c in full["changes"]] == ["drafted", "edited", "published", "read"]
    assert full["changes"][1]["changes"]["title"]["to"] == "关于五月第二周排名的通报"
    listed = (await boss.get("/api/v1/notices"))["items"]
    (mine,) = [n for n in listed if n["id"] == notice["id"]]
    assert (mine["units"], mine["units_read"]) == (2, 1)


async def test_a_unit_never_sees_another_units_notice(
    pool: asyncpg.Pool, desks: dict[str, Desk]
) -> None:
    await two_weeks(pool)
    boss = desks["supervisor"]
    notice = await call(
        boss,
        "POST",
        "/api/v1/notices",
        status=201,
        json={"period": "custom", "start": WEEK[0], "end": WEEK[1], "threshold": 60},
    )
    path = f"/api/v1/notices/{notice['id']}"
    await call(boss, "POST", f"{path}/publish", status=200)
    billing = desks["billing"]
    assert notice["id"] not in [n["id"] for n in (await billing.get("/api/v1/notices"))["items"]]
    await call(billing, "GET", path, status=404)
    await call(billing, "POST", f"{path}/read", status=404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/rankings"),
        ("GET", "/api/v1/notices"),
        ("POST", "/api/v1/notices"),
        ("PATCH", "/api/v1/notices/1"),
        ("POST", "/api/v1/notices/1/publish"),
        ("POST", "/api/v1/notices/1/read"),
    ],
)
async def test_agents_may_not_see_rankings_or_notices(
    desks: dict[str, Desk], method: str, path: str
) -> None:
    answer = await call(desks["agent"], method, path, status=403, json={})
    assert answer["error"]["code"] == "role_forbidden"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/rankings"),
        ("POST", "/api/v1/notices"),
        ("PATCH", "/api/v1/notices/1"),
        ("POST", "/api/v1/notices/1/publish"),
    ],
)
async def test_units_may_not_rank_or_write_notices(
    desks: dict[str, Desk], method: str, path: str
) -> None:
    await call(desks["water"], method, path, status=403, json={})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "fortnight"}, "period"),
        ({"period": "custom", "start": "2023-05-08"}, ""),
        ({"period": "custom", "start": "2023-05-08", "end": "2023-05-01"}, ""),
        ({"period": "week", "start": "2023-05-08"}, ""),
        ({"rank_by": "happiness"}, "rank_by"),
        ({"date": "yesterday"}, "date"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_bad_ranking_query_is_refused_with_its_field(
    desks: dict[str, Desk], params: dict[str, str], field: str
) -> None:
    answer = await call(desks["supervisor"], "GET", "/api/v1/rankings", status=422, params=params)
    assert answer["error"]["code"] == "invalid"
    if field:
        assert field in answer["error"]["fields"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"period": "week"}, 422, "invalid"),  # neither worst nor threshold
        ({"period": "week", "worst": 0}, 422, "invalid"),
        ({"period": "week", "worst": 3, "colour": "red"}, 422, "invalid"),
        (
            {"period": "custom", "start": "2001-01-01", "end": "2001-01-07", "worst": 3},
            422,
            "nothing_to_notify",
        ),
    ],
)
async def test_a_bad_draft_is_refused_with_a_code(
    desks: dict[str, Desk], body: dict[str, Any], status: int, code: str
) -> None:
    answer = await call(desks["supervisor"], "POST", "/api/v1/notices", status=status, json=body)
    assert answer["error"]["code"] == code


async def test_a_body_that_is_not_json_is_a_bad_request(desks: dict[str, Desk]) -> None:
    answer = await call(
        desks["supervisor"],
        "POST",
        "/api/v1/notices",
        status=400,
        data=b"{worst",
        headers={"Content-Type": "application/json"},
    )
    assert answer["error"]["code"] == "bad_json"


async def test_an_unknown_notice_is_not_found(desks: dict[str, Desk]) -> None:
    answer = await call(desks["supervisor"], "GET", "/api/v1/notices/999999999", status=404)
    assert answer["error"]["code"] == "not_found"
    edit = await call(
        desks["supervisor"], "PATCH", "/api/v1/notices/999999999", status=404, json={"title": "t"}
    )
    assert edit["error"]["code"] == "not_found"


async def test_a_notices_late_orders_are_read_through_indexes(pool: asyncpg.Pool) -> None:
    """The late orders of a unit: its open orders through work_orders_lead_idx, its late
    completions through the partial dispatches_completed_late_idx (not every dispatch it
    ever completed). Sequential scans are switched off: the test tables are small."""
    now = local(2023, 6, 1, 0, 0)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                "EXPLAIN " + queries.LATE_ORDERS, [1], now - 7 * 24 * HOUR, now, now, 50
            )
        )
    assert "dispatches_completed_late_idx" in plan
    assert "work_orders_lead_idx" in plan


async def test_a_unit_or_an_order_listed_twice_is_refused(desks: dict[str, Desk]) -> None:
    for body in ({"units": [1, 1]}, {"orders": [5, 5]}):
        answer = await call(
            desks["supervisor"], "PATCH", "/api/v1/notices/999999999", status=422, json=body
        )
        assert answer["error"]["code"] == "invalid"


async def test_a_draft_is_written_in_the_language_asked_and_groups_rank_too(
    pool: asyncpg.Pool, desks: dict[str, Desk]
) -> None:
    made = await two_weeks(pool)
    notice = await call(
        desks["supervisor"],
        "POST",
        "/api/v1/notices",
        status=201,
        json={"period": "week", "date": "2023-05-10", "worst": 1, "rank_by": "reopen_rate"},
        headers={"Accept-Language": "en"},
    )
    assert notice["title"] == "Notice on the units' reopen rate from 2023-05-08 to 2023-05-14"
    assert "rank 3 of 3" in notice["body"] and "reopen rate 50.0%" in notice["body"]
    groups = await desks["supervisor"].get(
        "/api/v1/rankings", period="custom", start=WEEK[0], end=WEEK[1], by="group"
    )
    assert groups["by"] == "group"
    assert made["qd-water"] in [row["unit_id"] for row in groups["items"]]
