"""What a writer sends for an article, and the criteria of the lists."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

Kind = Literal["guide", "faq", "policy", "script", "outage"]
KINDS: tuple[str, ...] = ("guide", "faq", "policy", "script", "outage")
ListedState = Literal["published", "draft", "submitted", "rejected", "all"]

# The article's texts a person reads, in the order the search weighs them after the title.
TEXT_FIELDS = ("title", "body", "script", "documents", "fees", "time_limit", "steps")


class EnglishText(BaseModel):
    """The English of an article's texts; any subset (what is missing shows in Chinese)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    title: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, max_length=20000)
    script: str | None = Field(default=None, max_length=4000)
    documents: list[str] | None = Field(default=None, max_length=50)
    fees: str | None = Field(default=None, max_length=2000)
    time_limit: str | None = Field(default=None, max_length=500)
    steps: list[str] | None = Field(default=None, max_length=50)


class ArticleInput(BaseModel):
    """One version of an article as its writer sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: Kind
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(default="", max_length=20000)
    script: str = Field(default="", max_length=4000, description="答复口径: what the agent says")
    documents: list[str] = Field(default_factory=list, max_length=50)
    fees: str = Field(default="", max_length=2000)
    time_limit: str = Field(default="", max_length=500)
    steps: list[str] = Field(default_factory=list, max_length=50)
    en: EnglishText = Field(default_factory=EnglishText)
    service_items: list[str] = Field(default_factory=list, max_length=50)
    hotlines: list[str] = Field(
        default_factory=list, max_length=10, description="empty: every hotline"
    )
    areas: list[str] = Field(default_factory=list, max_length=100, description="empty: everywhere")
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    review_due: dt.date | None = None
    change_note: str = Field(default="", max_length=1000)
    submit: bool = Field(default=False, description="submit it for review at once")


class ArticleEdit(ArticleInput):
    """A new version of an existing article, written on top of ``base_version``."""

    base_version: int = Field(ge=1, le=1_000_000)


class ReviewNote(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(default="", max_length=2000)


class RejectNote(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    note: str = Field(min_length=1, max_length=2000, description="what to change")


class ArticleFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    q: str | None = Field(default=None, max_length=200)
    kind: Kind | None = None
    service_item: str | None = Field(default=None, max_length=16)
    hotline: str | None = Field(default=None, max_length=16)
    area: str | None = Field(default=None, max_length=16)
    state: ListedState = "published"
    owner: str | None = Field(
        default=None,
        max_length=20,
        pattern=r"^(centre|\d{1,18})$",
        description='"centre" or an enterprise id',
    )
    review_overdue: bool | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=40, pattern=r"^(any:)?\d{1,18}$")


class ArticleRead(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int | None = Field(default=None, ge=1, le=1_000_000)


class SuggestQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=4000)
    hotline: str | None = Field(default=None, max_length=16)
    service_item: str | None = Field(default=None, max_length=16)
    area: str | None = Field(default=None, max_length=16)


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # "from" is Python's: the attribute is from_, the API's name "from".
    from_: dt.date | None = Field(default=None, validation_alias=AliasChoices("from"))
    to: dt.date | None = None
