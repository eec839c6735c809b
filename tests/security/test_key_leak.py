"""A channel's key never reaches a token holder or a log line (issue 12, item 5).

The fake upstream's `401_echo` repeats the key it was sent (whole, and as `Bearer <key>`);
`401_masked` shows it the way OpenAI's 401 does (first 8 and last 4 characters). Whatever the
adaptor, the client's error, the log lines and the channel test's answer carry no run of 8
characters of the key. `PUT /api/channel/` answers without the stored key."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from shared.redact import CUT, MAX_TEXT_CHARS, REDACTED, redact_key
from tests.support.relay_kit import CHAT, bearer, error_of, relay_world

# (channel type, key, extra channel fields): OpenAI, Azure, Anthropic, Gemini.
CHANNELS = {
    "openai": (1, "sk-live-0123456789abcdefghijKLMNOPqrst", {}),
    "azure": (3, "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5", {"config": '{"api_version": "2024-06-01"}'}),
    "anthropic": (14, "sk-ant-api03-ZYXWVUTSRQ0123456789abcdef", {}),
    "gemini": (24, "AIzaSyA0123456789abcdefghijklmnopqrstu", {}),
}
MODELS = {1: "gpt-3.5-turbo", 3: "gpt-3.5-turbo", 14: "claude-3-haiku-20240307", 24: "gemini-1.5-flash"}


def leaked(text: str, key: str) -> list[str]:
    """Every 8-character run of the key found in the text."""
    return [key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8] in text]


@pytest.mark.parametrize("provider", sorted(CHANNELS))
@pytest.mark.parametrize("kind", ["401_echo", "401_masked"])
@pytest.mark.parametrize("stream", [False, True])
async def test_an_echoed_key_never_reaches_the_client(sqlite_database, fake_upstream, provider: str, kind: str, stream: bool) -> None:
    channel_type, key, fields = CHANNELS[provider]
    model = MODELS[channel_type]
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=channel_type, key=key, models=model, **fields)
        token = await w.token()
        fake_upstream.behaviour_for_key(key, kind)
        resp = await w.root.post("/v1/chat/completions", headers=bearer(token), json={"model": model, "messages": CHAT, "stream": stream})
        assert fake_upstream.last.behaviour == kind and fake_upstream.last.key == key  # the upstream did echo it
        assert resp.status_code == 401, resp.text
        assert leaked(resp.text, key) == [], resp.text
        assert REDACTED in error_of(resp)["message"]


async def test_an_echoed_key_stays_out_of_logs_and_channel_tests(sqlite_database, fake_upstream, capfd: pytest.CaptureFixture[str]) -> None:
    channel_type, key, _ = CHANNELS["openai"]
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.option("AutomaticDisableChannelEnabled", "true")
        channel_id = await w.channel(type=channel_type, key=key)
        token = await w.token()
        fake_upstream.behaviour_for_key(key, "401_echo")
        tested = (await w.root.get(f"/api/channel/test/{channel_id}")).json()
        assert not tested["success"] and REDACTED in tested["message"] and leaked(tested["message"], key) == []
        assert (await w.chat(token)).status_code == 401
        await w.wait_for(lambda: _disabled(w, channel_id))
        logged = capfd.readouterr().err
        assert "channel auto-disabled" in logged and REDACTED in logged
        assert leaked(logged, key) == [], logged
        listing = await w.root.get("/api/log/?p=0&type=0")
        assert leaked(listing.text, key) == []


async def _disabled(w: Any, channel_id: int) -> bool:
    return (await w.channel_row(channel_id))["status"] == 3


async def test_put_channel_does_not_echo_the_key(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel_id = await w.channel(key="sk-old-0123456789abcdef")
        for change in ({"name": "renamed"}, {"key": "sk-new-fedcba9876543210"}):
            resp = await w.root.put("/api/channel/", json={"id": channel_id, **change})
            assert resp.json()["success"], resp.text
            assert resp.json()["data"]["key"] == "" and "0123456789" not in resp.text and "fedcba98" not in resp.text
        assert (await w.chat(await w.token())).status_code == 200
        assert fake_upstream.last.key == "sk-new-fedcba9876543210"  # the new key was stored all the same


def test_redaction_rules() -> None:
    key = "k3y-ABCDEFGHIJKLMNOP"
    assert redact_key(f"bad key {key}!", key) == f"bad key {REDACTED}!"
    assert redact_key("saw ABCDEFGH and ABCDEFG", key) == f"saw {REDACTED} and ABCDEFG"  # 8 characters count, 7 do not
    assert redact_key("Authorization: Bearer abc.def", "") == f"Authorization: Bearer {REDACTED}"
    assert redact_key("Incorrect API key provided: sk-proj-abc1************wxyz.", "") == f"Incorrect API key provided: {REDACTED}."
    # Multi-part keys (AK|SK|region) are matched piece by piece; punctuation alone never matches.
    assert redact_key("secret part SECRETKEY99 leaked", "AKID1234|SECRETKEY99|us-east-1") == f"secret part {REDACTED} leaked"
    assert redact_key('{"type": "error"}', '{"type": "service_account", "private_key": "x"}') == '{"type": "error"}'
    assert redact_key("", key) == "" and redact_key("no secret here", key) == "no secret here"


def test_stream_error_events_are_redacted() -> None:
    """Anthropic and Gemini streams turn an upstream error event into an error chunk for the client."""
    from shared.relay import modes
    from shared.relay.adaptors.anthropic.adaptor import AnthropicAdaptor
    from shared.relay.adaptors.gemini.adaptor import GeminiAdaptor
    from shared.relay.types import RelayMeta

    for channel_type, adaptor in ((14, AnthropicAdaptor()), (24, GeminiAdaptor())):
        key = CHANNELS["anthropic" if channel_type == 14 else "gemini"][1]
        meta = RelayMeta(
            mode=modes.CHAT,
            channel_type=channel_type,
            channel_id=1,
            base_url="https://upstream",
            api_key=key,
            config={},
            origin_model="m",
            actual_model="m",
            is_stream=True,
            request_path="/v1/chat/completions",
        )
        event = {"type": "error", "error": {"type": "authentication_error", "message": f"bad key {key}"}}
        payloads = list(adaptor.stream_converter(meta).feed(b"data: " + orjson.dumps(event)))
        assert len(payloads) == 1 and REDACTED.encode() in payloads[0] and leaked(payloads[0].decode(), key) == []


async def test_a_balance_error_echoing_the_key_is_redacted(sqlite_database) -> None:
    """SiliconFlow's balance route answers its own code and message; one that repeats the key."""
    from tests.support.app import running_master
    from tests.support.balance_upstream import LocalUpstream
    from tests.support.relay import add_channel

    key = "sk-silicon-0123456789abcdefXYZ"
    with LocalUpstream() as provider:
        provider.answer("/v1/user/info", {"code": 40001, "message": f"api key {key} is invalid"})
        async with running_master(sqlite_database.env()) as (_app, client):
            await client.post("/api/user/login", json={"username": "root", "password": "123456"})
            channel_id = await add_channel(client, provider.url, name="sf", type=44, key=key)
            body = (await client.get(f"/api/channel/update_balance/{channel_id}")).json()
    assert body == {"success": False, "message": f"code: 40001, message: api key {REDACTED} is invalid"}


