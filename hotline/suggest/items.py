"""The service items a description most likely asks for, as the console shows them.

The web process answers with the promoted model version (``PromotedModel``): each request
asks the database which version is promoted (one indexed row) and loads a newly
promoted one before answering, so a training run's promotion reaches every web process
without a restart. Until a first version is trained, the catalogue's keywords answer
(``keywords.Suggester``), always as "not sure".
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from hotline.suggest import queries
from hotline.suggest.classifier import Classifier
from hotline.suggest.keywords import Suggester


@dataclass(frozen=True)
class Loaded:
    version: int
    model: Classifier


class PromotedModel:
    """The promoted version, loaded once per process and again when another is promoted."""

    def __init__(self) -> None:
        self._loaded: Loaded | None = None
        self._lock = asyncio.Lock()

    async def get(self, conn: asyncpg.Connection) -> Loaded | None:
        version = await queries.promoted_id(conn)
        if version is None:
            return None
        if self._loaded is None or self._loaded.version != version:
            async with self._lock:
                if self._loaded is None or self._loaded.version != version:
                    blob = await queries.model_blob(conn, version, "serving")
                    if blob is None:  # retired and removed meanwhile: keep the one we have
                        return self._loaded
                    self._loaded = Loaded(version, await asyncio.to_thread(_load, blob))
        return self._loaded


def _load(blob: bytes) -> Classifier:
    model = Classifier.from_bytes(blob)
    model.warm()
    return model


def item_json(item: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "code": item["code"],
        "name_zh": item["name_zh"],
        "name_en": item["name_en"],
        "kind": item["kind"],
        "domain": item["domain"],
    }


def suggest(
    loaded: Loaded | None,
    keywords: Suggester,
    text: str,
    hotline: str | None,
    channel: str | None,
    items: Sequence[Mapping[str, Any]],
    *,
    limit: int,
    sure_at: float,
) -> dict[str, Any]:
    """The answer: ``items`` (best first: code, names, ``probability``, ``words``),
    ``not_sure`` (the first is below ``sure_at``, or there is no model yet) and the
    ``model`` version that answered. Blocking (jieba, the model): run it in a thread."""
    active = {item["code"]: item for item in items if item["active"]}
    if loaded is None:
        found = keywords.suggest(text, items, limit)
        return {
            "items": [
                {**item_json(active[f["code"]]), "probability": None, "words": f["matched"]}
                for f in found
            ],
            "not_sure": True,
            "model": None,
        }
    guesses = loaded.model.guess(text, hotline, channel, active=set(active), limit=limit)
    return {
        "items": [
            {**item_json(active[g.item]), "probability": round(g.probability, 4), "words": g.words}
            for g in guesses
        ],
        "not_sure": not guesses or guesses[0].probability < sure_at,
        "model": {"version": loaded.version},
    }
