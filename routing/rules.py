"""Routing rules: who is responsible for an order, ranked, with a reason a person reads.

A rule names a service item (or a whole domain) and an area (a street, a district, or
any area), and an ordered list of candidate units with optional assisting units. For an
order, the most specific rules come first (item before domain; street before district
before any area); their candidates, in order and without repeats, are the ranking. A
key customer's named representative puts that unit first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from pydantic import ConfigDict, Field, model_validator

from hotline import i18n
from hotline.errors import Conflict, InvalidInput, NotFound
from hotline.reference import queries as ref
from hotline.reference.cache import reference
from hotline.users.models import Actor
from hotline.vocabulary import RenamedFields, renamed
from routing import queries

DOMAINS = ("water", "gas", "heating", "billing")


@dataclass(frozen=True)
class Candidate:
    enterprise_id: int
    name: str
    rule_id: int | None
    reason: i18n.Text

    def as_json(self, language: str = i18n.CHINESE) -> dict[str, Any]:
        return {
            "enterprise_id": self.enterprise_id,
            "name": self.name,
            "rule_id": self.rule_id,
            "reason": self.reason.render(language),
        }


@dataclass(frozen=True)
class Ranking:
    leads: list[Candidate]
    assisting: list[Candidate]


async def area_chain(conn: asyncpg.Connection, area_code: str | None) -> list[str]:
    """The order's area and its district, most specific first."""
    if not area_code:
        return []
    area = await reference.area(conn, area_code)
    if area is None:
        return []
    return [area_code, area["parent_code"]] if area["parent_code"] else [area_code]


# The reasons are part of the order's history, read in either language (hotline.i18n).


def _domain_items(domain: str) -> i18n.Text:
    return i18n.Text("{domain} items", domain=i18n.Term(domain))


def _scope_text(rule: asyncpg.Record) -> i18n.Text:
    what = (
        i18n.Name(rule["item_name"], rule["item_name_en"])
        if rule["item_name"]
        else _domain_items(rule["domain"])
    )
    where = (
        i18n.Name(rule["area_name"], rule["area_name_en"])
        if rule["area_code"]
        else i18n.Text("the whole city")
    )
    return i18n.Text("{what} ({where})", what=what, where=where)


async def rank_candidates(conn: asyncpg.Connection, order: Mapping[str, Any]) -> Ranking:
    item = await reference.item(conn, order["service_item_code"])
    assert item is not None, "orders reference existing service items"
    rules = await queries.matching_rules(
        conn,
        item_code=item["code"],
        domain=item["domain"],
        areas=await area_chain(conn, order["area_code"]),
    )
    ids = {i for r in rules for i in (*r["candidates"], *r["assisting"])}
    names = await reference.enterprises(conn, list(ids))
    leads: list[Candidate] = []
    seen: set[int] = set()
    if order["citizen_id"] is not None:
        rep = await queries.representative_enterprise(conn, order["citizen_id"])
        if rep is not None:
            leads.append(
                Candidate(
                    rep["id"],
                    rep["name_zh"],
                    None,
                    i18n.Text(
                        "Key customer: the unit of representative {representative}",
                        representative=rep["representative"],
                    ),
                )
            )
            seen.add(rep["id"])
    assisting: list[Candidate] = []
    for rule in rules:
        for enterprise_id in rule["candidates"]:
            unit = names.get(enterprise_id)
            if enterprise_id in seen or unit is None or not unit["active"]:
                continue
            seen.add(enterprise_id)
            leads.append(
                Candidate(
                    enterprise_id,
                    unit["name_zh"],
                    rule["id"],
                    i18n.Text(
                        "Rule {rule}: {scope} → {unit}",
                        rule=rule["id"],
                        scope=_scope_text(rule),
                        unit=i18n.Name.of(unit),
                    ),
                )
            )
        if rule is rules[0]:
            assisting = [
                Candidate(
                    i,
                    names[i]["name_zh"],
                    rule["id"],
                    i18n.Text("Rule {rule} names it to assist", rule=rule["id"]),
                )
                for i in rule["assisting"]
                if i in names and names[i]["active"]
            ]
    if not rules and item["domain"] is not None:
        fallback = await _domain_fallback(conn, item["domain"])
        if fallback is not None and fallback.enterprise_id not in seen:
            leads.append(fallback)
    return Ranking(leads, assisting)


