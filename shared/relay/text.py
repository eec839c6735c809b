"""Text modes (chat, completions, embeddings, moderations, edits): validate, reserve, relay, settle.

Billing of a stream, however it ends (the rule the README states): the client pays for the prompt
plus every completion token the gateway received from upstream. Upstream-reported usage wins when
it arrives; otherwise completion tokens are counted with tiktoken over the text received. So a
normal end, an upstream EOF without usage, an upstream error mid-stream, a RELAY_TIMEOUT and a
client that disconnects are all billed for what was actually produced; an attempt that fails
before the first byte is refunded whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from typing import Any

from starlette.types import Send

from shared.billing import pricing, tokenizer
from shared.catalog.channel_types import api_type
from shared.logs import get_logger
from shared.relay import modes
from shared.relay.engine import BAICHUAN, Call, Failure, RelayEngine
from shared.relay.http import ClientStream, send_bytes
from shared.relay.ledger import QuotaRefused
from shared.relay.types import RelayError, Usage
from shared.relay.upstream import UpstreamUnavailable, read_error
from shared.snapshot import ChannelEntry

log = get_logger(__name__)

MAX_TOKENS_LIMIT = 1073741823
def invalid(message: str) -> RelayError:
    return RelayError(400, message, code="invalid_text_request")


def validate(mode: int, body: Any) -> dict[str, Any]:
    """One API's text request checks (reference §5.5 table)."""
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    max_tokens = body.get("max_tokens")
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 0 <= max_tokens <= MAX_TOKENS_LIMIT:
            raise invalid("max_tokens is invalid")
    if mode == modes.MODERATIONS:
        if body.get("input") == "":
            raise invalid("field input is required")
        body.setdefault("model", "text-moderation-latest")
    if not body.get("model") and mode not in (modes.MODERATIONS, modes.EMBEDDINGS):
        raise invalid("model is required")
    if mode == modes.CHAT:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise invalid("field messages is required")
        if not all(isinstance(m, dict) for m in messages):
            raise invalid("field messages must be a list of message objects")
    elif mode == modes.COMPLETIONS and body.get("prompt") == "":
        raise invalid("field prompt is required")
    elif mode == modes.EDITS and not body.get("instruction"):
        raise invalid("field instruction is required")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise invalid("field stream must be a boolean")
    return body


def origin_model(call: Call, request: dict[str, Any]) -> str:
    """The body's model after validation's defaults (moderations: text-moderation-latest), which
    mapping, billing and the log use; channels were chosen by the model auth extracted (§5.7)."""
    model = request.get("model")
    return model if isinstance(model, str) and model else call.model


def apply_system_prompt(body: dict[str, Any], prompt: str) -> bool:
    """Replace the first system message or prepend one; True when the request changed."""
    messages = body.get("messages")
    if not prompt or not isinstance(messages, list) or not messages:
        return False
    if isinstance(messages[0], dict) and messages[0].get("role") == "system":
        messages[0] = {**messages[0], "content": prompt}
    else:
        messages.insert(0, {"role": "system", "content": prompt})
    return True


async def estimate_prompt(engine: RelayEngine, mode: int, body: dict[str, Any], model: str) -> int:
    approximate = engine.snapshot.option_flag("ApproximateTokenEnabled") if engine.snapshot else False
    if mode == modes.CHAT:
        return await tokenizer.count_messages(body.get("messages") or [], model, approximate, engine.user_content)
    await tokenizer.load_encoder(model, approximate)  # off the loop the first time (o200k: ~0.5 s)
    return tokenizer.count_input(mode, body, model, approximate)


def complete_usage(usage: Usage | None, prompt_estimate: int, text: str, model: str, approximate: bool) -> Usage:
    """Fill in what upstream did not report (reference §5.8/§5.9)."""
    if usage is None or usage.total_tokens == 0 or (usage.prompt_tokens == 0 and usage.completion_tokens == 0):
        completion = tokenizer.count_text(text, model, approximate) if text else 0
        return Usage(prompt_estimate, completion, prompt_estimate + completion)
    if usage.prompt_tokens == 0:
        return Usage(prompt_estimate, usage.total_tokens - prompt_estimate, usage.total_tokens)
    return usage


async def relay_text(engine: RelayEngine, call: Call, send: Send, pinned: ChannelEntry | None) -> None:
    snapshot = engine.snapshot
    assert snapshot is not None
    request = validate(call.mode, call.parsed)
    is_stream = bool(request.get("stream"))
    caller = call.caller
    channel = engine.first_channel(call, pinned)
    group_ratio = engine.ratios.group_ratio(caller.user.group)
    counted = request
    if channel.system_prompt and call.mode == modes.CHAT:  # prompt tokens count the forced system prompt (§5.6)
        counted = {**request, "messages": list(request["messages"])}
        apply_system_prompt(counted, channel.system_prompt)
    origin = origin_model(call, request)
    prompt_tokens = await estimate_prompt(engine, call.mode, counted, channel.model_mapping.get(origin) or origin)
    max_tokens = request.get("max_tokens") or 0
    ratio = engine.ratios.model_ratio(channel.model_mapping.get(origin) or origin, channel.type) * group_ratio
    pre = pricing.pre_consume_quota(prompt_tokens, max_tokens, snapshot.option_int("PreConsumedQuota"), ratio)
    token = caller.token
    if engine.ledger.user_balance(caller.user.id) - pre < 0:
        raise RelayError(403, "user quota is not enough", code="insufficient_user_quota")
    try:
        reservation = await engine.ledger.reserve(token.id, caller.user.id, not token.unlimited_quota, pre)
    except QuotaRefused as refused:
        raise RelayError(403, "令牌额度不足" if refused.which == "token" else "用户额度不足", code="pre_consume_token_quota_failed") from None

    async def attempt(ch: ChannelEntry) -> Failure | None:
        return await _attempt(engine, call, send, ch, request, is_stream, prompt_tokens, group_ratio, reservation)

    try:
        failure = await engine.run(call, channel, pinned is not None, attempt)
    except BaseException:
        await engine.ledger.adjust(reservation, 0)  # cancelled or crashed before settling: release it
        raise
    if failure is not None:
        await engine.ledger.adjust(reservation, 0)  # a refund: nothing was shipped, nothing to undo
        if not failure.written:
            raise failure.error


