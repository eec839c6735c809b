"""The Gemini-native routes: `/v1beta/models/{model}:{action}`, served by the chat pipeline; the same
under `/v1` (Gemini's stable version, which google-genai uses when given a base_url), where a POST
with a `:` action never collides with OpenAI's `GET /v1/models/{model}`.

Auth takes our token from `x-goog-api-key`, `?key=` or `Authorization: Bearer` (in that order). The
`key` query parameter never travels on: it is cut from the query the request keeps, and the access
log writes the path alone (shared.request_id).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.types import Receive, Scope

from shared.relay import modes, prompt
from shared.relay.auth import authenticate, check_model_allowed
from shared.relay.engine import Call, RelayEngine
from shared.relay.http import header, headers_dict, read_body, send_json
from shared.relay.inbound.gemini import models
from shared.relay.inbound.gemini import request as convert
from shared.relay.inbound.gemini.passthrough import GeminiInbound
from shared.relay.inbound.gemini.reply import BATCH_EMBED, EMBED, GENERATE, GeminiReply
from shared.relay.ratelimit import Admission
from shared.relay.text import relay_text
from shared.relay.types import RelayError

PATH = re.compile(r"^/v1(?:beta)?/models/([^/:]+):([A-Za-z]+)$")
LISTING = re.compile(r"^/v1beta/models(?:/([^/:]+))?$")  # GET only: /v1/models is OpenAI's
ACTIONS = ("generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents")
SECRET_HEADERS = ("x-goog-api-key", "authorization")


def match(method: str, path: str) -> tuple[str, str] | None:
    """(model, action) for a Gemini route, else None; an unknown action is a 404 of Google's shape.
    The listing is the action "list" (model "") or "get"."""
    if method == "GET":
        listing = LISTING.match(path)
        if listing is None:
            return None
        return (listing.group(1), "get") if listing.group(1) else ("", "list")
    found = PATH.match(path)
    if found is None or method != "POST":
        return None
    return found.group(1), found.group(2)


def query_without_key(scope: Scope) -> tuple[str, str]:
    """(the `key` query parameter, the rest of the query)."""
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    key = next((v for k, v in pairs if k == "key"), "")
    return key, urlencode([(k, v) for k, v in pairs if k != "key"])


def authorization(scope: Scope, query_key: str) -> str:
    key = header(scope, b"x-goog-api-key") or query_key
    return f"Bearer {key}" if key else header(scope, b"authorization")


def _parse(body: bytes) -> Any:
    try:
        return orjson.loads(body) if body else {}
    except orjson.JSONDecodeError as exc:
        raise convert.invalid(f"request body is not valid JSON: {exc}") from None


async def relay_gemini(
    engine: RelayEngine,
    scope: Scope,
    receive: Receive,
    reply: GeminiReply,
    route: tuple[str, str],
    ip: str,
    request_id: str,
    admission: Admission,
) -> None:
    model, action = route
    if action in ("list", "get"):
        await _listing(engine, scope, reply, model, ip)
        return
    if action not in ACTIONS:
        raise RelayError(404, f"method {action} is not served for models/{model}", code="not_found")
    snapshot = engine.snapshot
    assert snapshot is not None
    query_key, query = query_without_key(scope)
    caller = authenticate(snapshot, engine.ledger, engine.sink, authorization(scope, query_key), ip)
    check_model_allowed(caller.token, model)
    body = await read_body(scope, receive, engine.settings.max_request_body)
    request = _parse(body)
    if action == "countTokens":
        await engine.limits.admit(snapshot, caller, admission, 0)
        await send_json(reply, 200, {"totalTokens": await count_tokens(engine, model, request)})
        return
    if action in ("embedContent", "batchEmbedContents"):
        batch = action == "batchEmbedContents"
        openai_body = convert.embed_body(model, request, batch)
        path, mode = "/v1/embeddings", modes.EMBEDDINGS
        reply.expect(BATCH_EMBED if batch else EMBED, model)
    else:
        openai_body = convert.chat_body(model, request, stream=action == "streamGenerateContent")
        path, mode = "/v1/chat/completions", modes.CHAT
        reply.expect(GENERATE, model)
    headers = {k: v for k, v in headers_dict(scope).items() if k not in SECRET_HEADERS}
    call = Call(
        request_id=request_id,
        method="POST",
        path=path,
        path_qs=path + (f"?{query}" if query else ""),
        headers=headers,
        ip=ip,
        body=orjson.dumps(openai_body),
        parsed=openai_body,
        form=None,
        mode=mode,
        model=model,
        caller=caller,
        receive=receive,
        admission=admission,
    )
    if mode == modes.CHAT:
        call.inbound = GeminiInbound(request, action)
    pinned = engine.pinned_channel(caller.channel_hint) if caller.channel_hint else None
    await relay_text(engine, call, reply, pinned)


async def _listing(engine: RelayEngine, scope: Scope, reply: GeminiReply, model: str, ip: str) -> None:
    assert engine.snapshot is not None
    query_key, _ = query_without_key(scope)
    caller = authenticate(engine.snapshot, engine.ledger, engine.sink, authorization(scope, query_key), ip)
    if model:
        await send_json(reply, 200, models.get_answer(engine.snapshot, caller, model))
    else:
        await send_json(reply, 200, models.list_answer(engine.snapshot, caller))


async def count_tokens(engine: RelayEngine, model: str, request: Any) -> int:
    """The prompt estimate the chat pipeline would reserve for this request (counted here, unbilled)."""
    body = convert.count_body(model, request)
    size = prompt.measure(modes.CHAT, body)
    oversized = prompt.too_large(size, engine.settings.max_prompt_bytes)
    if oversized is not None:
        raise oversized
    approximate = engine.snapshot.option_flag("ApproximateTokenEnabled") if engine.snapshot else False
    return await engine.prompts.count(modes.CHAT, body, model, approximate, size, engine.user_content)
