"""What a hotline's notifications do: the configuration an administrator edits, its
built-in defaults, the texts' placeholders and the quiet hours."""

from __future__ import annotations

import datetime as dt
import string
from typing import Any, Literal
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

Kind = Literal["dispatched", "completed", "before_callback"]
KINDS: tuple[Kind, ...] = ("dispatched", "completed", "before_callback")

# What a text may say, filled for each order. ``time`` is the callback's time and exists
# only before the callback; ``link`` is the public lookup page of the order, there only
# when the setting names that page (``link_base``).
PLACEHOLDERS: dict[Kind, frozenset[str]] = {
    "dispatched": frozenset({"number", "unit", "hotline", "link"}),
    "completed": frozenset({"number", "unit", "hotline", "link"}),
    "before_callback": frozenset({"number", "unit", "hotline", "link", "time"}),
}
# A text of this many characters is already three SMS segments in Chinese (70 each).
MAX_TEXT = 200


def placeholders_of(text: str) -> set[str]:
    """The names of a text's placeholders; ``ValueError`` for a malformed one or one
    with a format or conversion (a text is filled, never formatted)."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError("a brace that opens no placeholder, or one left open") from exc
    names = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError("a placeholder is a plain name in braces")
        names.add(name)
    return names


class Templates(BaseModel):
    """The texts in Chinese, with ``{placeholders}``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    dispatched: str = Field(
        default="【{hotline}】您反映的问题（工单号{number}）已转交{unit}办理，请保存编号以便查询。",
        min_length=1,
        max_length=MAX_TEXT,
    )
    completed: str = Field(
        default="【{hotline}】您的工单{number}已由{unit}办结，稍后将回访您对办理结果的评价。",
        min_length=1,
        max_length=MAX_TEXT,
    )
    before_callback: str = Field(
        default="【{hotline}】{time}左右我们将就工单{number}回访您，请留意{hotline}的来电或短信。",
        min_length=1,
        max_length=MAX_TEXT,
    )

    @field_validator("dispatched", "completed", "before_callback")
    @classmethod
    def _placeholders(cls, text: str, info: ValidationInfo) -> str:
        names = placeholders_of(text)
        kind: Kind = info.field_name  # type: ignore[assignment]
        if names - PLACEHOLDERS[kind]:
            raise ValueError("a placeholder this text cannot have (see placeholders)")
        if "number" not in names:
            raise ValueError("the text must give the order number (its placeholder)")
        return text

    def uses_link(self) -> bool:
        return any("link" in placeholders_of(getattr(self, kind)) for kind in KINDS)


class NotificationConfig(BaseModel):
    """One hotline's notifications (or one channel's of it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    enabled: bool = Field(default=False, description="off: no notice at all")
    dispatched: bool = Field(default=True, description="an SMS when the order is dispatched")
    completed: bool = Field(default=True, description="an SMS when the unit completes it")
    before_callback: bool = Field(default=True, description="an SMS before the callback")
    quiet_start: dt.time = Field(
        default=dt.time(21, 0), description="local time from which nothing is sent"
    )
    quiet_end: dt.time = Field(
        default=dt.time(8, 0), description="local time when sending resumes (= start: none)"
    )
    max_per_order: int = Field(default=3, ge=1, le=10, description="messages per order")
    callback_notice_minutes: int = Field(
        default=60, ge=5, le=1440, description="how long before the callback its notice goes"
    )
    link_base: str = Field(
        default="",
        max_length=300,
        description="the public lookup page; {link} is it with ?number=<order number>",
    )
    templates: Templates = Field(default_factory=Templates)

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _minutes(cls, value: dt.time) -> dt.time:
        if value.second or value.microsecond or value.tzinfo:
            raise ValueError("a local time in whole minutes, HH:MM")
        return value

    @field_validator("link_base")
    @classmethod
    def _page(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("https", "http") or not parts.netloc or parts.query:
                raise ValueError("an http(s) address without a query, or empty")
        return value

    @model_validator(mode="after")
    def _link(self) -> NotificationConfig:
        if self.templates.uses_link() and not self.link_base:
            raise ValueError("a text gives the lookup link: set link_base, the page's address")
        return self

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def link(self, number: str) -> str:
        return f"{self.link_base}?number={quote(number)}" if self.link_base else ""

    def render(self, kind: Kind, **values: str) -> str:
        """The text of ``kind`` with its placeholders filled (validated on input)."""
        return str(getattr(self.templates, kind)).format_map(values)


DEFAULT = NotificationConfig()


def config_of(stored: dict[str, Any] | None) -> NotificationConfig:
    return DEFAULT if stored is None else NotificationConfig.model_validate(stored)


def is_quiet(config: NotificationConfig, local: dt.time) -> bool:
    start, end = config.quiet_start, config.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # over midnight, 21:00-08:00


def allowed_at(config: NotificationConfig, moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """``moment``, or the end of the quiet hours it falls in (local time of ``tz``)."""
    local = moment.astimezone(tz)
    if not is_quiet(config, local.time()):
        return moment
    day = local.date()
    if local.time() >= config.quiet_end:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, config.quiet_end, tzinfo=tz).astimezone(dt.UTC)
