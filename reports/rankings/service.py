"""Rankings (排名) of the units by the 三率 score and by each rate over a period, with
the change since the previous period of the same length, and the notices (通报) drafted
from them (docs/reports.md, "Rankings and notices").

The figures are the callbacks' (``compute_figures``: one definition of every rate); a
ranking only orders them. Ties share a rank (competition ranking: 1, 2, 2, 4); a unit
whose figure cannot be measured in the period (nothing to divide by) has no rank and is
listed after the ranked ones."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any, Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, model_validator

from callbacks.figures import FigureQuery, compute_figures
from hotline import i18n
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.orders.queries import enterprise_scope
from hotline.settings import Settings
from hotline.users.models import Actor
from reports.rankings import queries

PeriodKind = Literal["day", "week", "month", "custom"]
Metric = Literal[
    "score",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "on_time_rate",
    "callback_rate",
    "reopen_rate",
]
METRICS: tuple[str, ...] = Metric.__args__  # type: ignore[attr-defined]
# The one figure where less is better: orders reopened after a bad callback.
LOWER_IS_BETTER = frozenset({"reopen_rate"})
# How many orders a notice lists under one unit at most (the oldest due first).
ORDERS_PER_UNIT = 50
# The English names of the figures; their Chinese in hotline/locale/zh-CN.json.
METRIC_NAMES = {
    "score": "weighted score",
    "response_rate": "response rate",
    "resolution_rate": "resolution rate",
    "satisfaction_rate": "satisfaction rate",
    "on_time_rate": "on-time rate",
    "callback_rate": "callback rate",
    "reopen_rate": "reopen rate",
}


class RankingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    period: PeriodKind = Field(default="week", description="day, week, month or custom")
    date: dt.date | None = Field(
        default=None,
        description="a local day in the period (day, week, month); today when left out",
    )
    start: dt.date | None = Field(default=None, description="custom: first local day")
    end: dt.date | None = Field(default=None, description="custom: last local day (included)")
    by: Literal["unit", "group"] = Field(
        default="unit", description="unit, or group (a unit with its branches)"
    )
    rank_by: Metric = Field(
        default="score", description="the figure the list is ordered by (every rank is given)"
    )

    @model_validator(mode="after")
    def _period(self) -> RankingQuery:
        if self.period == "custom":
            if self.start is None or self.end is None:
                raise ValueError("a custom period needs start and end")
            if self.date is not None:
                raise ValueError("a custom period takes start and end, not date")
            if self.end < self.start:  # the figures' own bounds (callbacks.figures.Period)
                raise ValueError("end is before start")
            if (self.end - self.start).days > 366:
                raise ValueError("a period is at most a year")
        elif self.start is not None or self.end is not None:
            raise ValueError("start and end are for a custom period; give date")
        return self


def period_of(query: RankingQuery, today: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last local day of the period the query names."""
    day = query.date or today
    if query.period == "day":
        return day, day
    if query.period == "week":  # Monday to Sunday
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    if query.period == "month":
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    assert query.start is not None and query.end is not None
    return query.start, query.end


