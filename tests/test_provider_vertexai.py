"""Vertex AI (type 42) through a real master against the fake Vertex AI and its fake OAuth token
endpoint (tests/fake_upstream/vertex.py): the service-account token exchange (google-auth) and its
cache, Claude through rawPredict/streamRawPredict and Gemini through generateContent, billing,
errors mapped to OpenAI's shapes, and the channel test."""

from __future__ import annotations

import uuid

import orjson

from shared.billing import pricing, tokenizer
from tests.fake_upstream import vertex as fake_vertex
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import CHAT, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
CLAUDE = "claude-3-5-sonnet-v2@20241022"
GEMINI = "gemini-1.5-flash-002"
PREFIX = "/v1/projects/fake-project/locations/us-east5/publishers"


def config(fake_url: str, email: str = "") -> str:
    email = email or f"relay-{uuid.uuid4().hex[:8]}@fake-project.iam.gserviceaccount.com"  # a fresh token cache entry
    adc = fake_vertex.service_account_json(f"{fake_url}{fake_vertex.TOKEN_PATH}", email)
    return orjson.dumps({"region": "us-east5", "vertex_ai_project_id": "fake-project", "vertex_ai_adc": adc}).decode()


def exchanges_for(email_part: str) -> int:
    return sum(1 for e in fake_vertex.exchanges if email_part in e)


def stream_text(text: str) -> str:
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
    parsed = [orjson.loads(p) for p in payloads[:-1]]
    return "".join((c["choices"][0]["delta"].get("content") or "") for c in parsed if c.get("choices"))


async def test_vertex_claude_and_gemini_with_one_cached_token(sqlite_database, fake_upstream) -> None:
    email = f"cached-{uuid.uuid4().hex[:8]}@fake-project.iam.gserviceaccount.com"
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=42, key="service-account", config=config(fake_upstream.url, email), models=f"{CLAUDE},{GEMINI}")
        token = await w.token()

        resp = await w.chat(token, model=CLAUDE, max_tokens=32)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["choices"][0]["message"]["content"] == REPLY
        assert answer["usage"] == {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}
        req = fake_upstream.last
        assert req.path == f"{PREFIX}/anthropic/models/{CLAUDE}:rawPredict"
        assert req.headers["authorization"].startswith("Bearer ya29.fake-")
        sent = req.json()
        assert sent["anthropic_version"] == "vertex-2023-10-16" and "model" not in sent and sent["max_tokens"] == 32

        resp = await w.chat(token, model=CLAUDE, stream=True)
        assert resp.status_code == 200, resp.text
        assert stream_text(resp.text) == REPLY
        assert (fake_upstream.last.path, fake_upstream.last.query) == (f"{PREFIX}/anthropic/models/{CLAUDE}:streamRawPredict", "alt=sse")

        resp = await w.chat(token, model=GEMINI)
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["message"]["content"] == REPLY
        assert fake_upstream.last.path == f"{PREFIX}/google/models/{GEMINI}:generateContent"
        assert fake_upstream.last.json()["contents"][0]["parts"][0]["text"] == CHAT[0]["content"]

        resp = await w.chat(token, model=GEMINI, stream=True)
        assert resp.status_code == 200, resp.text
        assert stream_text(resp.text) == REPLY
        assert fake_upstream.last.path == f"{PREFIX}/google/models/{GEMINI}:streamGenerateContent"

        # Four relays, one token exchange: the token is cached for the service account.
        assert exchanges_for(email) == 1
        assert [r.path for r in fake_upstream.requests].count(fake_vertex.TOKEN_PATH) == 1

        await w.flush()
        logs = await w.consume_logs()
        # Claude bills on Claude's usage; Gemini, as One API does, on the prompt estimate plus the
        # counted reply. Vertex's model names have One API's ratios (or its default).
        ratios = w.engine.ratios
        claude_quota = pricing.text_quota(17, 11, ratios.model_ratio(CLAUDE, 42), 1.0, ratios.completion_ratio(CLAUDE, 42))
        assert [(r["prompt_tokens"], r["completion_tokens"], r["quota"]) for r in logs[:2]] == [(17, 11, claude_quota)] * 2
        prompt = await tokenizer.count_messages(CHAT, GEMINI)
        completion = tokenizer.count_text(REPLY, GEMINI)
        assert [(r["model_name"], r["prompt_tokens"], r["completion_tokens"]) for r in logs[2:]] == [(GEMINI, prompt, completion)] * 2
        assert all(r["quota"] > 0 for r in logs)


