"""Images, audio and the admin proxy route: the modes billed by size, bytes or transcript.

Every mode reserves its price before the upstream call and settles (or refunds) after it, so no
mode can overspend a balance under concurrency (One API checks image prices but never reserves).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.types import Send

from shared.billing import pricing
from shared.redact import redact_key
from shared.relay import modes
from shared.relay.engine import Call, Failure, RelayEngine
from shared.relay.http import send_bytes
from shared.relay.ledger import QuotaRefused, Reservation
from shared.relay.types import RelayError, UpstreamRequest
from shared.relay.upstream import UpstreamResponse, UpstreamTooLarge, UpstreamUnavailable, read_error
from shared.snapshot import ChannelEntry

AZURE = 3
REPLICATE = 46  # answers one image per request: billed for one whatever n says (One API)


async def reserve(engine: RelayEngine, call: Call, amount: int) -> Reservation:
    caller = call.caller
    if engine.ledger.user_balance(caller.user.id) - amount < 0:
        raise RelayError(403, "user quota is not enough", code="insufficient_user_quota")
    try:
        reservation = await engine.ledger.reserve(caller.token.id, caller.user.id, not caller.token.unlimited_quota, amount)
    except QuotaRefused as refused:
        raise RelayError(
            403, "令牌额度不足" if refused.which == "token" else "用户额度不足", code="pre_consume_token_quota_failed"
        ) from None
    return reservation


@contextlib.asynccontextmanager
async def released_on_error(engine: RelayEngine, call: Call, reservation: Reservation) -> AsyncIterator[None]:
    """A reservation is released if the attempt is cancelled or crashes before settling."""
    try:
        yield
    except BaseException:
        await settle(engine, call, reservation, 0)
        raise


async def settle(engine: RelayEngine, call: Call, reservation: Reservation, final: int) -> None:
    caller = call.caller
    await engine.ledger.adjust(reservation, final)
    # Only the settled cost is shipped: the reservation lived in memory alone.
    engine.sink.spend(caller.token.id, caller.user.id, not caller.token.unlimited_quota, final)


async def copy_response(send: Send, resp: UpstreamResponse) -> bytes:
    """Status, headers (first value each) and body verbatim; returns the body."""
    try:
        body = await resp.read()
    except UpstreamUnavailable as exc:
        raise read_error(exc) from None
    finally:
        resp.close()
    headers = resp.copied_headers()
    await send_bytes(send, resp.status, body, headers)
    return body


async def _send_upstream(
    engine: RelayEngine, call: Call, channel: ChannelEntry, model: str, body: dict[str, Any] | None
) -> UpstreamResponse | Failure:
    try:
        adaptor = engine.adaptor(channel)
    except RelayError as exc:
        return Failure(exc)
    return await engine.send(call, adaptor, engine.meta(call, channel, model, False, 0), body)


async def relay_image(engine: RelayEngine, call: Call, send: Send, pinned: ChannelEntry | None) -> None:
    request = call.parsed
    if not isinstance(request, dict):
        raise RelayError(400, "request body must be a JSON object", code="invalid_image_request")
    request.setdefault("n", 1)
    request.setdefault("size", "1024x1024")
    request.setdefault("model", "dall-e-2")
    n, size, prompt = request.get("n"), request.get("size"), request.get("prompt")
    if isinstance(n, bool) or not isinstance(n, int) or not isinstance(size, str):
        raise RelayError(400, "n must be an integer and size a string", code="invalid_image_request")
    if not isinstance(prompt, str) or not prompt:
        raise RelayError(400, "prompt is required", code="prompt_missing")
    channel = engine.first_channel(call, pinned)
    group_ratio = engine.ratios.group_ratio(call.caller.user.group)

    async def attempt(ch: ChannelEntry) -> Failure | None:
        model = ch.model_mapping.get(call.model) or call.model
        problem = pricing.validate_image_request(model, prompt, size, n)
        if problem is not None:
            return Failure(RelayError(400, problem[1], code=problem[0]))
        model_ratio = engine.ratios.model_ratio(model, ch.type)
        images = 1 if ch.type == REPLICATE else n
        cost = pricing.image_quota(model, size, str(request.get("quality") or ""), images, model_ratio, group_ratio)
        reservation = await reserve(engine, call, cost)
        async with released_on_error(engine, call, reservation):
            upstream_model = pricing.image_model_alias(model)
            body = None
            if model != call.model or upstream_model != model or ch.type == AZURE:
                body = {**request, "model": upstream_model}
            result = await _send_upstream(engine, call, ch, upstream_model, body)
            if isinstance(result, Failure):
                await settle(engine, call, reservation, 0)
                return result
            await copy_response(send, result)
            await settle(engine, call, reservation, cost)
            if cost:
                content = pricing.consume_log_content(model_ratio, group_ratio)
                row = engine.consume_log(call, ch.id, upstream_model, cost, 0, 0, content, False)
                engine.record_usage(call.caller.user.id, ch.id, cost, row)
        return None

    await _finish(engine, call, channel, pinned, attempt)


async def relay_audio(engine: RelayEngine, call: Call, send: Send, pinned: ChannelEntry | None) -> None:
    snapshot = engine.snapshot
    assert snapshot is not None
    group_ratio = engine.ratios.group_ratio(call.caller.user.group)
    channel = engine.first_channel(call, pinned)
    if call.mode == modes.SPEECH:
        request = call.parsed
        if not isinstance(request, dict) or not isinstance(request.get("input"), str):
            raise RelayError(400, "invalid speech request: JSON with model, input and voice is required", code="invalid_json")
        if len(request["input"].encode()) > 4096:
            raise RelayError(400, "input is too long (maximum 4096 bytes)", code="text_too_long")

    async def attempt(ch: ChannelEntry) -> Failure | None:
        model = ch.model_mapping.get(call.model) or call.model
        model_ratio = engine.ratios.model_ratio(model, ch.type)
        ratio = model_ratio * group_ratio
        if call.mode == modes.SPEECH:
            pre = pricing.speech_quota(call.parsed["input"], ratio)
        else:
            pre = int(snapshot.option_int("PreConsumedQuota") * ratio)
        reservation = await reserve(engine, call, pre)
        async with released_on_error(engine, call, reservation):
            result = await _send_upstream(engine, call, ch, model, None)
            if isinstance(result, Failure):
                await settle(engine, call, reservation, 0)
                return result
            if call.mode == modes.SPEECH:
                await copy_response(send, result)
                final = pre
            else:
                try:
                    body = await result.read()
                except UpstreamUnavailable as exc:
                    await settle(engine, call, reservation, 0)
                    return Failure(read_error(exc))
                finally:
                    result.close()
                text_or_error = transcript_text(body, str((call.form or {}).get("response_format") or "json"))
                if isinstance(text_or_error, RelayError):
                    await settle(engine, call, reservation, 0)
                    return Failure(text_or_error)
                await send_bytes(send, result.status, body, [(b"content-type", result.content_type.encode() or b"application/json")])
                final = pricing.transcription_quota(text_or_error, model, snapshot.option_flag("ApproximateTokenEnabled"))
            await settle(engine, call, reservation, final)
            if final:
                content = pricing.consume_log_content(model_ratio, group_ratio)
                row = engine.consume_log(call, ch.id, model, final, final, 0, content, False)
                engine.record_usage(call.caller.user.id, ch.id, final, row)
        return None

    await _finish(engine, call, channel, pinned, attempt)


def transcript_text(body: bytes, response_format: str) -> str | RelayError:
    """The transcript by `response_format`; an error JSON from upstream becomes request_error."""
    if response_format in ("text", "srt", "vtt"):
        return body.decode("utf-8", "replace")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed")
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        err = data["error"]
        return RelayError(500, f"type {err.get('type')}, code {err.get('code')}, message {err.get('message')}", code="request_error")
    if response_format not in ("json", "verbose_json"):
        return RelayError(500, f"unexpected_response_format {response_format}", code="unexpected_response_format")
    return str(data.get("text", "")) if isinstance(data, dict) else ""


_PROXY_DROP = {"host", "content-length", "accept-encoding", "connection"}


async def relay_proxy(engine: RelayEngine, call: Call, send: Send, channel: ChannelEntry) -> None:
    """/v1/oneapi/proxy/:id/*: admin tokens only; billed by the `usage` the answer reports, if any.

    The upstream URL is the channel's base URL plus the path after the proxy prefix; the client's
    headers go along except hop-by-hop ones, and Authorization becomes the raw channel key."""
    headers = {k: v for k, v in call.headers.items() if k not in _PROXY_DROP}
    headers["authorization"] = channel.key
    request = UpstreamRequest(call.method, channel.base_url.rstrip("/") + call.path_qs, headers, None)
    try:
        resp = await engine.upstream.send(request, call.body)
    except UpstreamTooLarge as exc:
        raise read_error(exc) from None
    except UpstreamUnavailable as exc:
        raise RelayError(500, redact_key(f"do request failed: {exc}", channel.key), code="do_request_failed") from None
    body = await copy_response(send, resp)
    quota = prompt = completion = 0
    model = call.model
    try:
        data = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("usage"), dict):
        reported = data["usage"]
        prompt = _int(reported.get("prompt_tokens") or reported.get("input_tokens"))
        completion = _int(reported.get("completion_tokens") or reported.get("output_tokens"))
        model = model or str(data.get("model") or "")
        quota = pricing.text_quota(
            prompt,
            completion,
            engine.ratios.model_ratio(model, channel.type),
            engine.ratios.group_ratio(call.caller.user.group),
            engine.ratios.completion_ratio(model, channel.type),
        )
    caller = call.caller
    limited = not caller.token.unlimited_quota
    await engine.ledger.charge(caller.token.id, caller.user.id, limited, quota)
    engine.sink.spend(caller.token.id, caller.user.id, limited, quota)
    row = engine.consume_log(call, channel.id, model, quota, prompt, completion, "代理请求", False)
    engine.record_usage(caller.user.id, channel.id, quota, row)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


async def _finish(engine: RelayEngine, call: Call, first: ChannelEntry, pinned: ChannelEntry | None, attempt: Any) -> None:
    failure = await engine.run(call, first, pinned is not None, attempt)
    if failure is not None and not failure.written:
        raise failure.error
