"""The AWS Bedrock adaptor (channel type 33): Claude and Llama 3 through InvokeModel and
InvokeModelWithResponseStream, SigV4-signed, on the relay's pooled client (not the AWS SDK).

Claude requests and answers are Anthropic's Messages format (the Anthropic folder converts them),
Llama 3's are converted in llama.py; the stream arrives in AWS's binary event-stream framing and is
decoded here into `data:` lines of the model's own chunks.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import orjson

from shared.relay import modes
from shared.relay.adaptors.anthropic import request as anthropic_request
from shared.relay.adaptors.anthropic import response as anthropic_response
from shared.relay.adaptors.anthropic.stream import AnthropicStream
from shared.relay.adaptors.aws import eventstream, llama, sigv4
from shared.relay.adaptors.common import json_body, unsupported_mode
from shared.relay.adaptors.images import prepare_images
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, StreamConverter, UpstreamRequest
from shared.relay.upstream import UpstreamClient, UpstreamResponse, UpstreamUnavailable

SERVICE = "bedrock"
ANTHROPIC_VERSION = "bedrock-2023-05-31"
EVENT_STREAM = "application/vnd.amazon.eventstream"
MAX_ERROR_BODY = 64 * 1024

# AWS error codes (the x-amzn-ErrorType header) -> the OpenAI error type with the same meaning, so
# the auto-disable rule sees a refused credential as one and a throttle as a rate limit.
ERROR_TYPES = {
    "UnrecognizedClientException": "authentication_error",
    "InvalidSignatureException": "authentication_error",
    "ExpiredTokenException": "authentication_error",
    "AccessDeniedException": "permission_error",
    "ThrottlingException": "rate_limit_error",
    "ServiceQuotaExceededException": "rate_limit_error",
    "ValidationException": "invalid_request_error",
    "ResourceNotFoundException": "not_found_error",
    "ModelNotReadyException": "server_error",
    "ModelTimeoutException": "server_error",
    "InternalServerException": "server_error",
    "ServiceUnavailableException": "server_error",
}
# In a stream the same exceptions are named in lower camel case (throttlingException).
_STREAM_ERROR_TYPES = {name[0].lower() + name[1:]: kind for name, kind in ERROR_TYPES.items()}


def credentials(meta: RelayMeta) -> tuple[str, str, str]:
    """(access key, secret key, region): the channel config's `ak`, `sk`, `region` as One API reads
    them, else the key `ak|sk|region` the console composes from them."""
    ak, sk, region = (str(meta.config.get(k) or "") for k in ("ak", "sk", "region"))
    if not (ak and sk and region):
        parts = meta.api_key.split("|")
        if len(parts) != 3 or not all(parts):
            raise RelayError(
                400, "AWS channel key must be ak|sk|region (or set ak, sk and region in its config)", code="invalid_channel_key"
            )
        ak, sk, region = parts
    return ak, sk, region


def model_id(model: str) -> str:
    """One API's fixed name -> Bedrock id map; a Bedrock Anthropic or Meta Llama 3 id is also taken
    as it is. Another model is One API's 500 (the channel lists a model Bedrock cannot serve here)."""
    from shared.relay.adaptors.aws.spec import AWS_MODEL_IDS

    for name, bedrock_id in AWS_MODEL_IDS:
        if name == model:
            return bedrock_id
    if model.startswith(("anthropic.", "meta.llama3")):
        return model
    raise RelayError(500, f"model {model} is not served on AWS Bedrock", code="convert_request_failed")


def is_llama(bedrock_id: str) -> bool:
    return bedrock_id.startswith("meta.llama")


def _error_type(raw: str) -> tuple[str, str]:
    """x-amzn-ErrorType `Code:uri` or an exception name -> (code, OpenAI type)."""
    code = raw.split(":", 1)[0].strip()
    return code, ERROR_TYPES.get(code, "upstream_error")


def aws_error(status: int, headers: Mapping[str, str], body: bytes) -> RelayError:
    try:
        doc = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        doc = {}
    message = ""
    if isinstance(doc, dict):
        message = str(doc.get("message") or doc.get("Message") or "")
    code, err_type = _error_type(headers.get("x-amzn-ErrorType") or headers.get("X-Amzn-ErrorType") or "")
    return RelayError(status, message or f"bad response status code {status}", type=err_type, code=code or "bad_response_status_code")


