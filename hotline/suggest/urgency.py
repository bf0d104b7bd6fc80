"""Whether what a citizen says suggests 紧急 (an urgent order), and why.

An urgent order runs on its item's urgent limits in natural hours (``docs/core.md``,
"Urgent orders"); the agent decides, this only reminds them, naming the words that
matched. The rules are data (``config/suggest/urgency.json``, ``docs/suggest.md``):
regular expressions written for spoken Chinese, negations that cancel a match in the
same clause ("没有燃气味", "报警器没响"), and patterns that need a second one anywhere in
the text ("头晕恶心" with "燃气热水器开着"), because callers say the two apart.

The text is cut into clauses first, so a negation in one clause does not cancel what
another one says: "不是漏气，就是打不着火" fires nothing, "报警器没响，但是煤气味很大" fires.
A text that thanks or praises ("…一个多小时就来人了，必须给他们点个赞") tells of an emergency
already handled, wherever the thanks stand, and suggests nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

from hotline import i18n

RULES_FILE = Path(__file__).resolve().parents[2] / "config" / "suggest" / "urgency.json"

# Where a clause ends: punctuation and spaces, and the turns of spoken Chinese after
# which the caller says something else ("不是漏气，就是打不着火", "…但是煤气味很大").
CLAUSE_BREAK = re.compile(r"[，,。.！!？?；;：:\s]+|但是|可是|不过|就是")
# {NAME} in a pattern stands for the file's words; a quantifier such as {0,3} does not.
WORD = re.compile(r"\{([A-Z_]+)\}")
# Between the words of a pattern and of its companion in the shown match.
APART = "…"


class RulesError(RuntimeError):
    """The rules file is not as docs/suggest.md describes it."""


class Reason(TypedDict):
    code: str
    text: str
    matched: str


class Urgency(TypedDict):
    urgent: bool
    reasons: list[Reason]


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    # Patterns one of which must also match somewhere in the text (empty: none needed).
    together: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class Rule:
    code: str
    reason: Mapping[str, str]  # language → what the agent reads
    patterns: tuple[Pattern, ...]
    negations: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    # Anywhere in the text, these cancel every rule (thanks for an emergency handled).
    thanks: tuple[re.Pattern[str], ...] = ()


def load_rules(path: Path = RULES_FILE) -> Rules:
    """The rules of ``path``, their patterns compiled; ``RulesError`` names the rule and
    the pattern at fault."""
    try:
        data = json.loads(path.read_text("utf-8"))
        words: dict[str, str] = data["words"]
        common = [entry["re"] for entry in data["common_negations"]]
        thanks = [entry["re"] for entry in data.get("thanks", ())]
        raw_rules = data["rules"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RulesError(f"{path}: cannot read the urgency rules: {exc!r}") from exc
    try:
        compiled_thanks = tuple(_compile(pattern, words) for pattern in thanks)
    except ValueError as exc:
        raise RulesError(f"{path}: urgency thanks: {exc}") from exc
    rules = []
    seen: set[str] = set()
    for raw in raw_rules:
        code = raw.get("code", "?") if isinstance(raw, dict) else "?"
        try:
            rule = _rule(raw, words, common)
        except (KeyError, TypeError, ValueError, re.error) as exc:
            raise RulesError(f"{path}: urgency rule {code!r}: {exc}") from exc
        if rule.code in seen:
            raise RulesError(f"{path}: urgency rule {code!r} appears twice")
        seen.add(rule.code)
        rules.append(rule)
    return Rules(tuple(rules), compiled_thanks)


def _rule(raw: Mapping[str, Any], words: Mapping[str, str], common: Sequence[str]) -> Rule:
    reason = raw["reason"]
    if not reason.get(i18n.CHINESE) or not reason.get(i18n.ENGLISH):
        raise ValueError(f"its reason needs {i18n.CHINESE!r} and {i18n.ENGLISH!r}")
    if not raw["patterns"]:
        raise ValueError("it has no patterns")
    patterns = tuple(
        Pattern(
            _compile(entry["re"], words),
            tuple(_compile(other["re"], words) for other in entry.get("with", ())),
        )
        for entry in raw["patterns"]
    )
    negations = [entry["re"] for entry in raw.get("negations", ())]
    return Rule(
        code=raw["code"],
        reason={i18n.CHINESE: reason[i18n.CHINESE], i18n.ENGLISH: reason[i18n.ENGLISH]},
        patterns=patterns,
        negations=tuple(_compile(pattern, words) for pattern in [*negations, *common]),
    )


def _compile(pattern: str, words: Mapping[str, str]) -> re.Pattern[str]:
    def word(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in words:
            raise ValueError(f"pattern {pattern!r} names the unknown word {{{name}}}")
        return words[name]

    expanded = WORD.sub(word, pattern)
    try:
        regex = re.compile(expanded)
    except re.error as exc:
        raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
    if regex.search(""):
        raise ValueError(f"pattern {pattern!r} matches empty text")
    return regex


def clauses(text: str) -> list[str]:
    """``text`` cut where the caller moves on to something else."""
    return [clause for clause in CLAUSE_BREAK.split(text) if clause]


def suggest_urgency(text: str, language: str, rules: Rules) -> Urgency | None:
    """``None``, or 紧急 suggested with a reason for every rule that fired: its text in
    ``language`` and the words that matched."""
    if any(regex.search(text) for regex in rules.thanks):
        return None
    parts = clauses(text)
    reasons: list[Reason] = []
    for rule in rules.rules:
        matched = _fired(rule, parts)
        if matched is not None:
            shown = rule.reason.get(language) or rule.reason[i18n.CHINESE]
            reasons.append({"code": rule.code, "text": shown, "matched": matched})
    return {"urgent": True, "reasons": reasons} if reasons else None


def _fired(rule: Rule, parts: Sequence[str]) -> str | None:
    """The words a rule fired on, or ``None``."""
    # A clause that one of the rule's negations matches says nothing for it.
    live = [part for part in parts if not any(n.search(part) for n in rule.negations)]
    for pattern in rule.patterns:
        for part in live:
            found = pattern.regex.search(part)
            if found is None:
                continue
            if not pattern.together:
                return found.group()
            companion = _first(pattern.together, live)
            if companion is not None:
                return found.group() + APART + companion
    return None


def _first(regexes: Sequence[re.Pattern[str]], parts: Sequence[str]) -> str | None:
    for part in parts:
        for regex in regexes:
            found = regex.search(part)
            if found is not None:
                return found.group()
    return None


RULES = load_rules()
