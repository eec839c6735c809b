"""The fake iFlytek Spark chat service over WebSocket (`/{version}/chat`, `/chat/pro-128k`,
`/chat/max-32k`). As iFlytek does, it checks the signed URL before the handshake (HMAC-SHA256 with
the APISecret over host, date and request line; a date within five minutes) and refuses with HTTP
401 and `{"message": …}`; then it reads one request frame, checks its shape and the domain the
version needs, and answers in frames (`header.status` 0/1/2, usage in the last) or an error frame.
The signing here is written apart from the product's."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from collections.abc import Awaitable, Callable
from email.utils import parsedate_to_datetime
from typing import Any

import orjson
from starlette.responses import JSONResponse
from starlette.websockets import WebSocket

from tests.fake_upstream.state import FakeState, RecordedRequest

APP_ID, API_SECRET, API_KEY = "fakeappid", "fakespark-api-secret", "fakespark-api-key"
KEY = f"{APP_ID}|{API_SECRET}|{API_KEY}"
MAX_SKEW = 300
DOMAINS = {"v1.1": "lite", "v3.1": "generalv3", "v3.5": "generalv3.5", "v4.0": "4.0Ultra", "pro-128k": "pro-128k", "max-32k": "max-32k"}
_AUTH = re.compile(r'^api_key="(?P<key>[^"]*)", algorithm="hmac-sha256", headers="host date request-line", signature="(?P<sig>[^"]*)"$')

# Error frames per injected kind: (code, message); Spark sends them as the only frame.
ERRORS: dict[str, tuple[int, str]] = {
    "500": (10000, "upgrade to ws error"),
    "429": (11202, "licc limit: qps exceeded"),
    "401": (11200, "AppIdNoAuthError:(11200)授权错误：该appId没有相关功能的授权 或者 业务量超过限制"),
    "400": (10005, "invalid parameter"),
    "quota": (11201, "licc limit: daily quota exceeded"),
    "error200": (10013, "input content is not compliant"),
}


def _refusal(message: str, status: int = 401) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def check_url(websocket: WebSocket) -> str | None:
    """None when the signed URL is valid, else iFlytek's refusal message."""
    params = websocket.query_params
    host, date = websocket.headers.get("host", ""), params.get("date", "")
    if params.get("host") != host:
        return "HMAC signature does not match"
    try:
        authorization = base64.b64decode(params.get("authorization", ""), validate=True).decode()
        sent = parsedate_to_datetime(date).timestamp()
    except (ValueError, TypeError, UnicodeDecodeError):
        return "HMAC signature cannot be verified"
    match = _AUTH.match(authorization)
    if match is None or match["key"] != API_KEY:
        return "HMAC signature cannot be verified"
    if abs(time.time() - sent) > MAX_SKEW:
        return "HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication"
    request_line = f"GET {websocket.url.path} HTTP/1.1"
    expected = hmac.new(API_SECRET.encode(), f"host: {host}\ndate: {date}\n{request_line}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(base64.b64encode(expected).decode(), match["sig"]):
        return "HMAC signature does not match"
    return None


def _frame(code: int, message: str, status: int, text: str = "", usage: dict[str, int] | None = None, seq: int = 0) -> str:
    frame: dict[str, Any] = {"header": {"code": code, "message": message, "sid": "cht000fake", "status": status}}
    if code == 0:
        frame["payload"] = {"choices": {"status": status, "seq": seq, "text": [{"content": text, "role": "assistant", "index": 0}]}}
        if usage is not None:
            frame["payload"]["usage"] = {"text": {"question_tokens": 4, **usage}}
    return orjson.dumps(frame).decode()


def endpoint(state: FakeState) -> Callable[[WebSocket], Awaitable[None]]:
    async def serve(websocket: WebSocket) -> None:
        refused = check_url(websocket)
        if refused is not None:
            await websocket.send_denial_response(_refusal(refused))
            return
        await websocket.accept()
        request = await websocket.receive_text()
        path = websocket.url.path
        headers = {k.lower(): v for k, v in websocket.headers.items()}
        record = RecordedRequest("GET", path, websocket.url.query, headers, request.encode(), API_KEY)
        behaviour = state.record(record)
        canned = state.canned
        try:
            frame = orjson.loads(request)
        except orjson.JSONDecodeError:
            frame = None
        version = path.split("/")[2] if path.startswith("/chat/") else path.split("/")[1]
        chat = frame.get("parameter", {}).get("chat", {}) if isinstance(frame, dict) else {}
        texts = frame.get("payload", {}).get("message", {}).get("text") if isinstance(frame, dict) else None
        app_id = frame.get("header", {}).get("app_id") if isinstance(frame, dict) else None
        kind = behaviour.kind if behaviour else ""
        if kind in ERRORS:
            await websocket.send_text(_frame(*ERRORS[kind], status=2))
        elif app_id != APP_ID:
            await websocket.send_text(_frame(*ERRORS["401"], status=2))
        elif not isinstance(texts, list) or not texts or chat.get("domain") != DOMAINS.get(version):
            await websocket.send_text(_frame(10005, f"invalid domain or message for {version}", status=2))
        else:
            words = canned.words
            usage = {
                "prompt_tokens": canned.prompt_tokens,
                "completion_tokens": canned.completion_tokens,
                "total_tokens": canned.prompt_tokens + canned.completion_tokens,
            }
            for seq, word in enumerate(words):
                if kind == "cut" and behaviour is not None and seq >= behaviour.after:
                    await websocket.close(code=1011)  # dropped mid-answer, without the last frame
                    return
                last = seq == len(words) - 1
                status = 2 if last else (0 if seq == 0 else 1)
                await websocket.send_text(_frame(0, "Success", status, word, usage if last else None, seq))
            record.served_usage = usage
        await websocket.close()

    return serve
