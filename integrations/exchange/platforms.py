"""Administering the platforms the centre exchanges with: their hotline, address,
contract, key and secret (docs/exchange.md, "Setting up a platform").

The key and the secret are made here and shown once, when a platform is made or its
credentials are renewed; only the key's hash is kept readable by lookup, and neither
is ever written to the change history.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline import audit
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.reference.cache import reference
from hotline.settings import Settings
from hotline.users.models import Actor
from integrations.enterprise_webhooks.addresses import RefusedDestination, check_url
from integrations.exchange import queries
from integrations.exchange.contract import Contract
from integrations.exchange.inbound import key_hash

KEY_PREFIX = "hlx_"
Name = Field(min_length=1, max_length=100)


class PlatformChange(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name_zh: str | None = Field(default=None, min_length=1, max_length=100)
    name_en: str | None = Field(default=None, min_length=1, max_length=100)
    hotline_code: str | None = Field(default=None, min_length=1, max_length=16)
    base_url: str | None = Field(default=None, max_length=500)
    contract: Contract | None = None
    active: bool | None = None


class PlatformInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(pattern=r"^[a-z0-9_-]{1,32}$")
    name_zh: str = Name
    name_en: str = Name
    hotline_code: str = Field(
        min_length=1, max_length=16, description="the hotline its orders join"
    )
    base_url: str = Field(default="", max_length=500, description="where our messages go")
    contract: Contract = Field(default_factory=Contract)


def platform_json(row: asyncpg.Record) -> dict[str, Any]:
    """A platform as the API shows it: never its key or secret."""
    keys = ("code", "name_zh", "name_en", "hotline_code", "base_url", "contract", "active")
    shown = {key: row[key] for key in keys}
    shown["contract"] = Contract.model_validate(row["contract"] or {}).model_dump()
    for key in ("queued", "failed", "created_at", "updated_at"):
        if key in row:
            shown[key] = row[key]
    return shown


def _credentials() -> tuple[str, str]:
    return KEY_PREFIX + secrets.token_urlsafe(32), secrets.token_urlsafe(32)


async def _check(
    conn: asyncpg.Connection, settings: Settings, hotline: str | None, base_url: str | None
) -> None:
    fields: dict[str, str] = {}
    if hotline is not None and await reference.hotline(conn, hotline) is None:
        fields["hotline_code"] = "unknown hotline"
    if base_url:
        try:
            check_url(
                base_url,
                allow_private=settings.webhook_allow_private,
                ports=settings.webhook_port_ranges,
            )
        except RefusedDestination as exc:
            fields["base_url"] = str(exc)
    if fields:
        raise InvalidInput("the platform cannot be saved", code="invalid_platform", fields=fields)


async def do_create_platform(
    conn: asyncpg.Connection, actor: Actor, body: PlatformInput, settings: Settings
) -> tuple[asyncpg.Record, dict[str, str]]:
    """The platform and its credentials (``key``, ``secret``: shown this once)."""
    await _check(conn, settings, body.hotline_code, body.base_url)
    if await queries.get_platform(conn, body.code) is not None:
        raise Conflict(
            "platform {platform} exists already", code="platform_exists", platform=body.code
        )
    key, secret = _credentials()
    row = await queries.insert_platform(
        conn,
        {
            "code": body.code,
            "name_zh": body.name_zh,
            "name_en": body.name_en,
            "hotline_code": body.hotline_code,
            "key_hash": key_hash(key),
            "secret": secret,
            "base_url": body.base_url,
            "contract": body.contract.model_dump(),
        },
    )
    await audit.record_change(
        conn,
        user_id=actor.user_id,
        entity="exchange_platform",
        key=body.code,
        action="create",
        after=platform_json(row),
    )
    return row, {"key": key, "secret": secret}


async def do_change_platform(
    conn: asyncpg.Connection, actor: Actor, code: str, body: PlatformChange, settings: Settings
) -> asyncpg.Record:
    before = await queries.get_platform(conn, code)
    if before is None:
        raise NotFound("no such platform")
    await _check(conn, settings, body.hotline_code, body.base_url)
    values: dict[str, Any] = body.model_dump(exclude_unset=True, exclude={"contract"})
    if body.contract is not None:
        values["contract"] = body.contract.model_dump()
    values = {key: value for key, value in values.items() if value is not None}
    if not values:
        raise InvalidInput("nothing to change", code="invalid_platform")
    row = await queries.update_platform(conn, code, values)
    assert row is not None
    await audit.record_change(
        conn,
        user_id=actor.user_id,
        entity="exchange_platform",
        key=code,
        action="update",
        before=platform_json(before),
        after=platform_json(row),
    )
    return row


async def do_renew_credentials(
    conn: asyncpg.Connection, actor: Actor, code: str, now: dt.datetime
) -> dict[str, str]:
    """A new key and secret; the old ones stop working at once."""
    key, secret = _credentials()
    row = await queries.update_platform(conn, code, {"key_hash": key_hash(key), "secret": secret})
    if row is None:
        raise NotFound("no such platform")
    await audit.record_change(
        conn,
        user_id=actor.user_id,
        entity="exchange_platform",
        key=code,
        action="renew_credentials",
        after={"renewed_at": now.isoformat()},
    )
    return {"key": key, "secret": secret}
