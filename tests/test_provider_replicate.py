"""Replicate (type 46) through a real master against the fake prediction API
(tests/fake_upstream/replicate.py): chat read from the prediction's stream (stream and non-stream),
a model without a stream polled to its end, images polled and answered as b64_json, billing as
One API bills Replicate, errors mapped to OpenAI's shapes, and the channel test."""

from __future__ import annotations

import base64

import orjson

from shared.billing import pricing, tokenizer
from tests.fake_upstream import replicate as fake_replicate
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import CHAT, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
LLAMA = "meta/meta-llama-3-8b-instruct"
POLLED = "meta/llama-2-7b"
FLUX = "black-forest-labs/flux-schnell"
KEY = "r8_fakereplicatetoken"


def stream_text(text: str) -> str:
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
    chunks = [orjson.loads(p) for p in payloads[:-1]]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)


async def test_replicate_chat_stream_polling_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(f"{fake_upstream.url}/v1/models/", type=46, key=KEY, models=f"{LLAMA},{POLLED}")
        token = await w.token()
        messages = [{"role": "system", "content": "Be brief."}, *CHAT]

        resp = await w.chat(token, model=LLAMA, messages=messages, max_tokens=40)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["choices"][0]["message"] == {"role": "assistant", "content": REPLY}
        created = next(r for r in fake_upstream.requests if r.path.endswith("/predictions"))
        assert created.path == f"/v1/models/{LLAMA}/predictions"
        assert created.headers["authorization"] == f"Bearer {KEY}"
        assert created.json() == {
            "input": {"prompt": f"user: {CHAT[0]['content']}", "max_tokens": 40, "system_prompt": "Be brief."},
            "stream": True,
        }
        assert fake_upstream.last.path.startswith("/v1/stream/")

        resp = await w.chat(token, model=LLAMA, stream=True)
        assert resp.status_code == 200, resp.text
        assert stream_text(resp.text) == REPLY

        # No stream URL: polled (processing, then succeeded) and answered from its output.
        resp = await w.chat(token, model=POLLED, stream=True)
        assert resp.status_code == 200, resp.text
        assert stream_text(resp.text) == REPLY
        polls = [r.path for r in fake_upstream.requests if r.path.startswith("/v1/predictions/")]
        assert len(polls) == 2
        resp = await w.chat(token, model=POLLED)
        assert resp.status_code == 200 and resp.json()["choices"][0]["message"]["content"] == REPLY

        await w.flush()
        # One API's rule for Replicate chat: the prompt estimate plus the counted reply.
        prompt_sys = await tokenizer.count_messages(messages, LLAMA)
        prompt = await tokenizer.count_messages(CHAT, LLAMA)
        completion = tokenizer.count_text(REPLY, LLAMA)
        logs = await w.consume_logs()
        assert [(r["model_name"], r["prompt_tokens"], r["completion_tokens"]) for r in logs] == [
            (LLAMA, prompt_sys, completion),
            (LLAMA, prompt, completion),
            (POLLED, prompt, completion),
            (POLLED, prompt, completion),
        ]
        ratios = w.engine.ratios
        assert logs[1]["quota"] == pricing.text_quota(
            prompt, completion, ratios.model_ratio(LLAMA, 46), 1.0, ratios.completion_ratio(LLAMA, 46)
        )


