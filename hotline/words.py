"""Chinese words for full-text search: one segmentation for what is indexed and what is
asked, so the two meet (order search, the knowledge base).

PostgreSQL has no Chinese parser here, so the words are cut in Python with jieba and
stored as ``to_tsvector('simple', <words joined by spaces>)``; a query becomes a
``to_tsquery('simple', ...)`` of the same words. Indexed texts are cut "for search"
(a long word also yields the shorter words inside it: 香港中路 → 香港, 中路, 香港中路), so a
query word matches however the indexed text was cut around it.

Synonyms (``config/search/synonyms.json``) widen a query word to its group (暖气 finds
供热); the group's words are added to jieba's dictionary so each stays one word.

jieba is blocking (its dictionary loads on first use, about a second): call these from
a worker thread in the web process.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "config/search/synonyms.json"

# A user-dictionary frequency high enough that jieba keeps a word whole.
WORD_FREQ = 100_000

# Words too common to say anything; kept out of indexes and queries.
STOPWORDS = frozenset(
    """的 了 在 是 我 有 和 就 不 人 都 一 也 很 到 说 要 去 你 会 着 没 看 好 这 那 他 她
    它 吗 呢 吧 啊 呀 哦 嗯 喂 请 请问 一下 一个 我们 你们 他们 我家 家里 这个 那个 什么
    怎么 怎么办 为什么 现在 已经 还是 就是 可以 能不能 需要 问问 问一下
    麻烦 您好 你好 谢谢""".split()  # noqa: SIM905 (a word list reads better as words)
)

Synonyms = Mapping[str, tuple[str, ...]]


def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, tuple[str, ...]]:
    """Each word of a group mapped to its whole group (itself included)."""
    groups = json.loads(path.read_text(encoding="utf-8"))["groups"]
    table: dict[str, tuple[str, ...]] = {}
    for group in groups:
        words = tuple(dict.fromkeys(w.strip().lower() for w in group if w.strip()))
        for word in words:
            # A word in two groups reaches both.
            table[word] = tuple(dict.fromkeys(table.get(word, ()) + words))
    return table


class Words:
    """The segmentation, one per process: jieba's dictionary plus the synonyms' words."""

    def __init__(self, synonyms: Synonyms | None = None) -> None:
        self.synonyms: Synonyms = load_synonyms() if synonyms is None else synonyms
        self._lock = threading.Lock()
        self._tokenizer: jieba.Tokenizer | None = None

    def _cutter(self) -> jieba.Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                tokenizer = jieba.Tokenizer()
                for word in sorted(self.synonyms):
                    tokenizer.add_word(word, freq=WORD_FREQ)
                tokenizer.initialize()
                self._tokenizer = tokenizer
            return self._tokenizer

    def for_index(self, *texts: str) -> str:
        """The words of ``texts`` for ``to_tsvector('simple', ...)``: cut for search,
        each once, joined by spaces."""
        cutter = self._cutter()
        found: dict[str, None] = {}
        for text in texts:
            for word in cutter.lcut_for_search(text.lower()):
                if _meaningful(word):
                    found[word] = None
        return " ".join(found)

    def for_query(self, text: str) -> list[str]:
        """The words a query asks for, in order, each once."""
        return list(dict.fromkeys(w for w in self._cutter().lcut(text.lower()) if _meaningful(w)))

    def tsquery(self, words: Iterable[str], *, every: bool = True) -> str | None:
        """A ``to_tsquery('simple', ...)`` text: each word or one of its synonyms; all
        of the words (``every``) or any of them. None when there is no word."""
        terms = []
        for word in words:
            variants = self.synonyms.get(word, (word,))
            terms.append("(" + " | ".join(_quoted(v) for v in variants) + ")")
        if not terms:
            return None
        return (" & " if every else " | ").join(terms)


@functools.cache
def shared_words() -> Words:
    """The process's segmentation, one for every use (order search, the knowledge
    base): each ``Words`` loads a jieba dictionary of its own."""
    return Words()


def _meaningful(word: str) -> bool:
    word = word.strip()
    return bool(word) and word not in STOPWORDS and any(ch.isalnum() for ch in word)


def _quoted(word: str) -> str:
    """A tsquery lexeme: quoted, so that spaces and operators in it are literal; a
    synonym of several words must match them in sequence."""
    parts = [p for p in word.split() if p]
    escaped = ["'" + p.replace("\\", "\\\\").replace("'", "''") + "'" for p in parts]
    return " <-> ".join(escaped)
