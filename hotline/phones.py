"""Phone numbers to E.164, the one form stored and compared."""

from __future__ import annotations

import phonenumbers
from phonenumbers import shortnumberinfo

from hotline.errors import InvalidInput

DEFAULT_REGION = "CN"


def normalize_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 for mobiles and landlines (``0532 8888 8888`` → ``+8653288888888``);
    short service numbers such as 12319 stay as their digits."""
    text = raw.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and not text.startswith("+") and len(digits) <= 6:
        short = phonenumbers.parse(digits, region)
        if shortnumberinfo.is_valid_short_number_for_region(short, region):
            return digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            f"{raw!r} is not a phone number", code="invalid_phone", fields={"phone": str(exc)}
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput(
            f"{raw!r} is not a valid phone number",
            code="invalid_phone",
            fields={"phone": "not a valid number"},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
