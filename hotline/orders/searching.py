"""Finding orders (docs/core.md, "Finding orders"): what a search's text is (a phone, an
order number, words), its criteria resolved for SQL, keyset pages on every sort, and the
orders' words (written with each change of their texts, filled by the relay for the
orders older than them)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import ValidationError

from hotline import i18n
from hotline.errors import InvalidInput, InvalidQuery
from hotline.orders import queries
from hotline.orders.models import OrderCriteria, OrderFilter
from hotline.phones import normalize_phone
from hotline.users.models import Actor
from hotline.words import shared_words

# The process's segmentation; jieba's dictionary loads on first use, in a thread.
WORDS = shared_words()

# 96111-20261122-0042, or its tail 20261122-0042 (the day and the count).
ORDER_NUMBER = re.compile(r"^(?:(?P<hotline>[A-Za-z0-9]+)-)?(?P<tail>\d{8}-\d{1,6})$")
# A phone as people type it: digits with spaces or dashes, maybe +86 / 86 before them.
PHONE_LIKE = re.compile(r"^\+?[\d\s-]+$")
PHONE_MIN_DIGITS = 7

# Each sort's direction when the search does not say (registered: newest first; due:
# soonest first, as the old "due" sort).
DESCENDING = {"registered": True, "due": False, "completed": True, "number": True, "updated": True}


def invalid_query(exc: ValidationError) -> InvalidQuery:
    """A search's bad parameters as the 400 the API answers (code ``invalid_query``)."""
    fields: dict[str, str | i18n.Text] = {}
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "query"
        fields.setdefault(name, i18n.ValidationText(error))
    return InvalidQuery("the search is not valid", fields=fields)


def read_criteria(params: Mapping[str, Any]) -> OrderCriteria:
    """A saved filter's parameters, checked as a search's (unknown keys refused)."""
    try:
        return OrderCriteria.model_validate(params)
    except ValidationError as exc:
        raise invalid_query(exc) from exc


async def index_words(*texts: str) -> str:
    """The words to store for an order's texts (off the event loop: jieba blocks)."""
    return await asyncio.to_thread(WORDS.for_index, *texts)


def _phone(q: str) -> str | None:
    if not PHONE_LIKE.match(q):
        return None
    digits = re.sub(r"\D", "", q)
    national = digits[2:] if digits.startswith("86") and len(digits) > 11 else digits
    if len(national) < PHONE_MIN_DIGITS:
        return None
    try:
        return normalize_phone(q)
    except InvalidInput:
        return None  # digits that are no phone: searched as words


async def _text(q: str) -> dict[str, Any]:
    """What ``q`` asks: an order number, a caller's phone, or words."""
    number = ORDER_NUMBER.match(q)
    if number:
        return {"number": q} if number["hotline"] else {"number_tail": number["tail"]}
    phone = _phone(q)
    if phone is not None:
        return {"phone": phone}
    words = await asyncio.to_thread(WORDS.for_query, q)
    return {"tsquery": WORDS.tsquery(words), "pattern": q}


