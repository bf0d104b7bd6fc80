"""Phone numbers to E.164, the one form stored and compared."""

from __future__ import annotations

import functools
import re
from typing import Any

import phonenumbers
from phonenumbers import shortnumberinfo

from hotline.errors import InvalidInput

DEFAULT_REGION = "CN"


# Parsing costs a quarter of a millisecond, a large share of a webhook's whole CPU
# time, and one intake parses the same number more than once (each call's webhooks,
# then its draft). A pure function: its answers can be kept; refusals are not.
@functools.lru_cache(maxsize=65536)
def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 for mobiles and landlines (``0532 8888 8888`` → ``+8653288888888``);
    short service numbers such as 12319 stay as their digits."""
    text = raw.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    try:
        # Inside the try too: a one-digit or lettered "number" fails here already.
        if digits and not text.startswith("+") and len(digits) <= 6:
            short = phonenumbers.parse(digits, region)
            if shortnumberinfo.is_valid_short_number_for_region(short, region):
                return digits
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            "{raw} is not a phone number",
            code="invalid_phone",
            fields={"phone": "not a phone number"},
            raw=raw,
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            "{raw} is not a valid phone number",
            code="invalid_phone",
            fields={"phone": "not a valid number"},
            raw=raw,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(phone: str) -> str:
    """A number for logs and for people who need not call it: a ``+86``/``0086`` (or
    other ``+``) prefix kept, then the first 3 and last 4 digits, the rest hidden
    (``+8613812345678`` → ``+86138****5678``, ``0532-88889999`` → ``053*****9999``).
    Numbers of 7 digits or fewer are hidden whole."""
    prefix = ""
    for known in ("+86", "%2B86", "0086", "+", "%2B"):
        if phone.startswith(known):
            prefix, phone = known, phone[len(known) :]
            break
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) <= 7:
        return prefix + "*" * len(digits)
    return prefix + digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


# Phone numbers inside free text (log lines): mainland mobiles with or without +86/0086
# (also URL-encoded as %2B86), other +86 numbers (landlines in E.164), and domestic
# landlines with their 0-prefixed area code. Not next to other digits or Latin letters,
# so order numbers (96111-20261122-0042), ids, SIDs and timestamps are left alone, but
# a number right after Chinese text (电话13812345678) is still found.
_PHONE_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z+%-])(?:"
    r"(?:(?:\+|%2B|00)86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}"
    r"|(?:\+|%2B|00)86[ -]?[1-9]\d{1,3}[ -]?\d{7,8}"
    r"|0[1-9]\d{1,2}[ -]?\d{7,8}"
    r")(?![0-9A-Za-z-])"
)


def mask_phones(text: str) -> str:
    """Every phone number in ``text`` masked with ``mask_phone``."""
    return _PHONE_IN_TEXT.sub(lambda m: mask_phone(m[0]), text)


def mask_phone_fields(value: Any) -> Any:
    """``value`` with the text under every key ending in ``phone`` masked, at any depth:
    event data as a unit that is not working on the order may see it."""
    if isinstance(value, dict):
        return {
            key: mask_phone(item)
            if key.endswith("phone") and isinstance(item, str)
            else mask_phone_fields(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_phone_fields(item) for item in value]
    return value
