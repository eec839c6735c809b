"""Who the client is: the socket peer, unless that peer is a proxy the operator trusts (TRUSTED_PROXIES).

One API (gin's default) believes X-Forwarded-For and X-Real-IP from anyone, so a client could name
its own address and step around a token's subnet limit or the login rate limit. Here the headers
count only when the socket peer is inside TRUSTED_PROXIES. X-Forwarded-For is then walked from the
right (the entry the nearest proxy appended) past trusted hops, and the first untrusted entry is the
client: entries further left were written by the client itself and prove nothing. X-Real-IP is read
only when the request carries no X-Forwarded-For. The answer replaces `scope["client"]` once per
request, so every later use (subnet check, rate limits, logs) sees the same address.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable

from starlette.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_FORWARDED_FOR = b"x-forwarded-for"
_REAL_IP = b"x-real-ip"
# A request with more hops than this is walked only this far (each hop costs a parse).
MAX_HOPS = 32


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


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `::1`, `[::1]:80`; None if not one."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The proxies whose forwarding headers are believed; empty: none are, the socket peer is the client."""

    def __init__(self, networks: Iterable[IPNetwork] = ()) -> None:
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: IPAddress | None) -> bool:
        return address is not None and any(address in net for net in self.networks if net.version == address.version)

    def client_of(self, peer: str, forwarded_for: list[str], real_ip: str) -> str:
        """The client's address given the socket peer and the request's forwarding headers."""
        nearest = parse_address(peer)
        if not self.trusts(nearest):
            return peer
        assert nearest is not None
        hops = [hop for value in forwarded_for for hop in value.split(",")][-MAX_HOPS:]
        if not hops:
            real = parse_address(real_ip) if real_ip else None
            return str(real) if real is not None else str(nearest)
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                break  # a trusted proxy wrote garbage: the last address it vouched for stands
            nearest = address
            if not self.trusts(address):
                break
        return str(nearest)

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
