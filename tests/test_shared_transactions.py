"""Webhooks' writes that arrive together share one transaction (hotline/db.py): each
caller is answered after the commit, and one that fails takes no one else's work down."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from hotline.db import SharedTransactions


async def _keep(conn: asyncpg.Connection, sid: str, *, fail: bool = False) -> int:
    """A unit of work: one row (a delivery key of its own), then perhaps an error."""
    await conn.execute("INSERT INTO twilio_deliveries (kind, sid) VALUES ('probe', $1)", sid)
    if fail:
        raise ValueError(f"unit {sid} fails")
    return int(await conn.fetchval("SELECT txid_current()"))


def _unit(sid: str, *, fail: bool = False) -> Callable[[asyncpg.Connection], Awaitable[int]]:
    return lambda conn: _keep(conn, sid, fail=fail)


async def _kept(pool: asyncpg.Pool, sids: list[str]) -> set[str]:
    rows = await pool.fetch(
        "SELECT sid FROM twilio_deliveries WHERE kind = 'probe' AND sid = ANY($1::text[])", sids
    )
    return {r["sid"] for r in rows}


async def test_units_arriving_together_commit_in_one_transaction(pool: asyncpg.Pool) -> None:
    shared = SharedTransactions(pool, flushers=1)
    sids = [uuid.uuid4().hex for _ in range(8)]
    results = await asyncio.gather(*(shared.run(_unit(s)) for s in sids))
    assert len(set(results)) == 1  # one transaction id for all eight
    # Every caller was answered after the commit: the rows are there for anyone.
    assert await _kept(pool, sids) == set(sids)


async def test_a_failing_unit_gets_its_own_error_and_the_others_are_kept(
    pool: asyncpg.Pool,
) -> None:
    shared = SharedTransactions(pool, flushers=1)
    sids = [uuid.uuid4().hex for _ in range(6)]
    bad = sids[2]
    results = await asyncio.gather(
        *(shared.run(_unit(s, fail=s == bad)) for s in sids),
        return_exceptions=True,
    )
    assert isinstance(results[2], ValueError) and bad in str(results[2])
    assert all(isinstance(r, int) for i, r in enumerate(results) if i != 2)
    assert await _kept(pool, sids) == set(sids) - {bad}


async def test_a_unit_that_fails_alone_raises_to_its_caller(pool: asyncpg.Pool) -> None:
    shared = SharedTransactions(pool)
    sid = uuid.uuid4().hex
    with pytest.raises(ValueError, match="fails"):
        await shared.run(_unit(sid, fail=True))
    assert await _kept(pool, [sid]) == set()
