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
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.types import Send

from shared.billing import pricing, tokenizer
from shared.catalog.channel_types import api_type
from shared.logs import get_logger
from shared.relay import modes, prompt, strict
from shared.relay.engine import BAICHUAN, Call, Failure, RelayEngine
from shared.relay.fields import check_field_types
from shared.relay.http import ClientStream, send_bytes
from shared.relay.inbound import frames
from shared.relay.ledger import QuotaRefused
from shared.relay.types import RelayError, Usage
from shared.relay.upstream import UpstreamUnavailable, read_error
from shared.snapshot import ChannelEntry

log = get_logger(__name__)

MAX_TOKENS_LIMIT = 1073741823


def invalid(message: str) -> RelayError:
    return RelayError(400, message, code="invalid_text_request")


def validate(mode: int, body: Any) -> dict[str, Any]:
    """One API's text request checks (docs/one-api-compat.md §5.5 table)."""
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    max_tokens = body.get("max_tokens")
    if max_tokens is not None:
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 0 <= max_tokens <= MAX_TOKENS_LIMIT:
            raise invalid("max_tokens is invalid")
    check_field_types(body)
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


def refuse_unaffordable(engine: RelayEngine, caller: Any, pre: int, token_side: bool = True) -> None:
    """The 403 One API answers when the user or the token cannot cover the reservation `pre`.

    Checked first against the reservation a lower bound of the prompt implies (so a huge prompt from
    an empty token is refused without counting it), then against the counted one; the token side
    of the second check is the atomic reserve itself."""
    if engine.ledger.user_balance(caller.user.id) - pre < 0:
        raise RelayError(403, "user quota is not enough", code="insufficient_user_quota")
    if token_side and pre > 0 and not caller.token.unlimited_quota and engine.ledger.token_balance(caller.token.id) < pre:
        raise quota_refused("token")


def quota_refused(which: str) -> RelayError:
    return RelayError(403, "令牌额度不足" if which == "token" else "用户额度不足", code="pre_consume_token_quota_failed")


async def complete_usage(
    usage: Usage | None, prompt_estimate: int, text: str, model: str, approximate: bool, counter: prompt.PromptCounter
) -> Usage:
    """Fill in what upstream did not report (docs/one-api-compat.md §5.8/§5.9); a long answer is counted in the
    prompt pool, off the event loop, like a long prompt."""
    if usage is None or usage.total_tokens == 0 or (usage.prompt_tokens == 0 and usage.completion_tokens == 0):
        completion = 0
        if text:
            count = lambda: tokenizer.count_text(text, model, approximate)  # noqa: E731
            completion = await counter.in_pool(count) if len(text) >= prompt.INLINE_PROMPT_BYTES else count()
        return Usage(prompt_estimate, completion, prompt_estimate + completion)
    if usage.prompt_tokens == 0:
        return Usage(prompt_estimate, usage.total_tokens - prompt_estimate, usage.total_tokens)
    return usage


async def _cap_max_tokens(engine: RelayEngine, call: Call, request: dict[str, Any], reservation: Any, price: strict.Price) -> None:
    """QUOTA_STRICT rule 1 (shared.relay.strict): send the max_tokens the balance covers, or refuse
    (releasing the reservation) when it covers no completion token at all."""
    cap = strict.cap_max_tokens(engine.ledger, reservation, price)
    if cap == 0:
        await engine.ledger.adjust(reservation, 0)
        lower = engine.ledger.token_balance(reservation.token_id) <= engine.ledger.user_balance(reservation.user_id)
        raise quota_refused("token" if reservation.token_limited and lower else "user")
    if cap is not None:
        request["max_tokens"] = cap
        call.body = orjson.dumps(request)  # a pass-through request sends these bytes


# One attempt on one channel: (engine, call, send, channel, request, is_stream, prompt_tokens,
# group_ratio, reservation) -> the failure, or None once answered and settled.
AttemptFn = Callable[[RelayEngine, Call, Send, ChannelEntry, dict[str, Any], bool, int, float, Any], Awaitable["Failure | None"]]