def _days(
    start: dt.date | None, end: dt.date | None, tz: ZoneInfo
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Inclusive local days as [from, to) instants."""

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(), tzinfo=tz)

    return (
        midnight(start) if start else None,
        midnight(end + dt.timedelta(days=1)) if end else None,
    )


def search_sort(criteria: OrderCriteria) -> tuple[str, bool]:
    """The sort's key (as SORT_COLUMNS names it) and whether it descends."""
    sort = "registered" if criteria.sort == "newest" else criteria.sort
    return sort, DESCENDING[sort] if criteria.desc is None else criteria.desc


def _cursor_label(sort: str, descending: bool) -> str:
    return f"{sort}:{'desc' if descending else 'asc'}"


def pack_search_cursor(sort: str, descending: bool, key: Any, row_id: int) -> str:
    """The page after (``key``, ``row_id``): the sort and direction it belongs to, the
    key (a time, a number, or null for the orders without one) and the id."""
    shown = key.isoformat() if isinstance(key, dt.datetime) else key
    raw = json.dumps([_cursor_label(sort, descending), shown, row_id])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def unpack_search_cursor(cursor: str, sort: str, descending: bool) -> tuple[Any, int]:
    try:
        label, key, row_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if label != _cursor_label(sort, descending) or not isinstance(row_id, int):
            raise ValueError("a cursor of another sort")
        if key is not None and sort != "number":
            key = dt.datetime.fromisoformat(key)
        elif key is not None and not isinstance(key, str):
            raise ValueError("not an order number")
        return key, row_id
    except (ValueError, TypeError) as exc:
        raise InvalidQuery(
            "the cursor is not one this server gave out for this list",
            fields={"cursor": "invalid"},
        ) from exc


async def resolve(
    conn: asyncpg.Connection, actor: Actor, criteria: OrderCriteria, tz: ZoneInfo
) -> queries.Search | None:
    """The criteria as SQL asks them, limited to what ``actor`` may see (None: nothing).
    Agents see their hotlines' orders, units every order ever dispatched to them or to
    their branches, supervisors and admins all."""
    scope = None
    if not actor.is_centre:
        if actor.enterprise_id is None:
            return None
        scope = await queries.enterprise_scope(conn, actor.enterprise_id)
    text = await _text(criteria.q) if criteria.q else {}
    return queries.Search(
        scope=scope,
        hotlines=None if actor.hotlines is None else sorted(actor.hotlines),
        status=criteria.status,
        hotline=criteria.hotline,
        domain=criteria.domain,
        service_item=criteria.service_item,
        kind=criteria.kind,
        enterprise_id=criteria.enterprise_id,
        area=criteria.area,
        channel=list(criteria.channel),
        registered=_days(criteria.registered_from, criteria.registered_to, tz),
        completed=_days(criteria.completed_from, criteria.completed_to, tz),
        overdue=criteria.overdue,
        rating=criteria.rating,
        redo=criteria.redo,
        coordination=criteria.coordination,
        hard_case=criteria.hard_case,
        **text,
    )


def _may_lack_key(search: queries.Search, sort: str) -> bool:
    """Whether some orders found may lack the sort's key: not when the search asks for
    it (overdue orders have a due, a completion period a completion time), where the
    query for the orders without one would only read the index to find none."""
    if sort == "due":
        return not search.overdue
    if sort == "completed":
        return search.completed == (None, None)
    return False


# How many orders, newest first (or in the sort's order), a search of several words
# tests one by one before it lets PostgreSQL choose its plan (``_walks``). The walk
# stops at its page's last order, so this bounds what truly rare words pay for it: at
# ten million orders (bench/search.py) 20,000 cost them 5 to 10 ms and left a page of
# 暖气 不热 for an agent of two hotlines (0.16 % of their orders) to the plan that reads
# all 32,000 matches (130 ms a page); 40,000 fill it in 46 ms and cost up to 40 ms.
WALKED = 40_000


def _walks(search: queries.Search) -> bool:
    """Whether a page walks the orders first. PostgreSQL guesses how many orders match
    several words as if the words were independent, and the words people search
    together are not (香港 and 中路 of 香港中路, 暖气 and 不热): it guesses a few
    thousand where tens of thousands match, reads them all through the word index and
    sorts them, where walking the newest orders finds a page after a few thousand. A
    bounded walk first fills the page of such a search in a few milliseconds; when the
    words are truly rare it ends short, and the search runs as before. Only with no
    filter but the hotlines: with a narrower one (a district, a unit) the walk could
    pass many orders to find its own, and the planner's guess there is its own."""
    if search.tsquery is None or " & " not in search.tsquery:
        return False
    rest = dataclasses.replace(search, hotlines=None, hotline=None, tsquery=None, pattern=None)
    return rest == queries.Search()


async def search_orders(
    conn: asyncpg.Connection,
    actor: Actor,
    criteria: OrderFilter,
    now: dt.datetime,
    tz: ZoneInfo,
) -> tuple[list[asyncpg.Record], str | None]:
    """A page of the orders the actor may see, and the cursor of the next page (None on
    the last). On due and completed, the orders without that time come last, by id."""
    search = await resolve(conn, actor, criteria, tz)
    if search is None:
        return [], None
    sort, descending = search_sort(criteria)
    after = unpack_search_cursor(criteria.cursor, sort, descending) if criteria.cursor else None
    want = criteria.limit + 1  # one more tells whether there is a next page
    page = functools.partial(
        queries.search_page, conn, search, now=now, sort=sort, descending=descending
    )

    async def pages() -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = []
        if after is None or after[0] is not None:
            if _walks(search):
                rows = await page(after=after, missing=False, limit=want, walk=WALKED)
            if len(rows) < want:
                rows = await page(after=after, missing=False, limit=want)
        if _may_lack_key(search, sort) and len(rows) < want:
            # The orders without the key, after those with one (or after the cursor's).
            after_missing = after if after is not None and after[0] is None else None
            rows += await page(after=after_missing, missing=True, limit=want - len(rows))
        return rows

    # Planned for these values: how common the words are, and how much of the orders
    # the filters leave (a generic plan of filters alone reads every order at ten
    # million orders), decide the plan.
    async with conn.transaction():
        await queries.plan_for_values(conn)
        rows = await pages()
    items = rows[: criteria.limit]
    if len(rows) <= criteria.limit:
        return items, None
    last = items[-1]
    key = last[queries.SORT_COLUMNS[sort]]
    return items, pack_search_cursor(sort, descending, key, last["id"])


async def fill_missing_words(conn: asyncpg.Connection, batch: int) -> int:
    """The relay's chore: words for up to ``batch`` orders written before they had any
    (after migration 0035); how many. Done once the last of them has its words."""
    rows = await queries.unindexed_orders(conn, batch)
    if not rows:
        return 0
    words = await asyncio.to_thread(
        lambda: [
            (r["id"], WORDS.for_index(r["description"], r["address"], r["caller_name"]))
            for r in rows
        ]
    )
    await queries.fill_search_words(conn, words)
    return len(rows)
