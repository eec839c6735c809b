"""X-Forwarded-For and X-Real-IP are believed only from TRUSTED_PROXIES (issue 12, item 4).

The in-process master's client is 127.0.0.1 (tests.support.app). Without TRUSTED_PROXIES the
headers must not move a token into its subnet nor give a client a fresh login rate-limit budget;
with 127.0.0.1 trusted, the walk from the right names the client the proxy saw."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from shared.client_address import MAX_HOPS, TrustedProxies, parse_networks
from shared.server import uvicorn_options
from tests.support.app import running_master
from tests.support.relay_kit import CHAT, bearer, error_of, relay_world
from tests.support.threaded_server import ThreadedServer

URL = "/v1/chat/completions"
BODY = {"model": "gpt-3.5-turbo", "messages": CHAT}
SUBNET = "10.0.0.0/8"
BAD_LOGIN = {"username": "root", "password": "wrong-password"}
CRITICAL_LIMIT = 20  # master.api.common.CRITICAL: logins per IP per 1200 s


def refused_ip(resp: httpx.Response) -> str:
    """The `当前 ip` of a subnet refusal."""
    assert resp.status_code == 403, resp.text
    message = error_of(resp)["message"]
    assert message.startswith(f"该令牌只能在指定网段使用：{SUBNET}，当前 ip：")
    return message.split("当前 ip：", 1)[1].split(" (request id", 1)[0]


async def test_headers_do_not_move_a_token_into_its_subnet(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        fenced = await w.token(name="fenced", subnet=SUBNET)
        for spoof in ({"X-Forwarded-For": "10.1.2.3"}, {"X-Real-IP": "10.1.2.3"}, {"X-Forwarded-For": "10.1.2.3, 10.4.5.6"}):
            resp = await w.root.post(URL, json=BODY, headers={**bearer(fenced), **spoof})
            assert refused_ip(resp) == "127.0.0.1", spoof
        assert not fake_upstream.requests  # nothing reached the upstream


async def test_headers_do_not_reset_the_login_rate_limit(sqlite_database) -> None:
    async with running_master(sqlite_database.env()) as (_app, client):
        codes = [
            (
                await client.post("/api/user/login", json=BAD_LOGIN, headers={"X-Forwarded-For": f"10.0.0.{i}", "X-Real-IP": f"10.1.0.{i}"})
            ).status_code
            for i in range(CRITICAL_LIMIT + 1)
        ]
        assert codes == [200] * CRITICAL_LIMIT + [429]


async def test_a_trusted_proxy_names_the_client(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream, {"TRUSTED_PROXIES": "127.0.0.1, 192.0.2.0/24"}) as w:
        await w.channel()
        fenced = await w.token(name="fenced", subnet=SUBNET)

        async def chat(headers: dict[str, str]) -> httpx.Response:
            return await w.root.post(URL, json=BODY, headers={**bearer(fenced), **headers})

        assert (await chat({"X-Forwarded-For": "10.1.2.3"})).status_code == 200
        assert (await chat({"X-Forwarded-For": "10.1.2.3, 192.0.2.7"})).status_code == 200  # a trusted hop skipped
        assert (await chat({"X-Real-IP": "10.1.2.3"})).status_code == 200
        # Entries left of the first untrusted one were written by the client: they prove nothing.
        assert refused_ip(await chat({"X-Forwarded-For": "10.1.2.3, 203.0.113.9"})) == "203.0.113.9"
        assert (await chat({"X-Forwarded-For": "10.1.2.3", "X-Real-IP": "203.0.113.9"})).status_code == 200  # XFF first
        assert refused_ip(await chat({})) == "127.0.0.1"


async def test_a_trusted_proxy_gives_each_client_its_own_login_budget(sqlite_database) -> None:
    async with running_master({**sqlite_database.env(), "TRUSTED_PROXIES": "127.0.0.1"}) as (_app, client):

        async def login(ip: str) -> int:
            return (await client.post("/api/user/login", json=BAD_LOGIN, headers={"X-Forwarded-For": ip})).status_code

        assert [await login("198.51.100.1") for _ in range(CRITICAL_LIMIT + 1)] == [200] * CRITICAL_LIMIT + [429]
        assert await login("198.51.100.2") == 200
        assert await login("198.51.100.2, 198.51.100.1") == 429  # the proxy saw .1; the client wrote .2


def test_the_http_server_does_not_read_forwarded_headers() -> None:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 by default; a node's server must not."""
    seen: list[Any] = []

    async def echo(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["client"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    server = ThreadedServer(echo, **{**uvicorn_options(), "lifespan": "off", "timeout_graceful_shutdown": 1}).start()
    try:
        headers = {"X-Forwarded-For": "10.9.9.9", "X-Forwarded-Proto": "https", "X-Real-IP": "10.8.8.8"}
        assert httpx.get(f"http://127.0.0.1:{server.port}/", headers=headers).status_code == 204
    finally:
        server.stop()
    assert seen[0][0] == "127.0.0.1"


# -- the rule itself ------------------------------------------------------------------------------


def test_the_walk_from_the_right() -> None:
    proxies = TrustedProxies(parse_networks("10.0.0.0/8, 192.168.1.1, ::1"))
    assert not TrustedProxies() and proxies
    # An untrusted peer: headers ignored.
    assert proxies.client_of("203.0.113.5", ["1.1.1.1"], "2.2.2.2") == "203.0.113.5"
    # A trusted peer: the right-most untrusted hop, past every trusted one.
    assert proxies.client_of("10.0.0.1", ["6.6.6.6, 1.1.1.1, 10.2.2.2"], "") == "1.1.1.1"
    assert proxies.client_of("10.0.0.1", ["6.6.6.6", "1.1.1.1, 192.168.1.1"], "") == "1.1.1.1"  # headers joined in order
    assert proxies.client_of("10.0.0.1", ["10.3.3.3, 10.2.2.2"], "") == "10.3.3.3"  # all trusted: the left-most
    # Proxies' spellings: ports, brackets, IPv4-mapped peers.
    assert proxies.client_of("::ffff:10.0.0.1", ["1.1.1.1:5678"], "") == "1.1.1.1"
    assert proxies.client_of("::1", ["[2001:db8::1]:443"], "") == "2001:db8::1"
    # Garbage from a trusted proxy: the last address it vouched for stands.
    assert proxies.client_of("10.0.0.1", ["not-an-ip, 10.2.2.2"], "") == "10.2.2.2"
    assert proxies.client_of("10.0.0.1", [""], "") == "10.0.0.1"
    # X-Real-IP only from a trusted peer, and only without X-Forwarded-For.
    assert proxies.client_of("10.0.0.1", [], "1.1.1.1") == "1.1.1.1"
    assert proxies.client_of("10.0.0.1", [], "junk") == "10.0.0.1"
    assert proxies.client_of("10.0.0.1", ["5.5.5.5"], "1.1.1.1") == "5.5.5.5"
    # A long chain is walked MAX_HOPS entries deep at most.
    chain = ", ".join(["10.9.9.9"] * (MAX_HOPS + 10))
    assert proxies.client_of("10.0.0.1", ["1.1.1.1, " + chain], "") == "10.9.9.9"


def test_resolve_rewrites_the_scope_once() -> None:
    proxies = TrustedProxies(parse_networks("127.0.0.1"))
    scope: dict[str, Any] = {"client": ("127.0.0.1", 5000), "headers": [(b"x-forwarded-for", b"198.51.100.4")]}
    proxies.resolve(scope)
    assert scope["client"] == ("198.51.100.4", 0)
    untouched: dict[str, Any] = {"client": ("127.0.0.1", 5000), "headers": []}
    proxies.resolve(untouched)
    TrustedProxies().resolve(scope)
    assert untouched["client"] == ("127.0.0.1", 5000)


def test_a_bad_entry_stops_the_node_at_start() -> None:
    from shared.settings import SettingsError, build_settings

    assert build_settings({"TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1"}).trusted_proxies == parse_networks("10.0.0.0/8,127.0.0.1")
    assert build_settings({}).trusted_proxies == ()
    with pytest.raises(SettingsError, match="lb.internal"):
        build_settings({"TRUSTED_PROXIES": "10.0.0.0/8, lb.internal"})
