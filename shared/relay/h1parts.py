"""The parts of h1client.py that hold no connection state: URL targets, request bytes, the header
view of an answer and the content decoders."""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

from shared.settings import VERSION

DEFAULT_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate", "User-Agent": f"one-api-python/{VERSION}"}


class ClientError(Exception):
    """The exchange failed: no connection, a broken or malformed answer, or a timeout."""


class AnswerTooLarge(ClientError):
    """The answer's (decoded) body is larger than the client's cap."""


class Target:
    """The parts of a URL a request needs, parsed once per distinct URL."""

    __slots__ = ("key", "host", "port", "tls", "host_header", "path")

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ClientError(f"unsupported URL: {url!r}")
        self.tls = parts.scheme == "https"
        self.host = parts.hostname
        try:
            self.port = parts.port or (443 if self.tls else 80)
        except ValueError as exc:
            raise ClientError(f"invalid port in URL: {url!r}") from exc
        self.key = (parts.scheme, self.host, self.port)
        host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = 443 if self.tls else 80
        self.host_header = host if self.port == default_port else f"{host}:{self.port}"
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def request_bytes(method: str, target: Target, headers: Mapping[str, str], body: bytes | None) -> bytes:
    """The whole request as one write: request line, headers (framing ours), body."""
    lines = [f"{method} {target.path} HTTP/1.1", f"Host: {target.host_header}"]
    given = set()
    for name, value in headers.items():
        low = name.lower()
        if low in ("host", "content-length", "transfer-encoding", "connection"):
            continue  # framing is this client's job
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
            raise ClientError(f"header {name!r} holds a line break")
        given.add(low)
        lines.append(f"{name}: {value}")
    for name, value in DEFAULT_HEADERS.items():
        if name.lower() not in given:
            lines.append(f"{name}: {value}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body or b'')}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode("utf-8") + (body or b"")


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive view of the received header pairs.

    An answer has a dozen headers and the relay looks up one or two, so a scan beats building a
    dict for every response. items() lists repeated names once per value."""

    __slots__ = ("_raw",)

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._raw = raw

    def __getitem__(self, key: str) -> str:
        values = self.getall(key)
        if not values:
            raise KeyError(key)
        return values[0]

    def getall(self, key: str) -> list[str]:
        low = key.lower().encode("latin-1")
        return [v.decode("latin-1") for n, v in self._raw if n.lower() == low]

    def __iter__(self) -> Iterator[str]:
        seen: set[bytes] = set()
        for name, _ in self._raw:
            if name.lower() not in seen:
                seen.add(name.lower())
                yield name.decode("latin-1")

    def __len__(self) -> int:
        return len({n.lower() for n, _ in self._raw})

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(n.decode("latin-1"), v.decode("latin-1")) for n, v in self._raw]


class Decoder:
    """gzip or deflate, decoded as it arrives with its output bounded per call (a gzip bomb is
    refused at the cap, not inflated first).

    The "deflate" coding is zlib-wrapped by the standard, raw from some servers: its first two
    bytes tell, so they are gathered before choosing."""

    __slots__ = ("_gzip", "_obj", "_head")

    def __init__(self, gzip: bool) -> None:
        self._gzip = gzip
        self._obj: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzip else None
        self._head = b""

    def decompress(self, data: bytes, max_length: int) -> bytes:
        """Up to `max_length` decoded bytes of `data` (raises zlib.error on a corrupt stream)."""
        obj = self._obj
        if obj is None:
            data = self._head + data
            if len(data) < 2:
                self._head = data
                return b""
            wrapped = (data[0] & 0x0F) == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            obj = self._obj = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return obj.decompress(data, max_length)

    def complete(self, fed: bool) -> bool:
        """Whether the compressed stream ended properly (an empty body is fine: nothing was encoded)."""
        if not fed:
            return True
        return self._obj is not None and self._obj.eof


def decoder_for(encoding: bytes) -> Decoder | None:
    """The decoder of a Content-Encoding value; None for identity or a coding we did not ask for."""
    coding = encoding.strip().lower()
    if coding == b"gzip" or coding == b"x-gzip":
        return Decoder(gzip=True)
    if coding == b"deflate":
        return Decoder(gzip=False)
    return None
