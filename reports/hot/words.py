"""The words of descriptions a period's orders share most (docs/reports.md, "Hot
issues"): each order's words cut by the search's segmentation (hotline/words.py, so a
word here is a word the order search finds), less the stop words of
config/reports/stopwords.txt, single characters, numbers in Chinese numerals and anything
with a digit in it (house numbers, floors, dates)."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from hotline.words import Words, shared_words

STOPWORDS_FILE = Path(__file__).resolve().parents[2] / "config/reports/stopwords.txt"

# Chinese numerals: a word of nothing else is a number (十五 degrees, 三 floors).
NUMERALS = frozenset("零〇一二三四五六七八九十百千万亿两几半")

# The words kept per hotline and day: a period's ranking sums the days' kept words, so a
# word below a day's first this many counts only on the days it made them.
KEPT_PER_DAY = 300


def load_stopwords(path: Path = STOPWORDS_FILE) -> frozenset[str]:
    """The file's words: separated by spaces or lines; '#' starts a comment."""
    words: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        words.update(line.split("#", 1)[0].split())
    return frozenset(words)


@functools.cache
def stopwords() -> frozenset[str]:
    return load_stopwords()


def keeps(word: str, stop: frozenset[str]) -> bool:
    """Whether a word says something: two characters at least, no digit, not a number in
    Chinese numerals, no stop word."""
    return (
        len(word) >= 2
        and not any(ch.isdigit() for ch in word)
        and not set(word) <= NUMERALS
        and word not in stop
    )


def order_words(description: str, words: Words, stop: frozenset[str]) -> set[str]:
    """The words of one description, each once."""
    return {w for w in words.for_query(description) if keeps(w, stop)}


def count_words(
    descriptions: Iterable[tuple[str, str, int]],
    *,
    words: Words | None = None,
    stop: frozenset[str] | None = None,
    kept: int = KEPT_PER_DAY,
) -> dict[str, list[tuple[str, int]]]:
    """Per hotline, its first ``kept`` words by the number of descriptions that have
    them, from (hotline, description, how many orders carry it) triples. Blocking
    (jieba): run it in a thread."""
    words = words or shared_words()
    stop = stopwords() if stop is None else stop
    counters: dict[str, Counter[str]] = {}
    for hotline, description, orders in descriptions:
        counter = counters.setdefault(hotline, Counter())
        for word in order_words(description, words, stop):
            counter[word] += orders
    return {hotline: counter.most_common(kept) for hotline, counter in counters.items()}
