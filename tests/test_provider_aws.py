"""AWS Bedrock Claude (type 33) through a real master against the fake Bedrock runtime
(tests/fake_upstream/aws.py): SigV4 checked against AWS's published vectors and by the fake, the
model-id mapping, InvokeModel, the binary event stream, billing from Claude's usage, AWS errors
mapped to OpenAI's shapes, and the channel test."""

from __future__ import annotations

import base64
import math
from datetime import UTC, datetime

import orjson
import pytest

from shared.relay.adaptors.aws import eventstream, sigv4
from tests.fake_upstream import aws as fake_aws
from tests.fake_upstream.state import Canned
from tests.support.relay_kit import CHAT, error_of, relay_world, sse_payloads

REPLY = Canned().reply_text
MODEL = "claude-3-5-sonnet-20241022"
BEDROCK_ID = "anthropic.claude-3-5-sonnet-20241022-v2:0"
KEY = "AKIDFAKEBEDROCK|fake/bedrock+secret|us-west-2"
# claude-3-5-sonnet: ratio 1.5, completion ratio 5 -> ceil((17 + 11×5) × 1.5) = 108
QUOTA = math.ceil((17 + 11 * 5) * 1.5)

SUITE_TIME = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
SUITE_KEYS = ("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service")


@pytest.mark.parametrize(
    ("method", "url", "signature"),
    [
        ("GET", "https://example.amazonaws.com/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        ("POST", "https://example.amazonaws.com/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        (
            "GET",
            "https://example.amazonaws.com/?Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
    ],
)
def test_sigv4_matches_the_aws_test_suite(method: str, url: str, signature: str) -> None:
    """get-vanilla, post-vanilla and get-vanilla-query-order-key-case of AWS's SigV4 test suite."""
    headers = sigv4.sign(method, url, {}, b"", *SUITE_KEYS[:2], *SUITE_KEYS[2:], when=SUITE_TIME)
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders=host;x-amz-date, Signature={signature}"
    )


def test_sigv4_signs_a_model_id_colon_twice_encoded() -> None:
    assert sigv4.canonical_uri("/model/anthropic.claude-v2%3A1/invoke") == "/model/anthropic.claude-v2%253A1/invoke"


def test_event_stream_decoder_reads_split_frames_and_refuses_corruption() -> None:
    frame = fake_aws.chunk_frame({"type": "ping"})
    decoder = eventstream.Decoder()
    assert decoder.feed(frame[:5]) == [] and decoder.feed(frame[5:20]) == []
    (message,) = decoder.feed(frame[20:] + frame[:3])
    assert message.headers[":event-type"] == "chunk" and decoder.pending == 3
    assert orjson.loads(base64.b64decode(orjson.loads(message.payload)["bytes"])) == {"type": "ping"}
    broken = bytearray(frame)
    broken[-6] ^= 0xFF
    with pytest.raises(eventstream.FramingError, match="message checksum"):
        eventstream.Decoder().feed(bytes(broken))
    huge = bytearray(frame)
    huge[0:4] = (eventstream.MAX_MESSAGE + 1).to_bytes(4, "big")
    with pytest.raises(eventstream.FramingError):
        eventstream.Decoder().feed(bytes(huge))


def stream_text(text: str) -> tuple[str, list[dict]]:
    payloads = sse_payloads(text)
    assert payloads[-1] == "[DONE]" and payloads.count("[DONE]") == 1
    parsed = [orjson.loads(p) for p in payloads[:-1]]
    content = "".join((c["choices"][0]["delta"].get("content") or "") for c in parsed if c.get("choices"))
    return content, parsed


async def test_bedrock_chat_stream_and_billing(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=33, key=KEY, models=MODEL)
        token = await w.token()
        messages = [{"role": "system", "content": "Be brief."}, *CHAT]

        resp = await w.chat(token, model=MODEL, messages=messages, max_tokens=64)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["object"] == "chat.completion"
        assert answer["choices"][0]["message"]["content"] == REPLY
        assert answer["choices"][0]["finish_reason"] == "stop"
        assert answer["usage"] == {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}
        req = fake_upstream.last
        assert req.raw_path == "/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/invoke"
        assert req.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDFAKEBEDROCK/")
        assert "/us-west-2/bedrock/aws4_request" in req.headers["authorization"]
        sent = req.json()
        assert sent["anthropic_version"] == "bedrock-2023-05-31" and "model" not in sent
        assert sent["system"] == "Be brief." and sent["max_tokens"] == 64

        resp = await w.chat(token, model=MODEL, messages=messages, stream=True)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("text/event-stream")
        text, parsed = stream_text(resp.text)
        assert text == REPLY
        assert any(c["choices"] and c["choices"][0].get("finish_reason") == "stop" for c in parsed)
        assert fake_upstream.last.raw_path.endswith("/invoke-with-response-stream")
        assert fake_upstream.last.headers["accept"] == "application/vnd.amazon.eventstream"

        await w.flush()
        logs = await w.consume_logs()
        assert [(r["model_name"], r["prompt_tokens"], r["completion_tokens"], r["quota"], r["is_stream"]) for r in logs] == [
            (MODEL, 17, 11, QUOTA, False),
            (MODEL, 17, 11, QUOTA, True),
        ]


