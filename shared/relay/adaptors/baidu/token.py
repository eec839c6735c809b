"""Baidu's OAuth access token from the `client_id|client_secret` key, cached per key.

A token lives 30 days; it is fetched again once it is within an hour of its expiry (if that fetch
fails while the old token still lives, the old one is used). One fetch runs per key at a time, so a
burst of requests on a cold channel makes one exchange, not one each.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlencode

import orjson

from shared.relay.types import RelayError, UpstreamRequest
from shared.relay.upstream import UpstreamClient

TOKEN_PATH = "/oauth/2.0/token"
REFRESH_WITHIN = 3600.0  # seconds before expiry
MAX_CACHED = 1024  # keys; emptied when full (one key per channel)

_tokens: dict[str, tuple[str, float]] = {}  # key -> (access token, expiry as time.time())
_locks: dict[str, asyncio.Lock] = {}


def split_key(key: str) -> tuple[str, str]:
    client_id, sep, secret = key.partition("|")
    if not sep or not client_id or not secret or "|" in secret:
        raise RelayError(401, "invalid Baidu key: the format is APIKey|SecretKey", type="authentication_error", code="invalid_api_key")
    return client_id, secret


def forget(key: str) -> None:
    """Drop a token Baidu refused (error 110/111), so the next request fetches a new one."""
    _tokens.pop(key, None)


def _auth_error(message: str) -> RelayError:
    return RelayError(401, f"Baidu access token: {message}", type="authentication_error", code="invalid_api_key")


async def _fetch(base_url: str, key: str, upstream: UpstreamClient) -> tuple[str, float]:
    client_id, secret = split_key(key)
    query = urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret})
    request = UpstreamRequest("POST", f"{base_url}{TOKEN_PATH}?{query}", {"Accept": "application/json"}, b"")
    resp = await upstream.send(request, b"")
    try:
        body = await resp.read()
    finally:
        resp.close()
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict):
        raise RelayError(502, f"Baidu access token: unexpected answer (status {resp.status})", code="bad_response_status_code")
    token, lifetime = doc.get("access_token"), doc.get("expires_in")
    if resp.status != 200 or not isinstance(token, str) or not token:
        raise _auth_error(str(doc.get("error_description") or doc.get("error") or f"status {resp.status}"))
    seconds = float(lifetime) if isinstance(lifetime, (int, float)) and not isinstance(lifetime, bool) else 0.0
    return token, time.time() + seconds


async def access_token(base_url: str, key: str, upstream: UpstreamClient) -> str:
    cached = _tokens.get(key)
    if cached is not None and cached[1] - REFRESH_WITHIN > time.time():
        return cached[0]
    if len(_locks) >= MAX_CACHED:
        _locks.clear()  # keys whose fetch failed leave a lock and no token: bounded here
    lock = _locks.setdefault(key, asyncio.Lock())
    async with lock:
        cached = _tokens.get(key)  # another request may have fetched it while this one waited
        if cached is not None and cached[1] - REFRESH_WITHIN > time.time():
            return cached[0]
        try:
            fresh = await _fetch(base_url, key, upstream)
        except RelayError:
            if cached is not None and cached[1] > time.time():
                return cached[0]  # the old token still lives
            raise
        if len(_tokens) >= MAX_CACHED:
            _tokens.clear()
        _tokens[key] = fresh
        return fresh[0]
