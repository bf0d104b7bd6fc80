"""What the report sources share (a periodic report, a ranking, the hot issues): a
report is computed in one go by the functions its page's views call, and is small (tens
to hundreds of rows), so its tables are made once, in ``count`` (which then knows the
rows exactly), kept in the request's ``memo`` and written by ``sheets``. Only
supervisors and admins export them, as only they open the pages."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from pydantic import BaseModel, ValidationError

from hotline.errors import Forbidden
from hotline.i18n import Name
from hotline.orders.searching import invalid_query
from hotline.users.models import SUPERVISOR_ROLES, Actor
from reports.exports.sheets import Column, ExportRequest, Kind, Row, Sheet
from reports.periodic.queries import names

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Table:
    name: Name
    columns: tuple[Column, ...]
    rows: list[Row]


def text(zh: str, en: str, width: int = 14) -> Column:
    return Column(Name(zh, en), Kind.TEXT, width)


def number(zh: str, en: str, width: int = 10) -> Column:
    return Column(Name(zh, en), Kind.NUMBER, width)


def checked(actor: Actor, model: type[M], params: Mapping[str, Any]) -> M:
    """The params as ``model`` reads them, for a supervisor or an admin: 403 for any
    other role (as the report's page), 400 ``invalid_query`` naming a bad field."""
    if actor.role not in SUPERVISOR_ROLES:
        raise Forbidden("your role may not do this", code="role_forbidden")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        raise invalid_query(exc) from exc


async def named(
    conn: asyncpg.Connection, request: ExportRequest, dimension: str, keys: Iterable[str]
) -> dict[str, str]:
    """Each key's name in the reader's language (the key itself when it has none):
    items, districts and areas, units, hotlines, as the periodic report names them."""
    wanted = sorted({k for k in keys if k})
    found = await names(conn, dimension, wanted)
    return {k: request.said(Name(*found[k])) if k in found else k for k in wanted}


async def _each(rows: list[Row]) -> AsyncIterator[Row]:
    for row in rows:
        yield row


class ReportSource(ABC):
    """A source whose sheets are the tables ``tables`` makes."""

    kind: str
    title: Name

    @abstractmethod
    async def tables(self, conn: asyncpg.Connection, request: ExportRequest) -> list[Table]:
        """The report's tables, computed as its page's views compute it."""

    async def _made(self, conn: asyncpg.Connection, request: ExportRequest) -> list[Table]:
        if "tables" not in request.memo:
            request.memo["tables"] = await self.tables(conn, request)
        made: list[Table] = request.memo["tables"]
        return made

    async def count(self, conn: asyncpg.Connection, request: ExportRequest) -> int:
        return sum(len(t.rows) for t in await self._made(conn, request))

    async def sheets(
        self, conn: asyncpg.Connection, request: ExportRequest
    ) -> AsyncIterator[Sheet]:
        for table in await self._made(conn, request):
            yield Sheet(table.name, table.columns, _each(table.rows))
