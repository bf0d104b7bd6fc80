"""Proof files (佐证材料) behind a small storage interface; the disk is the default.

Files are checked by their content (not the name or the declared type) and by size
before anything is stored. Keys are random, so a name chosen by an uploader never
becomes a path.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hotline.errors import InvalidInput

# Content sniffing: the first bytes of each accepted kind.
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"%PDF-", "application/pdf"),
]


def sniff_content_type(head: bytes) -> str | None:
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def sniff_audio_type(head: bytes) -> str | None:
    """MP3 (an ID3 tag or an MPEG audio frame) or WAV: what a carrier's recording is."""
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    return None


def sniff_media_type(head: bytes) -> str | None:
    """Any kind a browser is handed from here: the kept files' and recordings'."""
    return sniff_content_type(head) or sniff_audio_type(head)


@dataclass(frozen=True)
class StoredFile:
    key: str
    content_type: str
    size_bytes: int
    sha256: str


class ProofStorage(Protocol):
    max_bytes: int

    def save(self, data: bytes) -> StoredFile: ...

    def load(self, key: str) -> bytes: ...


class DiskStorage:
    """Files under ``root/ab/cd/<key>``, written to a temporary name and renamed, so a
    reader never sees half a file."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def check(self, data: bytes) -> str:
        """The file's content type, or InvalidInput when it is empty, too big or a kind
        we do not keep."""
        if not data:
            raise InvalidInput("the file is empty", code="invalid_file", fields={"file": "empty"})
        if len(data) > self.max_bytes:
            raise InvalidInput(
                "the file is larger than {max_bytes} bytes",
                code="file_too_large",
                fields={"file": "too large"},
                max_bytes=self.max_bytes,
            )
        content_type = sniff_content_type(data[:16])
        if content_type is None:
            raise InvalidInput(
                "only JPEG, PNG, WebP and PDF files are accepted",
                code="file_type",
                fields={"file": "not an accepted type"},
            )
        return content_type

    def save(self, data: bytes) -> StoredFile:
        content_type = self.check(data)
        key = new_key()
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(data)
        os.replace(temporary, path)
        return StoredFile(key, content_type, len(data), hashlib.sha256(data).hexdigest())

    def load(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def _path(self, key: str) -> Path:
        return key_path(self.root, key)


def new_key() -> str:
    """A random key: a name that no uploader or requester chooses."""
    return secrets.token_hex(16)


def key_path(root: Path, key: str) -> Path:
    """Where the file of ``key`` lives under ``root`` (``ab/cd/<key>``: no directory grows
    too large); ValueError for anything that is not a key this module made."""
    if len(key) != 32 or not all(c in "0123456789abcdef" for c in key):
        raise ValueError("not a storage key")
    return root / key[:2] / key[2:4] / key
