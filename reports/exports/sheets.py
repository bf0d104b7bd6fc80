"""The contract between an export's sources and its writers (docs/reports.md, "Export
sources").

A source checks the query it is given (``check``), says how many rows it will give
(``count``: the progress bar's total, an estimate is enough) and gives them as sheets:
each a name, columns and rows of plain values, produced as they are read (an async
iterator), never all at once. The writers turn any of them into XLSX or CSV with the
same rules (formula injection, dates in the centre's time zone, the language's words).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg

from hotline.i18n import Name
from hotline.users.models import Actor


class Kind(StrEnum):
    """How a column's values are written: text (neutralised against formulas), a whole
    number, a time (local, shown to the minute), a yes/no (in the reader's language)."""

    TEXT = "text"
    NUMBER = "number"
    TIME = "time"
    FLAG = "flag"


@dataclass(frozen=True)
class Column:
    header: Name
    kind: Kind = Kind.TEXT
    width: int = 14  # in characters, for XLSX


# A row: one value per column, None for an empty cell. TEXT takes str, NUMBER int or
# float, TIME an aware datetime, FLAG bool.
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Sheet:
    name: Name
    columns: tuple[Column, ...]
    rows: AsyncIterator[Row]


@dataclass(frozen=True)
class ExportRequest:
    """What a source exports: for whom (what they might see when they asked), its query
    as ``check`` returned it, in which language and time zone, as of when."""

    actor: Actor
    params: Mapping[str, Any]
    language: str
    tz: ZoneInfo
    now: dt.datetime


class Source(Protocol):
    """One kind of export (``kind`` is what a request names)."""

    kind: str
    title: Name  # the file's name begins with it

    def check(self, actor: Actor, params: Mapping[str, Any]) -> dict[str, Any]:
        """The query as it will be kept and run; InvalidQuery (400) naming a bad field,
        Forbidden when the actor may not export this kind."""
        ...

    async def count(self, conn: asyncpg.Connection, request: ExportRequest) -> int:
        """How many rows the sheets will have in all (the progress bar's total)."""
        ...

    def sheets(self, conn: asyncpg.Connection, request: ExportRequest) -> AsyncIterator[Sheet]:
        """The sheets, one after another; each sheet's rows are read while it is written,
        inside the read transaction the job opened on ``conn``."""
        ...