def test_a_huge_error_text_is_cut_before_it_is_scanned() -> None:
    key = "k3y-ABCDEFGHIJKLMNOP"
    text = f"leak {key} " + "x" * (1 << 20) + f" and again {key}"
    out = redact_key(text, key)
    assert out.startswith(f"leak {REDACTED} ") and out.endswith(CUT) and len(out) <= MAX_TEXT_CHARS + len(CUT)
    assert "ABCDEFGH" not in out


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/v1/messages"])
async def test_a_key_echoed_mid_stream_never_reaches_the_client(sqlite_database, fake_upstream, path: str) -> None:
    """An Anthropic stream's `error` event that repeats the key, relayed converted (chat) and passed
    through to an Anthropic client (/v1/messages, where the other events go byte for byte)."""
    channel_type, key, _ = CHANNELS["anthropic"]
    model = MODELS[channel_type]
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=channel_type, key=key, models=model)
        token = await w.token()
        fake_upstream.behaviour_for_key(key, "stream_error_echo")
        body: dict[str, Any] = {"model": model, "messages": CHAT, "stream": True, "max_tokens": 64}
        resp = await w.root.post(path, headers=bearer(token), json=body)
        assert fake_upstream.last.behaviour == "stream_error_echo"
        assert resp.status_code == 200 and "Overloaded for key" in resp.text, resp.text
        assert leaked(resp.text, key) == [], resp.text
        assert REDACTED in resp.text
