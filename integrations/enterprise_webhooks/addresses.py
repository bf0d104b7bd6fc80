"""Where a webhook may go: public https destinations only (server-side request forgery).

A URL configured by an enterprise administrator is sent from inside our network, so it
must not reach loopback, private networks or the cloud metadata address. Two checks:

- ``check_destination`` when the URL is configured: scheme, host, no userinfo, a port
  of the allow-list (``HOTLINE_WEBHOOK_PORTS``, 443 and 8443 by default), and every
  address the host resolves to is public.
- At send time ``check_url`` (the static part: an IP literal never reaches a resolver)
  and ``PublicOnlyResolver``, which drops non-public addresses from each lookup the HTTP
  client makes, so a name that resolves differently later (DNS rebinding) still cannot
  reach an internal address.

``allow_private`` (``HOTLINE_WEBHOOK_ALLOW_PRIVATE``, tests and local development) also
allows http and loopback, private and shared (CGNAT) addresses; link-local (including
169.254.169.254), multicast, unspecified and reserved addresses stay refused.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Allowed ports as inclusive ranges (``Settings.webhook_port_ranges``).
PortRanges = tuple[tuple[int, int], ...]
DEFAULT_PORTS = {"https": 443, "http": 80}

SHARED_ADDRESS_SPACE = ipaddress.IPv4Network("100.64.0.0/10")  # CGNAT, RFC 6598
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: IPv4 in the last 32 bits
# Kinds that ``allow_private`` lets through; every other non-public kind is always refused.
LOCAL_KINDS = frozenset({"loopback", "private", "shared (CGNAT)", "non-global"})
# A host made only of numbers, such as 2130706433 or 127.1: resolvers read these as IPv4
# addresses although they are not written as one.
_NUMBER = r"(?:0x[0-9a-f]*|[0-9]+)"
_NUMERIC_HOST = re.compile(rf"^{_NUMBER}(?:\.{_NUMBER})*\.?$", re.IGNORECASE)


class RefusedDestination(OSError):
    """The destination is not allowed. An ``OSError`` so that, raised by the resolver,
    the HTTP client reports it as a failed connection like any other."""

    def __init__(self, reason: str) -> None:
        # The HTTP client shows a failed connection's cause by its strerror.
        super().__init__(errno.EACCES, reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 form carries, which is where a connection really goes."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64_PREFIX:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_kind(address: IPAddress) -> str:
    """``"public"``, or which kind of non-public address this is."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return address_kind(inner)
    # Order matters: ::1 is both loopback and reserved, 169.254/16 both link-local and
    # private; the first match names it.
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link-local"
    if address.is_loopback:
        return "loopback"
    if address.is_reserved:
        return "reserved"
    if address in SHARED_ADDRESS_SPACE:
        return "shared (CGNAT)"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "non-global"
    return "public"


def address_problem(address: IPAddress, *, allow_private: bool) -> str | None:
    """None when a webhook may connect to ``address``; else why not, readable."""
    kind = address_kind(address)
    if kind == "public" or (allow_private and kind in LOCAL_KINDS):
        return None
    return f"{address} is not a public address ({kind})"


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _shown(ports: PortRanges) -> str:
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in ports)


def check_url(url: str, *, allow_private: bool, ports: PortRanges) -> str:
    """Check what the URL itself says (no DNS); returns its host.

    Raises ``RefusedDestination`` for another scheme than https (or http with
    ``allow_private``), a missing host, userinfo, a bad port or one not in ``ports``, a
    numeric host that is not a plain IP address, or an IP literal that is not allowed."""
    try:
        parts = urlsplit(url)
        port = parts.port  # reading it checks it: not a number, or out of range
    except ValueError as exc:
        raise RefusedDestination(f"not a valid URL: {exc}") from exc
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise RefusedDestination(f"the URL must start with {' or '.join(schemes)}://")
    if "@" in parts.netloc:
        raise RefusedDestination("the URL must not carry a user name or password")
    host = parts.hostname
    if not host:
        raise RefusedDestination("the URL has no host")
    port = port or DEFAULT_PORTS[parts.scheme]
    if not any(first <= port <= last for first, last in ports):
        raise RefusedDestination(
            f"port {port} is not allowed for webhooks (allowed: {_shown(ports)})"
        )
    literal = _ip_literal(host)
    if literal is None:
        if _NUMERIC_HOST.match(host):
            raise RefusedDestination(f"{host} is not a plain IP address or name")
        return host
    problem = address_problem(literal, allow_private=allow_private)
    if problem:
        raise RefusedDestination(problem)
    return host


class PublicOnlyResolver(AbstractResolver):
    """A resolver for the HTTP client that answers only with allowed addresses.

    Raises ``RefusedDestination`` when a name resolves to no allowed address at all."""

    def __init__(self, *, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        self.allow_private = allow_private
        self.inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        allowed = [
            r
            for r in found
            if address_problem(ipaddress.ip_address(r["host"]), allow_private=self.allow_private)
            is None
        ]
        if not allowed:
            shown = ", ".join(sorted({r["host"] for r in found})) or "nothing"
            raise RefusedDestination(f"{host} resolves to {shown}: no public address")
        return allowed

    async def close(self) -> None:
        await self.inner.close()


async def check_destination(
    url: str,
    *,
    allow_private: bool,
    ports: PortRanges,
    resolver: AbstractResolver | None = None,
) -> None:
    """The check when a URL is configured: ``check_url``, then every address the host
    resolves to must be allowed (one internal address is enough to refuse).

    Raises ``RefusedDestination`` with a readable reason."""
    host = check_url(url, allow_private=allow_private, ports=ports)
    if _ip_literal(host) is not None:
        return  # already checked, and there is nothing to resolve
    lookup = resolver if resolver is not None else DefaultResolver()
    try:
        found = await lookup.resolve(host, 0, socket.AF_UNSPEC)
    except OSError as exc:
        raise RefusedDestination(f"{host} cannot be resolved") from exc
    finally:
        if resolver is None:
            await lookup.close()
    problems = [
        problem
        for r in found
        if (
            problem := address_problem(ipaddress.ip_address(r["host"]), allow_private=allow_private)
        )
    ]
    if not found:
        raise RefusedDestination(f"{host} resolves to no address")
    if problems:
        raise RefusedDestination(f"{host} resolves to a refused address: {'; '.join(problems)}")
