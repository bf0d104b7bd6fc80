"""Files handed to a browser (proof and progress files, the form's photos, recorded
messages): typed by their content, shown in the page only when an ``<img>`` or an
``<audio>`` plays them, never run."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from hotline.storage import sniff_media_type

# Inline only for what the console embeds; anything else (a PDF) is downloaded, so no
# file an uploader chose is ever rendered as a document of this site.
INLINE_PREFIXES = ("image/", "audio/")


def media_response(data: bytes, filename: str | None = None) -> web.Response:
    """``data`` with the type its first bytes show (not its name, not what the sender
    declared), nosniff, a policy that lets nothing in it load or run, and private
    caching (the next viewer may not be allowed to see it)."""
    content_type = sniff_media_type(data[:16]) or "application/octet-stream"
    disposition = "inline" if content_type.startswith(INLINE_PREFIXES) else "attachment"
    if filename:
        disposition += f"; filename*=UTF-8''{quote(filename, safe='')}"
    return web.Response(
        body=data,
        content_type=content_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=3600",
        },
    )
