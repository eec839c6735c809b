"""iFlytek Spark's signed WebSocket URL, the API version a model is served by, and its domain.

The signature is HMAC-SHA256 (keyed with the APISecret) over `host`, `date` and the request line;
it travels base64-encoded in the URL's `authorization` parameter with the APIKey, and iFlytek
refuses a `date` more than five minutes off.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from email.utils import formatdate
from urllib.parse import urlencode, urlsplit

from shared.relay.types import RelayError

DEFAULT_BASE = "wss://spark-api.xf-yun.com"
DEFAULT_VERSION = "v1.1"

# One API's model -> API version table.
MODEL_VERSIONS = {
    "Spark-Lite": "v1.1",
    "Spark-Pro": "v3.1",
    "Spark-Pro-128K": "v3.1-128K",
    "Spark-Max": "v3.5",
    "Spark-Max-32K": "v3.5-32K",
    "Spark-4.0-Ultra": "v4.0",
}
DOMAINS = {
    "v1.1": "lite",
    "v2.1": "generalv2",
    "v3.1": "generalv3",
    "v3.1-128K": "pro-128k",
    "v3.5": "generalv3.5",
    "v3.5-32K": "max-32k",
    "v4.0": "4.0Ultra",
}
PATHS = {"v3.1-128K": "/chat/pro-128k", "v3.5-32K": "/chat/max-32k"}  # the rest: /{version}/chat


def split_key(key: str) -> tuple[str, str, str]:
    """`APPID|APISecret|APIKey` -> (app id, api secret, api key)."""
    parts = key.split("|")
    if len(parts) != 3 or not all(parts):
        raise RelayError(
            401, "invalid Xunfei key: the format is APPID|APISecret|APIKey", type="authentication_error", code="invalid_api_key"
        )
    return parts[0], parts[1], parts[2]


def api_version(model: str, configured: str) -> str:
    """The table's version; else the part after the dash of a two-part name (`SparkDesk-v3.5`);
    else the channel's `api_version`; else v1.1."""
    if model in MODEL_VERSIONS:
        return MODEL_VERSIONS[model]
    parts = model.split("-")
    if len(parts) == 2 and parts[1]:
        return parts[1]
    return configured or DEFAULT_VERSION


def domain(version: str) -> str:
    return DOMAINS.get(version, f"general{version}")


def ws_base(base_url: str) -> str:
    """The channel's base URL as a WebSocket origin (http -> ws, https -> wss), or iFlytek's."""
    base_url = base_url.rstrip("/")
    if not base_url:
        return DEFAULT_BASE
    if base_url.startswith("https://"):
        return "wss://" + base_url[len("https://") :]
    if base_url.startswith("http://"):
        return "ws://" + base_url[len("http://") :]
    return base_url


def signed_url(base_url: str, version: str, api_key: str, api_secret: str, timestamp: float) -> str:
    url = ws_base(base_url) + PATHS.get(version, f"/{version}/chat")
    parts = urlsplit(url)
    date = formatdate(timestamp, usegmt=True)
    origin = f"host: {parts.netloc}\ndate: {date}\nGET {parts.path} HTTP/1.1"
    signature = base64.b64encode(hmac.new(api_secret.encode(), origin.encode(), hashlib.sha256).digest()).decode()
    authorization = f'api_key="{api_key}", algorithm="hmac-sha256", headers="host date request-line", signature="{signature}"'
    query = urlencode({"authorization": base64.b64encode(authorization.encode()).decode(), "date": date, "host": parts.netloc})
    return f"{url}?{query}"
