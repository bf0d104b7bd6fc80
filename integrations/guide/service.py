"""The public service guide's content: what one version of a hotline's guide is made of
(read cheaply on every request, its hash the version), the guide in each language, and
the cache of what was built from it.

A version covers the hotline and the hotlines' numbers, the catalogue items it takes, the
published articles (through ``queries.knowledge_stamp``), the running outages, the
local date (articles' validity) and the hours: anything that changes the guide changes
the version, so a published article or a new outage shows on the next request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

import asyncpg

from hotline.db import database_of
from hotline.knowledge.queries import published_articles
from hotline.reference.cache import reference
from hotline.reference.reach import outage_domains, reaches
from hotline.settings import Settings
from integrations.guide import queries
from routing import queries as routing_queries

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")
# The articles the guide shows: a service's 办事指南, and the general questions. Scripts
# (答复口径) are the agents' words, outage articles repeat the notices.
GUIDE_KINDS = ("guide", "faq", "policy")
QUESTION_KINDS = ("faq", "policy")
# An article's fields a citizen reads; its ``en`` may translate any of them.
ARTICLE_FIELDS = ("title", "body", "documents", "fees", "time_limit", "steps")
STAGES = ("sign_for", "first_contact", "resolution")

WORDS: dict[Language, dict[str, str]] = {
    "zh": {
        "sign_for": "签收",
        "first_contact": "首次联系",
        "resolution": "办结",
        "working_days": "{n} 个工作日",
        "working_hours": "{n} 个工作小时",
        "hours": "{n} 小时",
        "minutes": "{n} 分钟",
        "calls": "电话全天 24 小时受理，节假日不休；话务员忙时可留言，我们会回电。",
        "working": "工作日 {periods}（按国家法定节假日和调休安排）",
        "callbacks": "回访电话在工作日 {periods} 拨出",
        "period_sep": "、",
        "whole_area": "全区",
        "time": "{month}月{day}日 {hm}",
        "until": "{start} 至 {end}",
    },
    "en": {
        "sign_for": "Signed for",
        "first_contact": "First contact",
        "resolution": "Resolved",
        "working_days": "{n} working days",
        "working_hours": "{n} working hours",
        "hours": "{n} hours",
        "minutes": "{n} minutes",
        "calls": (
            "Calls are answered 24 hours a day, holidays included; when every agent is "
            "busy, leave a message and we call you back."
        ),
        "working": "Working days {periods} (by the national holiday and make-up day schedule)",
        "callbacks": "Callbacks are made on working days {periods}",
        "period_sep": ", ",
        "whole_area": "whole district",
        "time": "{day} {month_name} {hm}",
        "until": "{start} to {end}",
    },
}
ONE: dict[str, str] = {  # English singulars
    "working_days": "1 working day",
    "working_hours": "1 working hour",
    "hours": "1 hour",
    "minutes": "1 minute",
}
DOMAIN_NAMES: dict[str | None, tuple[str, str]] = {
    "water": ("供水", "Water"),
    "gas": ("燃气", "Gas"),
    "heating": ("供热", "Heating"),
    "billing": ("缴费与便民卡", "Bills and utility cards"),
    None: ("综合服务", "General"),  # the items of no domain: every hotline's
}
KIND_NAMES: dict[str, tuple[str, str]] = {
    "consultation": ("咨询", "Enquiry"),
    "repair": ("报修", "Repair"),
    "complaint": ("投诉", "Complaint"),
    "suggestion": ("建议", "Suggestion"),
    "praise": ("表扬", "Praise"),
    "request": ("业务办理", "Service request"),
    "faq": ("常见问题", "Question"),
    "policy": ("政策", "Policy"),
    "guide": ("办事指南", "Service guide"),
    "planned": ("计划停", "Planned"),
    "emergency": ("抢修停", "Emergency"),
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _pick(names: tuple[str, str], language: Language) -> str:
    return names[0] if language == "zh" else names[1]


def _named(row: asyncpg.Record, language: Language) -> str:
    """A reference row's name in ``language``; Chinese when its English is blank."""
    return str(row["name_en"] or row["name_zh"]) if language == "en" else str(row["name_zh"])


