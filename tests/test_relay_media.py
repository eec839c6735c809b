"""Images, audio and the other text modes (docs/one-api-compat.md §5.10, §6.4, §6.5): what reaches the fake,
what the client gets, and what each is billed."""

from __future__ import annotations

import math

from shared.billing import tokenizer
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import bearer, error_of, relay_world


async def test_media_and_other_modes_are_billed(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel = await w.channel(
            models="gpt-3.5-turbo,text-embedding-3-small,dall-e-3,whisper-1,tts-1,text-moderation-stable,text-moderation-latest"
        )
        client, user_id = await w.user("hana", quota=5_000_000)
        token = await w.token(client, unlimited_quota=False, remain_quota=1_000_000)
        h = bearer(token)
        ratios = w.engine.ratios
        expected: list[tuple[str, int, int, int]] = []  # (model_name, quota, prompt, completion)

        # Image: dall-e-3 1024x1024 standard n=1 -> int(20 × 1 × 1 × 1000) × 1 = 20000.
        resp = await w.root.post(
            "/v1/images/generations",
            headers=h,
            json={"model": "dall-e-3", "prompt": "a lighthouse", "size": "1024x1024", "quality": "standard", "n": 1},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"][0]["url"].startswith("https://fake-upstream.invalid/")
        assert fake_upstream.last.path == "/v1/images/generations"
        expected.append(("dall-e-3", 20000, 0, 0))
        # hd doubles it at 1024x1024, and image validation errors are 400s before any upstream call.
        resp = await w.root.post("/v1/images/generations", headers=h, json={"model": "dall-e-3", "prompt": "x", "size": "256x256"})
        assert resp.status_code == 400 and error_of(resp)["code"] == "size_not_supported"
        resp = await w.root.post("/v1/images/generations", headers=h, json={"model": "dall-e-3", "prompt": "x", "n": 2})
        assert resp.status_code == 400 and error_of(resp)["code"] == "n_not_within_range"

        # Speech: int(len(input bytes) × 7.5 (tts-1)) both reserved and final; audio bytes copied.
        text = "Hello there, this is the speech test."
        resp = await w.root.post("/v1/audio/speech", headers=h, json={"model": "tts-1", "input": text, "voice": "alloy"})
        assert resp.status_code == 200, resp.text
        assert resp.content == b"ID3FAKEAUDIO" + text.encode()
        assert resp.headers["content-type"] == "audio/mpeg"
        speech_quota = int(len(text.encode()) * 7.5)  # 37 bytes -> 277
        expected.append(("tts-1", speech_quota, speech_quota, 0))
        resp = await w.root.post("/v1/audio/speech", headers=h, json={"model": "tts-1", "input": "x" * 4097, "voice": "alloy"})
        assert resp.status_code == 400 and error_of(resp)["code"] == "text_too_long"

        # Transcription (multipart): quota = the transcript's token count, no ratio.
        for fmt in ("json", "text"):
            resp = await w.root.post(
                "/v1/audio/transcriptions",
                headers=h,
                data={"model": "whisper-1", "response_format": fmt},
                files={"file": ("a.mp3", b"ID3 fake audio", "audio/mpeg")},
            )
            assert resp.status_code == 200, resp.text
        transcript = Canned().transcript
        assert fake_upstream.last.headers["content-type"].startswith("multipart/form-data")
        t_json = tokenizer.count_text(transcript, "whisper-1")
        t_text = tokenizer.count_text(transcript + "\n", "whisper-1")
        expected += [("whisper-1", t_json, t_json, 0), ("whisper-1", t_text, t_text, 0)]

        # Embeddings: fake usage 5 tokens per input; ceil(10 × 0.01) = 1.
        resp = await w.root.post("/v1/embeddings", headers=h, json={"model": "text-embedding-3-small", "input": ["a", "b"]})
        assert resp.status_code == 200, resp.text
        assert len(resp.json()["data"]) == 2
        emb_quota = math.ceil(10 * ratios.model_ratio("text-embedding-3-small"))
        expected.append(("text-embedding-3-small", emb_quota, 10, 0))

        # /v1/engines/:model/embeddings: the model comes from the path.
        resp = await w.root.post("/v1/engines/text-embedding-3-small/embeddings", headers=h, json={"input": "c"})
        assert resp.status_code == 200, resp.text
        assert fake_upstream.last.path == "/v1/engines/text-embedding-3-small/embeddings"
        expected.append(("text-embedding-3-small", math.ceil(5 * ratios.model_ratio("text-embedding-3-small")), 5, 0))

        # Moderations: no usage reported -> the prompt is the estimate of `input`.
        resp = await w.root.post("/v1/moderations", headers=h, json={"input": "is this fine?"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["results"][0]["flagged"] is False
        mod_prompt = tokenizer.count_text("is this fine?", "text-moderation-latest")
        mod_ratio = ratios.model_ratio("text-moderation-latest")
        expected.append(("text-moderation-latest", max(1, math.ceil(mod_prompt * mod_ratio)), mod_prompt, 0))

        # Completions (non-stream): fake usage 17/11; ceil((17 + 11×3) × 0.25) = 13.
        resp = await w.root.post("/v1/completions", headers=h, json={"model": "gpt-3.5-turbo", "prompt": "Once upon"})
        assert resp.status_code == 200, resp.text
        assert resp.json()["choices"][0]["text"] == Canned().reply_text
        expected.append(("gpt-3.5-turbo", 13, 17, 11))

        await w.flush()
        logs = await w.consume_logs()
        assert [(r["model_name"], r["quota"], r["prompt_tokens"], r["completion_tokens"]) for r in logs] == expected
        assert {r["channel_id"] for r in logs} == {channel}
        total = sum(q for _, q, _, _ in expected)
        u = await w.user_row(user_id)
        assert (u["quota"], u["used_quota"], u["request_count"]) == (5_000_000 - total, total, len(expected))
        t = await w.token_row(token["id"])
        assert (t["used_quota"], t["remain_quota"]) == (total, 1_000_000 - total)
        assert (await w.channel_row(channel))["used_quota"] == total
        await client.aclose()


async def test_media_failures_are_refunded(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(key="key-a")
        client, user_id = await w.user("ivan", quota=100_000)
        token = await w.token(client)
        h = bearer(token)
        fake_upstream.behaviour_for_key("key-a", "500")
        resp = await w.root.post("/v1/images/generations", headers=h, json={"model": "dall-e-3", "prompt": "x"})
        assert resp.status_code == 500
        resp = await w.root.post("/v1/audio/speech", headers=h, json={"model": "tts-1", "input": "hi", "voice": "alloy"})
        assert resp.status_code == 500
        resp = await w.root.post(
            "/v1/audio/transcriptions", headers=h, data={"model": "whisper-1"}, files={"file": ("a.mp3", b"x", "audio/mpeg")}
        )
        assert resp.status_code == 500
        # An image priced above the balance is refused before any upstream call.
        fake_upstream.reset()
        resp = await w.root.post(
            "/v1/images/generations", headers=h, json={"model": "dall-e-3", "prompt": "x", "quality": "hd", "size": "1792x1024"}
        )
        assert resp.status_code == 200  # 20 × 2 × 1.5 × 1000 = 60000 <= 100000
        resp = await w.root.post(
            "/v1/images/generations", headers=h, json={"model": "dall-e-3", "prompt": "x", "quality": "hd", "size": "1792x1024"}
        )
        assert resp.status_code == 403 and error_of(resp)["code"] == "insufficient_user_quota"
        assert len(fake_upstream.requests) == 1
        await w.flush()
        u = await w.user_row(user_id)
        assert (u["quota"], u["used_quota"], u["request_count"]) == (40_000, 60_000, 1)
        await client.aclose()


async def test_proxy_route_admin_only_and_billed(sqlite_database, fake_upstream) -> None:
    """/v1/oneapi/proxy/:id/*: One API lets any token through unbilled; here admin tokens only, billed."""
    async with relay_world(sqlite_database, fake_upstream) as w:
        channel = await w.channel(key="raw-channel-key")
        root_token = await w.token(name="root-proxy")
        client, _ = await w.user("kim", quota=100_000)
        user_token = await w.token(client)
        body = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]}
        resp = await w.root.post(f"/v1/oneapi/proxy/{channel}/v1/chat/completions?x=1", headers=bearer(user_token), json=body)
        assert resp.status_code == 403
        assert fake_upstream.requests == []
        resp = await w.root.post(f"/v1/oneapi/proxy/{channel}/v1/chat/completions?x=1", headers=bearer(root_token), json=body)
        assert resp.status_code == 200, resp.text
        req = fake_upstream.last
        assert (req.path, req.query) == ("/v1/chat/completions", "x=1")
        assert req.headers["authorization"] == "raw-channel-key"
        await w.flush()
        (row,) = await w.consume_logs()
        assert (row["channel_id"], row["quota"], row["prompt_tokens"], row["completion_tokens"]) == (channel, 13, 17, 11)
        await client.aclose()
