"""Zhipu's API token: an HS256 JWT signed with the secret half of the `id.secret` key.

Zhipu wants millisecond `exp`/`timestamp` claims and a `sign_type: SIGN` header; a token lives 24
hours and is cached per key until shortly before it expires (signing is cheap, but the cache keeps
one token per key instead of a new one per request).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import orjson

from shared.relay.types import RelayError

LIFETIME_MS = 24 * 3600 * 1000
RENEW_BEFORE_MS = 60 * 1000  # a token this close to its expiry is replaced
MAX_CACHED = 1024  # keys; the cache is emptied when it is full (keys are few: one per channel)

_cache: dict[str, tuple[str, int]] = {}  # key -> (token, exp in ms)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def split_key(key: str) -> tuple[str, str]:
    key_id, sep, secret = key.partition(".")
    if not sep or not key_id or not secret or "." in secret:
        raise RelayError(401, "invalid Zhipu key: the format is id.secret", type="authentication_error", code="invalid_api_key")
    return key_id, secret


def sign(key_id: str, secret: str, now_ms: int) -> tuple[str, int]:
    exp = now_ms + LIFETIME_MS
    header = b64url(orjson.dumps({"alg": "HS256", "sign_type": "SIGN"}))
    payload = b64url(orjson.dumps({"api_key": key_id, "exp": exp, "timestamp": now_ms}))
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = b64url(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return f"{header}.{payload}.{signature}", exp


def token_for(key: str) -> str:
    """The cached JWT for `key`, signed anew when missing or about to expire."""
    now_ms = int(time.time() * 1000)
    cached = _cache.get(key)
    if cached is not None and cached[1] - RENEW_BEFORE_MS > now_ms:
        return cached[0]
    token, exp = sign(*split_key(key), now_ms)
    if len(_cache) >= MAX_CACHED:
        _cache.clear()
    _cache[key] = (token, exp)
    return token
