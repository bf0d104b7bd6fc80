"""The seed gazetteer ``config/demo/roads.json`` (issue 16, item 4) is well formed: every
road points at a street of ``areas.json``, no name is listed twice within a district,
every district has roads, and the names are Chinese road names. No database needed."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

DEMO = Path(__file__).resolve().parent.parent / "config" / "demo"
# A Chinese road name: Han characters (an ordinal digit is written in Han too) ending in
# one of the generic words Qingdao uses for roads.
ROAD_NAME = re.compile(r"^[\u4e00-\u9fff]+(路|街|道|巷|大道|大街|线|公路)$")


def _load(name: str) -> Any:
    return json.loads((DEMO / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def roads() -> list[dict[str, Any]]:
    loaded = _load("roads.json")
    assert isinstance(loaded, list) and loaded
    return loaded


@pytest.fixture(scope="module")
def district_of() -> dict[str, str]:
    """Street code -> its district's code."""
    return {s["code"]: d["code"] for d in _load("areas.json") for s in d["streets"]}


def _names(road: dict[str, Any]) -> list[str]:
    return [road["road"], *road.get("aliases", [])]


def test_every_entry_has_the_documented_shape(roads: list[dict[str, Any]]) -> None:
    for road in roads:
        assert set(road) <= {"road", "street", "aliases"}, road
        assert isinstance(road["road"], str) and isinstance(road["street"], str), road
        aliases = road.get("aliases", [])
        assert isinstance(aliases, list) and all(isinstance(a, str) for a in aliases), road


def test_every_street_code_exists_in_areas(
    roads: list[dict[str, Any]], district_of: dict[str, str]
) -> None:
    unknown = {r["street"] for r in roads} - set(district_of)
    assert unknown == set()


def test_no_name_is_listed_twice_within_a_district(
    roads: list[dict[str, Any]], district_of: dict[str, str]
) -> None:
    # Across districts a name may repeat (平度 and 市南 both have a 天津路): the address's
    # district decides, so only a repeat inside one district is ambiguous.
    seen = Counter((district_of[r["street"]], name) for r in roads for name in _names(r))
    assert [key for key, count in seen.items() if count > 1] == []


def test_every_district_has_at_least_five_roads(
    roads: list[dict[str, Any]], district_of: dict[str, str]
) -> None:
    per_district = Counter(district_of[r["street"]] for r in roads)
    thin = {
        code: per_district[code] for code in set(district_of.values()) if per_district[code] < 5
    }
    assert thin == {}


def test_names_are_chinese_road_names(roads: list[dict[str, Any]]) -> None:
    wrong = [name for r in roads for name in _names(r) if not ROAD_NAME.match(name)]
    assert wrong == []