async def relay_text(engine: RelayEngine, call: Call, send: Send, pinned: ChannelEntry | None, attempt_fn: AttemptFn | None = None) -> None:
    """The chat pipeline; an inbound format (shared.relay.inbound) passes its own `attempt_fn` to
    serve some channels its own way and the rest through `_attempt`."""
    run_attempt = attempt_fn or _attempt
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
    counted_model = channel.model_mapping.get(origin) or origin
    approximate = snapshot.option_flag("ApproximateTokenEnabled")
    size = prompt.measure(call.mode, counted)
    oversized = prompt.too_large(size, engine.settings.max_prompt_bytes)
    if oversized is not None:
        raise oversized
    max_tokens = request.get("max_tokens") or 0
    ratio = engine.ratios.model_ratio(counted_model, channel.type) * group_ratio
    pre_consumed = snapshot.option_int("PreConsumedQuota")
    refuse_unaffordable(engine, caller, pricing.pre_consume_quota(size.lower_bound(approximate), max_tokens, pre_consumed, ratio))
    prompt_tokens = await engine.prompts.count(call.mode, counted, counted_model, approximate, size, engine.user_content)
    pre = pricing.pre_consume_quota(prompt_tokens, max_tokens, pre_consumed, ratio)
    token = caller.token
    await engine.limits.admit(snapshot, caller, call.admission, prompt_tokens + max_tokens)
    refuse_unaffordable(engine, caller, pre, token_side=False)
    try:
        reservation = await engine.ledger.reserve(token.id, caller.user.id, not token.unlimited_quota, pre)
    except QuotaRefused as refused:
        raise quota_refused(refused.which) from None
    if engine.settings.quota_strict and strict.wants_max_tokens(call.mode, request):
        price = strict.Price(prompt_tokens, ratio, engine.ratios.completion_ratio(counted_model, channel.type))
        await _cap_max_tokens(engine, call, request, reservation, price)

    async def attempt(ch: ChannelEntry) -> Failure | None:
        return await run_attempt(engine, call, send, ch, request, is_stream, prompt_tokens, group_ratio, reservation)

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
    inbound = call.inbound
    native = inbound is not None and inbound.native_api_type is not None and api_type(channel.type) == inbound.native_api_type
    try:
        adaptor = inbound.native_adaptor if native else engine.adaptor(channel)
    except RelayError as exc:
        return Failure(exc)
    if inbound is not None and not native:
        adaptor = inbound.adaptor_for(channel, adaptor)  # the channel's answer, in the client's format
    origin = origin_model(call, request)
    actual_model = channel.model_mapping.get(origin) or origin
    mapped = actual_model != origin
    body: dict[str, Any] | None = None
    system_reset = False
    passthrough = (
        inbound is None  # the client's bytes are not a chat request
        and not engine.settings.enforce_include_usage
        and api_type(channel.type) == 0
        and not mapped
        and channel.type != BAICHUAN
        and not channel.system_prompt
    )
    if native:
        body = inbound.native_request(call.inbound_body, request, actual_model, channel.system_prompt)
        system_reset = bool(channel.system_prompt)
    elif not passthrough:
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
        meter = stream_meter(engine, channel, actual_model, prompt_tokens, group_ratio, reservation, approximate)
        with engine.metrics.stream() if engine.metrics is not None else contextlib.nullcontext():
            usage, text = await _stream(adaptor, meta, resp, send, call.receive, meter, call.request_id)
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
    usage = await complete_usage(usage, prompt_tokens, text, actual_model, approximate, engine.prompts)
    await _settle(engine, call, channel, actual_model, usage, group_ratio, reservation, is_stream, system_reset)
    return None if written else Failure(RelayError(500, "response not written"))


def stream_meter(
    engine: RelayEngine, channel: ChannelEntry, model: str, prompt_tokens: int, group_ratio: float, reservation: Any, approximate: bool
) -> strict.StreamMeter | None:
    """QUOTA_STRICT's running meter of a stream (rule 2), or None when QUOTA_STRICT is off."""
    if not engine.settings.quota_strict:
        return None
    price = strict.Price(
        prompt_tokens,
        engine.ratios.model_ratio(model, channel.type) * group_ratio,
        engine.ratios.completion_ratio(model, channel.type),
    )
    return strict.StreamMeter(engine.ledger, reservation, price, model, approximate)


