"""Exports' use cases: a person asks (``do_request_export``), a job writes the file
(``write_export``), the relay's chore removes it after a day (``remove_expired``), and
the requester or a supervisor fetches it (``file_for``)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import asyncpg

from hotline import i18n, leased
from hotline.context import JobContext
from hotline.errors import Conflict, Forbidden, InvalidQuery, NotFound
from hotline.settings import Settings
from hotline.storage import key_path, new_key
from hotline.users.models import SUPERVISOR_ROLES, Actor, Role
from reports.exports import queries
from reports.exports.sheets import ExportRequest, Source
from reports.exports.sources import SOURCES
from reports.exports.writers import FORMATS

log = logging.getLogger(__name__)

# How long a file is kept after it is written.
KEEP = dt.timedelta(days=1)
# How often the job writes down how far it got.
PROGRESS_EVERY = 5000
# The job holds its lease this much longer each time it writes its progress (every few
# seconds at most), so the relay queues the export again only when its job has died (the
# worker killed, its timeout); after this many claims the export is given up.
LEASE_HELD = dt.timedelta(minutes=2)
MAX_ATTEMPTS = 3
FILE_TABLE = "report_exports"


def export_root(settings: Settings) -> Path:
    """Where the files are: beside the proof files, on the volume every process of a
    deployment mounts (the web serves what a worker wrote)."""
    return settings.proof_root / "exports"


def source_of(kind: str) -> Source:
    source = SOURCES.get(kind)
    if source is None:
        raise InvalidQuery(
            "there is no export of kind {kind}", fields={"kind": "unknown"}, kind=kind
        )
    return source


def _user(actor: Actor) -> int:
    if actor.user_id is None:
        raise Forbidden("only a person signed in asks for exports", code="not_a_user")
    return actor.user_id


def actor_json(actor: Actor) -> dict[str, Any]:
    """What the job needs of the requester: what they might see when they asked."""
    return {
        "user_id": actor.user_id,
        "name": actor.name,
        "role": actor.role.value,
        "enterprise_id": actor.enterprise_id,
        "hotline_code": actor.hotline_code,
        "hotlines": None if actor.hotlines is None else sorted(actor.hotlines),
    }


def actor_from_json(data: dict[str, Any]) -> Actor:
    hotlines = data["hotlines"]
    return Actor(
        user_id=data["user_id"],
        name=data["name"],
        role=Role(data["role"]),
        enterprise_id=data["enterprise_id"],
        hotline_code=data["hotline_code"],
        hotlines=None if hotlines is None else frozenset(hotlines),
    )


async def do_request_export(
    conn: asyncpg.Connection,
    actor: Actor,
    *,
    kind: str,
    file_format: str,
    params: dict[str, Any],
    language: str,
    now: dt.datetime,
) -> asyncpg.Record:
    """The request, due at once: the relay hands it to a worker."""
    user_id = _user(actor)
    source = source_of(kind)
    checked = source.check(actor, params)
    return await queries.insert_export(
        conn,
        kind=kind,
        file_format=file_format,
        params=checked,
        user_id=user_id,
        actor=actor_json(actor),
        language=language,
        now=now,
    )


async def list_my_exports(
    conn: asyncpg.Connection, actor: Actor, limit: int
) -> list[asyncpg.Record]:
    return await queries.list_exports(conn, _user(actor), limit)


async def visible_export(conn: asyncpg.Connection, actor: Actor, export_id: int) -> asyncpg.Record:
    """The export, for the person who asked for it or a supervisor; NotFound for anyone
    else (whose exports there are is not theirs to learn)."""
    row = await queries.get_export(conn, export_id)
    if row is None or (row["requested_by"] != actor.user_id and actor.role not in SUPERVISOR_ROLES):
        raise NotFound("export {export_id} not found", export_id=export_id)
    return row


def file_for(row: asyncpg.Record, settings: Settings, now: dt.datetime) -> Path:
    """The file of a finished export still kept; Conflict while it is being written,
    when it failed, or once its day is over."""
    if row["state"] in ("pending", "enqueued"):
        raise Conflict("the export is not finished yet", code="export_not_ready")
    if row["state"] == "failed":
        raise Conflict("the export failed; ask for it again", code="export_failed")
    if row["state"] == "expired" or row["expires_at"] <= now or row["file_key"] is None:
        raise Conflict(
            "the export's file is kept for a day and has been removed; ask for it again",
            code="export_expired",
        )
    return key_path(export_root(settings), row["file_key"])


def file_name(source: Source, language: str, file_format: str, at: dt.datetime) -> str:
    title = source.title.zh if language == i18n.CHINESE else source.title.en
    return f"{title}-{at:%Y%m%d-%H%M}.{file_format}"


async def write_export(conn: asyncpg.Connection, export_id: int, ctx: JobContext) -> str:
    """The job: the source's sheets written to the file, read in one snapshot of the read
    database while the progress is written to ``conn`` (the primary) as it goes, which
    also renews the lease. Run once at a time per export (a session lock: a second job
    of the same request, should the relay queue one while the first still writes, leaves
    it be)."""
    async with leased.sending_lock(conn, FILE_TABLE, export_id) as held:
        if not held:
            return "another job is writing it"
        row = await queries.get_export(conn, export_id)
        if row is None or row["state"] not in ("pending", "enqueued"):
            return "done already"
        now = ctx.clock()
        if row["attempts"] > MAX_ATTEMPTS:
            await queries.fail_export(conn, export_id, "gave up after the job stopped", now)
            return "failed"
        calendar = await ctx.calendar.get(conn)
        request = ExportRequest(
            actor_from_json(row["actor"]), row["params"], row["language"], calendar.tz, now
        )
        source = SOURCES[row["kind"]]
        key = new_key()
        path = key_path(export_root(ctx.settings), key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        try:
            done = await _write(conn, export_id, source, request, row["format"], partial, ctx)
            size = partial.stat().st_size
            os.replace(partial, path)
        except Exception as exc:
            log.exception("export %d failed", export_id)
            partial.unlink(missing_ok=True)
            await queries.fail_export(conn, export_id, str(exc)[:500], ctx.clock())
            return "failed"
        finished = ctx.clock()
        await queries.finish_export(
            conn,
            export_id,
            rows_done=done,
            file_key=key,
            file_name=file_name(
                source, row["language"], row["format"], now.astimezone(calendar.tz)
            ),
            size_bytes=size,
            now=finished,
            expires_at=finished + KEEP,
        )
        return f"{done} rows"


async def _write(
    conn: asyncpg.Connection,
    export_id: int,
    source: Source,
    request: ExportRequest,
    file_format: str,
    path: Path,
    ctx: JobContext,
) -> int:
    # The replica when one is set (the primary otherwise, or while it is away): the
    # job's own connection, ``conn``, is the primary's, for what the job writes. One
    # snapshot: the count and the rows agree, however long the writing takes.
    async with (
        ctx.read_connection() as read,
        read.transaction(isolation="repeatable_read", readonly=True),
    ):
        await queries.set_total(conn, export_id, await source.count(read, request), LEASE_HELD)
        out = FORMATS[file_format](path, request.language, request.tz)
        done = 0
        try:
            async for sheet in source.sheets(read, request):
                out.begin(sheet)
                async for values in sheet.rows:
                    out.write(values)
                    done += 1
                    if done % PROGRESS_EVERY == 0:
                        await queries.set_progress(conn, export_id, done, LEASE_HELD)
        finally:
            out.close()
        return done


async def remove_expired(conn: asyncpg.Connection, batch: int, *, root: Path) -> int:
    """The relay's chore: the files of up to ``batch`` exports whose day is over removed
    (one already gone is fine), then the exports marked expired; how many."""
    rows = await queries.expired_exports(conn, batch)
    if not rows:
        return 0
    await asyncio.to_thread(_unlink, [key_path(root, r["file_key"]) for r in rows])
    await queries.mark_expired(conn, [r["id"] for r in rows])
    return len(rows)


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
