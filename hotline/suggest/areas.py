"""The district and street (区/街道) an address most likely lies in.

Sources, most trusted first: the caller's own history (their profile and their earlier
orders on the same road or at the same address), the centre's orders that name the
same road (the street an agent confirmed, counted live: there is no gazetteer to keep
in sync), the seed list of roads (``config/demo/roads.json``), and a district or street
the address names outright. The first source that knows gives the suggestion; what the
others say differently is offered as alternatives. A road that lies in several
districts, with no district named, gives no suggestion but the candidates: the agent
chooses (docs/suggest.md, "Area from the address").
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg

from hotline.i18n import Name, Text
from hotline.phones import normalize_phone
from hotline.reference.cache import reference
from hotline.suggest import area_queries as queries

Source = Literal["caller", "orders", "seed", "district_name"]

# The orders read per road: enough to tell a road's streets apart, few enough to stay
# fast on a road the centre hears of every day.
ORDERS_PER_ROAD = 500
# The caller's latest orders looked at.
CALLER_ORDERS = 50
# The orders of a road in one district must be this share of its orders for that
# district to be suggested when the address names none; below it the road is taken to
# run in several districts and the agent chooses.
DOMINANT_SHARE = 0.8
ROADS_TRIED = 5
ALTERNATIVES = 4
# An address without a road matches the caller's earlier one when this much of it is
# the same text ("华润中心3单元"), not a stray character or two.
MIN_SAME_ADDRESS = 4

HAN = "\u4e00-\u9fff"
# The words a road's name ends in, longest first so that 大道 is not read as 道.
ROAD_WORD = "|".join(("大道", "大街", "公路", "路", "街", "巷", "道", "线"))
# A road: two to seven Han characters and a road word, the shortest that ends in one
# ("香港中路" in "香港中路街道", "长江中路" in "长江中路华润中心").
ROAD = re.compile(f"[{HAN}]{{2,7}}?(?:{ROAD_WORD})")
# What people put around a road ("俺家在福州北路那边", "靠近延吉路跟哈尔滨路"). Words that
# begin road names (和平路) are not among them.
FILLER = re.compile(
    "俺家|我家|家住|住在|家在|在|住|靠近|附近|那边|这边|旁边|对面|门口|那块|这块|与|跟|交叉口|的"
)
# Words that join two roads but may also begin a road's name: both are looked up.
JOINERS = "和及同"
# What may stand between a place's name and the road word of a road named after it.
DIRECTIONS = "东西南北中一二三四五六七八九"
# A name of a place that is also the start of a road's name (胶州路 is in 市北, 黄岛路
# in 市南): not the place when a road word, or a direction and one, follows.
ROAD_AFTER = re.compile(f"[{DIRECTIONS}]?(?:{ROAD_WORD})")
# The province and the city say nothing about the district.
CITY = ("山东省", "青岛市", "山东", "青岛")
# Names people use for a district that are not its own (胶南 became part of 黄岛 in 2012;
# 西海岸新区 is 黄岛's other name).
DISTRICT_ALIASES = {"西海岸新区": "黄岛区", "西海岸": "黄岛区", "胶南": "黄岛区"}
SEPARATOR = "|"


@dataclass(frozen=True)
class Place:
    """What an address says of where it is: the normalized text, the district and the
    street it names (codes), and the road names in it, in the order they appear."""

    text: str
    district: str | None
    street: str | None
    roads: list[str]


@dataclass(frozen=True)
class Choice:
    area_code: str
    source: Source
    reason: Text
    orders: int | None = None
    road: str | None = None


@dataclass
class Finding:
    """What one source says: its choices, best first; with ``unsure`` the choices lie in
    several districts and none is suggested over the others."""

    choices: list[Choice]
    unsure: Text | None = None


Area = Mapping[str, Any]


@dataclass
class AreaSuggestion:
    """The suggested district and street (none when unsure or unknown), why, and the
    alternatives, each with its district and street."""

    district: Area | None
    street: Area | None
    source: Source | None
    reason: Text
    road: str | None = None
    orders: int | None = None
    alternatives: list[tuple[Choice, Area, Area | None]] = field(default_factory=list)

    def to_json(self, language: str) -> dict[str, Any]:
        return {
            "district": _area_json(self.district),
            "street": _area_json(self.street),
            "source": self.source,
            "road": self.road,
            "reason": self.reason.render(language),
            "orders": self.orders,
            "alternatives": [
                {
                    "district": _area_json(district),
                    "street": _area_json(street),
                    "source": choice.source,
                    "reason": choice.reason.render(language),
                }
                for choice, district, street in self.alternatives
            ],
        }


def _area_json(area: Area | None) -> dict[str, str] | None:
    if area is None:
        return None
    return {"code": area["code"], "name_zh": area["name_zh"], "name_en": area["name_en"]}


def _district_and_street(code: str, areas: Mapping[str, Area]) -> tuple[Area, Area | None]:
    area = areas[code]
    return (areas[area["parent_code"]], area) if area["parent_code"] else (area, None)


def normalize(address: str) -> str:
    """Full-width letters and digits as ASCII, no spaces: "香港中路 １０ 号" is "香港中路10号"."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", address))