async def test_vertex_errors_map_to_openai_shapes(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        # A service account the token endpoint refuses: an authentication error, the channel's fault.
        await w.channel(
            type=42,
            key="service-account",
            name="refused",
            models="claude-3-opus@20240229",
            config=config(fake_upstream.url, f"disabled-{uuid.uuid4().hex[:6]}@x.iam.gserviceaccount.com"),
        )
        token = await w.token()
        resp = await w.chat(token, model="claude-3-opus@20240229")
        assert resp.status_code == 401
        error = error_of(resp)
        assert error["type"] == "authentication_error" and error["code"] == "token_exchange_failed"
        assert "invalid_grant" in error["message"]
        assert "PRIVATE KEY" not in resp.text

        # An upstream error in Google's RPC shape.
        await w.channel(type=42, key="service-account", config=config(fake_upstream.url), models=GEMINI)
        fake_upstream.fail_next(f"{PREFIX}/*", "429")
        resp = await w.chat(token, model=GEMINI)
        assert resp.status_code == 429  # the gateway's saturation text, as for every 429
        fake_upstream.fail_next(f"{PREFIX}/*", "400")
        resp = await w.chat(token, model=GEMINI)
        assert resp.status_code == 400
        assert error_of(resp)["type"] == "invalid_request_error"

        # A config that is not a service account key: said plainly, never a crash.
        await w.channel(
            type=42,
            key="service-account",
            name="broken",
            models="claude-3-haiku@20240307",
            config=orjson.dumps({"region": "us-east5", "vertex_ai_project_id": "p", "vertex_ai_adc": '{"type": 1}'}).decode(),
        )
        resp = await w.chat(token, model="claude-3-haiku@20240307")
        assert resp.status_code == 400 and error_of(resp)["code"] == "invalid_channel_key"


async def test_vertex_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good = await w.channel(type=42, key="service-account", config=config(fake_upstream.url), models=CLAUDE, name="good")
        body = (await w.root.get(f"/api/channel/test/{good}")).json()
        assert body["success"] is True, body
        assert body["message"] == REPLY
        assert fake_upstream.last.path == f"{PREFIX}/anthropic/models/{CLAUDE}:rawPredict"
        bad = await w.channel(
            type=42,
            key="service-account",
            models=CLAUDE,
            name="bad",
            config=config(fake_upstream.url, f"disabled-{uuid.uuid4().hex[:6]}@x.iam.gserviceaccount.com"),
        )
        body = (await w.root.get(f"/api/channel/test/{bad}")).json()
        assert body["success"] is False and "invalid_grant" in body["message"]


def test_vertex_urls_per_region_and_publisher() -> None:
    from shared.relay import modes
    from shared.relay.adaptors.vertexai.adaptor import request_url
    from shared.relay.types import RelayMeta

    def url(model: str, region: str, stream: bool) -> str:
        meta = RelayMeta(
            mode=modes.CHAT,
            channel_type=42,
            channel_id=1,
            base_url="",
            api_key="k",
            config={},
            origin_model=model,
            actual_model=model,
            is_stream=stream,
            request_path="/v1/chat/completions",
        )
        return request_url(meta, region, "proj")

    assert url(CLAUDE, "us-east5", False) == (
        "https://us-east5-aiplatform.googleapis.com/v1/projects/proj/locations/us-east5/publishers/anthropic/models/"
        "claude-3-5-sonnet-v2@20241022:rawPredict"
    )
    assert url(GEMINI, "global", True) == (
        "https://aiplatform.googleapis.com/v1/projects/proj/locations/global/publishers/google/models/"
        "gemini-1.5-flash-002:streamGenerateContent?alt=sse"
    )
