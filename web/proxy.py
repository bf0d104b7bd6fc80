"""The client's address behind the reverse proxy.

Behind nginx every request comes from the proxy's address, which would put every citizen
into one per-address rate-limit bucket and record the proxy as every login's address.
When the request comes from a trusted proxy (``HOTLINE_TRUSTED_PROXIES``, addresses or
networks), the client is the right-most ``X-Forwarded-For`` address that is not itself a
trusted proxy; a client cannot forge its way past that, because the proxy appends the
address it saw.
"""

from __future__ import annotations

import ipaddress
from functools import cache

from aiohttp import web
from aiohttp.typedefs import Handler

from web.keys import SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@cache
def trusted_networks(text: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(
    remote: str | None, forwarded_for: str, networks: tuple[Network, ...]
) -> str | None:
    if remote is None or not networks or not _trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop
    return remote


@web.middleware
async def proxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    networks = trusted_networks(request.app[SETTINGS].trusted_proxies)
    forwarded = request.headers.get("X-Forwarded-For", "")
    if networks and forwarded:
        client = client_address(request.remote, forwarded, networks)
        if client is not None and client != request.remote:
            request = request.clone(remote=client)
    return await handler(request)
