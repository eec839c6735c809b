"""Relay token authentication (docs/one-api-compat.md §5.2), read entirely from the in-memory snapshot and ledger."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from shared.keys import key_hash
from shared.relay.ledger import Ledger
from shared.relay.sink import QuotaSink
from shared.relay.types import RelayError
from shared.snapshot import TOKEN_ENABLED, TOKEN_EXHAUSTED, TOKEN_EXPIRED, USER_ENABLED, Snapshot, TokenEntry, UserEntry

ROLE_ADMIN = 10


@dataclass(frozen=True, slots=True)
class Caller:
    token: TokenEntry
    user: UserEntry
    channel_hint: str  # the `-CHANNEL_ID` suffix of the key, "" when absent


def auth_error(status: int, message: str) -> RelayError:
    """TokenAuth/Distribute errors carry only message and type in One API's body."""
    return RelayError(status=status, message=message, type="one_api_error", short=True)


def parse_key(header: str) -> tuple[str, str]:
    """`Bearer sk-KEY-7` -> ("KEY", "7"); stored keys never carry `sk-`."""
    key = header
    if key.startswith("Bearer "):
        key = key[7:]
    if key.startswith("sk-"):
        key = key[3:]
    parts = key.split("-")
    return parts[0], (parts[1] if len(parts) > 1 else "")


def ip_allowed(token: TokenEntry, ip: str) -> bool:
    if not token.subnets:
        return True
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(addr in net for net in token.subnets if net.version == addr.version)


def authenticate(snapshot: Snapshot, ledger: Ledger, sink: QuotaSink, authorization: str, ip: str, now: float | None = None) -> Caller:
    """Resolve the caller or raise the RelayError One API would answer."""
    key, hint = parse_key(authorization)
    if not key:
        raise auth_error(401, "未提供令牌")
    token = snapshot.tokens.get(key_hash(key))
    if token is None:
        raise auth_error(401, "无效的令牌")
    if token.status == TOKEN_EXHAUSTED:
        raise auth_error(401, f"令牌 {token.name}（#{token.id}）额度已用尽")
    if token.status == TOKEN_EXPIRED:
        raise auth_error(401, "该令牌已过期")
    if token.status != TOKEN_ENABLED:
        raise auth_error(401, "该令牌状态不可用")
    now = time.time() if now is None else now
    if token.expired_time != -1 and token.expired_time < now:
        sink.mark_token(token.id, TOKEN_EXPIRED)
        raise auth_error(401, "该令牌已过期")
    if not token.unlimited_quota and ledger.token_balance(token.id) <= 0:
        sink.mark_token(token.id, TOKEN_EXHAUSTED)
        raise auth_error(401, "该令牌额度已用尽")
    if not ip_allowed(token, ip):
        raise auth_error(403, f"该令牌只能在指定网段使用：{token.subnet_text}，当前 ip：{ip}")
    user = snapshot.users.get(token.user_id)
    if user is None or user.status != USER_ENABLED:
        raise auth_error(403, "用户已被封禁")
    if hint and user.role < ROLE_ADMIN:
        raise auth_error(403, "普通用户不支持指定渠道")
    return Caller(token=token, user=user, channel_hint=hint)


_BODY_REQUIRED = ("/v1/completions", "/v1/chat/completions", "/v1/images", "/v1/audio")
# One API ignores a bad body on the other relay paths and then answers 503 for the model "" at
# distribution; a malformed request gets a 4xx here (DESIGN "Guarantees": bad input).
_BODY_CHECKED = _BODY_REQUIRED + ("/v1/embeddings", "/v1/engines/", "/v1/moderations", "/v1/edits")


def request_model(path: str, content_type: str, body: bytes, form: Mapping[str, Any] | None, path_model: str) -> tuple[str, Any]:
    """The requested model and the parsed JSON body (None for non-JSON), with One API's defaults."""
    parsed: Any = None
    model = ""
    if content_type.startswith("application/json"):
        try:
            parsed = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError as exc:
            if path.startswith(_BODY_CHECKED):
                raise auth_error(400, f"common.UnmarshalBodyReusable failed: {exc}") from exc
            parsed = None
        if isinstance(parsed, dict):
            value = parsed.get("model")
            if value is not None and not isinstance(value, str) and path.startswith(_BODY_CHECKED):
                raise auth_error(400, "common.UnmarshalBodyReusable failed: json: cannot unmarshal model: not a string")
            model = value if isinstance(value, str) else ""
        elif parsed is not None and path.startswith(_BODY_CHECKED):
            raise auth_error(400, "common.UnmarshalBodyReusable failed: body must be a JSON object")
    elif form is not None:
        value = form.get("model")
        model = value if isinstance(value, str) else ""
    if not model:
        if path.startswith("/v1/moderations"):
            model = "text-moderation-stable"
        elif path.endswith("embeddings"):
            model = path_model
        elif path.startswith("/v1/images/generations"):
            model = "dall-e-2"
        elif path.startswith(("/v1/audio/transcriptions", "/v1/audio/translations")):
            model = "whisper-1"
    return model, parsed


def check_model_allowed(token: TokenEntry, model: str) -> None:
    if token.models is not None and model and model not in token.models:
        raise auth_error(403, f"该令牌无权使用模型：{model}")
