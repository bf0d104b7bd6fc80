"""The periodic report source (docs/reports.md, "Export sources"): a stored report
(``report_id``) or one computed now for a period and scope as the compute operation
takes them (``reports.periodic.service.PeriodQuery``), each of the document's tables a
sheet: what it is, the summary with its comparisons, day by day, each breakdown, the
agents, the overdue and the late orders. Scopes as the report's views check them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from hotline.errors import NotFound
from hotline.i18n import Name
from hotline.users.models import Actor
from reports.exports.sheets import Column, ExportRequest, Kind, Row
from reports.exports.tables import ReportSource, Table, checked, number, text
from reports.exports.vocab import words
from reports.periodic.document import BREAKDOWNS, build_document
from reports.periodic.service import (
    PeriodQuery,
    check_hotline,
    check_scope,
    may_see,
    stored_report,
)

# The console's words (agents_ui/static/app/i18n.js, periodicUi.measures).
MEASURES = {
    "calls_offered": Name("呼入量", "Calls offered"),
    "calls_answered": Name("接通量", "Calls answered"),
    "calls_abandoned": Name("放弃量", "Calls abandoned"),
    "calls_answered_15s": Name("15秒内接通", "Answered within 15 s"),
    "registered": Name("受理工单", "Orders registered"),
    "resolved_on_call": Name("直接办结", "Resolved on the call"),
    "dispatched": Name("派单", "Dispatched"),
    "returned": Name("退单", "Returned"),
    "escalated": Name("协调督办", "Coordination"),
    "reopened": Name("重办", "Redone"),
    "answer_rate": Name("接通率", "Answer rate"),
    "answered_15s_rate": Name("15秒接通率", "15-second answer rate"),
    "resolved_on_call_share": Name("直接办结率", "Resolved-on-call share"),
    "response_rate": Name("响应率", "Response rate"),
    "resolution_rate": Name("解决率", "Resolution rate"),
    "satisfaction_rate": Name("满意率", "Satisfaction rate"),
    "on_time_rate": Name("按时办结率", "On-time rate"),
    "callback_rate": Name("回访率", "Callback rate"),
    "reopen_rate": Name("重办率", "Reopen rate"),
    "score": Name("三率综合得分", "三率 score"),
}
BY = {
    "channel": Name("按渠道", "By channel"),
    "kind": Name("按类型", "By kind"),
    "item": Name("按事项", "By service item"),
    "domain": Name("按领域", "By domain"),
    "district": Name("按区域", "By district"),
    "unit": Name("按承办单位", "By unit"),
}
PERIOD_KINDS = {
    "daily": Name("日报", "Daily"),
    "weekly": Name("周报", "Weekly"),
    "monthly": Name("月报", "Monthly"),
    "custom": Name("自定义", "Custom"),
}
# The breakdowns whose keys are codes of a vocabulary, not reference data with names.
WORDED = ("channel", "kind", "domain")

SUMMARY = (
    text("指标", "Measure", 22),
    number("本期", "This period"),
    number("上期", "Previous"),
    number("较上期", "Change on previous"),
    number("去年同期", "Last year"),
    number("较去年同期", "Change on last year"),
)
ABOUT = (text("项目", "About", 16), text("内容", "Value", 40))
DAILY = (
    text("日期", "Day", 12),
    *(number(MEASURES[m].zh, MEASURES[m].en) for m in list(MEASURES)[:10]),
)
BREAKDOWN_COLUMNS = (
    number("受理工单", "Orders registered"),
    number("直接办结", "Resolved on the call"),
    number("上期", "Previous"),
    number("去年同期", "Last year"),
)
AGENTS = (
    text("坐席", "Agent", 16),
    number("接听量", "Calls handled"),
    number("15秒内接听", "Answered ≤ 15 s"),
    number("平均通话（秒）", "Avg handling (s)"),
    number("平均话后（秒）", "Avg after-call (s)"),
    number("受理工单", "Orders registered"),
    number("直接办结", "Resolved on the call"),
)
LATE = (
    text("工单编号", "Order number", 22),
    text("热线", "Hotline", 8),
    text("事项", "Service item", 16),
    text("承办单位", "Unit", 18),
    text("状态", "Status", 10),
    Column(Name("受理时间", "Registered"), Kind.TIME, 17),
    Column(Name("办理时限", "Due"), Kind.TIME, 17),
    Column(Name("办结时间", "Completed"), Kind.TIME, 17),
)
LISTS = {
    "overdue": Name("超期未办结", "Overdue, still open"),
    "completed_late": Name("超期办结", "Completed late"),
}


class ReportById(BaseModel):
    model_config = ConfigDict(extra="forbid")
    report_id: int = Field(ge=1, le=2**63 - 1, description="a stored report")


def _query(actor: Actor, params: Mapping[str, Any]) -> ReportById | PeriodQuery:
    if "report_id" in params:
        return checked(actor, ReportById, params)
    return checked(actor, PeriodQuery, params)


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _span(request: ExportRequest, period: Mapping[str, str]) -> str:
    first, last = period["first_day"], period["last_day"]
    days = first if first == last else f"{first} – {last}"
    return f"{request.said(PERIOD_KINDS[period['kind']])} {days}"


class PeriodicReportSource(ReportSource):
    kind = "periodic_report"
    title = Name("报表", "report")

    async def check(
        self, conn: asyncpg.Connection, actor: Actor, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """A stored report the actor may see (another hotline's is not found, as when
        opened), or a period the compute operation takes (400 ``bad_period``, 403
        ``scope_forbidden``, 422 ``unknown_hotline``)."""
        query = _query(actor, params)
        if isinstance(query, ReportById):
            await self._stored(conn, actor, query.report_id)
        else:
            query.period()
            check_scope(actor, query.scope)
            await check_hotline(conn, query.scope)
        return query.model_dump(mode="json", exclude_none=True)

    async def _stored(
        self, conn: asyncpg.Connection, actor: Actor, report_id: int
    ) -> dict[str, Any]:
        report = await stored_report(conn, report_id)
        if not may_see(actor, report["scope"]):
            raise NotFound("report {report_id} not found", report_id=report_id)
        return report

    async def _document(
        self, conn: asyncpg.Connection, request: ExportRequest
    ) -> tuple[dict[str, Any], int | None]:
        """The document and its version (None: computed now); the scope checked again
        against the requester as they were."""
        query = _query(request.actor, request.params)
        if isinstance(query, ReportById):
            report = await self._stored(conn, request.actor, query.report_id)
            return report["document"], report["version"]
        check_scope(request.actor, query.scope)
        document = await build_document(
            conn, query.period(), query.scope, request.settings, request.now
        )
        return document, None

    async def tables(self, conn: asyncpg.Connection, request: ExportRequest) -> list[Table]:
        document, version = await self._document(conn, request)
        said = request.said
        vocab = words(request.language)

        def name(row: Mapping[str, Any], prefix: str = "") -> str:
            return said(Name(row[f"{prefix}name_zh"], row[f"{prefix}name_en"]))

        about: list[Row] = [
            (said(Name("范围", "Scope")), name(document["scope"])),
            (said(Name("周期", "Period")), _span(request, document["period"])),
            (said(Name("上期", "Previous")), _span(request, document["previous_period"])),
            (said(Name("去年同期", "Last year")), _span(request, document["last_year_period"])),
            (said(Name("数据截至", "Data as of")), _local(request, document["data_as_of"])),
            (said(Name("生成于", "Generated")), _local(request, document["generated_at"])),
            (said(Name("版本", "Version")), str(version) if version else None),
        ]
        for list_name, shown in LISTS.items():
            counted = document[list_name]
            about.append(
                (
                    said(shown),
                    said(Name("共 {n} 件，列出 {m} 件", "{n} in all, {m} listed")).format(
                        n=counted["count"], m=len(counted["rows"])
                    ),
                )
            )
        tables = [
            Table(Name("报表信息", "About"), ABOUT, about),
            Table(
                Name("总体指标", "Summary"),
                SUMMARY,
                [
                    (
                        said(MEASURES[r["measure"]]),
                        r["value"],
                        r["previous"],
                        r["change_previous"],
                        r["last_year"],
                        r["change_last_year"],
                    )
                    for r in document["summary"]
                ],
            ),
            Table(
                Name("每日趋势", "Day by day"),
                DAILY,
                [(d["day"], *(d[m] for m in list(MEASURES)[:10])) for d in document["daily"]],
            ),
        ]
        for dimension in BREAKDOWNS:
            header = BY[dimension]
            tables.append(
                Table(
                    header,
                    (Column(header, Kind.TEXT, 20), *BREAKDOWN_COLUMNS),
                    [
                        (
                            vocab[dimension].get(r["key"], r["key"])
                            if dimension in WORDED
                            else name(r),
                            r["registered"],
                            r["resolved_on_call"],
                            r["previous"],
                            r["last_year"],
                        )
                        for r in document["orders_by"][dimension]
                    ],
                )
            )
        tables.append(
            Table(
                Name("坐席", "Agents"),
                AGENTS,
                [
                    (
                        name(r),
                        r["calls_handled"],
                        r["calls_answered_15s"],
                        r["avg_handling_seconds"],
                        r["avg_after_call_seconds"],
                        r["registered"],
                        r["resolved_on_call"],
                    )
                    for r in document["agents"]
                ],
            )
        )
        status = vocab["status"]
        for list_name, shown in LISTS.items():
            tables.append(
                Table(
                    shown,
                    LATE,
                    [
                        (
                            r["number"],
                            r["hotline_code"],
                            name(r, "item_"),
                            name(r, "unit_") or None,
                            status.get(r["status"], r["status"]),
                            _time(r["registered_at"]),
                            _time(r["due_at"]),
                            _time(r["completed_at"]),
                        )
                        for r in document[list_name]["rows"]
                    ],
                )
            )
        return tables


def _local(request: ExportRequest, value: str | None) -> str | None:
    """A time of the document as the centre's local time, to the minute."""
    time = _time(value)
    return None if time is None else f"{time.astimezone(request.tz):%Y-%m-%d %H:%M}"