def _names_of_places(areas: Sequence[Area]) -> list[tuple[str, str, bool]]:
    """(name, area code, whether a road may begin with it) for every name of a district
    or a street an address may use; longest first, so "市南区" wins over "市南"."""
    names: list[tuple[str, str, bool]] = []
    district_codes = {a["name_zh"]: a["code"] for a in areas if a["level"] == "district"}
    for area in areas:
        name = area["name_zh"]
        names.append((name, area["code"], False))
        if area["level"] == "district" and len(name) >= 3 and name[-1] in "区市县":
            names.append((name[:-1], area["code"], True))
    for alias, district in DISTRICT_ALIASES.items():
        if district in district_codes:
            names.append((alias, district_codes[district], False))
    return sorted(names, key=lambda n: -len(n[0]))


def _mentions(text: str, name: str, may_begin_road: bool) -> list[int]:
    return [
        m.start()
        for m in re.finditer(re.escape(name), text)
        if not (may_begin_road and ROAD_AFTER.match(text, m.end()))
    ]


def parse_address(address: str, areas: Sequence[Area]) -> Place:
    """The district and street ``address`` names and the roads in it. ``areas`` are the
    rows of the ``areas`` table (code, parent_code, level, name_zh)."""
    text = normalize(address)
    rest = text
    by_code = {a["code"]: a for a in areas}
    named: list[tuple[int, str]] = []
    for name, code, may_begin_road in _names_of_places(areas):
        found = _mentions(rest, name, may_begin_road)
        if found:
            named.append((found[0], code))
            rest = _blank(rest, name, may_begin_road)
    for name in CITY:
        rest = _blank(rest, name, may_begin_road=True)
    named.sort()
    streets = [c for _, c in named if by_code[c]["level"] == "street"]
    districts = [c for _, c in named if by_code[c]["level"] == "district"]
    district = districts[0] if districts else None
    street = next(
        (s for s in streets if district is None or by_code[s]["parent_code"] == district), None
    )
    if street is not None and district is None:
        district = by_code[street]["parent_code"]
    return Place(text=text, district=district, street=street, roads=_roads(rest))


def _blank(text: str, name: str, may_begin_road: bool) -> str:
    """``text`` with each mention of ``name`` replaced by a separator."""
    for start in reversed(_mentions(text, name, may_begin_road)):
        text = text[:start] + SEPARATOR + text[start + len(name) :]
    return text


def _roads(text: str) -> list[str]:
    roads: list[str] = []
    for run in re.split(rf"[^{HAN}]+", text):
        for piece in FILLER.split(run):
            for match in ROAD.finditer(piece):
                # "山东路和宁夏路": 和 joins two roads, yet it also begins some (和平路).
                found = [match.group()]
                if found[0][0] in JOINERS and len(found[0]) > 3:
                    found.append(found[0][1:])
                roads.extend(name for name in found if name not in roads)
    return roads


