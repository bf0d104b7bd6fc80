"""Caller numbers become E.164; short service numbers stay as dialled."""

from __future__ import annotations

import pytest

from hotline.errors import InvalidInput
from hotline.phones import normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13812345678", "+8613812345678"),
        ("138 1234 5678", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("0532-8288 8888", "+8653282888888"),
        ("(0532) 82888888", "+8653282888888"),
        ("12319", "12319"),
        ("12345", "12345"),
    ],
)
def test_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "1", "a1", "12", "+86 123"])
def test_non_numbers_are_refused_with_a_code(raw: str) -> None:
    with pytest.raises(InvalidInput) as info:
        normalize_phone(raw)
    assert info.value.code == "invalid_phone"
