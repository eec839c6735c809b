"""Who the client is: the socket peer, unless that peer is a proxy the operator trusts (TRUSTED_PROXIES).

One API (gin's default) believes X-Forwarded-For and X-Real-IP from anyone, so a client could name
its own address and step around a token's subnet limit or the login rate limit. Here the headers
count only when the socket peer is inside TRUSTED_PROXIES. X-Forwarded-For is then walked from the
right (the entry the nearest proxy appended) past trusted hops, and the first untrusted entry is the
client: entries further left were written by the client itself and prove nothing. X-Real-IP is read
only when the request carries no X-Forwarded-For. The answer replaces `scope["client"]` once per
request, so every later use (subnet check, rate limits, logs) sees the same address. It runs
inside the worker gate (shared.workers.gate): a master's relay worker passes the socket address and
the headers on to worker 0 untouched, and worker 0 resolves them by this same rule.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from starlette.types import Scope

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_FORWARDED_FOR = b"x-forwarded-for"
_REAL_IP = b"x-real-ip"
# A request with more hops than this is walked only this far (each hop costs a parse).
MAX_HOPS = 32
# Addresses already classified (a parse and the range checks cost a few µs; a load balancer's few
# addresses repeat on every request). Emptied when full: it only saves time.
CACHE_SIZE = 4096


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """`10.0.0.0/8, 127.0.0.1` -> networks (a bare address is a /32 or /128); ValueError names a bad entry."""
    networks = []
    for entry in text.replace(";", ",").split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR range") from None
    return tuple(networks)


def parse_address(text: str) -> tuple[int, int, str] | None:
    """An address as proxies write it (`1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`, IPv4-mapped
    IPv6) -> (4 or 6, its integer, its canonical text); None if it is not one. inet_pton: ~10x
    faster than the ipaddress module, and this runs per request behind a load balancer."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    text = text.split("%", 1)[0]
    try:
        packed = socket.inet_pton(socket.AF_INET, text)
        return 4, int.from_bytes(packed, "big"), socket.inet_ntop(socket.AF_INET, packed)
    except (OSError, ValueError):
        pass
    try:
        packed = socket.inet_pton(socket.AF_INET6, text)
    except (OSError, ValueError):
        return None
    value = int.from_bytes(packed, "big")
    if value >> 32 == 0xFFFF:  # ::ffff:a.b.c.d is the IPv4 client a.b.c.d
        v4 = (value & 0xFFFFFFFF).to_bytes(4, "big")
        return 4, value & 0xFFFFFFFF, socket.inet_ntop(socket.AF_INET, v4)
    return 6, value, socket.inet_ntop(socket.AF_INET6, packed)


class TrustedProxies:
    """The proxies whose forwarding headers are believed; empty: none are, the socket peer is the client."""

    def __init__(self, networks: Iterable[IPNetwork] = ()) -> None:
        self.networks = tuple(networks)
        self._ranges = tuple((net.version, int(net.network_address), int(net.netmask)) for net in self.networks)
        self._seen: dict[str, tuple[str | None, bool]] = {}

    def __bool__(self) -> bool:
        return bool(self.networks)

    def _classify(self, text: str) -> tuple[str | None, bool]:
        """(the address in canonical form or None, whether it is a trusted proxy), memoised."""
        known = self._seen.get(text)
        if known is None:
            parsed = parse_address(text)
            if parsed is None:
                known = (None, False)
            else:
                version, value, canonical = parsed
                known = (canonical, any(v == version and value & mask == net for v, net, mask in self._ranges))
            if len(self._seen) >= CACHE_SIZE:
                self._seen.clear()
            self._seen[text] = known
        return known

    def client_of(self, peer: str, forwarded_for: list[str], real_ip: str) -> str:
        """The client's address given the socket peer and the request's forwarding headers."""
        nearest, trusted = self._classify(peer)
        if not trusted:
            return peer
        assert nearest is not None
        hops = [hop for value in forwarded_for for hop in value.split(",")][-MAX_HOPS:]
        if not hops:
            real = self._classify(real_ip)[0] if real_ip else None
            return real if real is not None else nearest
        for hop in reversed(hops):
            address, trusted = self._classify(hop)
            if address is None:
                break  # a trusted proxy wrote garbage: the last address it vouched for stands
            nearest = address
            if not trusted:
                break
        return nearest

    def resolve(self, scope: Scope) -> None:
        """Replace `scope["client"]` by the real client when the peer is a trusted proxy."""
        client = scope.get("client")
        if not self.networks or not client:
            return
        forwarded_for: list[str] = []
        real_ip = ""
        for name, value in scope["headers"]:
            if name == _FORWARDED_FOR:
                forwarded_for.append(value.decode("latin-1"))
            elif name == _REAL_IP:
                real_ip = value.decode("latin-1")
        if not forwarded_for and not real_ip:
            return
        host = self.client_of(client[0], forwarded_for, real_ip)
        if host != client[0]:
            scope["client"] = (host, 0)
