"""The one settings object, built once from the environment, `.env` and command-line flags.

Parsing follows One API's rules (docs/one-api-compat.md §1.1): booleans are true only for the exact string
`true`, unparsable numbers fall back to the default, empty means unset.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.client_address import IPNetwork, parse_networks
from shared.workers.slot import WorkerSlot, slot_from_env

VERSION = "v0.1.0"
MAX_FREQUENCY_MINUTES = 525600  # a year: a longer timer overflows the event loop's clock


def load_dotenv(path: Path, environ: os._Environ[str] | dict[str, str]) -> None:
    """Read KEY=VALUE lines into `environ`; variables already set win (as godotenv does)."""
    if not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        if line.startswith("export "):
            line = line[len("export ") :]
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        if key and key not in environ:
            environ[key] = value


def _str(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = env.get(name, "")
    return value if value != "" else default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name, "") or default)
    except ValueError:
        return default


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    """A cap: zero, negative or unparsable means the default (a cap cannot be switched off)."""
    value = _int(env, name, default)
    return value if value > 0 else default


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(env.get(name, "") or default)
    except ValueError:
        return default


def _bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name, "")
    return default if value == "" else value == "true"


@dataclass(frozen=True)
class Settings:
    """Every setting of a node. Defaults are One API's unless noted in .env.example."""

    port: int = 3000
    host: str = "0.0.0.0"  # the HTTP listen address (HOST); every IPv4 interface by default
    log_dir: str = "./logs"
    node_type: str = "master"
    debug: bool = False
    debug_sql: bool = False
    session_secret: str = ""
    session_secret_generated: bool = True
    sqlite_path: str = "one-api.db"
    sqlite_busy_timeout: int = 3000
    sql_dsn: str = ""
    log_sql_dsn: str = ""
    sql_max_idle_conns: int = 100
    sql_max_open_conns: int = 1000
    sql_max_lifetime: int = 60
    redis_conn_string: str = ""
    redis_password: str = ""
    redis_master_name: str = ""
    sync_frequency: int = 600
    change_log_retention: int = 10000  # change sets a master keeps for ChangesSince/Watch catch-up
    change_log_max_age: int = 300  # seconds the change log table keeps rows the master has read
    redis_snapshot_interval: int = 300  # max seconds between full snapshots written to Redis (cold starts)
    memory_cache_enabled: bool = False
    frontend_base_url: str = ""
    polling_interval: int = 0
    channel_test_frequency: int = 0
    channel_update_frequency: float = 0.0  # minutes between balance refreshes of every channel; 0 = off
    batch_update_enabled: bool = False
    batch_update_interval: int = 5
    relay_timeout: int = 0
    # Caps on what an upstream answer may cost (ours, not One API's; see .env.example).
    relay_idle_timeout: int = 600
    relay_max_answer_bytes: int = 64 * 1024 * 1024
    relay_max_conns_per_host: int = 1024
    relay_proxy: str = ""
    user_content_request_proxy: str = ""
    user_content_request_timeout: int = 30
    gemini_safety_setting: str = "BLOCK_NONE"
    gemini_version: str = "v1"
    theme: str = "default"
    global_api_rate_limit: int = 480
    global_web_rate_limit: int = 240
    enable_metric: bool = False
    metric_queue_size: int = 10
    metric_success_rate_threshold: float = 0.8
    metric_success_chan_size: int = 1024
    metric_fail_chan_size: int = 128
    metrics_token: str = ""  # bearer token /metrics requires; empty = open
    initial_root_token: str = ""
    initial_root_access_token: str = ""
    only_one_log_file: bool = False
    enforce_include_usage: bool = False
    test_prompt: str = "Output only your specific model name with no additional text."
    tiktoken_cache_dir: str = ""
    http_server: str = "uvicorn"
    relay_http_client: str = "native"
    max_request_body: int = 32 * 1024 * 1024
    # Load balancers whose X-Forwarded-For / X-Real-IP are believed (shared.client_address); () = none.
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # Prompt and quota caps (issue 12 items 6 and 8; see .env.example).
    max_prompt_bytes: int = 8 * 1024 * 1024
    prompt_count_threads: int = 2
    quota_strict: bool = True
    # Cluster (see .env.example): the master's gRPC port, how slaves reach it, the shared secret.
    grpc_port: int = 50051
    grpc_host: str = "127.0.0.1"
    cluster_nonce_cap: int = 200_000
    master_addr: str = "127.0.0.1:50051"
    cluster_secret: str = ""
    grpc_tls_cert: str = ""
    grpc_tls_key: str = ""
    grpc_tls_ca: str = ""
    grpc_tls_client_ca: str = ""
    grpc_tls_client_cert: str = ""
    grpc_tls_client_key: str = ""
    node_id: str = ""
    spool_dir: str = "./spool"
    # Processes of this node (`--workers`); `worker` is set in each of them by the supervisor.
    workers: int = 1
    worker: WorkerSlot | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_master(self) -> bool:
        return self.node_type != "slave"

    @property
    def redis_enabled(self) -> bool:
        return bool(self.redis_conn_string)


