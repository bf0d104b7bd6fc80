"""Administrators manage users and enterprises' API keys (issue 19): edit, disable and
enable, reset a password, end sessions, revoke a key. Creating a user or a key and
unlocking an account are ``hotline.users.service``'s, which the command line calls too.
Each change is recorded in ``admin_changes`` (``hotline.audit``) in its own
transaction, without passwords, hashes or keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline.audit import record_change
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.reference.cache import reference
from hotline.users import queries
from hotline.users.models import Role
from hotline.users.passwords import hash_password
from hotline.users.service import (
    api_key_state,
    check_password,
    check_placement,
    generate_password,
    user_state,
)

USER = "user"
API_KEY = "api_key"


class NewUser(BaseModel):
    """A user to make: an enterprise role names its enterprise, a centre role may name
    its own hotline and others besides. Without a password one is generated."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(default="", max_length=100)
    role: Role
    enterprise_code: str | None = Field(default=None, max_length=64)
    hotline_code: str | None = Field(default=None, max_length=20)
    hotlines: list[str] = Field(default_factory=list, max_length=50)
    password: str | None = Field(default=None, max_length=256)


class UserEdit(BaseModel):
    """The fields to change; those not sent stay as they are."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    role: Role | None = None
    enterprise_code: str | None = Field(default=None, max_length=64)
    hotline_code: str | None = Field(default=None, max_length=20)
    hotlines: list[str] | None = Field(default=None, max_length=50)


class NewPassword(BaseModel):
    """The password to set; without one a new one is generated and shown once."""

    model_config = ConfigDict(extra="forbid")
    password: str | None = Field(default=None, max_length=256)


def admin_user_json(row: asyncpg.Record) -> dict[str, Any]:
    """A user as the administrators' screens show it."""
    return {
        "id": row["id"],
        "username": row["username"],
        "display_name": row["display_name"],
        "role": row["role"],
        "enterprise_id": row["enterprise_id"],
        "enterprise_code": row["enterprise_code"],
        "hotline_code": row["hotline_code"],
        "hotlines": list(row["more_hotlines"]),
        "active": row["active"],
        "created_at": row["created_at"],
        "last_login_at": row["last_login_at"],
        "locked": row["locked_at"] is not None,
        "failed_logins": row["failures"],
        "open_sessions": row["open_sessions"],
    }


async def user_for_change(
    conn: asyncpg.Connection, user_id: int, now: dt.datetime
) -> asyncpg.Record:
    """The user, its row locked until commit; ``NotFound`` if there is none."""
    row = await queries.admin_user(conn, user_id, now, for_update=True)
    if row is None:
        raise NotFound("no such user", code="unknown_user")
    return row


def _not_yourself(by: int | None, user: asyncpg.Record, message: str) -> None:
    """An administrator does not lock themselves out: by demoting or disabling their
    own account (another administrator would have to undo it)."""
    if by == user["id"]:
        raise Conflict(message, code="own_account", fields={"id": "is your own account"})


async def _changed(
    conn: asyncpg.Connection,
    by: int | None,
    before: asyncpg.Record,
    action: str,
    now: dt.datetime,
) -> asyncpg.Record:
    """The user again after ``action``, recorded with its state before and after."""
    after = await queries.admin_user(conn, before["id"], now)
    assert after is not None
    await record_change(
        conn,
        user_id=by,
        entity=USER,
        key=str(before["id"]),
        action=action,
        before=user_state(before),
        after=user_state(after),
    )
    return after


