"""Browser security headers on every answer: pages, static files, API answers, errors.

Set in ``on_response_prepare``, the last moment before any answer's headers leave (a
middleware would miss answers already sent, such as the socket.io upgrade), so no route
can forget them. docs/web.md explains each header and each CSP source.

The Content-Security-Policy allows scripts only from this site plus the inline scripts a
page package declares with ``allow_inline_script`` (the console's import map: Chromium
has no external import maps), by their SHA-256. There is no ``'unsafe-eval'``: the
console's templates are precompiled (scripts/templates.mjs).
"""

from __future__ import annotations

import base64
import hashlib
import re

from aiohttp import web

from web.keys import SETTINGS

INLINE_SCRIPTS = web.AppKey("inline_scripts", list[str])

# Pages that may ask for the device's location: the public report form's "use my
# location" button. Everywhere else no page may use it.
GEOLOCATION_PAGES = frozenset({"/report"})
# Powerful features no page uses, denied so an injected script or frame cannot ask.
DENIED_FEATURES = (
    "accelerometer",
    "camera",
    "display-capture",
    "gyroscope",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "usb",
)
HSTS = "max-age=31536000"
# A Host header as browsers send it: a name or an IPv4/IPv6 address, an optional port.
# Anything else is left out of the policy rather than written into a header.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def script_hash(text: str) -> str:
    """The CSP source allowing an inline script whose content is ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def allow_inline_script(app: web.Application, text: str) -> None:
    """Let pages run an inline script with exactly this content (between its tags)."""
    app.setdefault(INLINE_SCRIPTS, []).append(script_hash(text))


def content_security_policy(inline_scripts: list[str], host: str) -> str:
    # The socket.io connection: a WebSocket to this same host (older browsers do not
    # count ws:/wss: as 'self').
    sockets = f" ws://{host} wss://{host}" if _HOST.fullmatch(host) else ""
    directives = (
        "default-src 'self'",
        "script-src " + " ".join(["'self'", *inline_scripts]),
        "style-src 'self'",
        # Photos the consoles show are served from here; ECharts exports to data: URLs.
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        f"connect-src 'self'{sockets}",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
    return "; ".join(directives)


def permissions_policy(path: str) -> str:
    geolocation = "geolocation=(self)" if path in GEOLOCATION_PAGES else "geolocation=()"
    return ", ".join([geolocation, *(f"{feature}=()" for feature in DENIED_FEATURES)])


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    # A view may have set a stricter policy of its own (files handed out: web/media.py).
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = content_security_policy(
            request.app.get(INLINE_SCRIPTS, []), request.host
        )
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    # Not no-referrer: browsers then send "Origin: null" on this site's own POSTs, which
    # the CSRF check (web/auth.py) refuses.
    headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
    headers["Permissions-Policy"] = permissions_policy(request.path)
    if request.app[SETTINGS].base_url.startswith("https://"):
        headers["Strict-Transport-Security"] = HSTS


def setup_security_headers(app: web.Application) -> None:
    app.on_response_prepare.append(add_security_headers)
