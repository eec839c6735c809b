"""OAuth access tokens for Vertex AI from a service account's JSON key, through google-auth.

google-auth signs the JWT assertion and exchanges it at the key's `token_uri` (Google's, unless the
JSON names another: the only way to point it elsewhere, which the tests' fake token endpoint uses).
Tokens are cached per key and refreshed ten minutes before they expire (One API keeps them 50
minutes); one refresh per key runs at a time, in a thread, since google-auth's transport blocks.
google-auth is imported on first use, so a node without Vertex channels never loads it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import orjson

from shared.relay.types import RelayError

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
REFRESH_BEFORE = 600  # seconds before expiry
EXCHANGE_TIMEOUT = 30  # seconds for one token exchange
MAX_KEYS = 256  # cached service accounts; the oldest is dropped beyond


@dataclass
class _Entry:
    token: str = ""
    expires: float = 0.0  # time.time()
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def _credentials(adc: str) -> Any:
    from google.oauth2 import service_account

    try:
        info = orjson.loads(adc)
    except orjson.JSONDecodeError:
        raise RelayError(400, "vertex_ai_adc is not valid JSON", code="invalid_channel_key") from None
    if not isinstance(info, dict):
        raise RelayError(400, "vertex_ai_adc is not a JSON object", code="invalid_channel_key")
    try:
        return service_account.Credentials.from_service_account_info(info, scopes=[SCOPE])
    except (ValueError, KeyError, TypeError) as exc:
        raise RelayError(400, f"vertex_ai_adc is not a service account key: {exc}", code="invalid_channel_key") from None


def _refresh(credentials: Any) -> tuple[str, float]:
    import google.auth.exceptions
    import google.auth.transport.requests

    try:
        credentials.refresh(google.auth.transport.requests.Request())
    except google.auth.exceptions.RefreshError as exc:
        raise RelayError(
            401, f"vertex ai token exchange refused: {exc}", type="authentication_error", code="token_exchange_failed"
        ) from None
    except google.auth.exceptions.TransportError as exc:
        raise RelayError(500, f"vertex ai token exchange failed: {exc}", code="do_request_failed") from None
    expiry = credentials.expiry  # naive UTC
    expires = expiry.replace(tzinfo=UTC).timestamp() if expiry else time.time() + 3600
    return str(credentials.token), expires


class TokenCache:
    def __init__(self) -> None:
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.exchanges = 0  # token exchanges made (observable in tests)

    async def token(self, adc: str) -> str:
        key = hashlib.sha256(adc.encode()).hexdigest()
        entry = self._entries.get(key)
        if entry is None:
            entry = self._entries[key] = _Entry()
            while len(self._entries) > MAX_KEYS:
                self._entries.popitem(last=False)
        if entry.expires - REFRESH_BEFORE > time.time():
            return entry.token
        async with entry.lock:
            if entry.expires - REFRESH_BEFORE > time.time():  # another request refreshed it meanwhile
                return entry.token
            credentials = _credentials(adc)
            self.exchanges += 1
            try:
                entry.token, entry.expires = await asyncio.wait_for(asyncio.to_thread(_refresh, credentials), EXCHANGE_TIMEOUT)
            except TimeoutError:
                raise RelayError(500, "vertex ai token exchange timed out", code="do_request_failed") from None
            return entry.token


TOKENS = TokenCache()