async def _watch_disconnect(receive: Any, stream: ClientStream) -> None:
    """Mark the stream disconnected when the client leaves."""
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            stream.disconnected = True
            return


async def _stream(
    adaptor: Any,
    meta: Any,
    resp: Any,
    send: Send,
    receive: Any = None,
    meter: strict.StreamMeter | None = None,
    request_id: str = "",
) -> tuple[Usage | None, str]:
    """Relay the upstream stream; stop reading upstream at once when the client disconnects, or
    (QUOTA_STRICT) when the balance no longer covers the answer (shared.relay.strict rule 2).

    ASGI servers (uvicorn) drop writes to a closed connection silently, so a disconnect is noticed
    by waiting on `receive()` for `http.disconnect` alongside the upstream reads."""
    converter = adaptor.stream_converter(meta)
    stream = ClientStream(send)
    await stream.start()
    ended = "normal"
    watcher = asyncio.ensure_future(_watch_disconnect(receive, stream)) if receive is not None else None
    try:
        async for lines in resp.line_batches():
            # Everything that arrived in one read goes to the client in one write; with a meter, the
            # read is cut after the line whose text the balance no longer covers, so how the
            # upstream's bytes happen to be split into reads never changes where a stream ends.
            payloads, refused = await _feed(converter, lines, meter)
            out = frames(converter, payloads)
            if out:
                await stream.write(b"".join(out))
            if refused:
                cut = strict.length_chunk(meta.mode, request_id, meta.actual_model)
                if getattr(converter, "framed", False):
                    await stream.write(b"".join(converter.interrupt(cut)))
                else:
                    await stream.event(cut)
                ended = "quota exhausted"
                break
            # Buffered upstream data and writes to a closed client never suspend: give the
            # disconnect watcher its turn.
            await asyncio.sleep(0)
            if stream.disconnected:
                ended = "client disconnected"
                break
        else:
            for data in frames(converter, converter.finish()):
                await stream.write(data)
    except UpstreamUnavailable as exc:
        ended = f"upstream error: {exc}"
        if getattr(converter, "framed", False):  # the client's format has an error event for this
            await stream.write(b"".join(converter.abort(str(exc))))
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


async def _feed(converter: Any, lines: list[bytes], meter: strict.StreamMeter | None) -> tuple[list[bytes], bool]:
    """The payloads of one read's lines, and whether the meter refused the answer's text so far."""
    if meter is None:
        return [payload for line in lines for payload in converter.feed(line)], False
    payloads: list[bytes] = []
    for line in lines:
        payloads.extend(converter.feed(line))
        if not meter.within(converter.text_parts) and not await meter.allows(converter.text_parts):
            return payloads, True
    return payloads, False


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
    billed_prompt: float = usage.prompt_tokens
    cache_note = ""
    if usage.cache_write_tokens or usage.cache_read_tokens:
        write_ratio, read_ratio = pricing.cache_ratios(engine.snapshot.options if engine.snapshot else {})
        billed_prompt = pricing.prompt_weight(
            usage.prompt_tokens, usage.cache_write_tokens, usage.cache_read_tokens, write_ratio, read_ratio
        )
        cache_note = pricing.cache_log_content(usage.cache_write_tokens, usage.cache_read_tokens, write_ratio, read_ratio)
    quota = pricing.text_quota(billed_prompt, usage.completion_tokens, model_ratio, group_ratio, completion_ratio)
    caller = call.caller
    if engine.settings.quota_strict:
        quota -= await strict.cover(engine.ledger, reservation, quota)  # never beyond the balance
    await engine.ledger.adjust(reservation, quota)
    engine.limits.settle(call.admission, usage.prompt_tokens + usage.completion_tokens)
    # Only the settled cost is shipped: the reservation lived in memory alone.
    engine.sink.spend(caller.token.id, caller.user.id, not caller.token.unlimited_quota, quota)
    content = pricing.consume_log_content(model_ratio, group_ratio, completion_ratio) + cache_note
    row = engine.consume_log(call, channel.id, model, quota, usage.prompt_tokens, usage.completion_tokens, content, is_stream, system_reset)
    engine.record_usage(caller.user.id, channel.id, quota, row)
