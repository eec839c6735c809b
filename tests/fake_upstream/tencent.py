"""The fake Tencent Hunyuan API (API 3.0: POST / with `X-TC-Action`): ChatCompletions (JSON, or
SSE when `Stream` is true) and GetEmbedding. Like Tencent it recomputes the TC3-HMAC-SHA256
signature from the received Host, Content-Type, timestamp and body, and refuses a stale or wrong one
with HTTP 200 and `{"Response": {"Error": …}}`. The signing here is written apart from the product's."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import CREATED, Call, data_event, json_response, sse_response, usage_dict, vector

SECRETS = {"AKIDfakehunyuan": "fakehunyuansecretkey"}
KEY = "1300000000|AKIDfakehunyuan|fakehunyuansecretkey"
MAX_SKEW = 300  # seconds, as Tencent's AuthFailure.SignatureExpire
_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/]+)/tc3_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$"
)

ERRORS: dict[str, tuple[int, str, str]] = {
    "500": (200, "InternalError", "内部错误。"),
    "429": (200, "RequestLimitExceeded", "请求的次数超过了频率限制。"),
    "401": (
        200,
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
    ),
    "400": (200, "InvalidParameter", "Messages 参数错误"),
    "quota": (200, "ResourceInsufficient.ChargeResourceExhaust", "计费资源已耗尽"),
    "error200": (200, "InternalError", "内部错误。"),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, code, message = ERRORS[kind]
    error = {"Code": code, "Message": message if override is None else override}
    return Response(
        orjson.dumps({"Response": {"Error": error, "RequestId": "fake-request"}}), status_code=status, media_type="application/json"
    )


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def signature_error(call: Call) -> str | None:
    """None when the request is signed as Tencent checks it, else the refusal's error kind."""
    headers = call.request.headers
    match = _AUTH.match(headers.get("authorization", ""))
    stamp = headers.get("x-tc-timestamp", "")
    if match is None or not stamp.isdigit() or match["signed"] != "content-type;host":
        return "AuthFailure.SignatureFailure"
    if abs(time.time() - int(stamp)) > MAX_SKEW:
        return "AuthFailure.SignatureExpire"
    secret = SECRETS.get(match["id"])
    if secret is None:
        return "AuthFailure.SecretIdNotFound"
    if time.strftime("%Y-%m-%d", time.gmtime(int(stamp))) != match["date"]:
        return "AuthFailure.SignatureFailure"
    canonical_headers = f"content-type:{headers.get('content-type', '')}\nhost:{headers.get('host', '')}\n"
    canonical = f"POST\n/\n\n{canonical_headers}\ncontent-type;host\n{hashlib.sha256(call.body).hexdigest()}"
    scope = f"{match['date']}/{match['service']}/tc3_request"
    string_to_sign = f"TC3-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    signing_key = _hmac(_hmac(_hmac(("TC3" + secret).encode(), match["date"]), match["service"]), "tc3_request")
    expected = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, match["signature"]) and match["service"] == "hunyuan" else "AuthFailure.SignatureFailure"


def dispatch(call: Call) -> Response | None:
    action = call.request.headers.get("x-tc-action")
    if action not in ("ChatCompletions", "GetEmbedding"):
        return None
    if call.request.headers.get("x-tc-version") != "2023-09-01":
        return error_response("400", "X-TC-Version 参数错误")
    refused = signature_error(call)
    if refused is not None:
        return (
            error_response("401")
            if refused == "AuthFailure.SignatureFailure"
            else Response(
                orjson.dumps({"Response": {"Error": {"Code": refused, "Message": refused}, "RequestId": "fake-request"}}),
                media_type="application/json",
            )
        )
    if action == "GetEmbedding":
        texts = call.field("InputList")
        if not isinstance(texts, list) or not texts:
            return error_response("400", "InputList 参数错误")
        total = call.canned.embedding_tokens_per_input * len(texts)
        data = [{"Embedding": vector(t), "Index": i, "Object": "embedding"} for i, t in enumerate(texts)]
        answer = {"Response": {"Data": data, "Usage": {"PromptTokens": total, "TotalTokens": total}, "RequestId": "fake-request"}}
        return json_response(call, answer, usage=usage_dict(total, 0))
    messages = call.field("Messages")
    if not isinstance(messages, list) or not messages or not isinstance(call.field("Model"), str):
        return error_response("400")
    prompt, completion = call.canned.prompt_tokens, call.canned.completion_tokens
    usage = {"PromptTokens": prompt, "CompletionTokens": completion, "TotalTokens": prompt + completion}
    if call.field("Stream") is True:
        words = call.canned.words
        events: list[tuple[bytes, dict[str, int] | None]] = []
        for index, word in enumerate(words):
            last = index == len(words) - 1
            event: dict[str, Any] = {
                "Note": "以上内容为AI生成",
                "Id": "fake-id",
                "Created": CREATED,
                "Choices": [{"Delta": {"Role": "assistant", "Content": word}, "FinishReason": "stop" if last else ""}],
                "Usage": usage if last else {"PromptTokens": prompt, "CompletionTokens": index + 1, "TotalTokens": prompt + index + 1},
            }
            events.append((data_event(event), usage_dict(prompt, completion) if last else None))
        return sse_response(call, events)
    answer = {
        "Response": {
            "RequestId": "fake-request",
            "Note": "以上内容为AI生成",
            "Id": "fake-id",
            "Created": CREATED,
            "Choices": [{"FinishReason": "stop", "Message": {"Role": "assistant", "Content": call.canned.reply_text}}],
            "Usage": usage,
        }
    }
    return json_response(call, answer, usage=usage_dict(prompt, completion))