async def first_unit(
    conn: asyncpg.Connection, item_code: str, area_code: str | None
) -> Candidate | None:
    """The unit routing would choose first for a new order of the item in the area (the
    console shows it next to each suggested item); None: the centre would coordinate."""
    ranking = await rank_candidates(
        conn, {"service_item_code": item_code, "area_code": area_code, "citizen_id": None}
    )
    return ranking.leads[0] if ranking.leads else None


async def _domain_fallback(conn: asyncpg.Connection, domain: str) -> Candidate | None:
    """The domain's group (``domain_groups``), for an item of a domain no rule covers in
    the order's area: a unit of the domain sorts it out rather than the centre."""
    enterprise_id = await queries.domain_group(conn, domain)
    if enterprise_id is None:
        return None
    unit = (await reference.enterprises(conn, [enterprise_id])).get(enterprise_id)
    if unit is None or not unit["active"]:
        return None
    return Candidate(
        enterprise_id,
        unit["name_zh"],
        None,
        i18n.Text(
            "No routing rule matches; the domain's group takes it: {what} → {unit}",
            what=_domain_items(domain),
            unit=i18n.Name.of(unit),
        ),
    )


async def candidates_for(
    conn: asyncpg.Connection, order: asyncpg.Record, language: str
) -> dict[str, Any]:
    """The ranking as the centre reads it when it coordinates: each candidate with its
    reason and, if the unit returned the order and its return stands, that return
    (``returned``: reason code and text, state, when). Such units come after the fresh
    ones, as routing skips them; ``returned`` lists every unit whose return stands, ranked
    or not (a unit named in an earlier coordination, say)."""
    ranking = await rank_candidates(conn, order)
    returns = {
        r["enterprise_id"]: dict(r) for r in await queries.standing_returns(conn, order["id"])
    }

    def marked(candidate: Candidate) -> dict[str, Any]:
        return {**candidate.as_json(language), "returned": returns.get(candidate.enterprise_id)}

    leads = sorted(ranking.leads, key=lambda c: c.enterprise_id in returns)
    return {
        "leads": [marked(c) for c in leads],
        "assisting": [marked(c) for c in ranking.assisting],
        "returned": list(returns.values()),
    }


# -------------------------------------------------------------------- rule management


