"""The fake upstream's ASGI app: one catch-all route that recognises each provider's paths,
applies the injected behaviour, and answers; plus `/_fake/*` control endpoints for standalone use."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from tests.fake_upstream import (
    aiproxylibrary,
    ali,
    anthropic,
    aws,
    baidu,
    cloudflare,
    cohere,
    coze,
    deepl,
    gemini,
    ollama,
    openai,
    palm,
    replicate,
    responses,
    tencent,
    vertex,
    xunfei,
    zhipu,
)
from tests.fake_upstream.common import Call, StreamCut
from tests.fake_upstream.state import FakeState, RecordedRequest

AZURE_PATH = re.compile(r"^/openai/deployments/(?P<deployment>[^/]+)/(?P<task>.+)$")
GEMINI_PATH = re.compile(r"^/(?P<version>[^/]+)/models/(?P<model>[^/:]+):(?P<action>[A-Za-z]+)$")
ECHO_KINDS = {"401_echo", "401_masked"}
ERROR_KINDS = {"500", "429", "401", "400", "quota", "error200", *ECHO_KINDS}


class _HideCuts(logging.Filter):
    """A deliberate mid-answer disconnect is not a server error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, StreamCut):
                return False
            exc = exc.__cause__ or exc.__context__ or (exc.exceptions[0] if isinstance(exc, BaseExceptionGroup) else None)
        return True


def install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideCuts) for f in logger.filters):
        logger.addFilter(_HideCuts())


