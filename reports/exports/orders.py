"""The orders source: every order a search finds (GET /api/v1/orders's criteria and the
actor's scope, hotline.orders.searching), in the search's order, one row each. Callers'
numbers as the search's list shows them to the actor (hotline.orders.presenting
``phone_for``: whole for the centre, masked for units); names of items, areas and units
and the words of statuses in the reader's language."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import asyncpg

from hotline import i18n
from hotline.i18n import Name
from hotline.orders.lifecycle import OPEN
from hotline.orders.presenting import phone_for
from hotline.orders.searching import read_criteria, resolve, search_sort
from hotline.users.models import Actor
from reports.exports import queries
from reports.exports.sheets import Column, ExportRequest, Kind, Row, Sheet

# The same words as the console's (agents_ui/static/app/i18n.js: status, channel, kind,
# priority, rating).
LABELS: dict[str, dict[str, Name]] = {
    "status": {
        "draft": Name("待确认", "Draft"),
        "registered": Name("已受理", "Registered"),
        "resolved_on_call": Name("直接办结", "Resolved on call"),
        "dispatching": Name("派单中", "Dispatching"),
        "dispatched": Name("已派单", "Dispatched"),
        "returned": Name("已退单", "Returned"),
        "escalated": Name("协调督办", "In coordination"),
        "in_progress": Name("办理中", "In progress"),
        "completed": Name("已办结", "Completed"),
        "callback": Name("回访中", "Callback"),
        "closed": Name("已归档", "Closed"),
        "reopened": Name("重新办理", "Reopened"),
        "merged": Name("已合并", "Merged"),
        "cancelled": Name("已取消", "Cancelled"),
    },
    "channel": {
        "voice": Name("电话", "Phone"),
        "sms": Name("短信", "SMS"),
        "web": Name("网页", "Web"),
        "wechat": Name("微信", "WeChat"),
        "open311": Name("Open311", "Open311"),
        "enterprise": Name("企业系统", "Enterprise system"),
        "agent": Name("坐席", "Agent"),
    },
    "kind": {
        "consultation": Name("咨询", "Consultation"),
        "repair": Name("报修", "Repair"),
        "complaint": Name("投诉", "Complaint"),
        "suggestion": Name("建议", "Suggestion"),
        "praise": Name("表扬", "Praise"),
        "request": Name("求助", "Request"),
    },
    "priority": {"normal": Name("一般", "Normal"), "urgent": Name("紧急", "Urgent")},
    "rating": {
        "good": Name("满意", "Satisfied"),
        "bad": Name("不满意", "Dissatisfied"),
        "unreachable": Name("未接通", "Unreachable"),
    },
}

COLUMNS = (
    Column(Name("工单编号", "Order number"), width=22),
    Column(Name("热线", "Hotline"), width=8),
    Column(Name("受理时间", "Registered"), Kind.TIME, width=17),
    Column(Name("渠道", "Channel"), width=8),
    Column(Name("类别", "Kind"), width=8),
    Column(Name("服务事项", "Service item"), width=16),
    Column(Name("区域", "Area"), width=12),
    Column(Name("地址", "Address"), width=24),
    Column(Name("诉求内容", "Description"), width=48),
    Column(Name("来电人", "Caller"), width=10),
    Column(Name("来电号码", "Caller's phone"), width=16),
    Column(Name("状态", "Status"), width=10),
    Column(Name("紧急程度", "Priority"), width=8),
    Column(Name("承办单位", "Lead unit"), width=18),
    Column(Name("办理时限", "Resolution due"), Kind.TIME, width=17),
    Column(Name("超期", "Overdue"), Kind.FLAG, width=6),
    Column(Name("办结时间", "Completed"), Kind.TIME, width=17),
    Column(Name("答复内容", "Reply"), width=40),
    Column(Name("回访结果", "Callback outcome"), width=10),
    Column(Name("重办次数", "Times redone"), Kind.NUMBER, width=8),
    Column(Name("办不成事", "Hard case"), Kind.FLAG, width=8),
)


def _labels(language: str) -> dict[str, dict[str, str]]:
    """Each vocabulary's codes and their words in ``language``."""
    return {
        field: {code: (n.zh if language == i18n.CHINESE else n.en) for code, n in names.items()}
        for field, names in LABELS.items()
    }


class OrdersSource:
    kind = "orders"
    title = Name("工单", "orders")

    def check(self, actor: Actor, params: Mapping[str, Any]) -> dict[str, Any]:
        """The search's criteria as a saved filter keeps them (canonical, defaults left
        out); a bad one is a 400 invalid_query naming it."""
        del actor  # every role may export the orders it may search
        return read_criteria(params).model_dump(mode="json", exclude_defaults=True)

    async def count(self, conn: asyncpg.Connection, request: ExportRequest) -> int:
        search = await resolve(conn, request.actor, read_criteria(request.params), request.tz)
        return 0 if search is None else await queries.count_orders(conn, search, request.now)

    async def sheets(
        self, conn: asyncpg.Connection, request: ExportRequest
    ) -> AsyncIterator[Sheet]:
        yield Sheet(self.title, COLUMNS, self._rows(conn, request))

    async def statement(
        self, conn: asyncpg.Connection, request: ExportRequest
    ) -> tuple[str, list[Any]] | None:
        """The SQL of the rows (None: the actor may see no order)."""
        criteria = read_criteria(request.params)
        search = await resolve(conn, request.actor, criteria, request.tz)
        if search is None:
            return None
        sort, descending = search_sort(criteria)
        english = request.language != i18n.CHINESE
        return queries.orders_statement(
            search, now=request.now, sort=sort, descending=descending, english=english
        )

    async def _rows(self, conn: asyncpg.Connection, request: ExportRequest) -> AsyncIterator[Row]:
        statement = await self.statement(conn, request)
        if statement is None:
            return
        labels = _labels(request.language)
        status, channel, kind = labels["status"], labels["channel"], labels["kind"]
        priority, rating = labels["priority"], labels["rating"]
        actor, now = request.actor, request.now
        async for r in queries.stream_orders(conn, statement):
            due = r["resolution_due_at"]
            yield (
                r["number"],
                r["hotline_code"],
                r["created_at"],
                channel.get(r["channel"], r["channel"]),
                kind.get(r["kind"], r["kind"]),
                r["item_name"],
                r["area_name"],
                r["address"] or None,
                r["description"],
                r["caller_name"] or None,
                phone_for(actor, r["caller_phone"], handling=False),
                status.get(r["status"], r["status"]),
                priority.get(r["priority"], r["priority"]),
                r["lead_name"],
                due,
                due is not None and due < now and r["status"] in OPEN,
                r["completed_at"],
                r["reply"] or None,
                None if r["rating"] is None else rating.get(r["rating"], r["rating"]),
                r["redo_count"],
                r["hard_case"],
            )
