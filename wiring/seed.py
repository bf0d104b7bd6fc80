"""Load the reference and demo data in ``config/demo/`` (idempotent: upserts by code)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from hotline.errors import InvalidInput
from hotline.knowledge.seed import SeedArticle, do_seed_articles, read_articles
from hotline.reference import queries as ref
from hotline.suggest import area_queries
from hotline.users import queries as user_queries
from hotline.users.service import do_create_user
from routing.rules import RuleInput, do_seed_rule, do_set_domain_group

log = logging.getLogger(__name__)

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config" / "demo"
# The knowledge base's seed articles (docs/knowledge.md), loaded when the file is there.
KNOWLEDGE_FILE = CONFIG_DIR.parent / "knowledge" / "articles.json"

# Demo only: README lists them. Production never creates them.
DEMO_USERS: list[dict[str, str | None]] = [
    {
        "username": "agent",
        "password": "agent-demo-only",
        "role": "agent",
        "display_name": "话务员 王芳",
        "hotline_code": "12319",
    },
    {
        "username": "agent96111",
        "password": "agent-demo-only",
        "role": "agent",
        "display_name": "话务员 李静",
        "hotline_code": "96111",
    },
    {
        "username": "agent96556",
        "password": "agent-demo-only",
        "role": "agent",
        "display_name": "话务员 赵敏",
        "hotline_code": "96556",
    },
    {
        "username": "supervisor",
        "password": "supervisor-demo-only",
        "role": "supervisor",
        "display_name": "督办 张伟",
    },
    {
        "username": "water",
        "password": "water-demo-only",
        "role": "enterprise_user",
        "display_name": "水务集团 刘洋",
        "enterprise_code": "qd-water",
    },
    {
        "username": "water-admin",
        "password": "water-demo-only",
        "role": "enterprise_admin",
        "display_name": "水务集团 管理员",
        "enterprise_code": "qd-water",
    },
    {
        "username": "energy",
        "password": "energy-demo-only",
        "role": "enterprise_user",
        "display_name": "能源集团 陈晨",
        "enterprise_code": "qd-energy",
    },
    {
        "username": "admin",
        "password": "admin-demo-only",
        "role": "admin",
        "display_name": "系统管理员",
    },
]


def _load(name: str, directory: Path) -> Any:
    return json.loads((directory / name).read_text(encoding="utf-8"))


async def seed_reference(conn: asyncpg.Connection, directory: Path = CONFIG_DIR) -> dict[str, int]:
    """Upsert hotlines, areas, enterprises, windows, the catalogue and the calendar."""
    counts = dict.fromkeys(("hotlines", "areas", "enterprises", "windows", "items", "days"), 0)
    async with conn.transaction():
        for hotline in _load("hotlines.json", directory):
            await ref.upsert_hotline(conn, hotline)
            counts["hotlines"] += 1
        for district in _load("areas.json", directory):
            await ref.upsert_area(conn, district, None)
            counts["areas"] += 1
            for street in district.get("streets", []):
                await ref.upsert_area(conn, street, district["code"])
                counts["areas"] += 1
        for enterprise in _load("enterprises.json", directory):
            enterprise_id = await ref.upsert_enterprise(
                conn, enterprise, kind=enterprise["kind"], parent_id=None
            )
            counts["enterprises"] += 1
            for branch in enterprise.get("branches", []):
                branch = {
                    **branch,
                    "domains": enterprise.get("domains", []),
                    "hotline": enterprise.get("hotline"),
                }
                await ref.upsert_enterprise(conn, branch, kind="branch", parent_id=enterprise_id)
                counts["enterprises"] += 1
            for window in enterprise.get("windows", []):
                await ref.upsert_window(conn, enterprise_id, window)
                counts["windows"] += 1
        catalogue = _load("catalogue.json", directory)
        for item in catalogue["items"] + catalogue["general"]:
            await ref.upsert_service_item(conn, item)
            counts["items"] += 1
        counts["days"] = await seed_calendar(conn, directory)
    return counts


async def seed_calendar(conn: asyncpg.Connection, directory: Path = CONFIG_DIR) -> int:
    """Upsert the working calendar's days (``calendar.json``), but not those of a year an
    administrator confirmed or changed: that year is theirs. Returns the days written."""
    kept = await ref.years_kept_by_administrators(conn)
    written = 0
    for year in _load("calendar.json", directory).values():
        source = year["source"] + ("（预测，待官方通知）" if year.get("provisional") else "")
        for day in year["days"]:
            if int(day["date"][:4]) in kept:
                continue
            await ref.upsert_calendar_day(
                conn, dt.date.fromisoformat(day["date"]), day["workday"], day["name"], source
            )
            written += 1
    return written


async def seed_roads(conn: asyncpg.Connection, directory: Path = CONFIG_DIR) -> int:
    """Upsert the seed gazetteer (``roads.json``): a row for each road's own name and for
    each of its aliases. Kept apart from ``seed_reference``, which also loads databases
    migrated only part of the way (tests of older migrations) that have no such table."""
    names = 0
    async with conn.transaction():
        for road in _load("roads.json", directory):
            for name in [road["road"], *road.get("aliases", [])]:
                await area_queries.upsert_seed_road(conn, name, road["street"], road["road"])
                names += 1
    return names


async def seed_classifications(conn: asyncpg.Connection, directory: Path = CONFIG_DIR) -> int:
    """The demo's GB/T 39666 codes (``classifications.json``: made up in the standard's
    shape, not the official table) and each seeded item's class. Codes already there are
    left as they are and an item already mapped keeps its class, so loading again never
    overwrites an administrator's official table. Kept apart from ``seed_reference`` for
    databases migrated only part of the way (no such table)."""
    config = _load("classifications.json", directory)
    async with conn.transaction():
        # By code: a class before what sits in it.
        for entry in sorted(config["codes"], key=lambda e: e["code"]):
            await ref.insert_missing_classification(
                conn, entry["code"], entry["name_zh"], entry["name_en"]
            )
        for item_code, code in config["items"].items():
            item = await ref.get_service_item(conn, item_code)
            if item is not None and item["classification_code"] is None:
                await ref.set_item_classification(conn, item_code, code)
    return len(config["codes"])


async def seed_routing(
    conn: asyncpg.Connection, now: dt.datetime, directory: Path = CONFIG_DIR
) -> dict[str, int]:
    """The demo's routing (``routing.json``): each domain's group, set as configured, and
    the rules, each added unless a rule for its item or domain and area exists (active
    or not), so loading again keeps what supervisors changed. Enterprises are named by
    code; a rule listing several ``areas`` is one rule per area, none is any area."""
    config = _load("routing.json", directory)
    counts = {"domain_groups": 0, "rules": 0}

    async def unit(code: str) -> int:
        row = await ref.get_enterprise_by_code(conn, code)
        if row is None:
            raise InvalidInput(
                "routing.json names an unknown enterprise {name}", code="invalid_routing", name=code
            )
        return int(row["id"])

    async with conn.transaction():
        for domain, code in config["domain_groups"].items():
            await do_set_domain_group(conn, domain, await unit(code))
            counts["domain_groups"] += 1
        for entry in config["rules"]:
            candidates = [await unit(c) for c in entry["candidates"]]
            assisting = [await unit(c) for c in entry.get("assisting", [])]
            for area in entry.get("areas", [None]):
                rule = RuleInput.model_validate(
                    {
                        "service_item_code": entry.get("service_item_code"),
                        "domain": entry.get("domain"),
                        "area_code": area,
                        "candidates": candidates,
                        "assisting": assisting,
                        "note": entry.get("note", ""),
                    }
                )
                if await do_seed_rule(conn, rule, now) is not None:
                    counts["rules"] += 1
    return counts


async def seed_demo_users(conn: asyncpg.Connection) -> int:
    """Create the demo users when no user exists yet; returns how many were made."""
    async with conn.transaction():
        if await user_queries.count_users(conn):
            return 0
        for user in DEMO_USERS:
            await do_create_user(conn, **{k: v for k, v in user.items()})  # type: ignore[arg-type]
        return len(DEMO_USERS)


async def database_is_empty(conn: asyncpg.Connection) -> bool:
    return await ref.count_hotlines(conn) == 0


def _knowledge_articles(path: Path) -> list[SeedArticle] | None:
    return read_articles(path) if path.exists() else None


async def seed_knowledge(
    conn: asyncpg.Connection, now: dt.datetime, timezone: str, path: Path = KNOWLEDGE_FILE
) -> dict[str, int] | None:
    """Load the knowledge base's seed file, if there is one (None when not): how many
    articles were new, changed and unchanged. A bad file raises ``SeedFileError`` and
    loads nothing."""
    articles = _knowledge_articles(path)
    if articles is None:
        return None
    today = now.astimezone(ZoneInfo(timezone)).date()
    async with conn.transaction():
        return await do_seed_articles(conn, articles, now, today)