async def do_edit_user(
    conn: asyncpg.Connection, user_id: int, edit: UserEdit, *, by: int | None, now: dt.datetime
) -> asyncpg.Record:
    """Change the fields sent: the result must hold together as a new user's would (an
    enterprise role with its enterprise and no hotline, a centre role with none)."""
    user = await user_for_change(conn, user_id, now)
    sent = edit.model_fields_set
    role = edit.role if edit.role is not None else Role(user["role"])
    if role is not Role.ADMIN and user["role"] == Role.ADMIN.value:
        _not_yourself(by, user, "administrators cannot demote themselves")
    placement, fields = await check_placement(
        conn,
        role=role.value,
        enterprise_code=edit.enterprise_code
        if "enterprise_code" in sent
        else user["enterprise_code"],
        hotline_code=edit.hotline_code if "hotline_code" in sent else user["hotline_code"],
        hotlines=edit.hotlines if edit.hotlines is not None else list(user["more_hotlines"]),
    )
    if fields:
        raise InvalidInput("the user cannot be changed", code="invalid_user", fields=fields)
    await queries.update_user(
        conn,
        user_id,
        display_name=edit.display_name or user["display_name"],
        role=placement.role.value,
        enterprise_id=placement.enterprise_id,
        hotline_code=placement.hotline_code,
    )
    await queries.set_user_hotlines(conn, user_id, placement.hotlines)
    return await _changed(conn, by, user, "edit", now)


async def do_set_active(
    conn: asyncpg.Connection, user_id: int, active: bool, *, by: int | None, now: dt.datetime
) -> asyncpg.Record:
    """Enable or disable a user; disabling ends their sessions (their next request is
    refused: sessions are read with their user's state on every request)."""
    user = await user_for_change(conn, user_id, now)
    if not active:
        _not_yourself(by, user, "administrators cannot disable their own account")
        await queries.delete_user_sessions(conn, user_id)
    if user["active"] == active:
        return user  # nothing changes, nothing to record
    await queries.set_user_active(conn, user_id, active)
    return await _changed(conn, by, user, "enable" if active else "disable", now)


async def do_reset_password(
    conn: asyncpg.Connection,
    user_id: int,
    password: str | None,
    *,
    by: int | None,
    now: dt.datetime,
    keep_session: bytes | None = None,
) -> tuple[asyncpg.Record, str | None]:
    """Set the password given, or a generated one (returned, to be shown once). The
    user's sessions end, but ``keep_session`` (an administrator's own, who would
    otherwise lose the screen that shows the new password)."""
    await user_for_change(conn, user_id, now)
    if password is not None and (fields := check_password(password)):
        raise InvalidInput("the password cannot be set", code="invalid_password", fields=fields)
    generated = None if password is not None else generate_password()
    new_password = password if password is not None else generated
    assert new_password is not None
    await queries.set_password_hash(conn, user_id, hash_password(new_password))
    await queries.delete_user_sessions(conn, user_id, keep=keep_session)
    await record_change(
        conn,
        user_id=by,
        entity=USER,
        key=str(user_id),
        action="password",
        after={"generated": generated is not None},
    )
    refreshed = await queries.admin_user(conn, user_id, now)
    assert refreshed is not None
    return refreshed, generated


async def do_end_sessions(
    conn: asyncpg.Connection, user_id: int, *, by: int | None, now: dt.datetime
) -> int:
    """Log the user out everywhere; returns how many sessions were open."""
    await user_for_change(conn, user_id, now)
    ended = await queries.delete_user_sessions(conn, user_id)
    await record_change(
        conn, user_id=by, entity=USER, key=str(user_id), action="logout", after={"sessions": ended}
    )
    return ended


async def enterprise_or_404(conn: asyncpg.Connection, enterprise_id: int) -> asyncpg.Record:
    found = await reference.enterprises(conn, [enterprise_id])
    if enterprise_id not in found:
        raise NotFound("no such enterprise")
    return found[enterprise_id]


async def do_revoke_api_key(
    conn: asyncpg.Connection, enterprise_id: int, key_id: int, *, by: int | None, now: dt.datetime
) -> asyncpg.Record:
    """Revoke the enterprise's key: the next request made with it is refused. A key
    already revoked stays as it is (and nothing is recorded)."""
    key = await queries.get_api_key(conn, enterprise_id, key_id)
    if key is None:
        raise NotFound("no such API key", code="unknown_api_key")
    if await queries.revoke_api_key(conn, key_id, now):
        revoked = await queries.get_api_key(conn, enterprise_id, key_id)
        assert revoked is not None
        await record_change(
            conn,
            user_id=by,
            entity=API_KEY,
            key=str(key_id),
            action="revoke",
            before=api_key_state(key),
            after=api_key_state(revoked),
        )
        return revoked
    return key
