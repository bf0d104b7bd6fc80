"""The hot issues source (docs/reports.md, "Export sources"): a period and optionally a
hotline as the hot-issue operations take them, within the hotlines the requester sees
(``reports.hot.service.hotlines_read``, as the views), each list a sheet read by the
functions the views call: items and districts rising, the heat table as a grid of
districts × items, the same address again, repeat callers, orders reopened more than
once, the frequent words."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import asyncpg
from pydantic import Field

from hotline import i18n
from hotline.i18n import Name
from hotline.orders.presenting import phone_for
from hotline.users.models import Actor
from reports.exports.sheets import Column, ExportRequest, Kind, Row
from reports.exports.tables import ReportSource, Table, checked, named, number, text
from reports.exports.vocab import words
from reports.hot import service
from reports.hot.service import HotQuery
from reports.periodic.periods import Period

# The most rows each list has (the hot-issue operations' own limit); the page shows 20.
MOST = 200


class HotExport(HotQuery):
    limit: int = Field(default=MOST, ge=1, le=MOST, description="rows of each list at most")
    min_orders: int = Field(
        default=3, ge=2, le=1000, description="an address or caller repeated this often"
    )


def _rising(key: Column) -> tuple[Column, ...]:
    return (
        key,
        number("件数", "Orders"),
        number("预期", "Expected"),
        number("超出", "Excess"),
        number("去年同期", "Last year"),
        number("p", "p", 12),
        number("z", "z"),
        Column(Name("热点", "Hot"), Kind.FLAG, 6),
    )


def _asked(actor: Actor, query: HotExport) -> tuple[Period, list[str] | None]:
    """The period (400 ``invalid_period``) and the hotlines read (403 outside the
    supervisor's own), as the views check them."""
    return service.period_of(query.first_day, query.last_day), service.hotlines_read(
        actor, query.hotline
    )


class HotIssuesSource(ReportSource):
    kind = "hot_issues"
    title = Name("热点难点", "hot-issues")

    async def check(
        self, conn: asyncpg.Connection, actor: Actor, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        del conn  # the period and the hotline are checked as they are
        query = checked(actor, HotExport, params)
        _asked(actor, query)
        return query.model_dump(mode="json", exclude_none=True)

    async def tables(self, conn: asyncpg.Connection, request: ExportRequest) -> list[Table]:
        query = HotExport.model_validate(request.params)
        period, hotlines = _asked(request.actor, query)
        limit = query.limit
        items = await service.rising(conn, period, "item", hotlines, limit=limit)
        districts = await service.rising(conn, period, "district", hotlines, limit=limit)
        cells = await service.heat(conn, period, hotlines, items=service.HEAT_ITEMS)
        repeats = {
            kind: await service.repeats(
                conn, period, kind, hotlines, min_orders=query.min_orders, limit=limit
            )
            for kind in ("address", "caller")
        }
        reopened = await service.reopened(conn, period, hotlines, limit=limit)
        common = await service.words(conn, period, hotlines, limit=limit)

        item_names = await named(
            conn,
            request,
            "item",
            [r["key"] for r in items["items"]]
            + [c["item"] for c in cells]
            + [r["service_item_code"] for r in reopened],
        )
        area_names = await named(
            conn,
            request,
            "district",
            [r["key"] for r in districts["items"]]
            + [c["district"] for c in cells]
            + [r["area_code"] for rows in repeats.values() for r in rows]
            + [r["area_code"] for r in reopened],
        )
        unit_names = await named(
            conn, request, "unit", [str(r["lead_enterprise_id"] or "") for r in reopened]
        )
        status = words(request.language)["status"]

        def rising_rows(found: dict[str, Any], names: dict[str, str]) -> list[Row]:
            return [
                (
                    names.get(r["key"], r["key"]),
                    r["orders"],
                    r["expected"],
                    r["excess"],
                    r["last_year"],
                    r["p"],
                    r["z"],
                    r["hot"],
                )
                for r in found["items"]
            ]

        area = text("区域", "Area", 14)
        return [
            Table(
                Name("异常上升·事项", "Rising items"),
                _rising(text("事项", "Service item", 20)),
                rising_rows(items, item_names),
            ),
            Table(
                Name("异常上升·区域", "Rising districts"),
                _rising(text("区域", "District", 14)),
                rising_rows(districts, area_names),
            ),
            _heat_table(request, cells, item_names, area_names),
            Table(
                Name("同一地址重复诉求", "Same address again"),
                (
                    text("地址", "Address", 28),
                    area,
                    number("件数", "Orders"),
                    number("天数", "Days"),
                ),
                [
                    (r["label"], area_names.get(r["area_code"] or ""), r["orders"], r["days"])
                    for r in repeats["address"]
                ],
            ),
            Table(
                Name("重复来电", "Repeat callers"),
                (
                    text("来电号码", "Caller's phone", 16),
                    number("件数", "Orders"),
                    number("天数", "Days"),
                    text("最近地址", "Latest address", 28),
                    area,
                ),
                [
                    (
                        phone_for(request.actor, r["key"], handling=False),
                        r["orders"],
                        r["days"],
                        r["label"] or None,
                        area_names.get(r["area_code"] or ""),
                    )
                    for r in repeats["caller"]
                ],
            ),
            Table(
                Name("多次重办工单", "Reopened more than once"),
                (
                    text("工单编号", "Order number", 22),
                    text("热线", "Hotline", 8),
                    text("事项", "Service item", 16),
                    area,
                    text("地址", "Address", 24),
                    text("状态", "Status", 10),
                    number("重办次数", "Times redone"),
                    text("承办单位", "Lead unit", 18),
                    Column(Name("受理时间", "Registered"), Kind.TIME, 17),
                ),
                [
                    (
                        r["number"],
                        r["hotline_code"],
                        item_names.get(r["service_item_code"], r["service_item_code"]),
                        area_names.get(r["area_code"] or ""),
                        r["address"] or None,
                        status.get(r["status"], r["status"]),
                        r["redo_count"],
                        unit_names.get(str(r["lead_enterprise_id"] or "")),
                        r["created_at"],
                    )
                    for r in reopened
                ],
            ),
            Table(
                Name("高频词", "Frequent words"),
                (text("词语", "Word"), number("件数", "Orders"), number("上一时段", "Before")),
                [(r["word"], r["n"], r["previous"]) for r in common],
            ),
        ]


def _heat_table(
    request: ExportRequest,
    cells: list[dict[str, Any]],
    item_names: dict[str, str],
    area_names: dict[str, str],
) -> Table:
    """Districts down, the busiest items across (most orders first, as the page), each
    cell the orders; the last column names the district's hot items."""
    per_item: dict[str, int] = defaultdict(int)
    grid: dict[str, dict[str, int]] = defaultdict(dict)
    hot: dict[str, list[str]] = defaultdict(list)
    for cell in cells:
        per_item[cell["item"]] += cell["orders"]
        grid[cell["district"]][cell["item"]] = cell["orders"]
        if cell["hot"]:
            hot[cell["district"]].append(item_names.get(cell["item"], cell["item"]))
    across = sorted(per_item, key=lambda item: (-per_item[item], item))
    columns = (
        text("区域", "District", 14),
        *(
            Column(Name(item_names.get(i, i), item_names.get(i, i)), Kind.NUMBER, 12)
            for i in across
        ),
        text("热点事项", "Hot items", 24),
    )
    separator = "、" if request.language == i18n.CHINESE else ", "
    rows: list[Row] = [
        (
            area_names.get(district, district),
            *(grid[district].get(item) for item in across),
            separator.join(hot[district]) or None,
        )
        for district in sorted(grid)
    ]
    return Table(Name("区域×事项热力表", "Districts × items"), columns, rows)
