"""The fake AWS Bedrock runtime: POST /model/{modelId}/invoke and /invoke-with-response-stream.

It checks what Bedrock checks: a SigV4 `Authorization` for a known access key, recomputed here from
the request as received (path as sent, so a model id's `:` must have been signed as %253A), the
signing scope's service and region, and the Claude body shape (`anthropic_version`, no `model`).
Streams are framed in AWS's binary event stream, one frame split across two writes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import zlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.responses import Response, StreamingResponse

from tests.fake_upstream import anthropic
from tests.fake_upstream.common import Call, StreamCut, json_response

# access key -> secret key the fake accepts
SECRETS = {"AKIDFAKEBEDROCK": "fake/bedrock+secret"}
PATH = re.compile(r"^/model/(?P<model>[^/]+)/(?P<action>invoke|invoke-with-response-stream)$")
AUTH = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<ak>[^/]+)/(?P<scope>[^,]+), SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]{64})$"
)

ERRORS: dict[str, tuple[int, str, str]] = {
    "500": (500, "InternalServerException", "The server encountered an internal error."),
    "429": (429, "ThrottlingException", "Too many requests, please wait before trying again."),
    "401": (403, "UnrecognizedClientException", "The security token included in the request is invalid."),
    "400": (400, "ValidationException", "Malformed input request, please reformat your input and try again."),
    "quota": (429, "ServiceQuotaExceededException", "You have exceeded your service quota."),
    "error200": (500, "ModelNotReadyException", "The model is not ready to serve inference requests."),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, code, message = ERRORS[kind]
    return _error(status, code, message if override is None else override)


def _error(status: int, code: str, message: str) -> Response:
    return Response(
        orjson.dumps({"message": message}),
        status_code=status,
        media_type="application/json",
        headers={"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
    )


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _expected_signature(call: Call, secret: str, scope: str, signed: list[str]) -> str:
    req = call.record
    query = "&".join(sorted(p for p in req.query.split("&") if p))
    canonical = "\n".join(
        [
            req.method,
            re.sub("%", "%25", req.raw_path),  # the path as sent, its escapes escaped again
            query,
            "".join(f"{name}:{' '.join(req.headers.get(name, '').split())}\n" for name in signed),
            ";".join(signed),
            hashlib.sha256(req.body).hexdigest(),
        ]
    )
    date, region, service, _ = scope.split("/")
    key = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", req.headers.get("x-amz-date", ""), scope, hashlib.sha256(canonical.encode()).hexdigest()])
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def check_signature(call: Call) -> Response | None:
    match = AUTH.match(call.request.headers.get("authorization", ""))
    if match is None:
        return _error(403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    secret = SECRETS.get(match["ak"])
    if secret is None:
        return error_response("401")
    scope, signed = match["scope"], match["signed"].split(";")
    parts = scope.split("/")
    if len(parts) != 4 or parts[2] != "bedrock" or parts[3] != "aws4_request" or not {"host", "x-amz-date"} <= set(signed):
        return _error(403, "InvalidSignatureException", f"Credential should be scoped to a valid service: {scope}")
    if parts[0] != call.request.headers.get("x-amz-date", "")[:8]:
        return _error(403, "InvalidSignatureException", "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date")
    if not hmac.compare_digest(match["sig"], _expected_signature(call, secret, scope, signed)):
        return _error(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
    return None


def _frame(headers: dict[str, str], payload: bytes) -> bytes:
    raw_headers = b"".join(
        bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value.encode())) + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + raw_headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def chunk_frame(event: dict[str, Any]) -> bytes:
    payload = orjson.dumps({"bytes": base64.b64encode(orjson.dumps(event)).decode(), "p": "abcdefgh"})
    return _frame({":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}, payload)


def exception_frame(name: str, message: str) -> bytes:
    payload = orjson.dumps({"message": message})
    return _frame({":exception-type": name, ":content-type": "application/json", ":message-type": "exception"}, payload)


def invoke(call: Call, model_id: str, action: str) -> Response:
    refused = check_signature(call)
    if refused is not None:
        return refused
    if model_id.startswith("meta.llama3"):
        return _llama(call, action)
    doc = call.doc
    if not isinstance(doc, dict) or doc.get("anthropic_version") != "bedrock-2023-05-31" or "model" in doc or "stream" in doc:
        return _error(400, "ValidationException", "Malformed input request: #: extraneous key or missing anthropic_version")
    if not isinstance(doc.get("messages"), list) or not isinstance(doc.get("max_tokens"), int):
        return _error(400, "ValidationException", "Malformed input request: #: required key [messages, max_tokens] not found")
    if not model_id.startswith("anthropic."):
        return _error(400, "ValidationException", "The provided model identifier is invalid.")
    if call.request.headers.get("accept") != ("application/vnd.amazon.eventstream" if action != "invoke" else "application/json"):
        return _error(400, "ValidationException", "unexpected Accept header")
    if action == "invoke":
        return anthropic.messages(call)  # the same Messages body as Anthropic's own API
    events = anthropic.message_events(call, model_id)
    cut_after = call.behaviour.after if call.kind == "cut" else None
    fail_after = call.behaviour.after if call.kind == "stream_error" else None
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens

    async def body() -> AsyncIterator[bytes]:
        for sent, (sse, usage) in enumerate(events):
            payload = orjson.loads(sse.split(b"data: ", 1)[1])
            if cut_after is not None and sent >= cut_after:
                raise StreamCut()
            if fail_after is not None and sent >= fail_after:
                yield exception_frame("throttlingException", "Too many tokens, please wait before trying again.")
                return
            event = dict(payload)
            if event.get("type") == "message_stop":
                event["amazon-bedrock-invocationMetrics"] = {
                    "inputTokenCount": prompt,
                    "outputTokenCount": completion,
                    "invocationLatency": 120,
                    "firstByteLatency": 40,
                }
            frame = chunk_frame(event)
            if sent == 1:  # a frame split across two reads
                yield frame[:7]
                yield frame[7:]
            else:
                yield frame
            if usage is not None:
                call.record.served_usage = usage

    return StreamingResponse(body(), media_type="application/vnd.amazon.eventstream")


def _llama(call: Call, action: str) -> Response:
    """Llama 3: a `prompt` in Llama 3's chat format, answers with generation and token counts."""
    doc = call.doc
    prompt = doc.get("prompt") if isinstance(doc, dict) else None
    if (
        not isinstance(prompt, str)
        or not prompt.startswith("<|begin_of_text|>")
        or not prompt.endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")
        or "messages" in doc
    ):
        return _error(400, "ValidationException", "Malformed input request: #: required key [prompt] not found")
    prompt_tokens, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    served = {"prompt_tokens": prompt_tokens, "completion_tokens": completion, "total_tokens": prompt_tokens + completion}
    if action == "invoke":
        answer = {
            "generation": call.canned.reply_text,
            "prompt_token_count": prompt_tokens,
            "generation_token_count": completion,
            "stop_reason": "stop",
        }
        return json_response(call, answer, usage=served)
    words = call.canned.words

    async def body() -> AsyncIterator[bytes]:
        for index, word in enumerate(words):
            last = index == len(words) - 1
            chunk: dict[str, Any] = {
                "generation": word,
                "prompt_token_count": prompt_tokens if index == 0 else None,
                "generation_token_count": index + 1,
                "stop_reason": "stop" if last else None,
            }
            if last:
                chunk["amazon-bedrock-invocationMetrics"] = {"inputTokenCount": prompt_tokens, "outputTokenCount": completion}
                call.record.served_usage = served
            yield chunk_frame(chunk)

    return StreamingResponse(body(), media_type="application/vnd.amazon.eventstream")


__all__ = ["PATH", "invoke", "error_response", "json_response"]
