"""`POST /v1/responses` through the chat pipeline, and `GET/DELETE /v1/responses/{id}`.

The request is converted to a chat request first: that is what the gateway counts, reserves, rate
limits and logs, so a Responses call costs what the same conversation sent to /v1/chat/completions
costs. Each attempt then serves its channel one of two ways: OpenAI and Azure channels get the
Responses request itself (passthrough: `store`, `previous_response_id` and hosted tools work as
upstream has them, billed by upstream's usage), every other channel the chat request (converted).
A request that only a passthrough channel can serve (hosted tools, stored items, a
previous_response_id) is pinned to one: to the channel that made the previous response, or to one
chosen among the model's OpenAI/Azure channels, without failover (the conversation lives there).
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from starlette.types import Send

from shared.catalog.channel_types import default_base_url
from shared.redact import redact_key
from shared.relay import modes, prompt
from shared.relay.adaptors.errors import error_from_object, upstream_error
from shared.relay.adaptors.openai.request import request_headers
from shared.relay.engine import Call, Failure, RelayEngine
from shared.relay.http import send_bytes
from shared.relay.inbound.responses import passthrough
from shared.relay.inbound.responses.answer import item_id
from shared.relay.inbound.responses.errors import invalid, not_found, previous_not_stored
from shared.relay.inbound.responses.framing import CONVERTED, PASSTHROUGH, ResponsesSend
from shared.relay.inbound.responses.ids import CONVERTED as CONVERTED_CHANNEL
from shared.relay.inbound.responses.ids import ResponseIds, ResponseRef, ids_for
from shared.relay.inbound.responses.request import MIN_OUTPUT_TOKENS, convert_request, validate
from shared.relay.routing import choose
from shared.relay.text import _attempt as chat_attempt
from shared.relay.text import _settle, _stream, complete_usage, origin_model, relay_text, stream_meter
from shared.relay.types import RelayError, RelayMeta, UpstreamRequest, Usage
from shared.relay.upstream import UpstreamTooLarge, UpstreamUnavailable, read_error
from shared.snapshot import CHANNEL_ENABLED, ChannelEntry

AZURE = 3


def response_ids(engine: RelayEngine) -> ResponseIds:
    """Ids every node can open: sealed with CLUSTER_SECRET (SESSION_SECRET on a lone node)."""
    settings = engine.settings
    return ids_for(settings.cluster_secret or settings.session_secret)


async def relay_responses(engine: RelayEngine, call: Call, send: Send, pinned: ChannelEntry | None) -> None:
    body = validate(call.parsed)
    ids = response_ids(engine)
    user_id = call.caller.user.id
    chat, problem = convert_request(body)
    upstream_previous = ""
    previous = body.get("previous_response_id")
    if previous is not None:
        ref = ids.open(previous)
        if ref is None or ref.user_id != user_id:
            raise invalid(f"Previous response with id '{previous}' not found.", "previous_response_id")
        if ref.channel_id == CONVERTED_CHANNEL:
            raise previous_not_stored()
        pinned = _previous_channel(engine, call, ref, pinned)
        upstream_previous = ref.upstream_id
    elif problem is not None:
        pinned = pinned or _passthrough_channel(engine, call, problem)
    if problem is not None and pinned is not None and not passthrough.passes_through(pinned.type):
        raise problem
    original = call.body
    call.parsed, call.body = chat, orjson.dumps(chat)
    call.mode, call.path = modes.CHAT, "/v1/chat/completions"  # what converted attempts send upstream
    framer = ResponsesSend(send, body, ids.seal(ResponseRef(CONVERTED_CHANNEL, user_id, item_id("chat"))), _no_fallback)

    async def attempt(
        engine: RelayEngine,
        call: Call,
        send: Send,
        channel: ChannelEntry,
        request: dict[str, Any],
        is_stream: bool,
        prompt_tokens: int,
        group_ratio: float,
        reservation: Any,
    ) -> Failure | None:
        model = channel.model_mapping.get(origin_model(call, request)) or origin_model(call, request)
        approximate = engine.snapshot.option_flag("ApproximateTokenEnabled") if engine.snapshot else False

        async def fallback(text: str) -> Usage:
            return await complete_usage(None, prompt_tokens, text, model, approximate, engine.prompts)

        framer.fallback = fallback
        if not passthrough.passes_through(channel.type):
            framer.mode = CONVERTED
            return await chat_attempt(engine, call, send, channel, request, is_stream, prompt_tokens, group_ratio, reservation)
        framer.mode = PASSTHROUGH
        outbound = _outbound(body, original, channel, model, request, upstream_previous)
        pass_call = Passthrough(outbound, ids, user_id)
        return await pass_call.attempt(engine, call, send, channel, model, is_stream, prompt_tokens, group_ratio, reservation)

    await relay_text(engine, call, framer, pinned, attempt)


async def _no_fallback(text: str) -> Usage:
    return Usage()


def _previous_channel(engine: RelayEngine, call: Call, ref: ResponseRef, pinned: ChannelEntry | None) -> ChannelEntry:
    """The channel holding the previous response, if it is enabled and serves this model to the caller."""
    if pinned is not None and pinned.id != ref.channel_id:
        raise invalid("previous_response_id belongs to another channel than the one this key pins", "previous_response_id")
    channel = engine.snapshot.channels.get(ref.channel_id) if engine.snapshot else None
    serving = {c.id for c in engine.candidates(call.caller.user.group, call.model)}
    if pinned is None and (channel is None or channel.id not in serving):
        raise invalid(f"the channel that stored the previous response does not serve model {call.model} any more", "previous_response_id")
    if channel is None or channel.status != CHANNEL_ENABLED or channel.id in engine.cooldowns.disabled:
        raise RelayError(503, "the channel that stored the previous response is disabled", code="previous_response_unavailable")
    return channel


def _passthrough_channel(engine: RelayEngine, call: Call, problem: RelayError) -> ChannelEntry:
    """An OpenAI or Azure channel of the model, for a request only they can serve; else the problem."""
    candidates = tuple(c for c in engine.candidates(call.caller.user.group, call.model) if passthrough.passes_through(c.type))
    channel = choose(candidates, (), engine.cooldowns, engine.rng)
    if channel is None:
        raise problem
    return channel


def _outbound(body: dict[str, Any], original: bytes, channel: ChannelEntry, model: str, request: dict[str, Any], previous: str) -> bytes:
    """The Responses request a passthrough channel gets: the client's bytes unless the gateway must
    change the model (mapping, Azure deployment), the previous id, the output cap (QUOTA_STRICT) or
    the instructions (the channel's system prompt)."""
    changes: dict[str, Any] = {}
    upstream_model = passthrough.azure_deployment(model) if channel.type == AZURE else model
    if upstream_model != body.get("model"):
        changes["model"] = upstream_model
    if previous:
        changes["previous_response_id"] = previous
    cap = request.get("max_tokens")
    if cap is not None and cap != body.get("max_output_tokens"):
        changes["max_output_tokens"] = max(cap, MIN_OUTPUT_TOKENS)
    if channel.system_prompt:
        changes["instructions"] = channel.system_prompt
    if not changes:
        return original
    return orjson.dumps({**body, **changes})


class Passthrough:
    """One passthrough attempt, shaped as an adaptor for the engine's send and the chat stream loop."""

    name = "openai-responses"

    def __init__(self, payload: bytes, ids: ResponseIds, user_id: int) -> None:
        self.payload, self.ids, self.user_id = payload, ids, user_id
        self.channel_id = 0

    def build_request(self, meta: RelayMeta, body: Any, raw: bytes) -> UpstreamRequest:
        url = passthrough.url(meta.channel_type, meta.base_url, meta.config)
        return UpstreamRequest("POST", url, request_headers(meta, converted=True), self.payload)

    def stream_converter(self, meta: RelayMeta) -> passthrough.PassthroughStream:
        return passthrough.PassthroughStream(self.ids, meta.channel_id, self.user_id, meta.api_key)

    async def attempt(
        self,
        engine: RelayEngine,
        call: Call,
        send: Send,
        channel: ChannelEntry,
        model: str,
        is_stream: bool,
        prompt_tokens: int,
        group_ratio: float,
        reservation: Any,
    ) -> Failure | None:
        meta = engine.meta(call, channel, model, is_stream, prompt_tokens)
        resp = await engine.send(call, self, meta, None)  # type: ignore[arg-type]
        if isinstance(resp, Failure):
            return resp
        approximate = engine.snapshot.option_flag("ApproximateTokenEnabled") if engine.snapshot else False
        if is_stream:
            meter = stream_meter(engine, channel, model, prompt_tokens, group_ratio, reservation, approximate)
            usage, text = await _stream(self, meta, resp, send, call.receive, meter, call.request_id)
        else:
            try:
                raw = await resp.read()
            except UpstreamUnavailable as exc:
                return Failure(read_error(exc))
            finally:
                resp.close()
            try:
                doc = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                return Failure(RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed"))
            if not isinstance(doc, dict):
                return Failure(RelayError(500, "unmarshal response body failed: not an object", code="unmarshal_response_body_failed"))
            error = doc.get("error")
            if isinstance(error, dict) and error.get("message"):
                return Failure(error_from_object(resp.status, error))
            passthrough.reseal(doc, self.ids, channel.id, self.user_id)
            await send_bytes(send, resp.status, orjson.dumps(doc), [(b"content-type", b"application/json")])
            usage, text = passthrough.usage_of(doc.get("usage")), passthrough.output_text(doc)
        usage = await complete_usage(usage, prompt_tokens, text, model, approximate, engine.prompts)
        await _settle(engine, call, channel, model, usage, group_ratio, reservation, is_stream, bool(channel.system_prompt))
        return None


async def relay_response_item(engine: RelayEngine, call: Call, send: Send, response_id: str, suffix: str) -> None:
    """GET/DELETE /v1/responses/{id}[/input_items]: sent to the channel that made the response.
    Nothing is billed: upstream charges nothing for reading or deleting a stored response."""
    assert engine.snapshot is not None
    ref = response_ids(engine).open(response_id)
    if ref is None or ref.user_id != call.caller.user.id:
        raise not_found(response_id)
    if ref.channel_id == CONVERTED_CHANNEL:
        raise RelayError(
            404,
            f"Response '{response_id}' was answered through chat completions conversion; the gateway does not store it.",
            type="invalid_request_error",
            code="response_not_stored",
        )
    channel = engine.snapshot.channels.get(ref.channel_id)
    if channel is None or channel.status != CHANNEL_ENABLED:
        raise RelayError(
            404,
            f"the channel that stored response '{response_id}' is no longer available",
            type="invalid_request_error",
            code="response_not_found",
        )
    query = call.path_qs.partition("?")[2]
    if "stream=true" in query.lower():
        # A replayed stream would carry upstream's ids unsealed; the whole response is available.
        raise invalid("streaming a stored response is not supported by this gateway; retrieve it without stream", "stream")
    await engine.limits.admit(engine.snapshot, call.caller, call.admission, 0)
    base = (channel.base_url or default_base_url(channel.type)).rstrip("/")
    target = passthrough.url(channel.type, base, channel.config, f"/{ref.upstream_id}{suffix}")
    if query:
        target += ("&" if "?" in target else "?") + query
    meta = engine.meta(call, channel, call.model, False, 0)
    headers = request_headers(meta, converted=False)
    headers.pop("Content-Type", None)
    try:
        resp = await engine.upstream.send(UpstreamRequest(call.method, target, headers, None), b"")
    except UpstreamTooLarge as exc:
        raise read_error(exc) from None
    except UpstreamUnavailable as exc:
        raise RelayError(500, redact_key(f"do request failed: {exc}", channel.key), code="do_request_failed") from None
    try:
        raw = await resp.read()
    except UpstreamUnavailable as exc:
        raise read_error(exc) from None
    finally:
        resp.close()
    if resp.status not in (200, 201):
        error = upstream_error(resp.status, raw)
        error.message = redact_key(error.message, channel.key)
        raise error
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and not suffix:  # the response itself, or its deletion
        raw = orjson.dumps(passthrough.reseal(copy.copy(doc), response_ids(engine), channel.id, ref.user_id))
    await send_bytes(send, resp.status, raw, [(b"content-type", b"application/json")])


DEFAULT_COUNT_MODEL = "gpt-4o"  # whose tokenizer counts a request that names no model


async def count_input_tokens(engine: RelayEngine, call: Call, send: Send) -> None:
    """POST /v1/responses/input_tokens: the prompt tokens the gateway counts (and reserves for) when
    this request is sent, counted on the node whatever the channel; free, like upstream's."""
    assert engine.snapshot is not None
    body = call.parsed if isinstance(call.parsed, dict) else None
    if body is None:
        raise invalid("request body must be a JSON object")
    model = body.get("model") or DEFAULT_COUNT_MODEL
    chat, _ = convert_request(validate({**body, "model": model, "stream": False}))
    await engine.limits.admit(engine.snapshot, call.caller, call.admission, 0)
    size = prompt.measure(modes.CHAT, chat)
    oversized = prompt.too_large(size, engine.settings.max_prompt_bytes)
    if oversized is not None:
        raise oversized
    approximate = engine.snapshot.option_flag("ApproximateTokenEnabled")
    tokens = await engine.prompts.count(modes.CHAT, chat, str(model), approximate, size, engine.user_content)
    await send_bytes(
        send, 200, orjson.dumps({"object": "response.input_tokens", "input_tokens": tokens}), [(b"content-type", b"application/json")]
    )
