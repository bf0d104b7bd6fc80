"""The service item an order's description most likely asks for (派单目录 suggestion).

The description is segmented with jieba, whose dictionary is extended with every keyword
of the catalogue, so "水表不准" or "恢复用热" come out as one word instead of pieces a
general dictionary would cut them into. Keywords must match whole words: a plain
substring test would find "通水" inside "不通水管". An item scores by the keywords it
matched (longer ones weigh more) and, less, by words of its own name.

jieba is blocking (the first use loads its dictionary, about a second): call
``suggest`` from a worker thread in the web process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import jieba

jieba.setLogLevel(logging.WARNING)

KEYWORD_WEIGHT = 2
# A user-dictionary frequency high enough that jieba keeps a keyword whole.
KEYWORD_FREQ = 100_000


class Suggester:
    """One tokenizer per process, rebuilt when the catalogue's words change, and the
    words of each item's name as it cuts them (an item's name is cut once, not on
    every suggestion)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._words: frozenset[str] = frozenset()
        self._tokenizer: jieba.Tokenizer | None = None
        self._names: dict[str, list[str]] = {}

    def _tokenizer_for(self, words: frozenset[str]) -> jieba.Tokenizer:
        with self._lock:
            if self._tokenizer is None or words != self._words:
                tokenizer = jieba.Tokenizer()
                for word in sorted(words):
                    tokenizer.add_word(word, freq=KEYWORD_FREQ)
                self._tokenizer, self._words, self._names = tokenizer, words, {}
            return self._tokenizer

    def words(self, text: str, items: Sequence[Mapping[str, Any]]) -> set[str]:
        """The words of ``text`` as the catalogue-aware segmentation cuts them."""
        vocabulary = frozenset(k for item in items for k in item["keywords"] if k.strip())
        tokenizer = self._tokenizer_for(vocabulary)
        return {w for w in tokenizer.lcut_for_search(text) if w.strip()}

    def suggest(
        self, text: str, items: Sequence[Mapping[str, Any]], limit: int = 3
    ) -> list[dict[str, Any]]:
        """The best ``limit`` active items for ``text``, best first, each with its score
        and the keywords that matched; empty when nothing matches."""
        active = [item for item in items if item["active"]]
        found = self.words(text, active)
        scored = []
        for item in active:
            matched = [k for k in item["keywords"] if k in found]
            name_words = [w for w in self._name_words(item["name_zh"]) if w in found]
            score = sum(KEYWORD_WEIGHT * len(k) for k in matched) + sum(map(len, name_words))
            if score:
                scored.append((score, item, matched))
        scored.sort(key=lambda entry: (-entry[0], entry[1]["code"]))
        return [
            {
                "code": item["code"],
                "name_zh": item["name_zh"],
                "name_en": item["name_en"],
                "kind": item["kind"],
                "domain": item["domain"],
                "score": score,
                "matched": matched,
            }
            for score, item, matched in scored[:limit]
        ]

    def _name_words(self, name: str) -> list[str]:
        with self._lock:
            words = self._names.get(name)
            if words is None:
                assert self._tokenizer is not None
                words = [w for w in self._tokenizer.lcut(name) if len(w) >= 2]
                self._names[name] = words
            return words