async def test_bedrock_credentials_from_config_fields(sqlite_database, fake_upstream) -> None:
    config = orjson.dumps({"ak": "AKIDFAKEBEDROCK", "sk": "fake/bedrock+secret", "region": "eu-central-1"}).decode()
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=33, key="unused", config=config, models=MODEL)
        resp = await w.chat(await w.token(), model=MODEL)
        assert resp.status_code == 200, resp.text
        assert "/eu-central-1/bedrock/aws4_request" in fake_upstream.last.headers["authorization"]


async def test_bedrock_errors_map_to_openai_shapes(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        opus = "claude-3-opus-20240229"
        await w.channel(type=33, key="AKIDFAKEBEDROCK|wrong-secret|us-west-2", models=opus, name="wrong")
        token = await w.token()
        resp = await w.chat(token, model=opus)
        assert resp.status_code == 403
        error = error_of(resp)
        assert error["type"] == "authentication_error" and error["code"] == "InvalidSignatureException"
        assert error["message"].startswith("The request signature we calculated does not match")

        await w.channel(type=33, key=KEY, models=MODEL)
        fake_upstream.fail_next("/model/*", "400")
        resp = await w.chat(token, model=MODEL)
        assert resp.status_code == 400
        error = error_of(resp)
        assert (error["type"], error["code"]) == ("invalid_request_error", "ValidationException")

        resp = await w.chat(token, model="claude-2.0-not-listed")
        assert resp.status_code == 503  # no channel serves it: the gateway's own answer

        # A key that is not ak|sk|region is the channel's fault, said plainly, never a crash.
        await w.channel(type=33, key="only-one-part", models="claude-3-haiku-20240307", name="bad-key")
        resp = await w.chat(token, model="claude-3-haiku-20240307")
        assert resp.status_code == 400 and error_of(resp)["code"] == "invalid_channel_key"

        # An exception message in the event stream ends the stream with an OpenAI-shaped error.
        fake_upstream.fail_next("/model/*", "stream_error", after=3)
        resp = await w.chat(token, model=MODEL, stream=True)
        assert resp.status_code == 200, resp.text
        payloads = sse_payloads(resp.text)
        errors = [orjson.loads(p)["error"] for p in payloads if p.startswith('{"error"')]
        assert errors == [{"type": "rate_limit_error", "message": "Too many tokens, please wait before trying again."}]
        assert payloads[-1] == "[DONE]"
        await w.flush()
        # billed for what arrived: the prompt Claude reported at message_start
        assert [(r["prompt_tokens"], r["is_stream"]) for r in await w.consume_logs()] == [(17, True)]


async def test_bedrock_channel_test(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        good = await w.channel(type=33, key=KEY, models=MODEL, name="good")
        body = (await w.root.get(f"/api/channel/test/{good}")).json()
        assert body["success"] is True, body
        assert body["message"] == REPLY
        assert fake_upstream.last.raw_path == "/model/anthropic.claude-3-5-sonnet-20241022-v2%3A0/invoke"
        bad = await w.channel(type=33, key="AKIDUNKNOWN|x|us-west-2", models=MODEL, name="bad")
        body = (await w.root.get(f"/api/channel/test/{bad}")).json()
        assert body["success"] is False
        assert body["message"].startswith("The security token included in the request is invalid.")


async def test_bedrock_llama3(sqlite_database, fake_upstream) -> None:
    model = "llama3-8b-8192"
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(type=33, key=KEY, models=model)
        token = await w.token()
        messages = [{"role": "system", "content": "Be brief."}, *CHAT]
        resp = await w.chat(token, model=model, messages=messages, max_tokens=64)
        assert resp.status_code == 200, resp.text
        answer = resp.json()
        assert answer["choices"][0]["message"]["content"] == REPLY and answer["choices"][0]["finish_reason"] == "stop"
        assert answer["usage"] == {"prompt_tokens": 17, "completion_tokens": 11, "total_tokens": 28}
        req = fake_upstream.last
        assert req.raw_path == "/model/meta.llama3-8b-instruct-v1%3A0/invoke"
        assert req.json() == {
            "prompt": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            f"<|start_header_id|>user<|end_header_id|>\n\n{CHAT[0]['content']}<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            "max_gen_len": 64,
        }
        resp = await w.chat(token, model=model, stream=True)
        assert resp.status_code == 200, resp.text
        text, parsed = stream_text(resp.text)
        assert text == REPLY and parsed[-1]["choices"][0]["finish_reason"] == "stop"
        await w.flush()
        assert [(r["prompt_tokens"], r["completion_tokens"], r["is_stream"]) for r in await w.consume_logs()] == [
            (17, 11, False),
            (17, 11, True),
        ]
