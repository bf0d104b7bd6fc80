"""The service-item classifier's mechanics (issue 16): training as a relayed RQ job,
stored versions, promotion only when not worse, hot reload in the web process, the
hotline's prior, "not sure", learning from an agent's correction, and the keyword
fallback before a first version. Accuracy is the benchmark's business (bench/suggest.py).

A database of its own: a promoted version changes every suggestion, which the other
tests' database must not see."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from hotline import db
from hotline.settings import Settings
from hotline.suggest import queries
from hotline.suggest.classifier import Classifier
from hotline.suggest.runs import (
    do_ensure_nightly,
    do_request_training,
    do_schedule_runs,
    next_nightly,
)
from hotline.suggest.training import held_back, read_corpus, run_training
from tests.conftest import MakeDatabase
from tests.factories import Clock
from tests.process_support import new_database
from tests.routing_support import Desk, open_desks, settle
from tests.suggest_support import small_corpus
from wiring.app import create_app
from wiring.jobs import job_context
from wiring.seed import seed_routing

LEAK = "供水管道漏水，路面大量积水"


@dataclasses.dataclass
class Setup:
    settings: Settings
    pool: asyncpg.Pool
    server: TestServer


@pytest.fixture(scope="module")
async def own(
    fresh_database: MakeDatabase, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Setup]:
    url = await new_database(fresh_database, "suggest")
    mine = small_corpus(settings, tmp_path_factory.mktemp("suggest")).model_copy(
        update={"database_url": url, "queue_name": settings.queue_name + "-suggest"}
    )
    pool = await db.create_pool(url)
    async with pool.acquire() as conn:
        await seed_routing(conn, dt.datetime.now(dt.UTC))
    server = TestServer(create_app(mine, clock=Clock()))
    await server.start_server()
    yield Setup(mine, pool, server)
    await server.close()
    await pool.close()


@pytest.fixture
async def desks(own: Setup) -> AsyncIterator[dict[str, Desk]]:
    async with open_desks(own.server, own.pool, "agent", "supervisor", "water") as made:
        yield made


async def train(own: Setup, settings: Settings | None = None) -> str:
    async with own.pool.acquire() as conn:
        async with conn.transaction():
            run = await do_request_training(conn, None, dt.datetime.now(dt.UTC))
        return await run_training(conn, run["id"], job_context(settings or own.settings))


async def suggest(desk: Desk, text: str, **params: str) -> Any:
    return await desk.get("/api/v1/service-items/suggest", text=text, **params)


async def test_before_a_first_version_the_keywords_answer_as_not_sure(
    desks: dict[str, Desk], own: Setup
) -> None:
    answer = await suggest(desks["agent"], "我家水表不准，这个月水费太高")
    assert answer["model"] is None and answer["not_sure"] is True
    first = answer["items"][0]
    assert first["code"] == "W01" and first["probability"] is None and "水表不准" in first["words"]
    assert (await suggest(desks["agent"], "今天是星期五"))["items"] == []
    # The relay, starting on an installation without a version, queues one at once.
    async with own.pool.acquire() as conn:
        first_run = own.settings.model_copy(update={"suggest_first_run": True})
        await do_schedule_runs(conn, first_run, dt.datetime.now(dt.UTC))
        waiting = await conn.fetch("SELECT reason FROM suggest_trainings WHERE state = 'pending'")
    assert sorted(r["reason"] for r in waiting) == ["nightly", "requested"]


async def test_a_requested_run_is_relayed_trained_promoted_and_hot_loaded(
    own: Setup, desks: dict[str, Desk], monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = desks["supervisor"]
    run = await supervisor.post("/api/v1/suggest/trainings", status=202)
    again = await supervisor.post("/api/v1/suggest/trainings", status=202)
    assert again["id"] == run["id"] and run["state"] == "pending"
    await desks["agent"].post("/api/v1/suggest/trainings", status=403)

    # The relay hands the run to a real worker process working on this module's database.
    monkeypatch.setenv("HOTLINE_DATABASE_URL", own.settings.database_url or "")
    monkeypatch.setenv("HOTLINE_QUEUE_NAME", own.settings.queue_name)
    monkeypatch.setenv("HOTLINE_SUGGEST_CORPUS", str(own.settings.suggest_corpus))
    await settle(own.pool, own.settings)

    done = await supervisor.get(f"/api/v1/suggest/trainings/{run['id']}")
    assert done["state"] == "done" and done["model_id"] is not None and done["error"] is None
    listed = await supervisor.get("/api/v1/suggest/models")
    (version,) = [m for m in listed["models"] if m["id"] == done["model_id"]]
    corpus = read_corpus(own.settings.suggest_corpus)
    assert version["state"] == "promoted" and version["corpus_lines"] == len(corpus)
    assert version["held_back"] == sum(held_back(e.text) for e in corpus)
    assert 0 < version["top1"] <= version["top3"] <= 1 and version["baseline_id"] is None
    assert set(version["per_item"]) >= {"W05", "G05", "H05", "G-PRAISE"}
    # Every run ends by queueing the nightly one.
    assert any(t["reason"] == "nightly" and t["state"] == "pending" for t in listed["trainings"])

    answer = await suggest(desks["agent"], LEAK, hotline="96111", channel="voice")
    assert answer["model"] == {"version": version["id"]}
    first = answer["items"][0]
    assert first["code"] == "W05" and 0 < first["probability"] <= 1
    assert first["words"] and all(word in LEAK for word in first["words"])
    assert len(answer["items"]) == 3
    assert answer["items"][0]["probability"] >= answer["items"][1]["probability"]
    assert first["unit"] is not None and first["unit"]["name"]

    # A newer promoted version answers the next request, without a restart.
    await train(own)
    async with own.pool.acquire() as conn:
        newest = await queries.promoted_id(conn)
    assert newest != version["id"]
    assert (await suggest(desks["agent"], LEAK))["model"] == {"version": newest}


async def test_the_dialled_hotline_leans_the_suggestion(desks: dict[str, Desk], own: Setup) -> None:
    await _promoted(own)
    text = "那个表走得不对，这个月钱多了一倍"
    water = await suggest(desks["agent"], text, hotline="96111")
    energy = await suggest(desks["agent"], text, hotline="96556")
    assert water["items"][0]["code"] == "W01"
    assert energy["items"][0]["code"] == "G03"


async def test_low_confidence_is_not_sure(desks: dict[str, Desk], own: Setup) -> None:
    await _promoted(own)
    vague = await suggest(desks["agent"], "我家那个东西又不行了", hotline="12319")
    assert (
        vague["not_sure"] is True
        and vague["items"][0]["probability"] < own.settings.suggest_sure_at
    )
    clear = await suggest(desks["agent"], "闻到很大的煤气味，报警器一直在响", hotline="96556")
    assert clear["not_sure"] is False and clear["items"][0]["code"] == "G05"


async def test_a_worse_version_is_stored_but_not_promoted(
    own: Setup, desks: dict[str, Desk], tmp_path: Path
) -> None:
    current = await _promoted(own)
    # A corpus of a tenth of those lines learns less: its version is measured against the
    # current one on the same held-back lines and stays rejected.
    lines = own.settings.suggest_corpus.read_text(encoding="utf-8").splitlines()
    small = tmp_path / "corpus.jsonl"
    small.write_text("\n".join(lines[::10]) + "\n", encoding="utf-8")
    outcome = await train(own, own.settings.model_copy(update={"suggest_corpus": small}))
    assert outcome.endswith("rejected"), outcome
    listed = (await desks["supervisor"].get("/api/v1/suggest/models"))["models"]
    rejected = listed[0]
    assert rejected["state"] == "rejected" and rejected["baseline_id"] == current
    assert rejected["top1"] < rejected["baseline_top1"]
    async with own.pool.acquire() as conn:
        assert await queries.promoted_id(conn) == current
    assert (await suggest(desks["agent"], LEAK))["model"] == {"version": current}


async def test_an_agents_correction_is_learned(own: Setup, desks: dict[str, Desk]) -> None:
    await _promoted(own)
    agent = desks["agent"]
    # Our water group's own way of calling a fire hydrant's leak: the agent corrects the
    # suggestion to the general repair item, and the next version has learned it.
    text = "小区门口消防栓呲水呲了一上午了"
    before = await suggest(agent, text, hotline="96111")
    first = before["items"][0]["code"]
    target = "G-REPAIR" if first != "G-REPAIR" else "W05"
    p_before = await _probability(agent, text, target)
    order = await agent.post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": target,
            "description": text,
            "suggested_item": first,
            "client_request_id": "suggest-correction-1",
        },
        status=201,
    )
    async with own.pool.acquire() as conn:
        stored = await conn.fetchval(
            "SELECT suggested_item_code FROM work_orders WHERE id = $1", order["id"]
        )
    assert stored == first
    outcome = await train(own)
    models = (await desks["supervisor"].get("/api/v1/suggest/models"))["models"]
    assert models[0]["corrections"] >= 1 and models[0]["order_lines"] >= 1, outcome
    if outcome.endswith("promoted"):
        assert await _probability(agent, text, target) > p_before
    else:  # not better on the held-back lines: the fitted model has learned it all the same
        async with own.pool.acquire() as conn:
            blob = await queries.model_blob(conn, models[0]["id"], "serving")
        assert blob is not None
        learned = Classifier.from_bytes(blob).probabilities(text, "96111", None)
        assert learned[target] > p_before


async def test_a_bad_suggested_item_is_refused(desks: dict[str, Desk]) -> None:
    await desks["agent"].post(
        "/api/v1/orders",
        {
            "hotline": "96111",
            "service_item": "W05",
            "description": "漏水",
            "suggested_item": "W05; --",
        },
        status=422,
    )


async def test_the_nightly_run_is_queued_once_for_the_next_night(own: Setup) -> None:
    tz_now = dt.datetime(2026, 12, 6, 17, 30, tzinfo=dt.UTC)  # 01:30 in Shanghai
    assert next_nightly(tz_now, "Asia/Shanghai", 2) == dt.datetime(2026, 12, 6, 18, tzinfo=dt.UTC)
    later = dt.datetime(2026, 12, 6, 19, tzinfo=dt.UTC)  # 03:00 in Shanghai
    assert next_nightly(later, "Asia/Shanghai", 2) == dt.datetime(2026, 12, 7, 18, tzinfo=dt.UTC)
    async with own.pool.acquire() as conn:
        for _ in range(2):
            await do_ensure_nightly(conn, own.settings, later)
        waiting = await conn.fetchval(
            "SELECT count(*) FROM suggest_trainings WHERE reason = 'nightly' "
            "AND state IN ('pending', 'enqueued')"
        )
    assert waiting == 1


async def test_old_versions_keep_their_figures_but_not_their_models(own: Setup) -> None:
    current = await _promoted(own)
    async with own.pool.acquire() as conn:
        await queries.drop_old_models(conn, 1)
        rows = await conn.fetch(
            "SELECT id, state, top1, octet_length(serving) AS size FROM suggest_models ORDER BY id"
        )
    assert len(rows) >= 3
    kept = {r["id"] for r in rows if r["size"] > 0}
    newest_other = max(r["id"] for r in rows if r["state"] != "promoted")
    assert kept == {current, newest_other}
    assert all(r["top1"] > 0 for r in rows)


async def _promoted(own: Setup) -> int:
    async with own.pool.acquire() as conn:
        version = await queries.promoted_id(conn)
    if version is None:
        await train(own)
        async with own.pool.acquire() as conn:
            version = await queries.promoted_id(conn)
    assert version is not None
    return version


async def _probability(desk: Desk, text: str, item: str) -> float:
    answer = await suggest(desk, text, hotline="96111", limit="10")
    return next((i["probability"] for i in answer["items"] if i["code"] == item), 0.0)
