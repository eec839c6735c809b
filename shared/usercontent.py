"""The one outbound HTTP client for user-supplied URLs (image URLs in prompts).

One API fetches these with no address filter (SSRF). Here every request, and every redirect hop,
is vetted after DNS resolution: only http/https, and no loopback, private, link-local, CGNAT,
multicast, reserved, unspecified or cloud-metadata destination. The connection goes to the vetted
IP itself (Host header and TLS SNI keep the name), so a second DNS answer cannot swap it. Through a
proxy the target name is still resolved and vetted here, then handed to the proxy.
A timeout (USER_CONTENT_REQUEST_TIMEOUT, always applied, over the whole exchange) and a size cap
bound every call.

httpx (and the clients, with their TLS contexts) is loaded at the first fetch, not at node start:
most nodes never see an image URL, and both cost a node ~5.5 MB of RSS (bench issue).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.settings import Settings

if TYPE_CHECKING:
    import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressPolicy = Callable[[IPAddress], bool]
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 5
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}

# Refused whatever the address policy says.
METADATA_HOSTNAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata.azure.internal"})
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254"))
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def not_public(url: str, host: str) -> str:
    """One refusal for a forbidden address and for a name that does not resolve: the text must not
    tell a prober what an internal name resolved to, nor whether it exists."""
    return f"refused {url!r}: {host} does not resolve to a public address"


class UserContentError(Exception):
    """A user-supplied URL was refused or could not be fetched; the message says why."""


@dataclass(frozen=True)
class HeadResult:
    status_code: int
    content_type: str
    content_length: int | None
    url: str  # after redirects


def is_public_address(ip: IPAddress) -> bool:
    """The default policy: only globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # the connection goes to the IPv4 address
            return is_public_address(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        tunnelled = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if tunnelled is not None and not is_public_address(tunnelled):
            return False
    if ip in METADATA_ADDRESSES:
        return False
    if (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT)
    ):
        return False
    return ip.is_global


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Resolve with the event loop's getaddrinfo (run in its thread pool)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in out:
            out.append(ip)
    return out


@dataclass(frozen=True)
class _Target:
    url: httpx.URL  # what the user asked for (redirects resolve against it)
    send_url: httpx.URL  # the pinned-IP URL, or `url` when a proxy connects
    host_header: str
    sni: str | None
    via_proxy: bool