class SettingsError(ValueError):
    """A setting has a value the node cannot start with."""


def build_settings(env: Mapping[str, str], port_flag: int = 3000, log_dir_flag: str = "./logs", workers_flag: int = 1) -> Settings:
    """Build the settings from an environment mapping and the parsed flags."""
    secret = env.get("SESSION_SECRET", "")
    generated = secret in ("", "random_string")
    if generated:
        secret = uuid.uuid4().hex
    port_env = env.get("PORT", "")
    try:
        port = int(port_env) if port_env else port_flag
    except ValueError as exc:
        raise SettingsError(f"PORT must be a number, got {port_env!r}") from exc
    workers_env = env.get("WORKERS", "")  # like PORT, the environment wins over the flag
    try:
        workers = int(workers_env) if workers_env else workers_flag
    except ValueError as exc:
        raise SettingsError(f"WORKERS must be a number, got {workers_env!r}") from exc
    if workers < 1:
        raise SettingsError(f"WORKERS (--workers) must be 1 or more, got {workers}")
    for name, choices in (("HTTP_SERVER", ("uvicorn", "hypercorn")), ("RELAY_HTTP_CLIENT", ("native", "aiohttp"))):
        if env.get(name, "") not in ("", *choices):
            raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {env[name]!r}")
    test_freq = env.get("CHANNEL_TEST_FREQUENCY", "")
    try:
        channel_test_frequency = int(test_freq) if test_freq else 0
    except ValueError as exc:
        raise SettingsError(f"CHANNEL_TEST_FREQUENCY must be a number of minutes, got {test_freq!r}") from exc
    update_freq = env.get("CHANNEL_UPDATE_FREQUENCY", "")
    try:
        channel_update_frequency = float(update_freq) if update_freq else 0.0
    except ValueError as exc:
        raise SettingsError(f"CHANNEL_UPDATE_FREQUENCY must be a number of minutes, got {update_freq!r}") from exc
    if not 0 <= channel_update_frequency <= MAX_FREQUENCY_MINUTES:  # also refuses nan
        raise SettingsError(f"CHANNEL_UPDATE_FREQUENCY must be 0 (off) to {MAX_FREQUENCY_MINUTES} minutes, got {update_freq!r}")
    if bool(env.get("GRPC_TLS_CLIENT_CERT")) != bool(env.get("GRPC_TLS_CLIENT_KEY")):
        raise SettingsError("GRPC_TLS_CLIENT_CERT and GRPC_TLS_CLIENT_KEY are set together (a slave's client certificate)")
    if env.get("GRPC_TLS_CLIENT_CA") and not (env.get("GRPC_TLS_CERT") and env.get("GRPC_TLS_KEY")):
        raise SettingsError("GRPC_TLS_CLIENT_CA (mutual TLS) needs GRPC_TLS_CERT and GRPC_TLS_KEY on the master")
    if _int(env, "CLUSTER_NONCE_CAP", 200_000) < 1:
        raise SettingsError("CLUSTER_NONCE_CAP must be 1 or more")
    # One API reads SQL_MAX_LIFETIME (seconds); its README documents SQL_CONN_MAX_LIFETIME (minutes).
    lifetime = _int(env, "SQL_MAX_LIFETIME", 60)
    if env.get("SQL_CONN_MAX_LIFETIME") and not env.get("SQL_MAX_LIFETIME"):
        lifetime = _int(env, "SQL_CONN_MAX_LIFETIME", 1) * 60
    try:
        trusted_proxies = parse_networks(env.get("TRUSTED_PROXIES", ""))
    except ValueError as exc:
        raise SettingsError(f"TRUSTED_PROXIES: {exc}") from exc
    try:
        polling = int(env.get("POLLING_INTERVAL", "") or 0)
    except ValueError:
        polling = 0
    return Settings(
        port=port,
        host=_str(env, "HOST", "0.0.0.0").strip().strip("[]"),  # "[::1]" as well as "::1"
        log_dir=log_dir_flag,
        node_type="slave" if env.get("NODE_TYPE", "") == "slave" else "master",
        debug=env.get("DEBUG", "").lower() == "true",
        debug_sql=env.get("DEBUG_SQL", "").lower() == "true",
        session_secret=secret,
        session_secret_generated=generated,
        sqlite_path=_str(env, "SQLITE_PATH", "one-api.db"),
        sqlite_busy_timeout=_int(env, "SQLITE_BUSY_TIMEOUT", 3000),
        sql_dsn=env.get("SQL_DSN", ""),
        log_sql_dsn=env.get("LOG_SQL_DSN", ""),
        sql_max_idle_conns=_int(env, "SQL_MAX_IDLE_CONNS", 100),
        sql_max_open_conns=_int(env, "SQL_MAX_OPEN_CONNS", 1000),
        sql_max_lifetime=lifetime,
        redis_conn_string=env.get("REDIS_CONN_STRING", ""),
        redis_password=env.get("REDIS_PASSWORD", ""),
        redis_master_name=env.get("REDIS_MASTER_NAME", ""),
        sync_frequency=_int(env, "SYNC_FREQUENCY", 600),
        change_log_retention=max(_int(env, "CHANGE_LOG_RETENTION", 10000), 100),
        change_log_max_age=max(_int(env, "CHANGE_LOG_MAX_AGE", 300), 60),
        redis_snapshot_interval=max(_int(env, "REDIS_SNAPSHOT_INTERVAL", 300), 1),
        memory_cache_enabled=env.get("MEMORY_CACHE_ENABLED", "").lower() == "true",
        frontend_base_url=env.get("FRONTEND_BASE_URL", "").rstrip("/"),
        polling_interval=polling,
        channel_test_frequency=channel_test_frequency,
        channel_update_frequency=channel_update_frequency,
        batch_update_enabled=env.get("BATCH_UPDATE_ENABLED", "") == "true",
        batch_update_interval=_int(env, "BATCH_UPDATE_INTERVAL", 5),
        relay_timeout=_int(env, "RELAY_TIMEOUT", 0),
        relay_idle_timeout=_positive(env, "RELAY_IDLE_TIMEOUT", 600),
        relay_max_answer_bytes=_positive(env, "RELAY_MAX_ANSWER_BYTES", 64 * 1024 * 1024),
        relay_max_conns_per_host=_positive(env, "RELAY_MAX_CONNS_PER_HOST", 1024),
        relay_proxy=_str(env, "RELAY_PROXY"),
        user_content_request_proxy=_str(env, "USER_CONTENT_REQUEST_PROXY"),
        user_content_request_timeout=_int(env, "USER_CONTENT_REQUEST_TIMEOUT", 30),
        gemini_safety_setting=_str(env, "GEMINI_SAFETY_SETTING", "BLOCK_NONE"),
        gemini_version=_str(env, "GEMINI_VERSION", "v1"),
        theme=_str(env, "THEME", "default"),
        global_api_rate_limit=_int(env, "GLOBAL_API_RATE_LIMIT", 480),
        global_web_rate_limit=_int(env, "GLOBAL_WEB_RATE_LIMIT", 240),
        enable_metric=_bool(env, "ENABLE_METRIC"),
        metric_queue_size=_int(env, "METRIC_QUEUE_SIZE", 10),
        metric_success_rate_threshold=_float(env, "METRIC_SUCCESS_RATE_THRESHOLD", 0.8),
        metric_success_chan_size=_int(env, "METRIC_SUCCESS_CHAN_SIZE", 1024),
        metric_fail_chan_size=_int(env, "METRIC_FAIL_CHAN_SIZE", 128),
        metrics_token=env.get("METRICS_TOKEN", ""),
        initial_root_token=env.get("INITIAL_ROOT_TOKEN", ""),
        initial_root_access_token=env.get("INITIAL_ROOT_ACCESS_TOKEN", ""),
        only_one_log_file=_bool(env, "ONLY_ONE_LOG_FILE"),
        enforce_include_usage=_bool(env, "ENFORCE_INCLUDE_USAGE"),
        test_prompt=_str(env, "TEST_PROMPT", "Output only your specific model name with no additional text."),
        tiktoken_cache_dir=_str(env, "TIKTOKEN_CACHE_DIR") or _str(env, "DATA_GYM_CACHE_DIR"),
        http_server=_str(env, "HTTP_SERVER", "uvicorn"),
        relay_http_client=_str(env, "RELAY_HTTP_CLIENT", "native"),
        max_request_body=_int(env, "MAX_REQUEST_BODY_BYTES", 32 * 1024 * 1024),
        trusted_proxies=trusted_proxies,
        max_prompt_bytes=_int(env, "MAX_PROMPT_BYTES", 8 * 1024 * 1024),
        prompt_count_threads=_int(env, "PROMPT_COUNT_THREADS", 2),
        quota_strict=_bool(env, "QUOTA_STRICT", True),
        grpc_port=_int(env, "GRPC_PORT", 50051),
        grpc_host=_str(env, "GRPC_HOST", "127.0.0.1"),
        cluster_nonce_cap=_int(env, "CLUSTER_NONCE_CAP", 200_000),
        master_addr=_str(env, "MASTER_ADDR", "127.0.0.1:50051"),
        cluster_secret=env.get("CLUSTER_SECRET", ""),
        grpc_tls_cert=_str(env, "GRPC_TLS_CERT"),
        grpc_tls_key=_str(env, "GRPC_TLS_KEY"),
        grpc_tls_ca=_str(env, "GRPC_TLS_CA"),
        grpc_tls_client_ca=_str(env, "GRPC_TLS_CLIENT_CA"),
        grpc_tls_client_cert=_str(env, "GRPC_TLS_CLIENT_CERT"),
        grpc_tls_client_key=_str(env, "GRPC_TLS_CLIENT_KEY"),
        # Stable across restarts (host + port) so a restarted slave resends its spool under the same id.
        node_id=_str(env, "NODE_ID", f"{socket.gethostname()}-{port}"),
        spool_dir=_str(env, "SPOOL_DIR", "./spool"),
        workers=workers,
        worker=slot_from_env(env),
    )
