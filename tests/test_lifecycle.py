"""Every legal move of the lifecycle works, with its event and the outbox row it
announces; every other move is refused."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from hotline.errors import Conflict, IllegalTransition
from hotline.orders import queries
from hotline.orders.lifecycle import ANNOUNCED, TRANSITIONS, Status, actions_from, next_status
from hotline.orders.service import do_transition
from tests.factories import order_in_status

LEGAL = [(action, source) for action, (sources, _) in TRANSITIONS.items() for source in sources]
ILLEGAL = [
    (action, status)
    for action, (sources, _) in TRANSITIONS.items()
    for status in Status
    if status not in sources
]


@pytest.mark.parametrize(("action", "source"), LEGAL)
async def test_legal_move_changes_status_and_records_event(
    pool: asyncpg.Pool, now: dt.datetime, action: str, source: Status
) -> None:
    target = TRANSITIONS[action][1]
    announcement = ANNOUNCED.get(action)
    facts = {name: f"{name} of the test" for name in announcement.facts} if announcement else {}
    async with pool.acquire() as conn, conn.transaction():
        order = await order_in_status(conn, source.value, now)
        updated = await do_transition(
            conn, order, action, None, now, data={"why": "test"}, facts=facts
        )
        events = await queries.list_events(conn, order["id"])
        announced = await conn.fetch(
            "SELECT topic, key, payload FROM outbox WHERE payload->>'order_id' = $1",
            str(order["id"]),
        )
    assert updated["status"] == target.value
    assert [(e["type"], e["from_status"], e["to_status"]) for e in events] == [
        (f"order.{action}", source.value, target.value)
    ]
    assert events[0]["actor"] == "system"
    assert events[0]["data"] == {"why": "test"}
    if announcement is None:
        assert announced == []
        return
    ((topic, key, payload),) = announced
    assert topic == announcement.topic and key.startswith(f"{topic}:{order['id']}")
    assert payload == {"order_id": order["id"], "seq": events[0]["seq"], **facts} | (
        {"redo_count": updated["redo_count"]} if announcement.per_round else {}
    )


async def test_a_move_announces_exactly_the_facts_its_table_names(
    pool: asyncpg.Pool, now: dt.datetime
) -> None:
    async with pool.acquire() as conn:
        for facts in ({}, {"dispatch_id": 1, "late": False, "extra": 1}):
            with pytest.raises(TypeError):
                async with conn.transaction():
                    order = await order_in_status(conn, "in_progress", now)
                    await do_transition(conn, order, "complete", None, now, facts=facts)


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
def test_illegal_move_is_refused(action: str, status: Status) -> None:
    with pytest.raises(IllegalTransition) as info:
        next_status(status.value, action)
    assert info.value.code == "illegal_transition"


async def test_refused_move_writes_nothing(pool: asyncpg.Pool, now: dt.datetime) -> None:
    async with pool.acquire() as conn:
        order = await order_in_status(conn, Status.CLOSED.value, now)
        with pytest.raises(IllegalTransition):
            async with conn.transaction():
                await do_transition(conn, order, "sign_for", None, now)
        assert await queries.list_events(conn, order["id"]) == []
        stored = await queries.get_order(conn, order["id"])
        assert stored is not None and stored["status"] == "closed"


async def test_a_stale_copy_cannot_move_the_order(pool: asyncpg.Pool, now: dt.datetime) -> None:
    async with pool.acquire() as conn:
        order = await order_in_status(conn, Status.DISPATCHED.value, now)
        await do_transition(conn, order, "sign_for", None, now)
        with pytest.raises(Conflict) as info:
            await do_transition(conn, order, "return", None, now)  # it says DISPATCHED
        assert info.value.code == "stale_order"


def test_unknown_action_has_its_own_code() -> None:
    with pytest.raises(IllegalTransition) as info:
        next_status("registered", "teleport")
    assert info.value.code == "unknown_action"


def test_final_statuses_allow_only_reopening() -> None:
    # A merged order follows its parent (closes with it) and its caller's callback.
    assert actions_from("merged") == ["close", "reopen"]
    assert actions_from("cancelled") == []
    assert actions_from("closed") == ["reopen"]
