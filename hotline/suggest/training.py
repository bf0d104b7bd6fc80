"""Training the classifier: a new model version from the corpus and the centre's orders,
evaluated on held-back lines, promoted only if it is not worse than the current one.

What it learns from:

- the corpus (``config/suggest/corpus.jsonl``), written from the domain;
- every order an agent registered: the description and the item the agent confirmed.
  An order whose agent chose another item than the console suggested first is a
  correction and weighs ``CORRECTION_WEIGHT`` (the model was wrong there; an accepted
  suggestion teaches it little it did not know).

One line in ``HELD_BACK_ONE_IN`` is held back, chosen by a hash of its text, so the
same lines are held back from every version. Each version is fitted twice: without the
held-back lines (``evaluated``: its figures, and what later versions are compared with)
and on everything (``serving``: what the console asks). A new version is promoted when
its top-1 and top-3 accuracy on today's held-back lines are at least those of the
current version's ``evaluated`` model on the same lines, which it never saw either.

When and how runs start is ``runs.py``'s business; this module is the run itself. One
run at a time (a session lock): a run whose lease ran out while it was still fitting is
not started twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from hotline import leased
from hotline.context import JobContext
from hotline.reference import queries as ref
from hotline.settings import Settings
from hotline.suggest import queries
from hotline.suggest.classifier import CatalogueItem, Classifier, Example, Figures, evaluate
from hotline.suggest.runs import do_ensure_nightly

log = logging.getLogger(__name__)

CORRECTION_WEIGHT = 3.0
# Versions whose fitted models are kept besides the promoted one (the others keep their
# figures only): enough to look into the last few runs.
KEPT_MODELS = 5
HELD_BACK_ONE_IN = 5
# Order descriptions shorter than this say too little to learn from ("漏水").
SHORTEST_ORDER_TEXT = 4


@dataclass(frozen=True)
class TrainingSet:
    corpus: list[Example]
    orders: list[Example]
    corrections: int

    @property
    def examples(self) -> list[Example]:
        return [*self.corpus, *self.orders]


def held_back(text: str) -> bool:
    return zlib.crc32(text.encode()) % HELD_BACK_ONE_IN == 0


def read_corpus(path: Path) -> list[Example]:
    """The corpus's lines (docs/suggest.md: one JSON object a line)."""
    examples = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                examples.append(Example(row["text"], row["item"], row["hotline"], row["channel"]))
            except (ValueError, KeyError) as e:
                raise ValueError(f"{path}:{number}: not a corpus line ({e})") from e
    return examples


def read_concepts(path: Path) -> dict[str, list[str]]:
    concepts = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(concepts, dict) or not all(
        isinstance(words, list) and all(isinstance(w, str) and w for w in words)
        for words in concepts.values()
    ):
        raise ValueError(f"{path}: expected an object of concept → list of words")
    return concepts


def order_examples(rows: Sequence[asyncpg.Record], known: set[str]) -> tuple[list[Example], int]:
    """The orders as training lines (each text once: the latest order's item wins), and
    how many were corrections."""
    latest: dict[str, Example] = {}
    for row in rows:
        text = row["description"].strip()
        if len(text) < SHORTEST_ORDER_TEXT or row["service_item_code"] not in known:
            continue
        corrected = (
            row["suggested_item_code"] is not None
            and row["suggested_item_code"] != row["service_item_code"]
        )
        latest[text] = Example(
            text,
            row["service_item_code"],
            row["hotline_code"],
            row["channel"],
            CORRECTION_WEIGHT if corrected else 1.0,
        )
    examples = list(latest.values())
    return examples, sum(e.weight == CORRECTION_WEIGHT for e in examples)


async def gather(conn: asyncpg.Connection, settings: Settings) -> tuple[TrainingSet, Any]:
    """The training set and what the fit needs of the reference data."""
    items = [
        CatalogueItem(r["code"], r["domain"], r["name_zh"], tuple(r["keywords"]))
        for r in await ref.list_service_items(conn)
        if r["active"]
    ]
    hotlines = {h["code"]: h["domain"] for h in await ref.list_hotlines(conn)}
    known = {item.code for item in items}
    corpus = [e for e in read_corpus(settings.suggest_corpus) if e.item in known]
    seen = {e.text for e in corpus}
    orders, corrections = order_examples(await queries.training_orders(conn), known)
    orders = [e for e in orders if e.text not in seen]
    return TrainingSet(corpus, orders, corrections), (
        items,
        hotlines,
        read_concepts(settings.suggest_concepts),
    )