def previous_period(kind: str, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period before: the day, week or calendar month before, or as many days just
    before a custom one."""
    if kind == "month":
        last = start - dt.timedelta(days=1)
        return last.replace(day=1), last
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def ranks(rows: list[dict[str, Any]], metric: str) -> dict[str, int]:
    """Each measured key's rank by ``metric``, best first; equal values share the rank
    and the next one skips (1, 2, 2, 4). Values are compared as the figures round them."""
    measured = [(r["key"], r[metric]) for r in rows if r[metric] is not None]
    measured.sort(key=lambda kv: kv[1], reverse=metric not in LOWER_IS_BETTER)
    ranked: dict[str, int] = {}
    for position, (key, value) in enumerate(measured, 1):
        ranked[key] = (
            ranked[measured[position - 2][0]]
            if position > 1 and measured[position - 2][1] == value
            else position
        )
    return ranked


def _change(was: int | None, now: int | None) -> int | None:
    """Places moved up since the previous period (negative: down); None when the unit
    was not ranked in one of the two."""
    return None if was is None or now is None else was - now


async def compute_ranking(
    conn: asyncpg.Connection,
    query: RankingQuery,
    settings: Settings,
    now: dt.datetime,
    today: dt.date,
) -> dict[str, Any]:
    """The units' figures over the period, each with its rank by every figure and the
    change since the previous period (positive: moved up), ordered by ``rank_by``."""
    start, end = period_of(query, today)
    before = previous_period(query.period, start, end)
    rows = await compute_figures(
        conn, FigureQuery(by=query.by, start=start, end=end), settings, now
    )
    earlier = await compute_figures(
        conn, FigureQuery(by=query.by, start=before[0], end=before[1]), settings, now
    )
    current = {m: ranks(rows, m) for m in METRICS}
    previous = {m: ranks(earlier, m) for m in METRICS}
    items = []
    for row in rows:
        key = row["key"]
        rank = {m: current[m].get(key) for m in METRICS}
        was = {m: previous[m].get(key) for m in METRICS}
        change = {m: _change(was[m], rank[m]) for m in METRICS}
        items.append(
            {**row, "unit_id": int(key), "rank": rank, "previous_rank": was, "change": change}
        )
    # Ranked first by their rank, the unranked after them by name.
    items.sort(
        key=lambda i: (i["rank"][query.rank_by] is None, i["rank"][query.rank_by] or 0, i["name"])
    )
    return {
        "period": query.period,
        "start": start,
        "end": end,
        "previous": {"start": before[0], "end": before[1]},
        "by": query.by,
        "rank_by": query.rank_by,
        "ranked": len(current[query.rank_by]),
        "items": items,
    }


# ------------------------------------------------------------------------- notices


class DraftInput(RankingQuery):
    """A ranking, and which of its units the notice names: the ``worst`` N by
    ``rank_by``, and/or those worse than ``threshold`` (below it, or above it for the
    reopen rate; in the figure's own units: 0–100 for the score, 0–1 for a rate)."""

    worst: int | None = Field(default=None, ge=1, le=50)
    threshold: float | None = Field(default=None, ge=0, le=100)

    @model_validator(mode="after")
    def _which(self) -> DraftInput:
        if self.worst is None and self.threshold is None:
            raise ValueError("give worst, threshold or both")
        return self


def worst_units(ranking: dict[str, Any], draft: DraftInput) -> list[dict[str, Any]]:
    """The ranked units the notice names, worst first."""
    metric = draft.rank_by
    ranked = [i for i in ranking["items"] if i["rank"][metric] is not None]
    ranked.reverse()  # worst first
    chosen = ranked[: draft.worst] if draft.worst is not None else []
    if draft.threshold is not None:
        lower = metric in LOWER_IS_BETTER
        chosen += [
            i
            for i in ranked
            if i not in chosen
            and (i[metric] > draft.threshold if lower else i[metric] < draft.threshold)
        ]
        chosen.sort(key=lambda i: -i["rank"][metric])
    return chosen


def _value_text(metric: str, value: float) -> str:
    return f"{value:.2f}" if metric == "score" else f"{100 * value:.1f}%"


def draft_text(
    ranking: dict[str, Any],
    chosen: list[dict[str, Any]],
    late: dict[int, list[asyncpg.Record]],
    metric: str,
    language: str,
) -> tuple[str, str]:
    """The draft's title and body in ``language``; the supervisor edits them."""
    tr = i18n.translate
    name = tr(METRIC_NAMES[metric], language)
    title = tr(
        "Notice on the units' {metric} from {start} to {end}",
        language,
        metric=name,
        start=ranking["start"].isoformat(),
        end=ranking["end"].isoformat(),
    )
    lines = [
        tr(
            "From {start} to {end}, {ranked} units were ranked by {metric}. "
            "The following units ranked lowest:",
            language,
            start=ranking["start"].isoformat(),
            end=ranking["end"].isoformat(),
            ranked=ranking["ranked"],
            metric=name,
        )
    ]
    for position, unit in enumerate(chosen, 1):
        orders = late.get(unit["unit_id"], [])
        lines.append(
            tr(
                "{position}. {unit}: {metric} {value}, rank {rank} of {ranked}; "
                "{open} orders open past due, {late} completed late.",
                language,
                position=position,
                unit=unit["name"],
                metric=name,
                value=_value_text(metric, unit[metric]),
                rank=unit["rank"][metric],
                ranked=ranking["ranked"],
                open=sum(1 for o in orders if o["reason"] == "open_overdue"),
                late=sum(1 for o in orders if o["reason"] == "completed_late"),
            )
        )
    lines.append(
        tr(
            "The units named are asked to deal with their overdue orders at once "
            "and to report how they will improve.",
            language,
        )
    )
    return title, "\n".join(lines)


async def do_draft_notice(
    conn: asyncpg.Connection,
    actor: Actor,
    draft: DraftInput,
    ranking: dict[str, Any],
    language: str,
    now: dt.datetime,
    zone: dt.tzinfo,
) -> int:
    """A draft notice naming the ranking's worst units and their late orders: open past
    due now, or completed late in the period."""
    chosen = worst_units(ranking, draft)
    if not chosen:
        raise InvalidInput(
            "no unit of the ranking is that bad", code="nothing_to_notify", fields={}
        )
    since = dt.datetime.combine(ranking["start"], dt.time(), zone)
    until = dt.datetime.combine(ranking["end"] + dt.timedelta(days=1), dt.time(), zone)
    late: dict[int, list[asyncpg.Record]] = {}
    for unit in chosen:
        unit_id = unit["unit_id"]
        scope = await enterprise_scope(conn, unit_id) if draft.by == "group" else [unit_id]
        late[unit_id] = await queries.late_orders(conn, scope, since, until, now, ORDERS_PER_UNIT)
    title, body = draft_text(ranking, chosen, late, draft.rank_by, language)
    notice_id = await queries.insert_notice(
        conn,
        title=title,
        body=body,
        period=draft.period,
        start=ranking["start"],
        end=ranking["end"],
        ranked_by=draft.by,
        metric=draft.rank_by,
        user_id=actor.user_id,
        now=now,
    )
    await queries.insert_units(
        conn,
        notice_id,
        [(u["unit_id"], u["rank"][draft.rank_by], u[draft.rank_by]) for u in chosen],
    )
    listed: set[int] = set()
    orders = []
    for unit_id, rows in late.items():
        for row in rows:
            if row["order_id"] not in listed:  # a group's order is listed once
                listed.add(row["order_id"])
                orders.append((row["order_id"], unit_id, row["reason"]))
    await queries.insert_orders(conn, notice_id, orders)
    await queries.insert_change(
        conn,
        notice_id,
        "drafted",
        user_id=actor.user_id,
        now=now,
        changes={"units": [u["unit_id"] for u in chosen], "orders": len(orders)},
    )
    return notice_id


class NoticeEdit(BaseModel):
    """What a supervisor changes in a draft; what is left out stays. ``units`` and
    ``orders`` are the whole lists as they should be: a unit left out goes with its
    orders; an order added is listed under its lead unit, which must be named."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(default=None, min_length=1, max_length=200)
    body: str | None = Field(default=None, max_length=20000)
    units: list[int] | None = Field(default=None, min_length=1, max_length=100)
    orders: list[int] | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _distinct(self) -> NoticeEdit:
        for values, twice in (
            (self.units, "units are listed twice"),
            (self.orders, "orders are listed twice"),
        ):
            if values is not None and len(set(values)) != len(values):
                raise ValueError(twice)
        return self


async def _draft(conn: asyncpg.Connection, notice_id: int) -> asyncpg.Record:
    notice = await queries.lock_notice(conn, notice_id)
    if notice is None:
        raise NotFound("notice {notice_id} not found", notice_id=notice_id)
    if notice["state"] != "draft":
        raise Conflict(
            "notice {notice_id} is published and can no longer change",
            code="notice_published",
            notice_id=notice_id,
        )
    return notice


async def do_edit_notice(
    conn: asyncpg.Connection, actor: Actor, notice_id: int, edit: NoticeEdit, now: dt.datetime
) -> None:
    notice = await _draft(conn, notice_id)
    changes: dict[str, Any] = {}
    for name in ("title", "body"):
        value = getattr(edit, name)
        if value is not None and value != notice[name]:
            changes[name] = {"from": notice[name], "to": value}
    present = [int(r["enterprise_id"]) for r in await queries.notice_units(conn, notice_id)]
    if edit.units is not None and edit.units != present:
        known = await queries.enterprises_exist(conn, edit.units)
        unknown = [u for u in edit.units if u not in known]
        if unknown:
            raise InvalidInput(
                "unknown units: {units}",
                code="unknown_unit",
                fields={"units": "not a unit"},
                units=", ".join(map(str, unknown)),
            )
        gone = [u for u in present if u not in edit.units]
        await queries.delete_units(conn, notice_id, gone)
        added = [u for u in edit.units if u not in present]
        await _add_units(conn, notice_id, added)
        await queries.renumber_units(conn, notice_id, edit.units)
        changes["units"] = {"from": present, "to": edit.units}
        present = edit.units
    if edit.orders is not None:
        listed = {int(r["order_id"]) for r in await queries.notice_orders(conn, notice_id)}
        gone_orders = sorted(listed - set(edit.orders))
        added_orders = [o for o in edit.orders if o not in listed]
        leads = await queries.order_leads(conn, added_orders)
        wrong = [o for o in added_orders if leads.get(o) not in present]
        if wrong:
            raise InvalidInput(
                "orders {orders} are not led by a unit the notice names",
                code="order_not_of_unit",
                fields={"orders": "not led by a unit of the notice"},
                orders=", ".join(map(str, wrong)),
            )
        await queries.delete_orders(conn, notice_id, gone_orders)
        await queries.insert_orders(
            conn,
            notice_id,
            [(o, unit, "added") for o in added_orders if (unit := leads[o]) is not None],
        )
        if gone_orders or added_orders:
            changes["orders"] = {"removed": gone_orders, "added": added_orders}
    if not changes:
        return
    await queries.update_text(
        conn,
        notice_id,
        title=edit.title if edit.title is not None else notice["title"],
        body=edit.body if edit.body is not None else notice["body"],
        user_id=actor.user_id,
        now=now,
    )
    await queries.insert_change(
        conn, notice_id, "edited", user_id=actor.user_id, now=now, changes=changes
    )


async def _add_units(conn: asyncpg.Connection, notice_id: int, units: list[int]) -> None:
    """Units a supervisor adds by hand: named without a rank of the ranking."""
    await queries.insert_units(conn, notice_id, [(u, None, None) for u in units])


async def do_publish_notice(
    conn: asyncpg.Connection, actor: Actor, notice_id: int, now: dt.datetime
) -> list[int]:
    """Publish a draft to its units; returns them (to announce it after commit)."""
    await _draft(conn, notice_id)
    units = [int(r["enterprise_id"]) for r in await queries.notice_units(conn, notice_id)]
    await queries.publish(conn, notice_id, actor.user_id, now)
    await queries.insert_change(
        conn, notice_id, "published", user_id=actor.user_id, now=now, changes={"units": units}
    )
    return units


async def do_read_notice(
    conn: asyncpg.Connection, actor: Actor, notice_id: int, now: dt.datetime
) -> None:
    """The actor's unit has read the notice (once; reading again changes nothing)."""
    await notice_for(conn, actor, notice_id)
    assert actor.enterprise_id is not None
    if await queries.mark_read(conn, notice_id, actor.enterprise_id, actor.user_id, now):
        await queries.insert_change(
            conn,
            notice_id,
            "read",
            user_id=actor.user_id,
            enterprise_id=actor.enterprise_id,
            now=now,
        )


async def notice_for(conn: asyncpg.Connection, actor: Actor, notice_id: int) -> dict[str, Any]:
    """The notice as ``actor`` may see it: a supervisor all of it with who read it and
    every change; a unit only a published notice addressed to it, with its own orders.
    Another unit's notice is not found, as any order not its own."""
    notice = await queries.get_notice(conn, notice_id)
    units = [dict(r) for r in await queries.notice_units(conn, notice_id)]
    if actor.is_centre:
        if notice is None:
            raise NotFound("notice {notice_id} not found", notice_id=notice_id)
        orders = await queries.notice_orders(conn, notice_id)
        changes = [dict(r) for r in await queries.notice_changes(conn, notice_id)]
        return {
            **dict(notice),
            "unit_list": units,
            "orders": [dict(o) for o in orders],
            "changes": changes,
        }
    own = actor.enterprise_id
    mine = next((u for u in units if u["enterprise_id"] == own), None)
    if notice is None or notice["state"] != "published" or mine is None:
        raise NotFound("notice {notice_id} not found", notice_id=notice_id)
    orders = await queries.notice_orders(conn, notice_id, [own] if own is not None else [])
    # Which of the other units read it is the centre's business.
    shown = [{k: v for k, v in u.items() if k not in ("read_at", "read_by_name")} for u in units]
    return {
        **dict(notice),
        "unit_list": shown,
        "orders": [dict(o) for o in orders],
        "read_at": mine["read_at"],
    }