class RuleInput(RenamedFields):
    """A rule as a supervisor writes it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service_item: str | None = Field(
        default=None, max_length=32, validation_alias=renamed("service_item_code", "service_item")
    )
    domain: str | None = Field(default=None, max_length=16)
    area: str | None = Field(
        default=None, max_length=16, validation_alias=renamed("area_code", "area")
    )
    candidates: list[int] = Field(min_length=1, max_length=20)
    assisting: list[int] = Field(default_factory=list, max_length=20)
    note: str = Field(default="", max_length=500)
    active: bool = True

    @model_validator(mode="after")
    def _item_or_domain(self) -> RuleInput:
        if (self.service_item is None) == (self.domain is None):
            raise ValueError("give either service_item_code or domain")
        if len(set(self.candidates)) != len(self.candidates):
            raise ValueError("a unit appears twice among the candidates")
        if set(self.candidates) & set(self.assisting):
            raise ValueError("a unit cannot be both candidate and assisting")
        return self


async def check_rule(
    conn: asyncpg.Connection, rule: RuleInput, *, except_id: int | None = None
) -> None:
    fields: dict[str, str | i18n.Text] = {}
    if rule.service_item and await ref.get_service_item(conn, rule.service_item) is None:
        fields[rule.sent_name("service_item")] = "unknown service item"
    if rule.domain and rule.domain not in DOMAINS:
        fields["domain"] = i18n.Text("must be one of {domains}", domains=", ".join(DOMAINS))
    if rule.area and await ref.get_area(conn, rule.area) is None:
        fields[rule.sent_name("area")] = "unknown area"
    known = await queries.enterprises_by_id(conn, [*rule.candidates, *rule.assisting])
    for name, ids in (("candidates", rule.candidates), ("assisting", rule.assisting)):
        missing = [str(i) for i in ids if i not in known]
        if missing:
            unknown = ", ".join(missing)
            fields[name] = i18n.Text("unknown enterprise id(s): {missing}", missing=unknown)
    if fields:
        raise InvalidInput(
            "the rule refers to things that do not exist", code="invalid_rule", fields=fields
        )
    if rule.active:
        clash = await queries.active_rule_with_key(
            conn,
            item_code=rule.service_item,
            domain=rule.domain,
            area_code=rule.area,
            except_id=except_id,
        )
        if clash is not None:
            raise Conflict(
                "rule {clash} already covers this item and area", code="duplicate_rule", clash=clash
            )


def _values(rule: RuleInput, user_id: int | None, now: dt.datetime) -> dict[str, Any]:
    return {
        "service_item_code": rule.service_item,
        "domain": rule.domain,
        "area_code": rule.area,
        "candidates": rule.candidates,
        "assisting": rule.assisting,
        "note": rule.note,
        "active": rule.active,
        "user_id": user_id,
        "now": now,
    }


def rule_json(row: asyncpg.Record) -> dict[str, Any]:
    data = dict(row)
    for key in ("created_at", "updated_at"):
        data[key] = data[key].isoformat()
    return data


async def do_create_rule(
    conn: asyncpg.Connection, actor: Actor, rule: RuleInput, now: dt.datetime
) -> asyncpg.Record:
    return await _create_rule(conn, actor.user_id, rule, now)


async def do_seed_rule(
    conn: asyncpg.Connection, rule: RuleInput, now: dt.datetime
) -> asyncpg.Record | None:
    """A rule from the demo data, unless one with its item or domain and area exists,
    active or not: loading again never undoes a supervisor's edit or disabling. The
    history names no user (the system loaded it). None when it was already there."""
    existing = await queries.active_rule_with_key(
        conn,
        item_code=rule.service_item,
        domain=rule.domain,
        area_code=rule.area,
        except_id=None,
        include_inactive=True,
    )
    if existing is not None:
        return None
    return await _create_rule(conn, None, rule, now)


async def _create_rule(
    conn: asyncpg.Connection, user_id: int | None, rule: RuleInput, now: dt.datetime
) -> asyncpg.Record:
    await check_rule(conn, rule)
    row = await queries.insert_rule(conn, _values(rule, user_id, now))
    await queries.insert_rule_history(
        conn,
        rule_id=row["id"],
        action="created",
        user_id=user_id,
        now=now,
        before=None,
        after=rule_json(row),
    )
    return row


async def do_set_domain_group(conn: asyncpg.Connection, domain: str, enterprise_id: int) -> None:
    """Name the unit answerable for ``domain`` as a whole (the fallback of ranking)."""
    if domain not in DOMAINS:
        raise InvalidInput(
            "unknown domain {domain}",
            code="invalid_domain",
            fields={"domain": "must be one of {domains}"},
            domain=domain,
            domains=", ".join(DOMAINS),
        )
    if not await queries.enterprises_by_id(conn, [enterprise_id]):
        raise InvalidInput(
            "unknown enterprise id {enterprise_id}",
            enterprise_id=enterprise_id,
            code="invalid_domain_group",
            fields={"enterprise_id": "unknown enterprise"},
        )
    await queries.set_domain_group(conn, domain, enterprise_id)


async def do_update_rule(
    conn: asyncpg.Connection, actor: Actor, rule_id: int, rule: RuleInput, now: dt.datetime
) -> asyncpg.Record:
    before = await queries.get_rule(conn, rule_id, for_update=True)
    if before is None:
        raise NotFound("rule {rule_id} not found", rule_id=rule_id)
    await check_rule(conn, rule, except_id=rule_id)
    row = await queries.update_rule(conn, rule_id, _values(rule, actor.user_id, now))
    if before["active"] and not row["active"]:
        action = "disabled"
    elif not before["active"] and row["active"]:
        action = "enabled"
    else:
        action = "updated"
    await queries.insert_rule_history(
        conn,
        rule_id=rule_id,
        action=action,
        user_id=actor.user_id,
        now=now,
        before=rule_json(before),
        after=rule_json(row),
    )
    return row


async def do_set_rule_active(
    conn: asyncpg.Connection, actor: Actor, rule_id: int, active: bool, now: dt.datetime
) -> asyncpg.Record:
    current = await queries.get_rule(conn, rule_id)
    if current is None:
        raise NotFound("rule {rule_id} not found", rule_id=rule_id)
    rule = RuleInput(
        service_item=current["service_item_code"],
        domain=current["domain"],
        area=current["area_code"],
        candidates=list(current["candidates"]),
        assisting=list(current["assisting"]),
        note=current["note"],
        active=active,
    )
    return await do_update_rule(conn, actor, rule_id, rule, now)
