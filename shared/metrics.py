"""Prometheus metrics of a node, served at /metrics.

Each app owns a `Metrics` with its own CollectorRegistry (never the process-global one), so several
nodes in one process do not collide. Label sets are bounded: routes and statuses are classes, models
and channels are capped (`LabelCap`: the first N values seen keep their name, later ones count as
"other"). The hot path only increments counters and observes histograms; gauges that describe the
node's state (config version, sync age, spool depth, channel status) are read at scrape time.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import VERSION

OTHER = "other"
MAX_MODELS = 50
MAX_CHANNELS = 200
MAX_LABEL_LENGTH = 64
# Seconds: a relay answer can take minutes (long generations), a health check microseconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
TTFB_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60)
CHANNEL_STATUS = {1: "enabled", 2: "manually_disabled", 3: "auto_disabled"}


def route_class(path: str) -> str:
    """A request's route class, the only path-derived label."""
    if path in ("/healthz", "/readyz"):
        return "health"
    if path == "/metrics":
        return "metrics"
    if path.startswith("/api"):
        return "api"
    if path.startswith(("/dashboard/billing/", "/v1/dashboard/")):
        return "billing"
    if path.startswith("/v1/models"):
        return "models"
    if path.startswith("/v1"):
        return "relay"
    return "page"


def status_class(status: int) -> str:
    return f"{status // 100}xx" if 100 <= status < 600 else "none"


def scrape_allowed(scope: Scope, token: str) -> bool:
    """True when no token is configured or the request carries `Authorization: Bearer <token>`."""
    if not token:
        return True
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, given = value.partition(b" ")
            return scheme.lower() == b"bearer" and hmac.compare_digest(given.strip(), token.encode())
    return False


