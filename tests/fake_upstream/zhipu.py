"""The fake Zhipu (BigModel) API: v4 chat/embeddings (OpenAI-like; a stream's last chunk carries
usage, as GLM does) and the v3 model-api (`invoke` / `sse-invoke`). Every call must carry a JWT
(HS256, `sign_type: SIGN`, millisecond `exp` in the future) signed with the secret of a key id the
fake knows, as the real API checks it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any

import orjson
from starlette.responses import Response

from tests.fake_upstream.common import CREATED, Call, data_event, json_response, sse_response, usage_dict, vector

# key id -> secret: the accounts the fake knows. Tests use KEY.
SECRETS = {"fakezhipuid": "fakezhipusecret0123"}
KEY = "fakezhipuid.fakezhipusecret0123"

ERRORS: dict[str, tuple[int, str, str]] = {
    "500": (500, "500", "Internal Error"),
    "429": (429, "1302", "您当前使用该API的并发数过高，请降低并发，或联系客服增加限额。"),
    "401": (401, "1002", "Authorization Token非法，请确认Authorization Token正确传递。"),
    "400": (400, "1214", "messages 参数非法。请检查文档。"),
    "quota": (429, "1113", "您的账户已欠费，请充值后重试。"),
    "error200": (200, "1234", "网络错误，错误id：fake，请联系客服"),
}


def error_response(kind: str, override: str | None = None) -> Response:
    status, code, message = ERRORS[kind]
    body = {"error": {"code": code, "message": message if override is None else override}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _v3_error(kind: str) -> Response:
    _, code, message = ERRORS[kind]
    return Response(orjson.dumps({"code": int(code), "msg": message, "success": False}), media_type="application/json")


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def token_valid(token: str) -> bool:
    try:
        header_b64, payload_b64, signature_b64 = token.split(".")
        header, payload = orjson.loads(_b64decode(header_b64)), orjson.loads(_b64decode(payload_b64))
        signature = _b64decode(signature_b64)
    except (ValueError, orjson.JSONDecodeError):
        return False
    if header != {"alg": "HS256", "sign_type": "SIGN"} or not isinstance(payload, dict):
        return False
    secret = SECRETS.get(str(payload.get("api_key")))
    if secret is None:
        return False
    expected = hmac.new(secret.encode(), f"{header_b64}.{payload_b64}".encode(), hashlib.sha256).digest()
    exp, stamp = payload.get("exp"), payload.get("timestamp")
    now_ms = time.time() * 1000
    return (
        hmac.compare_digest(signature, expected)
        and isinstance(exp, int)
        and exp > now_ms
        and isinstance(stamp, int)
        and stamp <= now_ms + 60_000
    )


def dispatch(call: Call, path: str) -> Response | None:
    v3 = path.startswith("/api/paas/v3/")
    if not token_valid(call.request.headers.get("authorization", "")):
        return _v3_error("401") if v3 else error_response("401")
    if v3:
        model, _, action = path.removeprefix("/api/paas/v3/model-api/").partition("/")
        if action not in ("invoke", "sse-invoke") or not isinstance(call.field("prompt"), list):
            return _v3_error("400")
        return _v3_stream(call) if action == "sse-invoke" else _v3_invoke(call)
    if path == "/api/paas/v4/chat/completions":
        if not isinstance(call.field("messages"), list):
            return error_response("400")
        return _v4_stream(call) if call.field("stream") else _v4_chat(call)
    if path == "/api/paas/v4/images/generations":
        if not isinstance(call.field("prompt"), str) or not call.field("prompt") or set(call.doc) - {"model", "prompt", "user_id"}:
            return error_response("400", "prompt 参数非法")
        return json_response(call, {"created": CREATED, "data": [{"url": "https://fake.bigmodel.cn/cogview/fake.png"}]})
    if path == "/api/paas/v4/embeddings":
        text = call.field("input")
        if not isinstance(text, str):
            return error_response("400", "input 参数非法")
        usage = usage_dict(call.canned.embedding_tokens_per_input, 0)
        answer = {
            "model": call.field("model"),
            "data": [{"embedding": vector(text), "index": 0, "object": "embedding"}],
            "object": "list",
            "usage": usage,
        }
        return json_response(call, answer, usage=usage)
    return None


def _usage(call: Call) -> dict[str, int]:
    return usage_dict(call.canned.prompt_tokens, call.canned.completion_tokens)


def _v4_chat(call: Call) -> Response:
    usage = _usage(call)
    answer = {
        "id": "8311fake",
        "created": CREATED,
        "model": call.field("model"),
        "request_id": "8311fake",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": call.canned.reply_text}}],
        "usage": usage,
    }
    return json_response(call, answer, usage=usage)


def _v4_stream(call: Call) -> Response:
    def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
        doc: dict[str, Any] = {
            "id": "8311fake",
            "created": CREATED,
            "model": call.field("model"),
            "choices": [{"index": 0, "delta": delta, **({"finish_reason": finish} if finish else {})}],
        }
        if usage:
            doc["usage"] = usage
        return data_event(doc)

    usage = _usage(call)
    events: list[tuple[bytes, dict[str, int] | None]] = [
        (chunk({"role": "assistant", "content": word}), None) for word in call.canned.words
    ]
    events.append((chunk({"role": "assistant", "content": ""}, "stop", usage), usage))
    events.append((data_event(b"[DONE]"), None))
    return sse_response(call, events)


def _v3_invoke(call: Call) -> Response:
    usage = _usage(call)
    data = {
        "request_id": "fake-request",
        "task_id": "fake-task",
        "task_status": "SUCCESS",
        "choices": [{"role": "assistant", "content": orjson.dumps(call.canned.reply_text).decode()}],
        "usage": usage,
    }
    return json_response(call, {"code": 200, "msg": "操作成功", "data": data, "success": True}, usage=usage)


def _v3_stream(call: Call) -> Response:
    events: list[tuple[bytes, dict[str, int] | None]] = [
        (b"event:add\nid:fake-task\ndata:" + word.encode() + b"\n\n", None) for word in call.canned.words
    ]
    usage = _usage(call)
    meta = {"task_status": "SUCCESS", "usage": usage, "task_id": "fake-task", "request_id": "fake-request"}
    events.append((b"event:finish\nid:fake-task\ndata:\nmeta:" + orjson.dumps(meta) + b"\n\n", usage))
    return sse_response(call, events)
