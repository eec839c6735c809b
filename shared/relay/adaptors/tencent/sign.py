"""Tencent Cloud API 3.0's TC3-HMAC-SHA256 request signature (the algorithm Tencent documents for
every product; Hunyuan signs `content-type;host` over a JSON POST to `/`)."""

from __future__ import annotations

import hashlib
import hmac
import time

ALGORITHM = "TC3-HMAC-SHA256"
SIGNED_HEADERS = "content-type;host"
CONTENT_TYPE = "application/json"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def authorization(secret_id: str, secret_key: str, host: str, service: str, payload: bytes, timestamp: int) -> str:
    """The `Authorization` header for a POST of `payload` to `https://{host}/` at `timestamp`."""
    date = time.strftime("%Y-%m-%d", time.gmtime(timestamp))
    canonical = "\n".join(("POST", "/", "", f"content-type:{CONTENT_TYPE}\nhost:{host}\n", SIGNED_HEADERS, _sha256_hex(payload)))
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join((ALGORITHM, str(timestamp), scope, _sha256_hex(canonical.encode())))
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{ALGORITHM} Credential={secret_id}/{scope}, SignedHeaders={SIGNED_HEADERS}, Signature={signature}"
