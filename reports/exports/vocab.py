"""The words of the codes an export writes (statuses, channels, kinds, domains,
priorities, callback outcomes) in both languages."""

from __future__ import annotations

from hotline import i18n
from hotline.i18n import Name

# The same words as the console's (agents_ui/static/app/i18n.js: status, channel, kind,
# domain, priority, rating).
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
        "transferred": Name("已转办", "Transferred"),
    },
    "channel": {
        "voice": Name("电话", "Phone"),
        "sms": Name("短信", "SMS"),
        "web": Name("网页", "Web"),
        "wechat": Name("微信", "WeChat"),
        "open311": Name("Open311", "Open311"),
        "enterprise": Name("企业系统", "Enterprise system"),
        "agent": Name("坐席", "Agent"),
        "12345": Name("12345 平台", "12345 platform"),
    },
    "kind": {
        "consultation": Name("咨询", "Consultation"),
        "repair": Name("报修", "Repair"),
        "complaint": Name("投诉", "Complaint"),
        "suggestion": Name("建议", "Suggestion"),
        "praise": Name("表扬", "Praise"),
        "request": Name("求助", "Request"),
    },
    "domain": {
        "water": Name("供水", "Water"),
        "gas": Name("燃气", "Gas"),
        "heating": Name("供热", "Heating"),
        "billing": Name("缴费", "Billing"),
        "general": Name("综合", "General"),
    },
    "priority": {"normal": Name("一般", "Normal"), "urgent": Name("紧急", "Urgent")},
    "rating": {
        "good": Name("满意", "Satisfied"),
        "bad": Name("不满意", "Dissatisfied"),
        "unreachable": Name("未接通", "Unreachable"),
    },
}


def words(language: str) -> dict[str, dict[str, str]]:
    """Each vocabulary's codes and their words in ``language``."""
    return {
        field: {code: (n.zh if language == i18n.CHINESE else n.en) for code, n in names.items()}
        for field, names in LABELS.items()
    }
