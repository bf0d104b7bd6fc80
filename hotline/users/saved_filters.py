"""A user's saved searches (常用筛选): the parameters of an order search under a name,
checked as the search checks them, so that a saved filter always runs."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline.errors import Forbidden, NotFound
from hotline.orders.searching import read_criteria
from hotline.users import queries
from hotline.users.models import Actor


class NewSavedFilter(BaseModel):
    """A search to keep; the same name again replaces its parameters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=40)
    # GET /api/v1/orders's parameters except cursor and limit
    params: dict[str, Any] = Field(default_factory=dict)


def filter_json(row: asyncpg.Record) -> dict[str, Any]:
    return {k: row[k] for k in ("id", "name", "params", "created_at")}


def _user(actor: Actor) -> int:
    if actor.user_id is None:
        raise Forbidden("only a person signed in keeps saved filters", code="not_a_user")
    return actor.user_id


async def list_saved_filters(conn: asyncpg.Connection, actor: Actor) -> list[asyncpg.Record]:
    return await queries.saved_filters(conn, _user(actor))


async def do_save_filter(
    conn: asyncpg.Connection, actor: Actor, new: NewSavedFilter
) -> tuple[asyncpg.Record, bool]:
    """The filter saved, and whether it is new. Its parameters are kept as the search
    reads them (canonical names, defaults left out); a bad one is a 400 naming it."""
    criteria = read_criteria(new.params)
    params = criteria.model_dump(mode="json", exclude_defaults=True)
    return await queries.save_filter(conn, _user(actor), new.name, params)


async def do_delete_filter(conn: asyncpg.Connection, actor: Actor, filter_id: int) -> None:
    if not await queries.delete_filter(conn, _user(actor), filter_id):
        raise NotFound("saved filter {filter_id} not found", filter_id=filter_id)
