"""The relay's ASGI app (docs/one-api-compat.md §5.1): /v1/*, the OpenAI billing routes, CORS, gzip bodies.

Order per request as One API runs it: CORS preflight, token auth, model extraction, channel
distribution, then the mode's handler. One API has no rate limit on relay routes; ours are per
token, user and group (shared.relay.ratelimit), admitted by the mode's handler once the request is
parsed (text: once its tokens are counted) and released here whichever way the request ends.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.formparsers import MultiPartParser
from starlette.types import Receive, Scope, Send

from shared.logs import get_logger, request_id_var
from shared.relay import modes
from shared.relay.auth import authenticate, check_model_allowed, request_model
from shared.relay.billing_routes import subscription, usage
from shared.relay.engine import Call, RelayEngine
from shared.relay.http import BadGzip, BodyTooLarge, header, headers_dict, read_body, send_bytes, send_error, send_json
from shared.relay.inbound import ClientFormat
from shared.relay.inbound.anthropic import MESSAGES
from shared.relay.inbound.anthropic.count import count_tokens
from shared.relay.inbound.gemini import route as gemini
from shared.relay.inbound.gemini.reply import GeminiReply
from shared.relay.inbound.responses.relay import count_input_tokens, relay_response_item, relay_responses
from shared.relay.media import relay_audio, relay_image, relay_proxy
from shared.relay.models_routes import list_models, retrieve_model
from shared.relay.ratelimit import Admission
from shared.relay.text import relay_text
from shared.relay.types import RelayError

log = get_logger(__name__)

RELAY_POST = {
    "/v1/completions",
    "/v1/chat/completions",
    "/v1/edits",
    "/v1/images/generations",
    "/v1/embeddings",
    "/v1/audio/transcriptions",
    "/v1/audio/translations",
    "/v1/audio/speech",
    "/v1/moderations",
    "/v1/responses",
    "/v1/responses/input_tokens",
}
RESPONSES = "/v1/responses"
RESPONSES_COUNT = "/v1/responses/input_tokens"
# GET/DELETE a stored response, GET its input items (shared.relay.inbound.responses.relay).
_RESPONSE_ITEM = re.compile(r"^/v1/responses/([^/]+)(/input_items)?$")
CHAT_PATH = "/v1/chat/completions"
# Other APIs' formats: path -> (format, is the token-counting route).
INBOUND: dict[str, tuple[ClientFormat, bool]] = {
    "/v1/messages": (MESSAGES, False),
    "/v1/messages/count_tokens": (MESSAGES, True),
}
_ENGINE_EMBEDDINGS = re.compile(r"^/v1/engines/([^/]+)/embeddings$")
_PROXY = re.compile(r"^/v1/oneapi/proxy/([^/]+)(/.*)?$")
_MODEL = re.compile(r"^/v1/models/([^/]+)$")
_NOT_IMPLEMENTED = [
    (("POST",), re.compile(r"^/v1/images/(edits|variations)$")),
    (("GET", "POST"), re.compile(r"^/v1/files$")),
    (("GET", "DELETE"), re.compile(r"^/v1/files/[^/]+$")),
    (("GET",), re.compile(r"^/v1/files/[^/]+/content$")),
    (("GET", "POST"), re.compile(r"^/v1/fine_tuning/jobs$")),
    (("GET",), re.compile(r"^/v1/fine_tuning/jobs/[^/]+(/events)?$")),
    (("POST",), re.compile(r"^/v1/fine_tuning/jobs/[^/]+/cancel$")),
    (("DELETE",), re.compile(r"^/v1/models/[^/]+$")),
    (("GET", "POST"), re.compile(r"^/v1/assistants$")),
    (("GET", "POST", "DELETE"), re.compile(r"^/v1/assistants/[^/]+$")),
    (("GET", "POST"), re.compile(r"^/v1/assistants/[^/]+/files$")),
    (("GET", "DELETE"), re.compile(r"^/v1/assistants/[^/]+/files/[^/]+$")),
    (("POST",), re.compile(r"^/v1/threads$")),
    (("GET", "POST", "DELETE"), re.compile(r"^/v1/threads/[^/]+$")),
    (("POST",), re.compile(r"^/v1/threads/[^/]+/messages$")),
    (("GET", "POST"), re.compile(r"^/v1/threads/[^/]+/messages/[^/]+$")),
    (("GET",), re.compile(r"^/v1/threads/[^/]+/messages/[^/]+/files(/[^/]+)?$")),
    (("GET", "POST"), re.compile(r"^/v1/threads/[^/]+/runs$")),
    (("GET", "POST"), re.compile(r"^/v1/threads/[^/]+/runs/[^/]+$")),
    (("POST",), re.compile(r"^/v1/threads/[^/]+/runs/[^/]+/(submit_tool_outputs|cancel)$")),
    (("GET",), re.compile(r"^/v1/threads/[^/]+/runs/[^/]+/steps(/[^/]+)?$")),
]
SINGLE_FORM_FIELDS = ("model", "response_format")  # the multipart fields routing and billing read
_MEDIA = (modes.IMAGES, modes.SPEECH, modes.TRANSCRIPTION, modes.TRANSLATION)
NOT_IMPLEMENTED = RelayError(501, "API not implemented", code="api_not_implemented")
BILLING = {
    "/dashboard/billing/subscription": subscription,
    "/v1/dashboard/billing/subscription": subscription,
    "/dashboard/billing/usage": usage,
    "/v1/dashboard/billing/usage": usage,
}


def _bearer(key: str) -> str:
    return f"Bearer {key}" if key else ""


async def _send_error(send: Send, error: RelayError, request_id: str, client_format: ClientFormat | None) -> None:
    if client_format is None:
        await send_error(send, error, request_id)
        return
    headers = [(b"content-type", b"application/json"), *error.headers]
    await send_bytes(send, error.status, orjson.dumps(client_format.error_body(error, request_id)), headers)


def client_ip(scope: Scope) -> str:
    """The client's address: the node's app already resolved it from TRUSTED_PROXIES (shared.client_address)."""
    client = scope.get("client")
    return client[0] if client else ""


def invalid_url(method: str, path: str) -> dict[str, Any]:
    return {"error": {"message": f"Invalid URL ({method} {path})", "type": "invalid_request_error", "param": "", "code": ""}}


def _not_implemented(method: str, path: str) -> bool:
    return any(method in methods and pattern.match(path) for methods, pattern in _NOT_IMPLEMENTED)


async def _form(scope: Scope, body: bytes) -> dict[str, Any]:
    async def stream() -> Any:
        yield body

    try:
        parsed = await MultiPartParser(Headers(scope=scope), stream()).parse()
    except Exception as exc:  # python-multipart raises several types for malformed bodies
        raise RelayError(400, f"invalid multipart body: {exc}", code="invalid_request") from exc
    # The body goes upstream as sent: a second copy of a field the gateway bills by could be the
    # one the upstream reads (a cheap model billed, a dear one served).
    for name in SINGLE_FORM_FIELDS:
        values = parsed.getlist(name)
        if len(values) > 1 or any(not isinstance(v, str) for v in values):
            raise RelayError(400, f"multipart field {name!r} must appear once, as text", code="invalid_request")
    return {k: v for k, v in parsed.items() if isinstance(v, str)}


class RelayApp:
    """ASGI app for /v1/* and /dashboard/*, running on the engine a node gives it."""

    def __init__(self, engine: RelayEngine) -> None:
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        if method == "OPTIONS":
            await send_bytes(
                send,
                204,
                b"",
                [
                    (b"access-control-allow-methods", b"GET, POST, PUT, DELETE, OPTIONS"),
                    (b"access-control-allow-headers", header(scope, b"access-control-request-headers").encode() or b"*"),
                    (b"access-control-max-age", b"43200"),
                ],
            )
            return
        request_id = request_id_var.get() or scope.get("state", {}).get("request_id", "")
        admission = Admission()  # every answer after admission carries its x-ratelimit-* headers
        send = self.engine.limits.wrap(admission, send)
        gemini_route = gemini.match(method, path)
        if gemini_route is not None or path.startswith("/v1beta/"):
            send = GeminiReply(send)  # every answer, errors included, in Google's shapes
        client_format = INBOUND.get(path, (None, False))[0] if method == "POST" else None
        try:
            if gemini_route is not None and self.engine.snapshot is not None:
                assert isinstance(send, GeminiReply)
                await gemini.relay_gemini(self.engine, scope, receive, send, gemini_route, client_ip(scope), request_id, admission)
            elif client_format is not None:
                await self._inbound(scope, receive, send, path, request_id, admission)
            else:
                await self._dispatch(scope, receive, send, method, path, request_id, admission)
        except RelayError as exc:
            await _send_error(send, exc, request_id, client_format)
        except BodyTooLarge:
            limit = self.engine.settings.max_request_body
            await _send_error(
                send,
                RelayError(413, f"request body is larger than {limit} bytes", "invalid_request_error", code="request_too_large"),
                request_id,
                client_format,
            )
        except BadGzip:
            await send_bytes(send, 400, b"")
        except Exception as exc:  # the node stays up whatever a request does
            log.exception("relay panic")
            body = {"error": {"message": f"Panic detected, error: {exc}.", "type": "one_api_panic"}}
            try:
                if client_format is not None:
                    await _send_error(send, RelayError(500, body["error"]["message"], "one_api_panic"), "", client_format)
                else:
                    await send_json(send, 500, body)
            except Exception:
                pass
        finally:
            # Every exit (answered, upstream error, client gone, cancelled at shutdown) frees its slot.
            await self.engine.limits.finish(admission)

    async def _dispatch(
        self, scope: Scope, receive: Receive, send: Send, method: str, path: str, request_id: str, admission: Admission
    ) -> None:
        engine = self.engine
        if engine.snapshot is None:
            raise RelayError(503, "the node has no configuration yet", code="not_ready")
        billing = BILLING.get(path)
        is_relay = method == "POST" and (path in RELAY_POST or _ENGINE_EMBEDDINGS.match(path) is not None)
        proxy = _PROXY.match(path)
        not_impl = not is_relay and proxy is None and _not_implemented(method, path)
        models_list = path == "/v1/models" and method == "GET"
        model_get = _MODEL.match(path) if method == "GET" else None
        item = _RESPONSE_ITEM.match(path)
        response_item = item if item and not is_relay and (method == "GET" or (method == "DELETE" and not item.group(2))) else None
        if not (billing and method == "GET") and not (is_relay or proxy or not_impl or models_list or model_get or response_item):
            await send_json(send, 404, invalid_url(method, path))
            return
        ip = client_ip(scope)
        caller = authenticate(engine.snapshot, engine.ledger, engine.sink, header(scope, b"authorization"), ip)
        if billing:
            await billing(engine, caller, send)
            return
        if models_list:
            await list_models(engine, caller, send)
            return
        if model_get:
            await retrieve_model(model_get.group(1), send)
            return
        body = await read_body(scope, receive, engine.settings.max_request_body)
        content_type = header(scope, b"content-type")
        form = await _form(scope, body) if content_type.startswith("multipart/form-data") else None
        engine_match = _ENGINE_EMBEDDINGS.match(path)
        model, parsed = request_model(path, content_type, body, form, engine_match.group(1) if engine_match else "")
        if engine_match and isinstance(parsed, dict) and not parsed.get("model"):
            parsed["model"] = model
        check_model_allowed(caller.token, model)
        query = scope.get("query_string", b"").decode("latin-1")
        call = Call(
            request_id=request_id,
            method=method,
            path=path,
            path_qs=path + (f"?{query}" if query else ""),
            headers=headers_dict(scope),
            ip=ip,
            body=body,
            parsed=parsed,
            form=form,
            mode=modes.mode_for_path(path),
            model=model,
            caller=caller,
            receive=receive,
            admission=admission,
        )
        if proxy:
            await self._proxy(call, send, proxy.group(1), proxy.group(2) or "/")
            return
        if response_item:
            await relay_response_item(engine, call, send, response_item.group(1), response_item.group(2) or "")
            return
        if path == RESPONSES_COUNT:
            await count_input_tokens(engine, call, send)
            return
        pinned = engine.pinned_channel(caller.channel_hint) if caller.channel_hint else None
        if not_impl:
            engine.first_channel(call, pinned)  # One API's Distribute answers first (503 for model "")
            raise NOT_IMPLEMENTED
        if call.mode in _MEDIA:  # text modes are admitted in relay_text, once their tokens are counted
            await engine.limits.admit(engine.snapshot, caller, admission, 0)
        if call.mode == modes.IMAGES:
            await relay_image(engine, call, send, pinned)
        elif call.mode in (modes.SPEECH, modes.TRANSCRIPTION, modes.TRANSLATION):
            await relay_audio(engine, call, send, pinned)
        elif path == RESPONSES:
            await relay_responses(engine, call, send, pinned)
        else:
            await relay_text(engine, call, send, pinned)

    async def _inbound(self, scope: Scope, receive: Receive, send: Send, path: str, request_id: str, admission: Admission) -> None:
        """A request in another API's format (shared.relay.inbound): the chat pipeline, converted."""
        engine = self.engine
        if engine.snapshot is None:
            raise RelayError(503, "the node has no configuration yet", code="not_ready")
        client_format, counting = INBOUND[path]
        ip = client_ip(scope)
        # Anthropic's SDKs send the key as x-api-key; Claude Code's ANTHROPIC_AUTH_TOKEN as a bearer.
        authorization = header(scope, b"authorization") or _bearer(header(scope, b"x-api-key"))
        caller = authenticate(engine.snapshot, engine.ledger, engine.sink, authorization, ip)
        body = await read_body(scope, receive, engine.settings.max_request_body)
        try:
            original = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise RelayError(400, f"request body is not valid JSON: {exc}", "invalid_request_error") from None
        if counting:
            model, answer = await count_tokens(engine, original)
            check_model_allowed(caller.token, model)
            await send_json(send, 200, answer)
            return
        chat = client_format.to_chat(original)
        check_model_allowed(caller.token, chat["model"])
        call = Call(
            request_id=request_id,
            method="POST",
            path=CHAT_PATH,  # what an OpenAI-format channel is sent (adaptors build URLs from it)
            path_qs=CHAT_PATH,
            headers=headers_dict(scope),
            ip=ip,
            body=orjson.dumps(chat),  # never the client's bytes: no channel may get them unconverted
            parsed=chat,
            form=None,
            mode=modes.CHAT,
            model=chat["model"],
            caller=caller,
            receive=receive,
            admission=admission,
            inbound=client_format,
            inbound_body=original,
        )
        pinned = engine.pinned_channel(caller.channel_hint) if caller.channel_hint else None
        await relay_text(engine, call, send, pinned)

    async def _proxy(self, call: Call, send: Send, channel_id: str, target: str) -> None:
        if call.caller.user.role < 10:
            raise RelayError(403, "the proxy route is for admin tokens only", code="proxy_admin_only", short=True)
        channel = self.engine.pinned_channel(channel_id)
        assert self.engine.snapshot is not None
        await self.engine.limits.admit(self.engine.snapshot, call.caller, call.admission, 0)
        call.path_qs = target + (call.path_qs.partition("?")[1] + call.path_qs.partition("?")[2])
        call.mode = modes.PROXY
        await relay_proxy(self.engine, call, send, channel)
