"""Texts people read, in their language: Chinese by default, English on request.

The code writes a text once, in English, as a template with named placeholders
(``"order {order_id} not found"``); the English template is the key of its Chinese in
``locale/zh-CN.json``. Errors carry the template and its values, not the finished
sentence, so the web layer can say it in the language the request asked for
(``Accept-Language``; the console sends its own switch's choice). A template without
Chinese reads in English rather than failing: ``tests/test_messages.py`` finds every
template in the code and keeps the catalogue complete.

A value that is a word of the system's own (a state: ``Term("upheld")``) is translated
too, from the catalogue's terms; ``Alternatives`` reads "a or b" / "a或b".

Validation messages come from pydantic in English; their Chinese is keyed by pydantic's
error type, with the type's context (``max_length`` and the like) as the values; a
validator's own ``ValueError`` is a catalogue template.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CHINESE = "zh-CN"
ENGLISH = "en"
DEFAULT = CHINESE

_DATA = json.loads((Path(__file__).parent / "locale" / "zh-CN.json").read_text("utf-8"))
CATALOGUE: dict[str, str] = _DATA["messages"]
TERMS: dict[str, str] = _DATA["terms"]
VALIDATION: dict[str, str] = _DATA["validation"]
# What a validation error says in Chinese when its type has no entry of its own.
_VALIDATION_FALLBACK = VALIDATION["_"]


class Term(str):
    """A word of the system's vocabulary (a state, a decision) inside a message."""


class Alternatives(tuple[Term, ...]):
    """Terms of which any one would do: "a or b"."""


def _dump(value: Any) -> Any:
    if isinstance(value, Text):
        return value.to_json()
    if isinstance(value, Name):
        return {"zh": value.zh, "en": value.en}
    if isinstance(value, Term):
        return {"term": str(value)}
    return value


def _load(value: Any) -> Any:
    if isinstance(value, dict) and "template" in value:
        return Text.from_json(value)
    if isinstance(value, dict) and "zh" in value:
        return Name(value["zh"], value.get("en"))
    if isinstance(value, dict) and "term" in value:
        return Term(value["term"])
    return value


def _value(value: Any, language: str) -> Any:
    if isinstance(value, Text):
        return value.render(language)
    if isinstance(value, Name):
        return value.zh if language == CHINESE else value.en
    if isinstance(value, Term):
        return (
            TERMS.get(value, value)
            if language == CHINESE
            else value.replace("_", " ").replace("-", " ")
        )
    if isinstance(value, Alternatives):
        return ("或" if language == CHINESE else " or ").join(_value(v, language) for v in value)
    return value


def _format(template: str, values: dict[str, Any], language: str) -> str:
    try:
        return template.format(**{name: _value(v, language) for name, v in values.items()})
    except (KeyError, IndexError, ValueError):
        # A template whose values went missing still says something readable.
        return template


def translate(template: str, language: str, **values: Any) -> str:
    """The template filled with its values, in ``language`` (English when no Chinese)."""
    if language == CHINESE:
        template = CATALOGUE.get(template, template)
    return _format(template, values, language)


def validation_message(kind: str, english: str, language: str, context: dict[str, Any]) -> str:
    """A pydantic error of type ``kind`` (its English message ``english``) for a person."""
    if language != CHINESE:
        return english
    if kind == "value_error":
        # Our validators' own ValueErrors: their text is a template of the catalogue.
        return CATALOGUE.get(str(context.get("error", "")), _VALIDATION_FALLBACK)
    return _format(VALIDATION.get(kind, _VALIDATION_FALLBACK), context, language)


class Name:
    """A name of reference data (a unit, an item, an area) in both languages."""

    def __init__(self, zh: str, en: str | None = None) -> None:
        self.zh = zh
        self.en = en or zh

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Name:
        return cls(row["name_zh"], row.get("name_en"))


class Text:
    """A template with its values, said in a language when someone reads it: a field's
    message whose values are its own, or a text the system writes down (a routing
    reason) to be read later in either language. Values may be terms, names and texts."""

    def __init__(self, template: str, **values: Any) -> None:
        self.template = template
        self.values = values

    def render(self, language: str) -> str:
        return translate(self.template, language, **self.values)

    def __str__(self) -> str:
        return self.render(ENGLISH)

    def to_json(self) -> dict[str, Any]:
        """The text as stored (an event's ``texts``, a dispatch's ``reason_i18n``)."""
        return {"template": self.template, "values": {k: _dump(v) for k, v in self.values.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Text:
        return cls(data["template"], **{k: _load(v) for k, v in data["values"].items()})


class ValidationText(Text):
    """One of pydantic's errors (its ``type``, English ``msg`` and ``ctx``)."""

    def __init__(self, error: Mapping[str, Any]) -> None:
        super().__init__(str(error["msg"]))
        self.kind = str(error["type"])
        self.context = dict(error.get("ctx") or {})

    def render(self, language: str) -> str:
        return validation_message(self.kind, self.template, language, self.context)


def negotiate(accept_language: str | None) -> str:
    """The language an ``Accept-Language`` header prefers among ours (Chinese if none).

    Tags are weighed by their ``q``; the first of the highest weight that is Chinese or
    English wins. A header naming neither (``de``) gets the default."""
    best, best_q = DEFAULT, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        language = {"zh": CHINESE, "en": ENGLISH}.get(primary)
        if language is None:
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q:
            best, best_q = language, q
    return best


def store_texts(data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` as stored (an event's): each ``Text`` value written in Chinese, which
    reports and SQL read, with the text itself kept under ``texts`` for other readers."""
    out = {k: v.render(CHINESE) if isinstance(v, Text) else v for k, v in data.items()}
    texts = {k: v.to_json() for k, v in data.items() if isinstance(v, Text)}
    if texts:
        out["texts"] = texts
    return out


def render_texts(data: Mapping[str, Any], language: str) -> dict[str, Any]:
    """Stored ``data`` for a reader of ``language``: its texts said in that language."""
    out = {k: v for k, v in data.items() if k != "texts"}
    for key, text in (data.get("texts") or {}).items():
        out[key] = Text.from_json(text).render(language)
    return out
