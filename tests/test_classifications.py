"""The GB/T 39666 classification codes (docs/core.md, "Classification codes (GB/T
39666)"): administrators add, rename, retire and import them; an item is mapped to a
middle or minor class; retiring a class items still use is refused naming them; a bad
file is refused whole with its lines; and the lookups the 12345 exchange calls find an
item's classes and the items of a class, falling back to its middle then major class.

The session's tests share one database: each test works in a major class of its own
(``free_major_class``)."""

from __future__ import annotations

from typing import Any

import asyncpg

from hotline.reference.admin import read_classifications
from hotline.reference.cache import ReferenceCache
from tests.factories import free_major_class, unique
from tests.routing_support import Desk
from tests.test_reference_admin import admin, agent, item_body, send

__all__ = ["admin", "agent"]  # the fixtures, used by name

ADMIN = "/api/v1/admin"
CODES = f"{ADMIN}/classifications"


async def put(who: Desk, path: str, body: dict[str, Any]) -> Any:
    status, answer = await send(who, "PUT", path, body)
    assert status == 200, answer
    return answer


def code(name_zh: str, value: str) -> dict[str, str]:
    return {"code": value, "name_zh": name_zh, "name_en": f"{name_zh} (en)"}


async def test_codes_are_created_renamed_checked_and_recorded(
    admin: Desk, agent: Desk, pool: asyncpg.Pool
) -> None:
    major = await free_major_class(pool)
    p = major[:2]
    status, _ = await send(agent, "POST", CODES, code("大类", major))
    assert status == 403
    made = await admin.post(CODES, code("测试大类", major), status=201)
    assert (made["level"], made["parent_code"], made["active"]) == ("major", None, True)
    middle = await admin.post(CODES, code("测试中类", p + "0100"), status=201)
    assert (middle["level"], middle["parent_code"]) == ("middle", major)
    minor = await admin.post(CODES, code("测试小类", p + "0101"), status=201)
    assert (minor["level"], minor["parent_code"]) == ("minor", p + "0100")

    # Wrong shapes, a missing class, a taken code.
    for value, field in (("12345", "code"), (p + "0001", "code"), ("000000", "code")):
        status, body = await send(admin, "POST", CODES, code("错", value))
        assert status == 422 and field in body["error"]["fields"], (value, body)
    status, body = await send(admin, "POST", CODES, code("无中类", p + "0201"))
    assert status == 422 and p + "0200" in body["error"]["fields"]["code"], body
    status, body = await send(admin, "POST", CODES, code("重复", major))
    assert (status, body["error"]["code"]) == (409, "duplicate")

    renamed = await put(
        admin, f"{CODES}/{p}0101", {"name_zh": "改名小类", "name_en": "Renamed minor"}
    )
    assert renamed["name_zh"] == "改名小类" and renamed["updated_at"] >= minor["updated_at"]
    status, _ = await send(admin, "PUT", f"{CODES}/{p}0999", {"name_zh": "无", "name_en": ""})
    assert status == 404

    listed = {r["code"]: r for r in (await admin.get(CODES))["items"]}
    assert listed[p + "0101"]["major_name_zh"] == "测试大类"
    assert listed[p + "0101"]["middle_name_zh"] == "测试中类"
    changes = (await admin.get(f"{ADMIN}/changes?entity=classification&key={p}0101"))["items"]
    assert [c["action"] for c in changes] == ["edit", "create"]
    assert changes[0]["after"]["name_zh"] == "改名小类"


async def test_an_item_is_mapped_and_its_class_kept_while_the_item_uses_it(
    admin: Desk, pool: asyncpg.Pool
) -> None:
    major = await free_major_class(pool)
    p = major[:2]
    for value in (major, p + "0100", p + "0101", p + "0102", p + "0200"):
        await admin.post(CODES, code("类" + value, value), status=201)
    item = unique("CL")
    status, body = await send(
        admin, "POST", f"{ADMIN}/service-items", {**item_body(item), "classification_code": major}
    )
    assert status == 422 and "classification_code" in body["error"]["fields"], body
    made = await admin.post(
        f"{ADMIN}/service-items",
        {**item_body(item), "classification_code": p + "0101"},
        status=201,
    )
    assert made["classification_code"] == p + "0101"
    # An edit that does not name the code keeps it.
    kept = await put(admin, f"{ADMIN}/service-items/{item}", item_body(days=6))
    assert kept["classification_code"] == p + "0101"
    listed = {r["code"]: r for r in (await admin.get(f"{ADMIN}/service-items"))["items"]}
    assert listed[item]["classification_code"] == p + "0101"

    # Retiring the class, or a class it sits in, is refused naming the item.
    for value in (p + "0101", p + "0100", major):
        status, body = await send(admin, "POST", f"{CODES}/{value}/disable")
        assert (status, body["error"]["code"]) == (409, "classification_in_use"), body
        assert item in body["error"]["message"]
    # Another class for the item: the old one can go, then the middle class once its
    # other minor class went; a minor class does not come back under a retired middle.
    moved = await put(
        admin, f"{ADMIN}/service-items/{item}", {**item_body(), "classification_code": p + "0200"}
    )
    assert moved["classification_code"] == p + "0200"
    assert not (await admin.post(f"{CODES}/{p}0101/disable", {}))["active"]
    status, body = await send(admin, "POST", f"{CODES}/{p}0100/disable")
    assert (status, body["error"]["code"]) == (409, "classification_in_use"), body
    await admin.post(f"{CODES}/{p}0102/disable", {})
    await admin.post(f"{CODES}/{p}0100/disable", {})
    status, body = await send(admin, "POST", f"{CODES}/{p}0101/enable")
    assert (status, body["error"]["code"]) == (409, "classification_parent_retired"), body
    status, body = await send(
        admin,
        "PUT",
        f"{ADMIN}/service-items/{item}",
        {**item_body(), "classification_code": p + "0101"},
    )
    assert status == 422 and "classification_code" in body["error"]["fields"], body
    # Null takes the item out of the classification.
    cleared = await put(
        admin, f"{ADMIN}/service-items/{item}", {**item_body(), "classification_code": None}
    )
    assert cleared["classification_code"] is None
    changes = (await admin.get(f"{ADMIN}/changes?entity=classification&key={p}0101"))["items"]
    assert [c["action"] for c in changes] == ["disable", "create"]