async def suggest_area(conn: asyncpg.Connection, address: str, phone: str | None) -> AreaSuggestion:
    """The area ``address`` (and the caller at ``phone``, any format ``normalize_phone``
    takes) most likely lies in, with alternatives; nothing suggested when nothing is
    known. An unparsable phone number raises ``InvalidInput``."""
    caller = normalize_phone(phone) if phone else None
    areas = {a["code"]: a for a in await reference.areas(conn)}
    place = parse_address(address, list(areas.values()))
    seed_rows: list[asyncpg.Record] = []
    if place.text:
        seed_rows = await queries.seed_roads_in(conn, place.text)
    roads = _candidate_roads(place, [r["name"] for r in seed_rows])

    findings: list[Finding] = []
    if caller is not None:
        history = await queries.caller_history(conn, caller, CALLER_ORDERS)
        findings.append(_from_caller(place, roads, history, areas))
    if roads:
        rows = await queries.streets_of_roads(conn, roads, ORDERS_PER_ROAD)
        findings.append(_from_orders(place, roads, rows))
        findings.append(_from_seed(place, seed_rows))
    findings.append(_from_names(place, areas))
    return _answer(findings, areas)


def _candidate_roads(place: Place, seed_names: list[str]) -> list[str]:
    """The roads to look up, in the order the address gives them: what the pattern found
    and the seed's names it contains (a seed name inside a longer pattern match, such as
    "福州北路" in "俺住福州北路", is looked up too). The same mention, longest first."""
    names = list(dict.fromkeys([*place.roads, *seed_names]))
    names = [n for n in names if n in place.text]
    names.sort(key=lambda n: (place.text.index(n), -len(n)))
    return names[:ROADS_TRIED]


def _in_district(place: Place, district_code: str | None) -> bool:
    return place.district is None or district_code == place.district


def _district_of(code: str, areas: Mapping[str, Area]) -> str | None:
    area = areas.get(code)
    if area is None:
        return None
    return str(area["parent_code"] or area["code"])


def _from_caller(
    place: Place,
    roads: list[str],
    history: Sequence[Mapping[str, Any]],
    areas: Mapping[str, Area],
) -> Finding:
    usable = [h for h in history if _in_district(place, _district_of(h["area_code"], areas))]
    profile = next((h for h in usable if h["created_at"] is None), None)
    orders = [h for h in usable if h["created_at"] is not None]
    if not place.text:
        # Nothing said yet: where the caller usually is.
        if profile is not None:
            return Finding([Choice(profile["area_code"], "caller", Text("the caller's profile"))])
        if orders:
            code, count = _most_common(orders, areas)
            reason = Text("where the caller's earlier orders were ({count})", count=count)
            return Finding([Choice(code, "caller", reason, orders=count)])
        return Finding([])
    for road in roads:
        same_road = [h for h in orders if road in normalize(h["address"])]
        if same_road:
            code, count = _most_common(same_road, areas)
            reason = Text("the caller's {count} earlier orders on {road}", count=count, road=road)
            return Finding([Choice(code, "caller", reason, orders=count, road=road)])
    if not roads:
        same_place = [h for h in orders if _same_address(place.text, h["address"])]
        if same_place:
            code, count = _most_common(same_place, areas)
            reason = Text("the caller's {count} earlier orders at this address", count=count)
            return Finding([Choice(code, "caller", reason, orders=count)])
    if profile is not None and (
        any(road in normalize(profile["address"]) for road in roads)
        or (not roads and _same_address(place.text, profile["address"]))
    ):
        return Finding([Choice(profile["area_code"], "caller", Text("the caller's profile"))])
    return Finding([])


def _same_address(text: str, other: str) -> bool:
    """One address contains the other (a building, a compound), long enough to mean it."""
    other = normalize(other)
    shorter = min(text, other, key=len)
    return len(shorter) >= MIN_SAME_ADDRESS and (text in other or other in text)


def _most_common(rows: Sequence[Mapping[str, Any]], areas: Mapping[str, Area]) -> tuple[str, int]:
    """The area most of ``rows`` name, a street before its district on a tie, then the
    most recent; and how many rows name it."""
    counts = Counter(r["area_code"] for r in rows)
    latest = {}
    for r in sorted(rows, key=lambda r: r["created_at"]):
        latest[r["area_code"]] = r["created_at"]
    code = max(
        counts, key=lambda c: (counts[c], areas.get(c, {}).get("level") == "street", latest[c])
    )
    return code, counts[code]


