"""停水/停气/停热 notices. An order registered in an affected area while an outage runs
joins the outage's parent order on its own: the first such order becomes the parent."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import asyncpg
from pydantic import ConfigDict, Field, model_validator

from hotline.errors import InvalidInput
from hotline.reference import queries as ref
from hotline.users.models import Actor
from hotline.vocabulary import RenamedFields, renamed
from routing import queries
from routing.duplicates import do_merge, open_parent, running_outage


class OutageInput(RenamedFields):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    domain: Literal["water", "gas", "heating"]
    kind: Literal["planned", "emergency"]
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    areas: list[str] = Field(
        min_length=1, max_length=200, validation_alias=renamed("area_codes", "areas")
    )
    starts_at: dt.datetime
    ends_at: dt.datetime

    @model_validator(mode="after")
    def _window(self) -> OutageInput:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("times need a time zone offset")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


async def do_create_outage(
    conn: asyncpg.Connection, actor: Actor, body: OutageInput
) -> asyncpg.Record:
    unknown = [code for code in body.areas if await ref.get_area(conn, code) is None]
    if unknown:
        raise InvalidInput(
            "unknown areas",
            code="invalid_outage",
            fields={body.sent_name("areas"): "unknown: {unknown}"},
            unknown=", ".join(unknown),
        )
    return await queries.insert_outage(
        conn,
        {
            "domain": body.domain,
            "kind": body.kind,
            "title": body.title,
            "description": body.description,
            "area_codes": body.areas,
            "starts_at": body.starts_at,
            "ends_at": body.ends_at,
            "created_by": actor.user_id,
        },
    )


async def link_to_outage(conn: asyncpg.Connection, order: asyncpg.Record, now: dt.datetime) -> bool:
    """Link a new order to a running outage in its area; True if it was merged.

    The first such order becomes the outage's parent (and is routed as usual); later
    ones are merged into it (into the order at the end of its merge chain). Once the
    parent's work is done, a new call is a fault that came back: it becomes the
    outage's parent in turn and is routed."""
    outage = await running_outage(
        conn, order["service_item_code"], order["area_code"], now, lock=True
    )
    if outage is None:
        return False
    parent = await open_parent(conn, outage["parent_order_id"])
    if parent is None:
        await queries.set_outage_parent(conn, outage["id"], order["id"])
        return False
    reason = f"停水停气公告：{outage['title']}"
    await do_merge(conn, None, order["id"], parent["id"], now, reason=reason)
    return True
