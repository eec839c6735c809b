"""An SSRF refusal does not tell a prober what a name resolved to, nor whether it exists (issue 12, item 9).

Image URLs in prompts are fetched by the hardened client (shared.usercontent). Its refusals reach
the token holder as the relay's 400 `invalid_image_url`: a name that resolves to a private address
and a name that does not resolve get the same text, without the address."""

from __future__ import annotations

import ipaddress

import pytest

from shared.usercontent import IPAddress, UserContentClient, UserContentError
from tests.support.relay_kit import bearer, error_of, relay_world

PRIVATE = "10.11.12.13"


async def resolver(host: str, port: int) -> list[IPAddress]:
    if host == "intranet.example":
        return [ipaddress.ip_address(PRIVATE)]
    raise OSError(f"[Errno -2] Name or service not known: {host}")


async def refusal(client: UserContentClient, url: str) -> str:
    with pytest.raises(UserContentError) as caught:
        await client.fetch(url)
    return str(caught.value)


async def test_a_private_name_and_a_missing_name_are_refused_alike() -> None:
    async with UserContentClient(timeout=5, resolver=resolver, trust_env=False) as client:
        private = await refusal(client, "http://intranet.example/a.png")
        missing = await refusal(client, "http://missing.example/a.png")
    assert PRIVATE not in private and "Errno" not in missing
    assert private.replace("intranet", "missing") == missing


async def test_a_failed_fetch_names_no_address() -> None:
    # Allowed to connect (a permissive policy), but nothing listens on port 9 of localhost.
    async with UserContentClient(timeout=5, is_allowed_ip=lambda ip: True, trust_env=False) as client:
        message = await refusal(client, "http://localhost:9/a.png")
    assert "127.0.0.1" not in message and "::1" not in message and "localhost:9" in message


async def test_the_relay_refusal_names_no_address(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=14, key="anthropic-secret", models="claude-3-haiku-20240307")
        token = await w.token()
        image = {"type": "image_url", "image_url": {"url": "http://localhost:9/cat.png"}}
        body = {
            "model": "claude-3-haiku-20240307",
            "messages": [{"role": "user", "content": [image, {"type": "text", "text": "what is it?"}]}],
        }
        resp = await w.root.post("/v1/chat/completions", headers=bearer(token), json=body)
        assert resp.status_code == 400, resp.text
        error = error_of(resp)
        assert error["code"] == "invalid_image_url" and "does not resolve to a public address" in error["message"]
        assert "127.0.0.1" not in resp.text and "::1" not in resp.text
        assert not fake_upstream.requests