class UserContentClient:
    """Fetch user-supplied URLs safely. Use one per node; close with `aclose()`."""

    def __init__(
        self,
        timeout: float = 30.0,
        proxy: str = "",
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_redirects: int = DEFAULT_MAX_REDIRECTS,
        is_allowed_ip: AddressPolicy = is_public_address,
        resolver: Resolver = system_resolver,
        trust_env: bool = True,
    ) -> None:
        self._timeout = timeout if timeout and timeout > 0 else 30.0
        self._max_bytes = max_bytes
        self._max_redirects = max_redirects
        self._allowed = is_allowed_ip
        self._resolve = resolver
        self._env_proxies = {} if proxy or not trust_env else urllib.request.getproxies_environment()
        self._proxy = proxy
        self._explicit_proxy = bool(proxy)
        self._has_proxy = bool(proxy or self._env_proxies.get("http") or self._env_proxies.get("https"))
        self._direct: httpx.AsyncClient | None = None  # both made by _clients() at the first fetch
        self._proxied: httpx.AsyncClient | None = None

    def _clients(self) -> tuple[httpx.AsyncClient, httpx.AsyncClient | None]:
        """(direct, proxied or None), made on first use."""
        if self._direct is None:
            import httpx

            # No keep-alive: pooled connections are keyed by IP and must not serve another name.
            limits = httpx.Limits(max_keepalive_connections=0)
            timeouts = httpx.Timeout(self._timeout)
            if self._proxy:
                self._proxied = httpx.AsyncClient(proxy=self._proxy, timeout=timeouts, limits=limits, trust_env=False)
            elif self._has_proxy:
                self._proxied = httpx.AsyncClient(timeout=timeouts, limits=limits, trust_env=True)
            self._direct = httpx.AsyncClient(timeout=timeouts, limits=limits, trust_env=False, follow_redirects=False)
        return self._direct, self._proxied

    @classmethod
    def from_settings(cls, settings: Settings, max_bytes: int = DEFAULT_MAX_BYTES) -> UserContentClient:
        """Built from USER_CONTENT_REQUEST_TIMEOUT (0 -> 30 s) and USER_CONTENT_REQUEST_PROXY."""
        return cls(
            timeout=float(settings.user_content_request_timeout or 30),
            proxy=settings.user_content_request_proxy,
            max_bytes=max_bytes,
        )

    async def __aenter__(self) -> UserContentClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._direct is not None:
            await self._direct.aclose()
        if self._proxied is not None:
            await self._proxied.aclose()

    async def fetch(self, url: str, max_bytes: int | None = None) -> tuple[str, bytes]:
        """GET the whole body: (Content-Type, bytes). A body over the cap is an error."""
        content_type, body, _, _ = await self._exchange("GET", url, max_bytes or self._max_bytes, truncate=False)
        return content_type, body

    async def get(self, url: str, max_bytes: int | None = None) -> tuple[int, str, bytes]:
        """GET the whole body with its status: (status, Content-Type, bytes). Over the cap is an error."""
        content_type, body, status, _ = await self._exchange("GET", url, max_bytes or self._max_bytes, truncate=False)
        return status, content_type, body

    async def peek(self, url: str, nbytes: int) -> tuple[str, bytes]:
        """GET at most the first `nbytes` bytes (e.g. an image header); never an error for size."""
        content_type, body, _, _ = await self._exchange("GET", url, min(nbytes, self._max_bytes), truncate=True)
        return content_type, body

    async def head(self, url: str) -> HeadResult:
        content_type, _, status, response = await self._exchange("HEAD", url, 0, truncate=True)
        length = response.headers.get("content-length", "")
        return HeadResult(status, content_type, int(length) if length.isdigit() else None, str(response.url))

    async def _exchange(self, method: str, url: str, limit: int, truncate: bool) -> tuple[str, bytes, int, _Response]:
        import httpx

        try:
            async with asyncio.timeout(self._timeout):
                return await self._follow(method, url, limit, truncate)
        except TimeoutError as exc:
            raise UserContentError(f"fetching {url!r} timed out after {self._timeout:g}s") from exc
        except httpx.HTTPError as exc:
            # The class only: httpx's text can name the pinned address the host resolved to.
            raise UserContentError(f"fetching {url!r} failed ({type(exc).__name__})") from exc

    async def _follow(self, method: str, url: str, limit: int, truncate: bool) -> tuple[str, bytes, int, _Response]:
        current = url
        for _hop in range(self._max_redirects + 1):
            target = await self._vet(current)
            direct, proxied = self._clients()
            client = proxied if target.via_proxy and proxied is not None else direct
            headers = {"Host": target.host_header}
            extensions = {"sni_hostname": target.sni} if target.sni else {}
            request = client.build_request(method, target.send_url, headers=headers, extensions=extensions)
            response = await client.send(request, stream=True)
            try:
                location = response.headers.get("location")
                if response.status_code in _REDIRECT_STATUSES and location:
                    current = str(target.url.join(location))
                    continue
                body = b"" if method == "HEAD" else await self._read(response, limit, truncate, current)
                content_type = response.headers.get("content-type", "")
                return content_type, body, response.status_code, _Response(response.headers, target.url)
            finally:
                await response.aclose()
        raise UserContentError(f"fetching {url!r}: more than {self._max_redirects} redirects")

    async def _read(self, response: httpx.Response, limit: int, truncate: bool, url: str) -> bytes:
        declared = response.headers.get("content-length", "")
        if not truncate and declared.isdigit() and int(declared) > limit and "content-encoding" not in response.headers:
            raise UserContentError(f"{url!r} is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                if truncate:
                    return b"".join(chunks)[:limit]
                if size > limit:
                    raise UserContentError(f"{url!r} is larger than {limit} bytes")
        return b"".join(chunks)

    async def _vet(self, url: str) -> _Target:
        import httpx

        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise UserContentError(f"invalid URL {url!r}: {exc}") from exc
        if parsed.scheme not in ("http", "https"):
            raise UserContentError(f"refused {url!r}: only http and https URLs are fetched")
        host = parsed.raw_host.decode("ascii").lower().rstrip(".")
        if not host:
            raise UserContentError(f"refused {url!r}: no host")
        if host in METADATA_HOSTNAMES:
            raise UserContentError(f"refused {url!r}: cloud metadata host")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        ips = await self._addresses(host, port, url)
        for ip in ips:
            if ip in METADATA_ADDRESSES or not self._allowed(ip):
                raise UserContentError(not_public(url, host))
        host_header = parsed.netloc.decode("ascii")
        if self._uses_proxy(parsed.scheme, host):
            return _Target(parsed, parsed, host_header, None, via_proxy=True)
        pinned = parsed.copy_with(host=str(ips[0]))
        sni = host if parsed.scheme == "https" and not _is_ip(host) else None
        return _Target(parsed, pinned, host_header, sni, via_proxy=False)

    async def _addresses(self, host: str, port: int, url: str) -> list[IPAddress]:
        literal = host[1:-1] if host.startswith("[") else host
        if _is_ip(literal):
            return [ipaddress.ip_address(literal)]
        try:
            ips = await self._resolve(host, port)
        except (OSError, UnicodeError, ValueError) as exc:
            raise UserContentError(not_public(url, host)) from exc
        if not ips:
            raise UserContentError(not_public(url, host))
        return ips

    def _uses_proxy(self, scheme: str, host: str) -> bool:
        if not self._has_proxy:
            return False
        if self._explicit_proxy:
            return True
        return bool(self._env_proxies.get(scheme)) and not urllib.request.proxy_bypass_environment(host, self._env_proxies)  # type: ignore[attr-defined]  # in the module, not in typeshed


@dataclass(frozen=True)
class _Response:
    headers: httpx.Headers
    url: httpx.URL


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
