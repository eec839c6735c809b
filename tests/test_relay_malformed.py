"""Bad input (DESIGN "Guarantees"): every malformed relay request gets a 4xx OpenAI-style JSON
error, never a 500, and the node keeps serving."""

from __future__ import annotations

import gzip

import orjson

from tests.support.relay_kit import CHAT, bearer, relay_world

JSON = {"Content-Type": "application/json"}


def assert_4xx_json(resp, status: int | None = None) -> dict:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text)
    if status is not None:
        assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str), body
    assert resp.headers["content-type"].startswith("application/json")
    return body["error"]


async def test_malformed_requests_get_4xx_json(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        token = await w.token()
        h = {**bearer(token), **JSON}
        post = w.root.post

        # Invalid JSON: One API's message for the body-parsing paths.
        err = assert_4xx_json(await post("/v1/chat/completions", headers=h, content=b'{"model": "gpt-3.5-turbo", '), 400)
        assert err["message"].startswith("common.UnmarshalBodyReusable failed: ")
        for path in ("/v1/completions", "/v1/embeddings", "/v1/moderations", "/v1/images/generations", "/v1/audio/speech", "/v1/edits"):
            assert_4xx_json(await post(path, headers=h, content=b"{not json"))

        # Wrong types.
        cases = [
            ({"model": "gpt-3.5-turbo", "messages": "hello"}, "field messages is required"),
            ({"model": "gpt-3.5-turbo", "messages": []}, "field messages is required"),
            ({"model": "gpt-3.5-turbo", "messages": ["hello"]}, None),
            ({"model": "gpt-3.5-turbo", "messages": CHAT, "max_tokens": "abc"}, "max_tokens is invalid"),
            ({"model": "gpt-3.5-turbo", "messages": CHAT, "max_tokens": -1}, "max_tokens is invalid"),
            ({"model": "gpt-3.5-turbo", "messages": CHAT, "stream": "yes"}, None),
            ({"model": 42, "messages": CHAT}, None),
            ({"messages": CHAT}, "model is required"),
            ([1, 2, 3], None),
            ("just a string", None),
        ]
        for body, message in cases:
            resp = await post("/v1/chat/completions", headers=h, content=orjson.dumps(body))
            err = assert_4xx_json(resp)
            if message:
                assert err["message"].startswith(message), (body, err)
        # Content of an odd shape is the upstream's to judge (One API passes it on): never a 500 here.
        for content in (
            5,
            [{"type": "image_url", "image_url": 3}],
            [{"type": "image_url", "image_url": {"url": "data:image/png;base64,!!"}}],
            [7],
        ):
            body = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": content}]}
            resp = await post("/v1/chat/completions", headers=h, content=orjson.dumps(body))
            assert resp.status_code in (200, 400), (content, resp.status_code, resp.text)
        for path, body in [
            ("/v1/completions", {"model": "gpt-3.5-turbo", "prompt": ""}),
            ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "x", "max_tokens": "many"}),
            ("/v1/moderations", {"input": ""}),
            ("/v1/images/generations", {"model": "dall-e-3", "prompt": "x", "n": "two"}),
            ("/v1/images/generations", {"model": "dall-e-3"}),
            ("/v1/audio/speech", {"model": "tts-1", "input": 5, "voice": "alloy"}),
            ("/v1/edits", {"model": "gpt-3.5-turbo"}),
        ]:
            assert_4xx_json(await post(path, headers=h, content=orjson.dumps(body)))

        # Empty bodies, with and without a JSON content type.
        assert_4xx_json(await post("/v1/chat/completions", headers=h, content=b""))
        assert_4xx_json(await post("/v1/chat/completions", headers=bearer(token), content=b""))
        # An empty transcription goes upstream as One API sends it (the provider refuses it); never a 500.
        assert (await post("/v1/audio/transcriptions", headers=bearer(token), content=b"")).status_code < 500
        # A broken multipart body.
        resp = await post(
            "/v1/audio/transcriptions",
            headers={**bearer(token), "Content-Type": "multipart/form-data; boundary=xyz"},
            content=b'--xyz\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1',
        )
        assert resp.status_code < 500, resp.text

        # 40 MB: 413 with an OpenAI-style body.
        big = b'{"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "' + b"a" * (40 * 1024 * 1024) + b'"}]}'
        err = assert_4xx_json(await post("/v1/chat/completions", headers=h, content=big), 413)
        # The same hidden in a small gzip body is refused too.
        err = assert_4xx_json(
            await post("/v1/chat/completions", headers={**h, "Content-Encoding": "gzip"}, content=gzip.compress(big)), 413
        )

        # A gzip body is inflated and served; a broken one is a 400.
        ok = orjson.dumps({"model": "gpt-3.5-turbo", "messages": CHAT})
        resp = await post("/v1/chat/completions", headers={**h, "Content-Encoding": "gzip"}, content=gzip.compress(ok))
        assert resp.status_code == 200, resp.text
        assert fake_upstream.last.json()["messages"] == CHAT
        resp = await post("/v1/chat/completions", headers={**h, "Content-Encoding": "gzip"}, content=b"not gzip at all")
        assert resp.status_code == 400

        # The node still serves.
        resp = await post("/v1/chat/completions", headers=h, content=ok)
        assert resp.status_code == 200, resp.text