async def test_lookups_find_an_items_classes_and_a_class_items_falling_back(
    admin: Desk, pool: asyncpg.Pool
) -> None:
    major = await free_major_class(pool)
    p = major[:2]
    for value in (major, p + "0100", p + "0101", p + "0102", p + "0200", p + "0201"):
        await admin.post(CODES, code("类" + value, value), status=201)
    exact, sibling, other = unique("LK"), unique("LK"), unique("LK")
    for item, value in ((exact, "0101"), (sibling, "0102"), (other, "0200")):
        await admin.post(
            f"{ADMIN}/service-items",
            {**item_body(item), "classification_code": p + value},
            status=201,
        )
    # A cache of the test's own that checks the version on every use.
    cache = ReferenceCache(check_every=0)
    async with pool.acquire() as conn:
        found = await cache.classification_of_item(conn, exact)
        assert found is not None
        assert (found["code"], found["level"]) == (p + "0101", "minor")
        assert (found["major_code"], found["major_name_zh"]) == (major, "类" + major)
        assert (found["middle_code"], found["middle_name_zh"]) == (p + "0100", f"类{p}0100")
        assert found["minor_name_zh"] == f"类{p}0101"
        middle = await cache.classification_of_item(conn, other)
        assert middle is not None and (middle["level"], middle["minor_code"]) == ("middle", None)
        assert await cache.classification_of_item(conn, "W-NOWHERE") is None

        assert await cache.items_for_classification(conn, p + "0101") == [exact]
        # No item of the code: those of its middle class; else those of its major class.
        assert await cache.items_for_classification(conn, p + "0199") == [exact, sibling]
        assert await cache.items_for_classification(conn, p + "0201") == [other]
        assert await cache.items_for_classification(conn, p + "9901") == [exact, sibling, other]
        assert await cache.items_for_classification(conn, "not a code") == []
        # A retired item is no answer.
        await admin.post(f"{ADMIN}/service-items/{sibling}/disable", {})
        assert await cache.items_for_classification(conn, p + "0199") == [exact]


async def test_a_file_is_imported_whole_or_refused_with_its_lines(
    admin: Desk, pool: asyncpg.Pool
) -> None:
    major = await free_major_class(pool)
    p = major[:2]
    good = (
        "\ufeffcode,name_zh,name_en\n"
        f"{p}0100,导入中类,Imported middle\n"
        f"{major},导入大类,Imported major\n"
        "\n"
        f"{p}0101,导入小类,\n"
    )
    checked = await admin.post(f"{CODES}/import", {"content": good, "dry_run": True})
    assert checked["created"] == [major, p + "0100", p + "0101"] and checked["dry_run"]
    assert p + "0101" not in {r["code"] for r in (await admin.get(CODES))["items"]}

    imported = await admin.post(f"{CODES}/import", {"content": good})
    assert (imported["created"], imported["updated"]) == ([major, p + "0100", p + "0101"], [])
    listed = {r["code"]: r for r in (await admin.get(CODES))["items"]}
    assert (listed[p + "0101"]["level"], listed[p + "0101"]["name_en"]) == ("minor", "")

    # Again with one name changed and one code more: upserted.
    again = await admin.post(
        f"{CODES}/import",
        {"content": f"{p}0101,导入小类改,Renamed\n{p}0102,新小类,New minor\n"},
    )
    assert (again["created"], again["updated"], again["unchanged"]) == (
        [p + "0102"],
        [p + "0101"],
        0,
    )
    changes = (await admin.get(f"{ADMIN}/changes?entity=classification&key={p}0101"))["items"]
    assert [c["action"] for c in changes] == ["import", "import"]
    assert changes[0]["before"]["name_zh"] == "导入小类"

    bad = (
        "code,name_zh,name_en\n"
        f"{p}0200,好中类,Good\n"  # line 2: fine, yet not stored
        f"{p}02,短编码,Short\n"  # line 3: not six digits
        f"{p}0201,,No name\n"  # line 4: no name
        f"{p}0200,又一个,Again\n"  # line 5: twice
        f"{p}0301,无上级,Orphan\n"  # line 6: its middle class is nowhere
        f"{p}0001,错位,Misplaced\n"  # line 7: a minor class under no middle class
    )
    status, body = await send(admin, "POST", f"{CODES}/import", {"content": bad})
    assert (status, body["error"]["code"]) == (422, "invalid_classification_file"), body
    assert list(body["error"]["fields"]) == [f"rows.{n}" for n in (3, 4, 5, 6, 7)]
    assert p + "0300" in body["error"]["fields"]["rows.6"]
    assert "5" in body["error"]["message"]
    assert p + "0200" not in {r["code"] for r in (await admin.get(CODES))["items"]}

    status, body = await send(
        admin, "POST", f"{CODES}/import", {"content": "code,name_zh,name_en\n\n"}
    )
    assert (status, body["error"]["code"]) == (422, "invalid_classification_file"), body


def test_a_spreadsheets_code_gets_its_leading_zero_back() -> None:
    found, errors = read_classifications("10000,大类,Major\n010100,中类\n")
    assert errors == {}
    assert found == {"010000": (1, "大类", "Major"), "010100": (2, "中类", "")}
