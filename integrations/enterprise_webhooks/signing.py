"""How a webhook body is encoded and signed, and how a receiver checks it.

The signature is ``sha256=`` + hex HMAC-SHA256(secret, ``f"{timestamp}.{body}"``): the
timestamp is inside the signed text, so a receiver that also refuses old timestamps
cannot be fed a recorded request again later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

SIGNATURE_PREFIX = "sha256="
DEFAULT_TOLERANCE_SECONDS = 300


def encode_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent and signed: compact JSON, UTF-8, Chinese text as is."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Hotline-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    signed = f"{timestamp}.".encode() + body
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, *, event: str, delivery: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """Every header a delivery carries; ``delivery`` is the effect key receivers dedupe on."""
    return {
        "Content-Type": "application/json",
        "X-Hotline-Event": event,
        "X-Hotline-Delivery": delivery,
        "X-Hotline-Timestamp": str(timestamp),
        "X-Hotline-Signature": signature(secret, timestamp, body),
    }


def verify(
    secret: str,
    *,
    timestamp: str,
    body: bytes,
    signature_header: str,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """What a receiver does: the timestamp is recent and the signature matches.

    Compares in constant time so that the check does not reveal how much matched."""
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs(now - sent_at) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, sent_at, body), signature_header)