def _key(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth:
        return auth.removeprefix("Bearer ").strip()
    for header in ("api-key", "x-api-key", "x-goog-api-key"):
        if request.headers.get(header):
            return request.headers[header]
    return request.query_params.get("key", "")


# Providers recognised by their own paths (path -> fake module name); the rest are OpenAI-shaped.
OWN_PATHS = {
    "/api/chat": "ollama",
    "/api/embed": "ollama",
    "/v2/translate": "deepl",
    "/open_api/v2/chat": "coze",
    "/api/library/ask": "aiproxylibrary",
    cohere.PATH: "cohere",
    cohere.EMBED_PATH: "cohere",
    palm.PATH: "palm",
    vertex.TOKEN_PATH: "vertex",
}
MODULES: dict[str, Any] = {
    "gemini": gemini,
    "anthropic": anthropic,
    "ollama": ollama,
    "deepl": deepl,
    "cloudflare": cloudflare,
    "coze": coze,
    "aiproxylibrary": aiproxylibrary,
    "aws": aws,
    "cohere": cohere,
    "palm": palm,
    "replicate": replicate,
    "vertex": vertex,
    "zhipu": zhipu,
    "ali": ali,
    "baidu": baidu,
    "tencent": tencent,
}


def _provider(path: str) -> str:
    if path in OWN_PATHS:
        return OWN_PATHS[path]
    if cloudflare.PATH.match(path):
        return "cloudflare"
    if aws.PATH.match(path):
        return "aws"
    if vertex.PATH.match(path):
        return "vertex"
    if replicate.handles(path):
        return "replicate"
    if GEMINI_PATH.match(path):
        return "gemini"
    if path.endswith("/v1/messages"):
        return "anthropic"
    if path.startswith("/api/paas/"):
        return "zhipu"
    if path.startswith("/api/v1/services/"):
        return "ali"
    if path.startswith(("/rpc/2.0/", "/oauth/2.0/")):
        return "baidu"
    if path == "/":
        return "tencent"
    return "openai"


def _error(provider: str, kind: str, key: str = "") -> Response:
    module = MODULES.get(provider, openai)
    if kind in ECHO_KINDS:
        return module.error_response("401", echoed_key_message(kind, key))
    return module.error_response(kind)


def echoed_key_message(kind: str, key: str) -> str:
    """What a provider that repeats the refused credential says (OpenAI's 401 masks the middle)."""
    if kind == "401_masked":
        shown = key[:8] + "*" * max(0, len(key) - 12) + key[-4:]
        return f"Incorrect API key provided: {shown}. You can find your API key at https://platform.openai.com/account/api-keys."
    return f"Invalid credentials {key} (sent as Authorization: Bearer {key})"


def _not_found(path: str) -> Response:
    error = {
        "message": f"fake upstream has no route {path}",
        "type": "invalid_request_error",
        "param": None,
        "code": "not_found",
    }
    return Response(orjson.dumps({"error": error}), status_code=404, media_type="application/json")


async def _answer(call: Call, path: str, state: FakeState) -> Response | None:
    provider = _provider(path)
    if provider == "ollama":
        return ollama.dispatch(call, path)
    if provider == "deepl":
        return deepl.translate(call)
    if provider == "coze":
        return coze.chat(call)
    if provider == "aiproxylibrary":
        return aiproxylibrary.ask(call)
    if provider == "cloudflare":
        return await cloudflare.dispatch(call, path)
    if provider == "aws":
        match = aws.PATH.match(path)
        return aws.invoke(call, match["model"], match["action"]) if match else None
    if provider == "vertex":
        if path == vertex.TOKEN_PATH:
            return vertex.token(call)
        match = vertex.PATH.match(path)
        return vertex.predict(call, match["publisher"], match["model"], match["action"]) if match else None
    if provider == "cohere":
        return cohere.chat(call) if path == cohere.PATH else cohere.embed(call)
    if provider == "palm":
        return palm.generate_message(call)
    if provider == "replicate":
        return replicate.dispatch(call, path)
    if path.endswith("/responses") and call.request.method == "POST":  # OpenAI, and Azure's two paths
        return responses.create(call, state.stored_responses)
    item = responses.ITEM_PATH.search(path)
    if item and call.request.method in ("GET", "DELETE"):
        return responses.item(call, state.stored_responses, item["id"], item["rest"] or "")
    match = GEMINI_PATH.match(path)
    if match:
        return gemini.dispatch(call, match["model"], match["action"])
    if path.endswith("/v1/messages"):
        return anthropic.messages(call)
    if path.startswith("/api/paas/"):
        return zhipu.dispatch(call, path)
    if path.startswith("/api/v1/services/"):
        return ali.dispatch(call, path)
    if path.startswith(("/rpc/2.0/", "/oauth/2.0/")):
        return baidu.dispatch(call, path)
    if path == "/":
        return tencent.dispatch(call)
    match = AZURE_PATH.match(path)
    if match:
        return await openai.dispatch(call, match["task"], azure=True)
    return await openai.dispatch(call, path)


def create_app(state: FakeState) -> Starlette:
    async def relay(request: Request) -> Response:
        path = request.url.path
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        record = RecordedRequest(request.method, path, request.url.query, headers, body, _key(request))
        record.raw_path = request.scope.get("raw_path", path.encode()).decode("latin-1")
        behaviour = state.record(record)
        doc: Any = None
        # Lenient like real providers: a JSON body is JSON whatever its Content-Type says.
        if body and (headers.get("content-type", "").startswith("application/json") or body.lstrip()[:1] in (b"{", b"[")):
            try:
                doc = orjson.loads(body)
            except orjson.JSONDecodeError:
                return _error(_provider(path), "400")
        kind = behaviour.kind if behaviour else ""
        if kind == "slow":
            await asyncio.sleep(behaviour.delay)
        if kind in ERROR_KINDS:
            return _error(_provider(path), kind, record.key)
        call = Call(request, body, doc, behaviour, record, state.canned)
        answer = await _answer(call, path, state)
        if answer is None:
            return _not_found(path)
        answer.raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in state.canned.extra_headers]
        return answer

    async def fail_next(request: Request) -> Response:
        params = await request.json()
        state.fail_next(params.pop("path"), params.pop("kind"), params.pop("count", 1), **params)
        return JSONResponse({"ok": True})

    async def for_key(request: Request) -> Response:
        params = await request.json()
        state.behaviour_for_key(params.pop("key"), params.pop("kind", None), **params)
        return JSONResponse({"ok": True})

    async def configure(request: Request) -> Response:
        state.configure(**(await request.json()))
        return JSONResponse({"ok": True})

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"ok": True})

    async def requests(request: Request) -> Response:
        return JSONResponse({"requests": [r.as_dict() for r in state.requests], "served_usage": state.served_usage_total()})

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH"]
    routes = [
        Route("/_fake/fail_next", fail_next, methods=["POST"]),
        Route("/_fake/key", for_key, methods=["POST"]),
        Route("/_fake/configure", configure, methods=["POST"]),
        Route("/_fake/reset", reset, methods=["POST"]),
        Route("/_fake/requests", requests, methods=["GET"]),
        WebSocketRoute("/chat/{name}", xunfei.endpoint(state)),
        WebSocketRoute("/{version}/chat", xunfei.endpoint(state)),
        Route("/{path:path}", relay, methods=methods),
    ]
    return Starlette(routes=routes)
