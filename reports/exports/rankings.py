"""The ranking source (docs/reports.md, "Export sources"): the ranking
``GET /api/v1/rankings`` answers for the same query (``RankingQuery``), computed by the
same function (``compute_ranking``), as one sheet: each unit in the ranking's order
with every figure, its rank, the rank in the previous period and the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from hotline.i18n import Name
from hotline.users.models import Actor
from reports.exports.sheets import Column, ExportRequest, Row
from reports.exports.tables import ReportSource, Table, checked, named, number, text
from reports.rankings.service import METRICS, RankingQuery, compute_ranking

# The console's words (agents_ui/static/app/i18n.js, rankUi.metrics).
METRIC_NAMES = {
    "score": Name("三率得分", "Score"),
    "response_rate": Name("响应率", "Response rate"),
    "resolution_rate": Name("解决率", "Resolution rate"),
    "satisfaction_rate": Name("满意率", "Satisfaction rate"),
    "on_time_rate": Name("按时办结率", "On-time rate"),
    "callback_rate": Name("回访率", "Callback rate"),
    "reopen_rate": Name("重办率", "Reopen rate"),
}


def _columns(rank_by: str) -> tuple[Column, ...]:
    ranked_by = METRIC_NAMES[rank_by]
    columns = [
        number(f"名次（{ranked_by.zh}）", f"Rank ({ranked_by.en})", 12),
        number("名次变化", "Places moved up", 10),
        text("承办单位", "Unit", 22),
    ]
    for metric in METRICS:
        n = METRIC_NAMES[metric]
        columns += [
            number(n.zh, n.en, 12),
            number(f"{n.zh}名次", f"{n.en}: rank"),
            number(f"{n.zh}上期名次", f"{n.en}: previous rank"),
            number(f"{n.zh}名次变化", f"{n.en}: places moved up"),
        ]
    return tuple(columns)


class RankingSource(ReportSource):
    kind = "ranking"
    title = Name("排名", "ranking")

    async def check(
        self, conn: asyncpg.Connection, actor: Actor, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The ranking's query as GET /api/v1/rankings takes it."""
        del conn  # a ranking is of every unit: nothing to look up
        return checked(actor, RankingQuery, params).model_dump(mode="json", exclude_none=True)

    async def tables(self, conn: asyncpg.Connection, request: ExportRequest) -> list[Table]:
        query = RankingQuery.model_validate(request.params)
        today = request.now.astimezone(request.tz).date()
        ranking = await compute_ranking(conn, query, request.settings, request.now, today)
        items = ranking["items"]
        units = await named(conn, request, "unit", [str(i["unit_id"]) for i in items])
        rows: list[Row] = []
        for item in items:
            row: list[Any] = [
                item["rank"][query.rank_by],
                item["change"][query.rank_by],
                units.get(str(item["unit_id"]), item["name"]),
            ]
            for metric in METRICS:
                row += [
                    item[metric],
                    item["rank"][metric],
                    item["previous_rank"][metric],
                    item["change"][metric],
                ]
            rows.append(tuple(row))
        start, end = ranking["start"].isoformat(), ranking["end"].isoformat()
        name = Name(f"排名 {start} 至 {end}", f"Ranking {start}–{end}")
        return [Table(name, _columns(query.rank_by), rows)]
