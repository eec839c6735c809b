"""The console's "fill from the well-known URL" helper for the OIDC settings.

The console's Content-Security-Policy lets the browser talk to this origin only, so the master fetches
the OpenID discovery document for it: through the node's hardened client for user-supplied URLs
(shared/usercontent.py: no loopback, private or metadata addresses, a time cap), with a small size
cap, and answers only the three endpoints the OIDC login needs (and the issuer, for the admin to see).
"""

from __future__ import annotations

from typing import Any, TypeGuard

import orjson
from starlette.requests import Request
from starlette.responses import Response

from master.api.common import BadBody, admin_auth, fail, language, ok, read_json, route
from shared.usercontent import UserContentClient, UserContentError

MAX_DOCUMENT_BYTES = 64 * 1024  # real discovery documents are a few KB
MAX_URL_CHARS = 2048
# discovery field -> the option it fills
FIELDS = {
    "authorization_endpoint": "OidcAuthorizationEndpoint",
    "token_endpoint": "OidcTokenEndpoint",
    "userinfo_endpoint": "OidcUserinfoEndpoint",
}

MESSAGES = {
    "bad_url": {"en": "the well-known URL must be an http or https URL", "zh-CN": "Well-Known 地址必须是 http 或 https 地址"},
    "fetch": {"en": "could not fetch the well-known document: ", "zh-CN": "无法获取 Well-Known 文档："},
    "status": {"en": "the well-known URL answered HTTP ", "zh-CN": "Well-Known 地址返回 HTTP "},
    "not_json": {"en": "the well-known document is not a JSON object", "zh-CN": "Well-Known 文档不是 JSON 对象"},
    "missing": {"en": "the well-known document lacks a valid ", "zh-CN": "Well-Known 文档缺少有效的 "},
}


def _text(request: Request, key: str) -> str:
    return MESSAGES[key][language(request)]


def _is_http_url(value: Any) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and len(value) <= MAX_URL_CHARS
        and value.startswith(("http://", "https://"))
        and not any(c.isspace() for c in value)
    )


def endpoints_of(document: bytes) -> tuple[dict[str, str] | None, str]:
    """(the endpoints keyed by option name, plus `issuer`; or None and the first field missing or
    invalid, "" when the document is not a JSON object)."""
    try:
        doc = orjson.loads(document)
    except orjson.JSONDecodeError:
        return None, ""
    if not isinstance(doc, dict):
        return None, ""
    found: dict[str, str] = {}
    for field, option in FIELDS.items():
        value = doc.get(field)
        if not _is_http_url(value):
            return None, field
        found[option] = value
    issuer = doc.get("issuer")
    found["issuer"] = issuer if isinstance(issuer, str) and len(issuer) <= MAX_URL_CHARS else ""
    return found, ""


def _client(request: Request) -> UserContentClient:
    """The relay engine's client for user-supplied URLs (one per node)."""
    client: UserContentClient = request.app.state.relay.engine.user_content
    return client


@admin_auth
async def discover(request: Request) -> Response:
    """POST {"url": "<issuer>/.well-known/openid-configuration"} -> the endpoints to fill in."""
    try:
        url = (await read_json(request)).get("url")
    except BadBody:
        url = None
    if not _is_http_url(url):
        return fail(_text(request, "bad_url"))
    try:
        status, _, body = await _client(request).get(url, MAX_DOCUMENT_BYTES)
    except UserContentError as exc:
        return fail(_text(request, "fetch") + str(exc))
    if status != 200:
        return fail(_text(request, "status") + str(status))
    found, missing = endpoints_of(body)
    if found is None and missing:
        return fail(_text(request, "missing") + missing)
    if found is None:
        return fail(_text(request, "not_json"))
    return ok(found)


routes = [route("/api/oidc/discovery", discover, ["POST"])]
