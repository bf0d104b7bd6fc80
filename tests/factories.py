"""Rows for tests, made through the project's own queries and services."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import asyncpg
from aiohttp import ClientSession

from hotline import i18n
from hotline.orders.models import NewOrder
from hotline.orders.service import do_register_order
from hotline.reference import queries as ref
from hotline.reference.calendar import load_calendar
from hotline.settings import Settings
from hotline.users.models import Actor
from hotline.users.service import actor_from_row, do_create_user
from routing import queries as routing_queries
from testkit.orders import insert_order

_serial = itertools.count(1)
PASSWORD = "test-password-1"


class Clock:
    """The app's clock: real time unless a test sets it."""

    def __init__(self) -> None:
        self.fixed: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.fixed or dt.datetime.now(dt.UTC)

    def set(self, moment: dt.datetime) -> None:
        self.fixed = moment

    def reset(self) -> None:
        self.fixed = None


def unique(prefix: str) -> str:
    return f"{prefix}{next(_serial)}"


_majors_given: set[str] = set()


async def free_major_class(db: asyncpg.Pool | asyncpg.Connection) -> str:
    """A GB/T 39666 major class code (``XX0000``) that no row uses and no test of this
    run was given: the session's tests share one database, the demo's codes among them."""
    rows = await db.fetch("SELECT DISTINCT left(code, 2) AS major FROM classification_codes")
    used = {r["major"] for r in rows} | _majors_given
    major = next(f"{n:02d}" for n in range(99, 9, -1) if f"{n:02d}" not in used)
    _majors_given.add(major)
    return major + "0000"


async def make_user(
    conn: asyncpg.Connection,
    role: str = "agent",
    *,
    enterprise_code: str | None = None,
    hotline_code: str | None = None,
) -> tuple[str, Actor]:
    username = unique(f"{role}-")
    async with conn.transaction():
        row = await do_create_user(
            conn,
            username=username,
            password=PASSWORD,
            role=role,
            enterprise_code=enterprise_code,
            hotline_code=hotline_code,
        )
    return username, actor_from_row(row)


async def register_order(
    conn: asyncpg.Connection,
    actor: Actor,
    settings: Settings,
    now: dt.datetime,
    **overrides: Any,
) -> asyncpg.Record:
    fields: dict[str, Any] = {
        "hotline": "96111",
        "service_item": "W01",
        "description": "水表走字太快，怀疑水表不准",
        "area": "370202",
        "address": "香港中路 100 号",
        "caller_phone": "13812345678",
        "caller_name": "市民甲",
    }
    fields.update(overrides)
    async with conn.transaction():
        calendar = await load_calendar(conn, settings)
        result = await do_register_order(conn, actor, NewOrder(**fields), calendar, now)
    return result.order


async def order_in_status(
    conn: asyncpg.Connection, status: str, now: dt.datetime
) -> asyncpg.Record:
    """An order row standing in ``status``, as if earlier moves had happened."""
    return await insert_order(
        conn,
        {
            "number": unique("12319-t-"),
            "hotline_code": "12319",
            "channel": "agent",
            "kind": "consultation",
            "service_item_code": "G-CONSULT",
            "description": "测试",
            "status": status,
            "created_at": now,
            "updated_at": now,
        },
    )


async def dispatch_to(
    conn: asyncpg.Connection,
    order_id: int,
    enterprise_code: str,
    now: dt.datetime,
    *,
    reason: i18n.Text | None = None,
) -> asyncpg.Record:
    enterprise = await ref.get_enterprise_by_code(conn, enterprise_code)
    assert enterprise is not None
    return await routing_queries.insert_dispatch(
        conn,
        order_id=order_id,
        enterprise_id=enterprise["id"],
        role="lead",
        sign_for_due_at=None,
        now=now,
        reason=reason,
    )


async def log_in(client: ClientSession, username: str) -> str:
    """Log ``client`` in; returns the CSRF token to send on state changes."""
    response = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    )
    assert response.status == 200, await response.text()
    return str((await response.json())["csrf_token"])