@dataclass(frozen=True)
class Built:
    evaluated: Classifier
    serving: Classifier
    held_back: list[Example]
    figures: Figures
    seconds: float


def build(training: TrainingSet, reference: Any) -> Built:
    """Fit both models of a version and measure the one that did not see the held-back
    lines. CPU-bound: seconds."""
    started = time.perf_counter()
    items, hotlines, concepts = reference
    examples = training.examples
    kept = [e for e in examples if not held_back(e.text)]
    test = [e for e in examples if held_back(e.text)]
    evaluated = Classifier.fit(kept, items, hotlines, concepts)
    serving = Classifier.fit(examples, items, hotlines, concepts)
    figures = evaluate(evaluated, test)
    return Built(evaluated, serving, test, figures, time.perf_counter() - started)


async def run_training(conn: asyncpg.Connection, training_id: int, ctx: JobContext) -> str:
    """The job: train, evaluate, store the version, promote it if it is not worse."""
    async with leased.sending_lock(conn, "suggest_trainings", 0) as held:
        if not held:
            return "another training is running"
        row = await conn.fetchrow("SELECT state FROM suggest_trainings WHERE id = $1", training_id)
        if row is None or row["state"] not in ("pending", "enqueued"):
            return "done already"
        try:
            training, reference = await gather(conn, ctx.settings)
            built = build(training, reference)
        except Exception as e:
            log.exception("suggestion training %d failed", training_id)
            async with conn.transaction():
                await _finish(conn, training_id, ctx, model_id=None, error=str(e)[:500])
            return "failed"
        async with conn.transaction():
            model_id, promoted = await _store(conn, training_id, training, built, ctx.clock())
            await _finish(conn, training_id, ctx, model_id=model_id, error=None)
        return f"model {model_id} {'promoted' if promoted else 'rejected'}"


async def _store(
    conn: asyncpg.Connection,
    training_id: int,
    training: TrainingSet,
    built: Built,
    now: dt.datetime,
) -> tuple[int, bool]:
    current = await queries.lock_promoted(conn)
    baseline: Figures | None = None
    if current is not None:
        baseline = evaluate(Classifier.from_bytes(current["evaluated"]), built.held_back)
    figures = built.figures
    promoted = baseline is None or (figures.top1 >= baseline.top1 and figures.top3 >= baseline.top3)
    if promoted and current is not None:
        await queries.retire(conn, current["id"])
    await queries.drop_old_models(conn, KEPT_MODELS - 1)
    model_id = await queries.insert_model(
        conn,
        {
            "created_at": now,
            "training_id": training_id,
            "state": "promoted" if promoted else "rejected",
            "promoted_at": now if promoted else None,
            "corpus_lines": len(training.corpus),
            "order_lines": len(training.orders),
            "corrections": training.corrections,
            "items": len(built.serving.items),
            "held_back": figures.lines,
            "top1": figures.top1,
            "top3": figures.top3,
            "baseline_id": current["id"] if current is not None else None,
            "baseline_top1": baseline.top1 if baseline else None,
            "baseline_top3": baseline.top3 if baseline else None,
            "per_item": figures.per_item,
            "confusions": [list(c) for c in figures.confusions],
            "seconds": built.seconds,
            "evaluated": built.evaluated.to_bytes(),
            "serving": built.serving.to_bytes(),
        },
    )
    return model_id, promoted


async def _finish(
    conn: asyncpg.Connection,
    training_id: int,
    ctx: JobContext,
    *,
    model_id: int | None,
    error: str | None,
) -> None:
    now = ctx.clock()
    await queries.finish_training(conn, training_id, now, model_id=model_id, error=error)
    await do_ensure_nightly(conn, ctx.settings, now)