async def refuse_scrape(send: Send) -> None:
    body = orjson.dumps(
        {
            "error": {
                "message": "metrics need Authorization: Bearer <METRICS_TOKEN>",
                "type": "unauthorized",
                "param": "",
                "code": "metrics_token_required",
            }
        }
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), (b"www-authenticate", b"Bearer")]
    await send({"type": "http.response.start", "status": 401, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class LabelCap:
    """Admits the first `limit` distinct values; any later one is reported as "other"."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def __call__(self, value: str) -> str:
        if value in self.seen:
            return value
        if len(self.seen) >= self.limit:
            return OTHER
        value = value[:MAX_LABEL_LENGTH] or "unknown"
        self.seen.add(value)
        return value


@dataclass
class NodeState:
    """What the scrape-time gauges report; None leaves a gauge out (e.g. no spool on a master)."""

    config_version: int | None = None
    sync_lag_seconds: float | None = None
    push_connected: bool | None = None
    spool_batches: int | None = None
    channels: dict[str, int] = field(default_factory=dict)
    cluster_sent_bytes: int | None = None  # master: sealed bytes sent to slaves over gRPC
    changes_published: int | None = None  # master: change sets published
    snapshots_installed: int | None = None  # slave: full snapshots installed
    changes_applied: int | None = None  # slave: change sets applied
    config_cpu_seconds: float | None = None  # slave: CPU spent opening and applying configuration


def engine_state(engine: Any, **extra: Any) -> NodeState:
    """Config version and channel status counts from a relay engine's snapshot, plus `extra`."""
    snapshot = engine.snapshot
    counts = {name: 0 for name in (*CHANNEL_STATUS.values(), "cooling", "other")}
    if snapshot is not None:
        for channel in snapshot.channels.values():
            name = CHANNEL_STATUS.get(channel.status, "other")
            if name == "enabled" and channel.id in engine.cooldowns.disabled:
                name = "auto_disabled"  # disabled here, before the next snapshot says so
            elif name == "enabled" and engine.cooldowns.resting(channel.id):
                name = "cooling"
            counts[name] += 1
    return NodeState(config_version=snapshot.version if snapshot is not None else None, channels=counts, **extra)


class _StateCollector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        provider = self.metrics.state
        state = provider() if provider is not None else NodeState()
        if state.config_version is not None:
            yield GaugeMetricFamily(
                "oneapi_config_version", "Version of the configuration snapshot this node relays with.", value=state.config_version
            )
            yield GaugeMetricFamily(
                "oneapi_config_revision",
                "Change-log revision this node's configuration is at (the snapshot version, per master epoch).",
                value=state.config_version,
            )
        if state.cluster_sent_bytes is not None:
            yield CounterMetricFamily(
                "oneapi_cluster_sent_bytes",
                "Sealed bytes sent to slaves over gRPC: snapshots and change sets.",
                value=state.cluster_sent_bytes,
            )
        if state.changes_published is not None:
            yield CounterMetricFamily(
                "oneapi_cluster_changes_published", "Change sets the master published to slaves.", value=state.changes_published
            )
        if state.snapshots_installed is not None:
            yield CounterMetricFamily(
                "oneapi_config_snapshots_installed",
                "Full configuration snapshots this slave installed (join, too far behind, new master epoch).",
                value=state.snapshots_installed,
            )
        if state.changes_applied is not None:
            yield CounterMetricFamily(
                "oneapi_config_changes_applied", "Change sets this slave applied on top of its snapshot.", value=state.changes_applied
            )
        if state.config_cpu_seconds is not None:
            yield CounterMetricFamily(
                "oneapi_config_apply_cpu_seconds",
                "CPU seconds this slave spent opening and applying configuration (snapshots and change sets).",
                value=state.config_cpu_seconds,
            )
        if state.sync_lag_seconds is not None:
            yield GaugeMetricFamily(
                "oneapi_config_sync_lag_seconds",
                "How far this slave's snapshot may lag the master: 0 while pushes stream in, else seconds since last confirmed current.",
                value=state.sync_lag_seconds,
            )
        if state.push_connected is not None:
            yield GaugeMetricFamily(
                "oneapi_config_push_connected",
                "1 while the gRPC Watch stream from the master delivers pushes.",
                value=int(state.push_connected),
            )
        if state.spool_batches is not None:
            yield GaugeMetricFamily(
                "oneapi_spool_batches", "Sealed quota batches in the spool, not yet acknowledged by the master.", value=state.spool_batches
            )
        channels = GaugeMetricFamily(
            "oneapi_channels", "Channels in the snapshot by status (cooling: resting after a 429/5xx).", labels=["status"]
        )
        for status, count in sorted(state.channels.items()):
            channels.add_metric([status], count)
        yield channels

    def describe(self) -> list[Any]:
        return []


class Metrics:
    """The metrics of one node (one app)."""

    def __init__(self, node_type: str, max_models: int = MAX_MODELS, max_channels: int = MAX_CHANNELS, token: str = "") -> None:
        self.token = token  # METRICS_TOKEN: a scrape must present it as a bearer token
        self.registry = CollectorRegistry()
        r = self.registry
        self.model_label = LabelCap(max_models)
        self.channel_label = LabelCap(max_channels)
        self.state: Callable[[], NodeState] | None = None
        info = Gauge("oneapi_node_info", "Always 1; labels name the node type and version.", ["node_type", "version"], registry=r)
        info.labels(node_type, VERSION).set(1)
        self.requests = Counter("oneapi_http_requests", "HTTP requests by route class and status class.", ["route", "status"], registry=r)
        self.latency = Histogram(
            "oneapi_http_request_duration_seconds",
            "Time from request to the end of the response (whole stream).",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.ttfb = Histogram(
            "oneapi_relay_time_to_first_byte_seconds",
            "Time from request to the first body byte of a relay answer.",
            ["route"],
            buckets=TTFB_BUCKETS,
            registry=r,
        )
        self.relayed = Counter("oneapi_relay_requests", "Settled relay requests by model and channel.", ["model", "channel"], registry=r)
        self.tokens = Counter(
            "oneapi_relay_tokens",
            "Tokens billed by model, channel and kind (prompt, completion).",
            ["model", "channel", "kind"],
            registry=r,
        )
        self.quota = Counter("oneapi_relay_quota", "Quota billed (One API units) by model and channel.", ["model", "channel"], registry=r)
        self.attempts = Counter(
            "oneapi_relay_attempts", "Upstream attempts by channel and result (ok, failed).", ["channel", "result"], registry=r
        )
        self.streams = Gauge("oneapi_relay_streams_in_flight", "Streaming relay answers being written now.", registry=r)
        r.register(_StateCollector(self))
        self._children: dict[tuple[Any, ...], Any] = {}  # bounded: every label is capped

    def bind(self, state: Callable[[], NodeState]) -> None:
        """Give the scrape-time gauges their source (set by the node once it is built)."""
        self.state = state

    # -- hot-path hooks: counters and histograms only --------------------------------------------

    def settled(self, model: str, channel_id: int, prompt_tokens: int, completion_tokens: int, quota: int) -> None:
        m, c = self.model_label(model), self.channel_label(str(channel_id))
        self._child(self.relayed, m, c).inc()
        if prompt_tokens:
            self._child(self.tokens, m, c, "prompt").inc(prompt_tokens)
        if completion_tokens:
            self._child(self.tokens, m, c, "completion").inc(completion_tokens)
        if quota:
            self._child(self.quota, m, c).inc(quota)

    def attempt(self, channel_id: int, ok: bool) -> None:
        self._child(self.attempts, self.channel_label(str(channel_id)), "ok" if ok else "failed").inc()

    @contextmanager
    def stream(self) -> Iterator[None]:
        self.streams.inc()
        try:
            yield
        finally:
            self.streams.dec()

    def observe_request(self, path: str, status: int, elapsed: float, ttfb: float) -> None:
        route = route_class(path)
        self._child(self.requests, route, status_class(status)).inc()
        self._child(self.latency, route).observe(elapsed)
        if ttfb and route == "relay":
            self._child(self.ttfb, route).observe(ttfb)

    def _child(self, metric: Any, *labels: str) -> Any:
        """A labelled child, looked up once: prometheus_client's labels() costs µs per call."""
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    # -- ASGI ------------------------------------------------------------------------------------

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        """GET /metrics in Prometheus' text format."""
        if not scrape_allowed(scope, self.token):
            await refuse_scrape(send)
            return
        body = self.render()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", CONTENT_TYPE_LATEST.encode()), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def instrument(self, app: ASGIApp) -> ASGIApp:
        """Wrap `app`: count every HTTP request, time it, and time a relay's first body byte."""

        async def instrumented(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            status = 0
            first = 0.0

            async def watch(message: Message) -> None:
                nonlocal status, first
                if message["type"] == "http.response.start":
                    status = message["status"]
                elif not first and message.get("body"):
                    first = time.perf_counter() - started
                await send(message)

            try:
                await app(scope, receive, watch)
            finally:
                self.observe_request(scope.get("path", ""), status, time.perf_counter() - started, first)

        return instrumented