async def _attempt(
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
    try:
        adaptor = engine.adaptor(channel)
    except RelayError as exc:
        return Failure(exc)
    origin = origin_model(call, request)
    actual_model = channel.model_mapping.get(origin) or origin
    mapped = actual_model != origin
    body: dict[str, Any] | None = None
    system_reset = False
    passthrough = (
        not engine.settings.enforce_include_usage
        and api_type(channel.type) == 0
        and not mapped
        and channel.type != BAICHUAN
        and not channel.system_prompt
    )
    if not passthrough:
        body = copy.deepcopy(request)
        body["model"] = actual_model
        system_reset = apply_system_prompt(body, channel.system_prompt)
        if hasattr(adaptor, "prepare"):
            await adaptor.prepare(body, engine.user_content)  # e.g. inline image URLs for Claude/Gemini
    meta = engine.meta(call, channel, actual_model, is_stream, prompt_tokens)
    resp = await engine.send(call, adaptor, meta, body)
    if isinstance(resp, Failure):
        return resp
    approximate = engine.snapshot.option_flag("ApproximateTokenEnabled") if engine.snapshot else False
    if is_stream:
        with engine.metrics.stream() if engine.metrics is not None else contextlib.nullcontext():
            usage, text = await _stream(adaptor, meta, resp, send, call.receive)
        written = True
    else:
        try:
            body_bytes = await resp.read()
        except UpstreamUnavailable as exc:
            return Failure(read_error(exc))
        finally:
            resp.close()
        try:
            converted = adaptor.convert_response(meta, resp.status, resp.headers, body_bytes)
        except RelayError as exc:
            return Failure(exc)
        headers = resp.copied_headers()
        if converted.body is not body_bytes or not headers:
            headers = [(b"content-type", converted.content_type.encode())]
        await send_bytes(send, converted.status, converted.body, headers)
        usage, text = converted.usage, converted.text
        written = True
    usage = complete_usage(usage, prompt_tokens, text, actual_model, approximate)
    await _settle(engine, call, channel, actual_model, usage, group_ratio, reservation, is_stream, system_reset)
    return None if written else Failure(RelayError(500, "response not written"))


async def _watch_disconnect(receive: Any, stream: ClientStream) -> None:
    """Mark the stream disconnected when the client leaves."""
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            stream.disconnected = True
            return


async def _stream(adaptor: Any, meta: Any, resp: Any, send: Send, receive: Any = None) -> tuple[Usage | None, str]:
    """Relay the upstream stream; stop reading upstream at once when the client disconnects.

    ASGI servers (uvicorn) drop writes to a closed connection silently, so a disconnect is noticed
    by waiting on `receive()` for `http.disconnect` alongside the upstream reads."""
    converter = adaptor.stream_converter(meta)
    stream = ClientStream(send)
    await stream.start()
    ended = "normal"
    watcher = asyncio.ensure_future(_watch_disconnect(receive, stream)) if receive is not None else None
    try:
        async for lines in resp.line_batches():
            # Everything that arrived in one read goes to the client in one write.
            out = [b"data: " + payload + b"\n\n" for line in lines for payload in converter.feed(line)]
            if out:
                await stream.write(b"".join(out))
            # Buffered upstream data and writes to a closed client never suspend: give the
            # disconnect watcher its turn.
            await asyncio.sleep(0)
            if stream.disconnected:
                ended = "client disconnected"
                break
        else:
            for payload in converter.finish():
                await stream.event(payload)
    except UpstreamUnavailable as exc:
        ended = f"upstream error: {exc}"
    finally:
        if watcher is not None:
            watcher.cancel()
        resp.close()
    if not converter.saw_done:
        await stream.event(b"[DONE]")
    await stream.end()
    if ended != "normal":
        log.warning("stream ended early", reason=ended, channel_id=meta.channel_id)
    return converter.usage, "".join(converter.text_parts)


async def _settle(
    engine: RelayEngine,
    call: Call,
    channel: ChannelEntry,
    model: str,
    usage: Usage,
    group_ratio: float,
    reservation: Any,
    is_stream: bool,
    system_reset: bool,
) -> None:
    model_ratio = engine.ratios.model_ratio(model, channel.type)
    completion_ratio = engine.ratios.completion_ratio(model, channel.type)
    quota = pricing.text_quota(usage.prompt_tokens, usage.completion_tokens, model_ratio, group_ratio, completion_ratio)
    caller = call.caller
    await engine.ledger.adjust(reservation, quota)
    # Only the settled cost is shipped: the reservation lived in memory alone.
    engine.sink.spend(caller.token.id, caller.user.id, not caller.token.unlimited_quota, quota)
    content = pricing.consume_log_content(model_ratio, group_ratio, completion_ratio)
    row = engine.consume_log(
        call, channel.id, model, quota, usage.prompt_tokens, usage.completion_tokens, content, is_stream, system_reset
    )
    engine.record_usage(caller.user.id, channel.id, quota, row)