async def test_replicate_images(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(f"{fake_upstream.url}/v1/models", type=46, key=KEY, models=FLUX)
        token = await w.token()
        resp = await w.root.post(
            "/v1/images/generations",
            headers={"Authorization": f"Bearer sk-{token['key']}"},
            json={"model": FLUX, "prompt": "a red fox", "size": "1792x1024", "n": 2},
        )
        assert resp.status_code == 200, resp.text
        data = resp.json()["data"]
        assert [base64.b64decode(d["b64_json"]) for d in data] == [fake_replicate.IMAGE]
        created = next(r for r in fake_upstream.requests if r.path.endswith("/predictions"))
        assert created.json() == {"input": {"prompt": "a red fox", "aspect_ratio": "7:4", "output_format": "png"}}
        await w.flush()
        (log,) = await w.consume_logs()
        # One image billed, whatever n said (One API's Replicate rule).
        ratio = w.engine.ratios.model_ratio(FLUX, 46)
        assert log["quota"] == pricing.image_quota(FLUX, "1792x1024", "", 1, ratio, 1.0)


async def test_replicate_errors(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(f"{fake_upstream.url}/v1/models", type=46, key="not-a-replicate-token", models=LLAMA, name="bad")
        token = await w.token()
        resp = await w.chat(token, model=LLAMA)
        assert resp.status_code == 401
        error = error_of(resp)
        assert error["type"] == "authentication_error" and error["message"].startswith("You did not pass a valid authentication token")

        await w.channel(f"{fake_upstream.url}/v1/models", type=46, key=KEY, models=f"{POLLED},my/own-model", name="good")
        resp = await w.chat(token, model="my/own-model")
        assert resp.status_code == 400 and error_of(resp)["code"] == "convert_request_failed"

        # A prediction that fails while being polled; one whose stream reports an error.
        fake_upstream.fail_next(f"/v1/models/{POLLED}/predictions", "stream_error")
        resp = await w.chat(token, model=POLLED)
        assert resp.status_code == 500
        assert error_of(resp)["code"] == "prediction_failed" and "CUDA out of memory" in error_of(resp)["message"]

    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(f"{fake_upstream.url}/v1/models", type=46, key=KEY, models="meta/llama-2-70b-chat", name="streamer")
        token = await w.token()
        fake_upstream.fail_next("/v1/models/meta/llama-2-70b-chat/predictions", "stream_error")
        resp = await w.chat(token, model="meta/llama-2-70b-chat", stream=True)
        assert resp.status_code == 200
        payloads = sse_payloads(resp.text)
        assert orjson.loads(payloads[-2])["error"] == {
            "message": "CUDA out of memory",
            "type": "upstream_error",
            "code": "prediction_failed",
        }


async def test_replicate_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good = await w.channel(f"{fake_upstream.url}/v1/models", type=46, key=KEY, models=LLAMA, name="good")
        body = (await w.root.get(f"/api/channel/test/{good}")).json()
        assert body["success"] is True and body["message"] == REPLY, body
        bad = await w.channel(f"{fake_upstream.url}/v1/models", type=46, key="wrong", models=LLAMA, name="bad")
        body = (await w.root.get(f"/api/channel/test/{bad}")).json()
        assert body["success"] is False and body["message"].startswith("You did not pass a valid authentication token")


class _Recorder:
    """An upstream client stub: answers the prediction create with `urls` elsewhere, records the rest."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.sent: list[tuple[str, str]] = []

    async def send(self, request, body):  # type: ignore[no-untyped-def]
        from shared.relay.upstream import BufferedResponse

        self.sent.append((request.url, request.headers.get("Authorization", "")))
        doc = {"id": "p1", "status": "starting", "urls": self.urls}
        return BufferedResponse(201, orjson.dumps(doc))

    async def close(self) -> None:
        return None


async def test_replicate_never_sends_the_key_to_a_foreign_prediction_url() -> None:
    """A prediction's follow-up URLs get the channel key only on the API's own host or on https
    *.replicate.com; any other URL is not requested at all."""
    from shared.relay import modes
    from shared.relay.adaptors.replicate.adaptor import Prediction, ReplicateAdaptor
    from shared.relay.types import RelayError, RelayMeta, UpstreamRequest

    create = UpstreamRequest("POST", "https://api.replicate.com/v1/models/a/b/predictions", {"Authorization": f"Bearer {KEY}"}, b"{}")
    urls = {
        "get": "http://evil.example/v1/predictions/p1",
        "cancel": "https://api.replicate.com.evil.example/cancel",
        "stream": "https://stream.replicate.com/v1/files/abc",
    }
    assert Prediction(_Recorder({}), create, {"urls": urls}).urls == {"stream": urls["stream"]}  # type: ignore[arg-type]

    meta = RelayMeta(
        mode=modes.CHAT,
        channel_type=46,
        channel_id=1,
        base_url="https://api.replicate.com/v1/models",
        api_key=KEY,
        config={},
        origin_model=POLLED,
        actual_model=POLLED,
        is_stream=False,
        request_path="/v1/chat/completions",
    )
    adaptor = ReplicateAdaptor()
    request = adaptor.build_request(meta, {"model": POLLED, "messages": CHAT}, b"")
    upstream = _Recorder({"get": "http://evil.example/v1/predictions/p1"})
    try:
        await adaptor.exchange(upstream, meta, request)  # type: ignore[arg-type]
    except RelayError as exc:
        assert exc.message == "prediction has no get url"
    else:
        raise AssertionError("a foreign get URL was followed")
    assert [url for url, _ in upstream.sent] == [request.url]