class BedrockStream(UpstreamResponse):
    """An InvokeModelWithResponseStream answer as Anthropic SSE `data:` lines."""

    def __init__(self, inner: UpstreamResponse) -> None:
        self._inner = inner
        self.status = inner.status
        self.headers = {**dict(inner.headers), "Content-Type": "text/event-stream"}

    @property
    def content_type(self) -> str:
        return "text/event-stream"

    def copied_headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"content-type", b"text/event-stream")]

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])

    async def chunks(self) -> AsyncIterator[bytes]:
        decoder = eventstream.Decoder()
        async for data in self._inner.chunks():
            try:
                messages = decoder.feed(data)
            except eventstream.FramingError as exc:
                raise UpstreamUnavailable(f"bedrock event stream: {exc}") from exc
            lines = [line for message in messages if (line := _line(message))]
            if lines:
                yield b"".join(lines)

    def close(self) -> None:
        self._inner.close()


def _line(message: eventstream.Message) -> bytes:
    """One event-stream message -> one Anthropic SSE line ("" for a message carrying nothing)."""
    kind = message.headers.get(":message-type", "event")
    if kind == "event":
        if message.headers.get(":event-type") != "chunk":
            return b""
        try:
            doc = orjson.loads(message.payload)
            event = base64.b64decode(doc["bytes"], validate=True) if isinstance(doc, dict) else b""
        except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error, ValueError):
            return b""
        return b"data: " + event.replace(b"\n", b" ") + b"\n" if event else b""
    # An exception (throttling, validation, model timeout) ends the stream: an Anthropic error event.
    name = message.headers.get(":exception-type") or message.headers.get(":error-code") or "error"
    try:
        doc = orjson.loads(message.payload)
        text = str(doc.get("message") or "") if isinstance(doc, dict) else ""
    except orjson.JSONDecodeError:
        text = ""
    error = {
        "type": _STREAM_ERROR_TYPES.get(name) or ERROR_TYPES.get(name, name),
        "message": text or message.headers.get(":error-message", name),
    }
    return b"data: " + orjson.dumps({"type": "error", "error": error}) + b"\n"


class BedrockAdaptor:
    name = "aws"

    prepare = staticmethod(prepare_images)

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode != modes.CHAT:
            raise unsupported_mode(meta.mode)
        body = json_body(body, raw)
        ak, sk, region = credentials(meta)
        bedrock_id = model_id(meta.actual_model)
        if is_llama(bedrock_id):
            converted = llama.convert(body)
        else:
            converted = anthropic_request.convert(body)
            converted.pop("model", None)  # the model is in the URL
            converted.pop("stream", None)  # the action says it
            converted["anthropic_version"] = ANTHROPIC_VERSION
        payload = orjson.dumps(converted)
        base = meta.base_url or f"https://bedrock-runtime.{region}.amazonaws.com"
        action = "invoke-with-response-stream" if meta.is_stream else "invoke"
        url = f"{base}/model/{quote(bedrock_id, safe='')}/{action}"
        accept = EVENT_STREAM if meta.is_stream else "application/json"
        headers = sigv4.sign("POST", url, {"Content-Type": "application/json", "Accept": accept}, payload, ak, sk, region, SERVICE)
        return UpstreamRequest("POST", url, headers, payload)

    async def exchange(self, upstream: UpstreamClient, meta: RelayMeta, request: UpstreamRequest) -> UpstreamResponse:
        resp = await upstream.send(request, request.body or b"")
        if resp.status != 200:
            try:
                body = (await resp.read())[:MAX_ERROR_BODY]
            except UpstreamUnavailable:
                body = b""
            finally:
                resp.close()
            raise aws_error(resp.status, resp.headers, body)
        if meta.is_stream:
            return BedrockStream(resp)
        return resp

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        if is_llama(model_id(meta.actual_model)):
            return llama.convert_response(meta, status, body)
        return anthropic_response.convert(status, body)

    def stream_converter(self, meta: RelayMeta) -> StreamConverter:
        if is_llama(model_id(meta.actual_model)):
            return llama.LlamaStream(meta)
        return AnthropicStream(meta)