def _number(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def limit_words(amount: Decimal, unit: str, language: Language) -> str:
    """A time limit as people say it: "5 个工作日", "4 working hours", "30 分钟"."""
    if unit == "hours" and amount < 1:
        amount, unit = amount * 60, "minutes"
    if language == "en" and amount == 1:
        return ONE[unit]
    return WORDS[language][unit].format(n=_number(amount))


def _periods(text: str, language: Language) -> str:
    return WORDS[language]["period_sep"].join(
        part.strip().replace("-", "–") for part in text.split(",") if part.strip()
    )


def _moment(at: dt.datetime, tz: ZoneInfo, language: Language) -> str:
    local = at.astimezone(tz)
    return WORDS[language]["time"].format(
        month=local.month,
        month_name=MONTHS[local.month - 1],
        day=local.day,
        hm=local.strftime("%H:%M"),
    )


@dataclass(frozen=True)
class Snapshot:
    """What one version of a hotline's guide is made of, but for the articles' text."""

    hotline: asyncpg.Record
    hotlines: list[asyncpg.Record]
    items: list[asyncpg.Record]
    outages: list[asyncpg.Record]
    areas: dict[str, asyncpg.Record]
    knowledge: tuple[object, ...]
    today: dt.date
    tz: ZoneInfo
    working_hours: str
    calling_hours: str
    database: str
    version: str = field(init=False)

    def __post_init__(self) -> None:
        # repr of records names every column and value: any change changes the hash.
        parts = (
            self.hotline,
            self.hotlines,
            self.items,
            self.outages,
            sorted(self.areas.items()),
            self.knowledge,
            self.today,
            self.tz.key,
            self.working_hours,
            self.calling_hours,
        )
        digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
        object.__setattr__(self, "version", digest)


async def snapshot(
    conn: asyncpg.Connection, code: str, *, now: dt.datetime, settings: Settings
) -> Snapshot | None:
    """The current version's makings of hotline ``code``'s guide; None for no hotline.
    Two small queries (the articles' stamp, the running outages) and the reference
    cache."""
    hotlines = await reference.hotlines(conn)
    hotline = next((h for h in hotlines if h["code"] == code), None)
    if hotline is None:
        return None
    items = [
        item
        for item in await reference.service_items(conn)
        if item["active"] and reaches(hotline["domain"], item["domain"])
    ]
    outages = await routing_queries.running_outages(
        conn, now, domains=outage_domains(hotline["domain"])
    )
    tz = ZoneInfo(settings.timezone)
    return Snapshot(
        hotline=hotline,
        hotlines=hotlines,
        items=items,
        outages=list(outages),
        areas={a["code"]: a for a in await reference.areas(conn)},
        knowledge=await queries.knowledge_stamp(conn),
        today=now.astimezone(tz).date(),
        tz=tz,
        working_hours=settings.working_hours,
        calling_hours=settings.callback_calling_hours,
        database=await database_of(conn),
    )


async def articles(conn: asyncpg.Connection, snap: Snapshot) -> list[asyncpg.Record]:
    """The published, valid articles the hotline's guide shows."""
    return await published_articles(
        conn, hotline=snap.hotline["code"], kinds=GUIDE_KINDS, today=snap.today
    )


def _localised(article: asyncpg.Record, language: Language) -> dict[str, Any]:
    """The article's fields a citizen reads, in ``language``: each English field where
    the article has one, else the Chinese."""
    english: Mapping[str, Any] = (article["en"] or {}) if language == "en" else {}
    return {name: english.get(name) or article[name] for name in ARTICLE_FIELDS}


def _article(
    article: asyncpg.Record, language: Language, areas: Mapping[str, str]
) -> dict[str, Any]:
    fields = _localised(article, language)
    return {
        "id": article["id"],
        "kind": article["kind"],
        "kind_name": _pick(KIND_NAMES[article["kind"]], language),
        **{name: fields[name] for name in ARTICLE_FIELDS},
        "documents": list(fields["documents"] or []),
        "steps": list(fields["steps"] or []),
        "areas": [areas.get(code, code) for code in article["areas"] or []],
    }


def _time_limits(item: asyncpg.Record, language: Language) -> list[dict[str, Any]]:
    return [
        {
            "stage": stage,
            "label": WORDS[language][stage],
            "amount": item[f"{stage}_amount"],
            "unit": item[f"{stage}_unit"],
            "text": limit_words(item[f"{stage}_amount"], item[f"{stage}_unit"], language),
        }
        for stage in STAGES
    ]


def _urgent_limits(item: asyncpg.Record, language: Language) -> list[dict[str, Any]]:
    """An urgent order's limits, in natural hours, for the items that have them."""
    if item.get("urgent_resolution_hours") is None:
        return []
    return [
        {
            "stage": stage,
            "label": WORDS[language][stage],
            "amount": item[f"urgent_{stage}_hours"],
            "unit": "hours",
            "text": limit_words(item[f"urgent_{stage}_hours"], "hours", language),
        }
        for stage in STAGES
    ]


def _outages_by_area(snap: Snapshot, language: Language) -> list[dict[str, Any]]:
    """The running outages under each district they touch (districts by code), each
    with the streets of that district it names (none: the whole district)."""
    districts: dict[str, list[dict[str, Any]]] = {}
    for outage in sorted(snap.outages, key=lambda o: (o["starts_at"], o["id"])):
        streets: dict[str, list[str]] = {}
        for code in outage["area_codes"]:
            area = snap.areas.get(code)
            if area is None:
                continue
            district = area["parent_code"] or code
            names = streets.setdefault(district, [])
            if area["parent_code"]:
                names.append(_named(area, language))
        for district, names in streets.items():
            districts.setdefault(district, []).append(
                {
                    "id": outage["id"],
                    "domain": outage["domain"],
                    "domain_name": _pick(DOMAIN_NAMES[outage["domain"]], language),
                    "kind": outage["kind"],
                    "kind_name": _pick(KIND_NAMES[outage["kind"]], language),
                    "title": outage["title"],
                    "description": outage["description"],
                    "starts_at": outage["starts_at"],
                    "ends_at": outage["ends_at"],
                    "period": WORDS[language]["until"].format(
                        start=_moment(outage["starts_at"], snap.tz, language),
                        end=_moment(outage["ends_at"], snap.tz, language),
                    ),
                    "streets": names or [WORDS[language]["whole_area"]],
                }
            )
    return [
        {
            "area": {"code": code, "name": _named(snap.areas[code], language)},
            "outages": districts[code],
        }
        for code in sorted(districts)
    ]


def _services(
    snap: Snapshot, guides: Sequence[asyncpg.Record], language: Language, areas: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The items by domain (the catalogue's order), each with its guides."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for item in snap.items:
        groups.setdefault(item["domain"], []).append(
            {
                "code": item["code"],
                "name": _named(item, language),
                "kind": item["kind"],
                "kind_name": _pick(KIND_NAMES[item["kind"]], language),
                "time_limits": _time_limits(item, language),
                "urgent_time_limits": _urgent_limits(item, language),
                "guides": [
                    _article(g, language, areas)
                    for g in guides
                    if item["code"] in (g["service_items"] or [])
                ],
            }
        )
    return [
        {
            "domain": domain,
            "domain_name": _pick(DOMAIN_NAMES.get(domain, DOMAIN_NAMES[None]), language),
            "items": items,
        }
        for domain, items in sorted(groups.items(), key=lambda group: _domain_rank(group[0]))
    ]


def _domain_rank(domain: str | None) -> int:
    """The utilities first, then billing, then the general items (every hotline's)."""
    order = list(DOMAIN_NAMES)
    return order.index(domain) if domain in order else len(order)


def hotline_entries(hotlines: Iterable[asyncpg.Record], language: Language) -> list[dict[str, Any]]:
    return [
        {"code": h["code"], "name": _named(h, language), "number": h["number"]} for h in hotlines
    ]


def build(
    snap: Snapshot, published: Iterable[asyncpg.Record], language: Language
) -> dict[str, Any]:
    """The guide of ``snap``'s hotline in ``language`` (the JSON the API answers)."""
    published = list(published)
    area_names = {code: _named(row, language) for code, row in snap.areas.items()}
    codes = {item["code"] for item in snap.items}
    guides = [a for a in published if a["kind"] == "guide"]
    # A guide of none of the hotline's items is still shown, with the questions.
    loose = [g for g in guides if not codes & set(g["service_items"] or [])]
    questions = [a for a in published if a["kind"] in QUESTION_KINDS] + loose
    hotline = snap.hotline
    return {
        "language": language,
        "version": snap.version,
        "hotline": {
            "code": hotline["code"],
            "name": _named(hotline, language),
            "number": hotline["number"],
        },
        "hours": {
            "calls": WORDS[language]["calls"],
            "working": WORDS[language]["working"].format(
                periods=_periods(snap.working_hours, language)
            ),
            "callbacks": WORDS[language]["callbacks"].format(
                periods=_periods(snap.calling_hours, language)
            ),
        },
        "hotlines": hotline_entries(snap.hotlines, language),
        "outages": _outages_by_area(snap, language),
        "services": _services(snap, guides, language, area_names),
        "questions": [_article(a, language, area_names) for a in questions],
    }


@dataclass(frozen=True)
class Built:
    """An answer built from one version: sent again while the version holds."""

    etag: str
    body: bytes
    built_at: dt.datetime


def etag(snap: Snapshot, variant: str) -> str:
    return f'"{snap.version}-{variant}"'


class GuideCache:
    """The last answer built per database, hotline and variant (page or JSON, and its
    language): one entry each, replaced when the version changes."""

    def __init__(self) -> None:
        self._built: dict[tuple[str, str, str], Built] = {}

    def get(self, snap: Snapshot, variant: str) -> Built | None:
        built = self._built.get((snap.database, snap.hotline["code"], variant))
        return built if built is not None and built.etag == etag(snap, variant) else None

    def put(self, snap: Snapshot, variant: str, body: bytes, now: dt.datetime) -> Built:
        built = Built(etag(snap, variant), body, now.replace(microsecond=0))
        self._built[(snap.database, snap.hotline["code"], variant)] = built
        return built


cache = GuideCache()
