"""What an agent or supervisor may change of a caller's profile."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The languages the centre can answer in: 普通话, English, and the Korean and Japanese
# that Qingdao's residents from abroad speak most; "" when nobody has said.
Language = Literal["", "zh", "en", "ko", "ja"]


class CallerUpdate(BaseModel):
    """The fields sent are changed, the others left as they are; ``null`` clears the
    representative and the area."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, max_length=64)
    special_needs: bool | None = None
    key_account: bool | None = None
    representative_username: str | None = Field(default=None, max_length=64)
    preferred_language: Language | None = None
    area_code: str | None = Field(default=None, max_length=16)
    address: str | None = Field(default=None, max_length=300)
    notes: str | None = Field(default=None, max_length=2000)
