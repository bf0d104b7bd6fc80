"""Suggestions: how often the service-item classifier is right, and how fast it answers.

1. Accuracy by stratified cross-validation on the corpus (``config/suggest/corpus.jsonl``,
   ``--folds`` folds): each fold's model is fitted on the other folds (with the
   catalogue's keywords, as in production) and asked about the fold's lines, each with
   its hotline and channel. Printed: top-1 and top-3 overall and by item, the most
   frequent confusion pairs, and how the first suggestion's probability sorts sure from
   unsure (the console's "not sure" below ``HOTLINE_SUGGEST_SURE_AT``). The raw
   baseline, in the same run on the same folds: the catalogue keywords alone (the
   suggester the console had before, ``hotline/suggest/keywords.py``).
2. Latency through the API: a real ``hotline web`` process with a trained, promoted
   version answers ``GET /api/v1/service-items/suggest`` for corpus lines at
   ``--rate`` requests a second (open loop: a request's latency counts from when it was
   due) for ``--seconds``; p50 and p99. The raw baseline: the same model asked in this
   process (``Classifier.guess``), without HTTP, database or routing.

    python -m bench.suggest [--folds 5] [--rate 20] [--seconds 30] [--only accuracy|latency]

Uses HOTLINE_DATABASE_URL / HOTLINE_REDIS_URL when set (else embedded servers) and a
database of its own for part 2. Targets: top-1 >= 90 %, top-3 >= 98 % on the corpus;
p99 <= 30 ms at 20 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import aiohttp
import numpy as np
from sklearn.model_selection import StratifiedKFold

from bench.console import Processes, free_port, log_in, until_up
from bench.scratch import run_on_scratch_database
from hotline import db
from hotline.migrate import migrate
from hotline.settings import Settings
from hotline.suggest import queries
from hotline.suggest.classifier import CatalogueItem, Classifier, Example, evaluate
from hotline.suggest.keywords import Suggester
from hotline.suggest.runs import do_request_training
from hotline.suggest.training import read_concepts, read_corpus, run_training
from hotline.users.service import do_create_user
from wiring.jobs import job_context
from wiring.seed import CONFIG_DIR, seed_reference, seed_routing

PASSWORD = "bench-password-1"


def catalogue() -> tuple[list[CatalogueItem], list[dict[str, object]]]:
    data = json.loads((CONFIG_DIR / "catalogue.json").read_text(encoding="utf-8"))
    rows = [{**item, "active": True} for item in data["items"] + data["general"]]
    items = [
        CatalogueItem(r["code"], r["domain"], r["name_zh"], tuple(r["keywords"])) for r in rows
    ]
    return items, rows


def hotline_domains() -> dict[str, str | None]:
    rows = json.loads((CONFIG_DIR / "hotlines.json").read_text(encoding="utf-8"))
    return {h["code"]: h["domain"] for h in rows}


def accuracy(settings: Settings, folds: int) -> None:
    corpus = read_corpus(settings.suggest_corpus)
    concepts = read_concepts(settings.suggest_concepts)
    items, rows = catalogue()
    hotlines = hotline_domains()
    labels = np.array([e.item for e in corpus])
    folding = StratifiedKFold(folds, shuffle=True, random_state=0)
    split = folding.split(np.zeros(len(corpus)), labels)
    model_hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    keyword_hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    confusions: Counter[tuple[str, str]] = Counter()
    sure: list[tuple[float, bool]] = []
    keywords = Suggester()
    started = time.perf_counter()
    for number, (train, test) in enumerate(split, 1):
        model = Classifier.fit([corpus[i] for i in train], items, hotlines, concepts)
        lines = [corpus[i] for i in test]
        figures = evaluate(model, lines, confusions=1000)
        for a, b, n in figures.confusions:
            confusions[(a, b)] += n
        for line in lines:
            guesses = model.guess(line.text, line.hotline, line.channel, words=0)
            top = [g.item for g in guesses]
            model_hits[line.item].append((top[:1] == [line.item], line.item in top))
            sure.append((guesses[0].probability, top[0] == line.item))
            found = [f["code"] for f in keywords.suggest(line.text, rows, 3)]
            keyword_hits[line.item].append((found[:1] == [line.item], line.item in found))
        print(f"  fold {number}/{folds} done ({time.perf_counter() - started:.0f} s)", flush=True)
    overall = [h for hits in model_hits.values() for h in hits]
    baseline = [h for hits in keyword_hits.values() for h in hits]
    print(f"\n{len(corpus)} corpus lines, {len(model_hits)} items, {folds}-fold cross-validation")
    print(f"{'':28}{'top-1':>8}{'top-3':>8}")
    print(f"{'classifier':28}{share(overall, 0):>8.1%}{share(overall, 1):>8.1%}")
    print(f"{'raw: catalogue keywords':28}{share(baseline, 0):>8.1%}{share(baseline, 1):>8.1%}")
    print(
        f"{'ratio classifier/keywords':28}{share(overall, 0) / max(share(baseline, 0), 1e-9):>8.2f}"
        f"{share(overall, 1) / max(share(baseline, 1), 1e-9):>8.2f}"
    )
    print("\nby item (classifier top-1, top-3; keywords top-1)")
    for item in sorted(model_hits):
        hits = model_hits[item]
        print(
            f"  {item:12} {len(hits):4} lines  {share(hits, 0):6.1%} {share(hits, 1):6.1%}"
            f"   {share(keyword_hits[item], 0):6.1%}"
        )
    print("\nmost frequent confusions (true → first suggestion)")
    for (a, b), n in confusions.most_common(15):
        print(f"  {a:12} → {b:12} {n:4}")
    print("\nfirst suggestion's probability: share of lines at or above, and top-1 there")
    for at in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        above = [right for p, right in sure if p >= at]
        print(
            f"  >= {at:.1f}: {len(above) / len(sure):6.1%} of lines, "
            f"top-1 {sum(above) / max(len(above), 1):6.1%}"
        )


def share(hits: Sequence[tuple[bool, bool]], which: int) -> float:
    return sum(h[which] for h in hits) / len(hits) if hits else 0.0


def percentiles(latencies: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(latencies, n=100)
    return cuts[49] * 1000, cuts[98] * 1000


async def latency(settings: Settings, rate: float, seconds: float) -> None:
    url = settings.database_url
    assert url and settings.redis_url
    await migrate(url)
    conn = await db.connect(url)
    try:
        await seed_reference(conn)
        from hotline.context import utcnow

        await seed_routing(conn, utcnow())
        async with conn.transaction():
            await do_create_user(conn, username="bench-agent", password=PASSWORD, role="agent")
            run = await do_request_training(conn, None, utcnow())
        print("training a version for the web process…", flush=True)
        print(" ", await run_training(conn, run["id"], job_context(settings)))
        version = await queries.promoted_id(conn)
        assert version is not None
        blob = await queries.model_blob(conn, version, "serving")
        assert blob is not None
        model = Classifier.from_bytes(blob)
        model.warm()
    finally:
        await conn.close()
    lines = read_corpus(settings.suggest_corpus)
    count = int(rate * seconds)
    asked = [lines[i * 7919 % len(lines)] for i in range(count)]

    raw: list[float] = []
    for line in asked:
        started = time.perf_counter()
        model.guess(line.text, line.hotline, line.channel)
        raw.append(time.perf_counter() - started)

    processes = Processes(
        {
            **os.environ,
            "HOTLINE_DATABASE_URL": url,
            "HOTLINE_REDIS_URL": settings.redis_url,
            "HOTLINE_LOG_LEVEL": "WARNING",
            "HOTLINE_ENV": "development",
        }
    )
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        await processes.start("-m", "wiring.cli", "web", HOTLINE_PORT=str(port))
        await until_up(base)
        cookie = await log_in(base, "bench-agent")
        async with aiohttp.ClientSession(headers={"Cookie": cookie}) as session:
            await ask(session, base, asked[0])  # the first loads the version
            api = await open_loop(session, base, asked, rate)
    finally:
        await processes.stop_all()
    raw_p50, raw_p99 = percentiles(raw)
    api_p50, api_p99 = percentiles(api)
    print(f"\n{count} suggestions at {rate:g}/s over {seconds:g} s, {os.cpu_count()} cores")
    print(f"{'':34}{'p50 ms':>8}{'p99 ms':>8}")
    print(f"{'API (GET /service-items/suggest)':34}{api_p50:>8.1f}{api_p99:>8.1f}")
    print(f"{'raw: the model in process':34}{raw_p50:>8.1f}{raw_p99:>8.1f}")
    print(f"{'ratio API/raw':34}{api_p50 / raw_p50:>8.2f}{api_p99 / raw_p99:>8.2f}")


async def ask(session: aiohttp.ClientSession, base: str, line: Example) -> None:
    params = {"text": line.text, "hotline": line.hotline or "", "channel": line.channel or ""}
    async with session.get(base + "/api/v1/service-items/suggest", params=params) as response:
        body = await response.json()
        if response.status != 200 or body["model"] is None:
            raise RuntimeError(f"suggest answered {response.status}: {body}")


async def open_loop(
    session: aiohttp.ClientSession, base: str, asked: list[Example], rate: float
) -> list[float]:
    latencies: list[float] = []
    start = time.perf_counter() + 0.1

    async def fire(i: int, line: Example) -> None:
        due = start + i / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        await ask(session, base, line)
        latencies.append(time.perf_counter() - due)

    await asyncio.gather(*(fire(i, line) for i, line in enumerate(asked)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--only", choices=("accuracy", "latency"))
    args = parser.parse_args()
    settings = Settings(var_dir=Path("var"))
    if args.only != "latency":
        accuracy(settings, args.folds)
    if args.only != "accuracy":

        async def measure(scratch: Settings) -> None:
            await latency(scratch, args.rate, args.seconds)

        run_on_scratch_database(measure)


if __name__ == "__main__":
    main()
