"""The suggestion corpus (config/suggest/corpus.jsonl) holds: every line is a labelled
citizen description of a catalogue item, every item has enough of them, and the lines
describe situations rather than repeat the item's name."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "config" / "suggest" / "corpus.jsonl"
CATALOGUE = ROOT / "config" / "demo" / "catalogue.json"

HOTLINES = {"96111", "96556", "12319"}
CHANNELS = {"voice", "sms", "web"}
MIN_PER_ITEM = 15
MIN_TOTAL = 600


def load_corpus(path: Path) -> list[dict[str, Any]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        row = json.loads(line)
        assert isinstance(row, dict), f"line {number} is not an object"
        assert set(row) == {"text", "item", "hotline", "channel"}, f"line {number}: {sorted(row)}"
        rows.append(row)
    return rows


def catalogue_names() -> dict[str, str]:
    catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return {item["code"]: item["name_zh"] for item in catalogue["items"] + catalogue["general"]}


def corpus_problems(rows: list[dict[str, Any]], names: dict[str, str]) -> list[str]:
    """Every broken rule as a sentence; empty when the corpus holds."""
    problems = []
    for number, row in enumerate(rows, start=1):
        text = row["text"]
        if row["item"] not in names:
            problems.append(f"line {number}: unknown item {row['item']!r}")
        if row["hotline"] not in HOTLINES:
            problems.append(f"line {number}: hotline {row['hotline']!r}")
        if row["channel"] not in CHANNELS:
            problems.append(f"line {number}: channel {row['channel']!r}")
        if not isinstance(text, str) or not 6 <= len(text) <= 200 or text != text.strip():
            problems.append(f"line {number}: text length or spacing {text!r}")
    texts = Counter(row["text"] for row in rows)
    problems += [f"duplicate text {text!r}" for text, count in texts.items() if count > 1]
    if len(rows) < MIN_TOTAL:
        problems.append(f"{len(rows)} lines, fewer than {MIN_TOTAL}")
    by_item: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_item[row["item"]].append(row["text"])
    for code, name in names.items():
        texts_of_item = by_item.get(code, [])
        if len(texts_of_item) < MIN_PER_ITEM:
            problems.append(f"{code}: {len(texts_of_item)} lines, fewer than {MIN_PER_ITEM}")
        # Citizens rarely say the catalogue's name; a corpus that does teaches the name.
        naming = sum(name in text for text in texts_of_item)
        if naming * 3 > len(texts_of_item):
            problems.append(f"{code}: {naming} of {len(texts_of_item)} lines contain {name}")
    return problems


def test_the_corpus_covers_every_item_with_realistic_unique_lines() -> None:
    assert corpus_problems(load_corpus(CORPUS), catalogue_names()) == []


def test_the_checks_catch_a_broken_corpus() -> None:
    names = catalogue_names()
    rows = load_corpus(CORPUS)
    broken = [
        *rows[:-1],
        {**rows[0]},  # a duplicate
        {"text": "水", "item": "X99", "hotline": "110", "channel": "fax"},
    ]
    problems = corpus_problems(broken, names)
    assert any(p.startswith("duplicate text") for p in problems)
    assert any("unknown item 'X99'" in p for p in problems)
    assert any("hotline '110'" in p for p in problems)
    assert any("channel 'fax'" in p for p in problems)
    assert any("text length" in p for p in problems)
    code = rows[0]["item"]
    named = [
        {**row, "text": names[code] + row["text"]} if row["item"] == code else row for row in rows
    ]
    assert any(
        p.startswith(f"{code}: ") and "lines contain" in p for p in corpus_problems(named, names)
    )
    thin = [row for row in rows if row["item"] != code]
    assert f"{code}: 0 lines, fewer than {MIN_PER_ITEM}" in corpus_problems(thin, names)
