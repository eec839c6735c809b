"""The relay engine: the state a node relays with, and the attempt loop every mode shares.

State: the current snapshot (swapped whole by `install`), the ratios built from its options, the
ledger of live balances, channel cooldowns, the pooled upstream client and the quota sink.
The attempt loop: choose a channel, try it, and on a retryable failure try another one, never the
same channel twice, per One API's RetryTimes rules (docs/one-api-compat.md §5.5).
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from shared.billing.ratios import Ratios
from shared.logs import get_logger
from shared.metrics import Metrics
from shared.redact import redact_key
from shared.relay.adaptors import adaptor_for
from shared.relay.adaptors.errors import error_of, should_disable_channel
from shared.relay.adaptors.registry import channel_base_url
from shared.relay.auth import Caller, auth_error
from shared.relay.exchange import exchange
from shared.relay.ledger import Ledger
from shared.relay.prompt import PromptCounter
from shared.relay.ratelimit import Admission, RateLimits
from shared.relay.routing import Cooldowns, choose
from shared.relay.sink import QuotaSink
from shared.relay.types import Adaptor, RelayError, RelayMeta
from shared.relay.upstream import UpstreamClient, UpstreamResponse, UpstreamTooLarge, UpstreamUnavailable, read_error
from shared.settings import Settings
from shared.snapshot import CHANNEL_ENABLED, ChannelEntry, Snapshot

log = get_logger(__name__)

CHANNEL_AUTO_DISABLED = 3
BAICHUAN = 26
SATURATED = "当前分组上游负载已饱和，请稍后再试"


@dataclass
class Call:
    """One client request, as the engine sees it."""

    request_id: str
    method: str
    path: str  # without query
    path_qs: str  # with query (only the admin proxy route sends it upstream)
    headers: dict[str, str]
    ip: str
    body: bytes
    parsed: Any  # the JSON body, or None
    form: dict[str, Any] | None  # multipart fields (audio), or None
    mode: int
    model: str
    caller: Caller
    started: float = field(default_factory=time.perf_counter)
    receive: Any = None  # the ASGI receive channel: a stream watches it for the client leaving
    admission: Admission = field(default_factory=Admission)  # its rate-limit state (shared.relay.ratelimit)
    # A client format other than OpenAI's (shared.relay.inbound): `parsed` is then its chat
    # conversion and `inbound_body` the client's own request.
    inbound: Any = None
    inbound_body: Any = None

    @property
    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)


@dataclass
class Failure:
    """An attempt that failed; `written` when the client already got bytes (no retry then)."""

    error: RelayError
    written: bool = False


Attempt = Callable[[ChannelEntry], Awaitable["Failure | None"]]


def should_retry(status: int) -> bool:
    if status == 429 or status >= 500:
        return True
    if status == 400 or 200 <= status < 300:
        return False
    return True


class RelayEngine:
    def __init__(self, settings: Settings, upstream: UpstreamClient, sink: QuotaSink, ledger: Ledger | None = None) -> None:
        self.settings = settings
        self.upstream = upstream
        self.sink = sink
        self.ledger = ledger or Ledger()
        self.limits = RateLimits.for_ledger(self.ledger)  # fleet-wide when the ledger has Redis
        self.prompts = PromptCounter(settings.prompt_count_threads)  # large prompts count off the loop
        self.cooldowns = Cooldowns()
        self.rng = random.Random()
        self.snapshot: Snapshot | None = None
        self.ratios: Ratios = Ratios.default()
        self.user_content: Any = None  # set by the node: the hardened client for user URLs
        # (channel_id, ok, disabled_already) per attempt; set by the master's metric monitor.
        self.on_result: Callable[[int, bool, bool], None] | None = None
        self.metrics: Metrics | None = None  # set by the node: Prometheus counters (shared.metrics)

    def install(self, snapshot: Snapshot) -> None:
        """Swap in a new snapshot (the ledger is reseeded by whoever built it)."""
        o = snapshot.options
        # A change set that leaves the options alone keeps the same mapping: no re-parse per change.
        if self.snapshot is None or o is not self.snapshot.options:
            try:
                self.ratios = Ratios.from_options(o.get("ModelRatio"), o.get("CompletionRatio"), o.get("GroupRatio"))
            except ValueError:
                log.error("a ratio option is not valid JSON; keeping the previous ratios")
        self.cooldowns.disabled = {
            cid for cid in self.cooldowns.disabled if cid in snapshot.channels and snapshot.channels[cid].status == CHANNEL_ENABLED
        }
        self.snapshot = snapshot

    @property
    def ready(self) -> bool:
        return self.snapshot is not None

    # -- channel choice ---------------------------------------------------------------------

    def candidates(self, group: str, model: str) -> tuple[ChannelEntry, ...]:
        assert self.snapshot is not None
        return self.snapshot.routes.get((group, model), ())

    def pinned_channel(self, hint: str) -> ChannelEntry:
        """The channel named by a key suffix or the proxy route (docs/one-api-compat.md §5.3 step 2)."""
        assert self.snapshot is not None
        try:
            channel_id = int(hint)
        except ValueError:
            raise auth_error(400, "无效的渠道 Id") from None
        channel = self.snapshot.channels.get(channel_id)
        if channel is None:
            raise auth_error(400, "无效的渠道 Id")
        if channel.status != CHANNEL_ENABLED or channel_id in self.cooldowns.disabled:
            raise auth_error(403, "该渠道已被禁用")
        return channel

    def first_channel(self, call: Call, pinned: ChannelEntry | None) -> ChannelEntry:
        if pinned is not None:
            return pinned
        channel = choose(self.candidates(call.caller.user.group, call.model), (), self.cooldowns, self.rng)
        if channel is None:
            raise auth_error(503, f"当前分组 {call.caller.user.group} 下对于模型 {call.model} 无可用渠道")
        return channel

    async def run(self, call: Call, first: ChannelEntry, pinned: bool, attempt: Attempt) -> Failure | None:
        """Try `first`, then other channels on retryable failures; returns the final failure."""
        retries = 0 if pinned else max(0, self.snapshot.option_int("RetryTimes") if self.snapshot else 0)
        tried: list[int] = []
        channel: ChannelEntry | None = first
        failure: Failure | None = None
        while channel is not None:
            failure = await attempt(channel)
            if self.metrics is not None:
                self.metrics.attempt(channel.id, failure is None)
            if failure is None:
                if not tried and self.on_result is not None:
                    self.on_result(channel.id, True, False)
                return None
            # Upstream text may echo the channel's key: gone before any log line or client sees it.
            failure.error.message = redact_key(failure.error.message, channel.key)
            disabled = self.on_failure(channel, failure.error)
            if self.on_result is not None:
                self.on_result(channel.id, False, disabled)
            tried.append(channel.id)
            if failure.written or not should_retry(failure.error.status) or len(tried) > retries:
                break
            channel = choose(self.candidates(call.caller.user.group, call.model), tried, self.cooldowns, self.rng)
        assert failure is not None
        if failure.error.status == 429:
            failure.error.message = SATURATED
        return failure

    def on_failure(self, channel: ChannelEntry, error: RelayError) -> bool:
        """Auth and balance errors disable the channel (when the option is on); 429/5xx rest it.
        True when the channel was disabled."""
        enabled = self.snapshot is not None and self.snapshot.option_flag("AutomaticDisableChannelEnabled")
        if enabled and should_disable_channel(error, error.status):
            self.cooldowns.disabled.add(channel.id)
            reason = f"{error.message} (status {error.status})"
            self.sink.disable_channel(channel.id, CHANNEL_AUTO_DISABLED, reason)
            log.warning("channel auto-disabled", channel_id=channel.id, reason=reason)
            return True
        if error.status == 429 or error.status >= 500:
            self.cooldowns.cool(channel.id)
        return False

    def record_usage(self, user_id: int, channel_id: int, quota: int, row: dict[str, Any] | None) -> None:
        """A settled request: the user's live used quota, then the sink (counters and log row)."""
        self.ledger.record_used(user_id, quota)
        self.sink.usage(user_id, channel_id, quota, row)

    # -- per-attempt helpers ------------------------------------------------------------------

    async def send(self, call: Call, adaptor: Adaptor, meta: RelayMeta, body: dict[str, Any] | None) -> UpstreamResponse | Failure:
        """Build and send the upstream request; an answer that is an error becomes a Failure.

        Errors: a status other than 200/201, and a stream request answered with JSON (One API reads
        that as an error even with status 200)."""
        try:
            request = adaptor.build_request(meta, body, call.body)
        except RelayError as exc:
            return Failure(exc)
        raw = request.body if request.body is not None else call.body
        try:
            resp = await exchange(self.upstream, adaptor, meta, request, raw)
        except RelayError as exc:  # an adaptor's own exchange refused (e.g. a credential exchange)
            return Failure(exc)
        except UpstreamTooLarge as exc:  # refused at its headers (a declared length over the cap)
            return Failure(read_error(exc))
        except UpstreamUnavailable as exc:
            return Failure(RelayError(500, f"do request failed: {exc}", code="do_request_failed"))
        # A provider without a stream API (DeepL) answers a stream request with its one JSON document.
        json_error = meta.is_stream and resp.content_type.startswith("application/json") and not getattr(adaptor, "json_stream", False)
        if resp.status in (200, 201) and not json_error:
            return resp
        try:
            error_body = await resp.read()
        except UpstreamUnavailable:
            error_body = b""
        finally:
            resp.close()
        return Failure(error_of(adaptor, resp.status, error_body))

    def adaptor(self, channel: ChannelEntry) -> Adaptor:
        adaptor = adaptor_for(channel.type)
        if adaptor is None:
            raise RelayError(
                501,
                f"channel type {channel.type} of channel #{channel.id} is not supported yet",
                code="channel_type_not_supported",
            )
        return adaptor

    def meta(self, call: Call, channel: ChannelEntry, actual_model: str, is_stream: bool, prompt_tokens: int) -> RelayMeta:
        return RelayMeta(
            mode=call.mode,
            channel_type=channel.type,
            channel_id=channel.id,
            base_url=channel_base_url(channel.type, channel.base_url),
            api_key=channel.key,
            config=channel.config,
            origin_model=call.model,
            actual_model=actual_model,
            is_stream=is_stream,
            # The client's query string stays here (adaptors add what they need, e.g. api-version),
            # and the path is re-encoded: /v1/engines/{model}/embeddings carries a client's name.
            request_path=quote(call.path, safe="/"),
            prompt_tokens=prompt_tokens,
            client_headers=call.headers,
            gemini_version=self.settings.gemini_version,
            gemini_safety_setting=self.settings.gemini_safety_setting,
        )

    def consume_log(
        self,
        call: Call,
        channel_id: int,
        model_name: str,
        quota: int,
        prompt_tokens: int,
        completion_tokens: int,
        content: str,
        is_stream: bool,
        system_prompt_reset: bool = False,
    ) -> dict[str, Any] | None:
        """A type-2 log row, or None when LogConsumeEnabled is off. Every settled request passes
        here once, so the usage metrics are counted here too."""
        if self.metrics is not None:
            self.metrics.settled(model_name, channel_id, prompt_tokens, completion_tokens, quota)
        if self.snapshot is not None and not self.snapshot.option_flag("LogConsumeEnabled"):
            return None
        return {
            "user_id": call.caller.user.id,
            "created_at": int(time.time()),
            "type": 2,
            "content": content,
            "username": call.caller.user.username,
            "token_name": call.caller.token.name,
            "model_name": model_name,
            "quota": quota,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "channel_id": channel_id,
            "request_id": call.request_id,
            "elapsed_time": call.elapsed_ms,
            "is_stream": is_stream,
            "system_prompt_reset": system_prompt_reset,
        }