def _from_orders(place: Place, roads: list[str], rows: Sequence[Mapping[str, Any]]) -> Finding:
    """The first road the orders know: its streets by the orders naming them. Without a
    district in the address, a road whose orders are spread over districts is unsure."""
    for road in roads:
        found = [r for r in rows if r["road"] == road and _in_district(place, r["district_code"])]
        if not found:
            continue
        by_district: Counter[str] = Counter()
        for r in found:
            by_district[r["district_code"]] += r["orders"]
        top, top_orders = by_district.most_common(1)[0]
        choices = [
            Choice(
                r["street_code"],
                "orders",
                Text("{road} ({count} orders)", road=road, count=r["orders"]),
                orders=r["orders"],
                road=road,
            )
            for r in sorted(found, key=lambda r: (r["district_code"] != top, -r["orders"]))
        ]
        if top_orders < DOMINANT_SHARE * by_district.total():
            return Finding(_one_per_district(choices, rows), _unsure(road))
        return Finding(choices)
    return Finding([])


def _one_per_district(choices: list[Choice], rows: Sequence[Mapping[str, Any]]) -> list[Choice]:
    district = {r["street_code"]: r["district_code"] for r in rows}
    best: dict[str, Choice] = {}
    for choice in choices:
        best.setdefault(district[choice.area_code], choice)
    return sorted(best.values(), key=lambda c: -(c.orders or 0))


def _unsure(road: str) -> Text:
    return Text("{road} is in several districts", road=road)


def _from_seed(place: Place, rows: Sequence[Mapping[str, Any]]) -> Finding:
    """The first name of the seed the address contains, in the district it names if any;
    a name listed in several districts, with none named, is unsure."""
    usable = [r for r in rows if _in_district(place, r["district_code"])]
    if not usable:
        return Finding([])
    name = usable[0]["name"]
    choices = [
        Choice(r["street_code"], "seed", Text("{road} (road list)", road=r["road"]), road=name)
        for r in usable
        if r["name"] == name
    ]
    return Finding(choices, _unsure(name) if len(choices) > 1 else None)


def _from_names(place: Place, areas: Mapping[str, Area]) -> Finding:
    code = place.street or place.district
    if code is None:
        return Finding([])
    reason = Text("the address names {area}", area=Name.of(areas[code]))
    return Finding([Choice(code, "district_name", reason)])


def _answer(findings: list[Finding], areas: Mapping[str, Area]) -> AreaSuggestion:
    """The first finding with choices makes the suggestion (or, unsure, the list to
    choose from); the choices after it that name another area are its alternatives."""
    for finding in findings:
        # An area made since the reference cache was read is offered once it knows it.
        finding.choices = [c for c in finding.choices if c.area_code in areas]
    useful = [f for f in findings if f.choices]
    if not useful:
        return AreaSuggestion(
            None, None, None, Text("no road or district recognised in the address")
        )
    first = useful[0]
    ordered = [c for f in useful for c in f.choices]
    lead = None if first.unsure else ordered.pop(0)
    seen = set() if lead is None else _covered(lead.area_code, areas)
    alternatives = []
    for choice in ordered:
        if choice.area_code not in seen:
            seen |= _covered(choice.area_code, areas)
            alternatives.append((choice, *_district_and_street(choice.area_code, areas)))
    alternatives = alternatives[:ALTERNATIVES]
    if lead is None:
        assert first.unsure is not None
        unsure = first.choices[0]
        return AreaSuggestion(
            None, None, unsure.source, first.unsure, road=unsure.road, alternatives=alternatives
        )
    return AreaSuggestion(
        *_district_and_street(lead.area_code, areas),
        lead.source,
        lead.reason,
        road=lead.road,
        orders=lead.orders,
        alternatives=alternatives,
    )


def _covered(code: str, areas: Mapping[str, Area]) -> set[str]:
    """An area and the district it lies in: a later choice of either says nothing new."""
    parent = areas[code]["parent_code"]
    return {code, parent} if parent else {code}
