"""The identity providers of docs/one-api-compat.md §4.4: exchange a code for the external user.

Each function returns an `ExternalUser` or raises `OAuthError` with the text One API shows. HTTP
goes through a fresh client per call with One API's 5 s timeout; `app.state.oauth_transport`
(an httpx transport), when set, replaces the network, which is how tests fake the providers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from master.context import get_ctx

if TYPE_CHECKING:
    import httpx

GITHUB_TOKEN_URL = "https://github.com/login/oauth/access_token"
GITHUB_USER_URL = "https://api.github.com/user"
LARK_TOKEN_URL = "https://open.feishu.cn/open-apis/authen/v2/oauth/token"
LARK_USER_URL = "https://passport.feishu.cn/suite/passport/oauth/userinfo"
EMPTY_USER = "返回值非法，用户字段为空，请稍后重试！"


class OAuthError(Exception):
    """The provider exchange failed; str() is the message for the user."""


@dataclass(frozen=True)
class ExternalUser:
    id: str
    display_name: str = ""
    email: str = ""
    username: str = ""  # a provider-chosen username (OIDC preferred_username), else ""


def _client(request: Request) -> httpx.AsyncClient:
    import httpx  # httpx is loaded at first use: ~2.5 MB of RSS a node rarely needs (bench issue)

    transport = getattr(request.app.state, "oauth_transport", None)
    return httpx.AsyncClient(timeout=5, transport=transport)


async def _json(http: httpx.AsyncClient, unreachable: str, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    import httpx

    try:
        resp = await http.request(method, url, **kwargs)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise OAuthError(unreachable) from exc
    try:
        data = resp.json()
    except ValueError as exc:
        raise OAuthError(f"invalid JSON from {httpx.URL(url).host}: {exc}") from exc
    return data if isinstance(data, dict) else {}


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


async def github_user(request: Request, code: str) -> ExternalUser:
    if not code:
        raise OAuthError("无效的参数")
    o = get_ctx(request).options
    unreachable = "无法连接至 GitHub 服务器，请稍后重试！"
    async with _client(request) as http:
        token = await _json(
            http,
            unreachable,
            "POST",
            GITHUB_TOKEN_URL,
            json={"client_id": o.get("GitHubClientId"), "client_secret": o.get("GitHubClientSecret"), "code": code},
            headers={"Accept": "application/json"},
        )
        info = await _json(http, unreachable, "GET", GITHUB_USER_URL, headers={"Authorization": f"Bearer {_text(token, 'access_token')}"})
    login = _text(info, "login")
    if not login:
        raise OAuthError(EMPTY_USER)
    return ExternalUser(id=login, display_name=_text(info, "name") or "GitHub User", email=_text(info, "email"))


async def lark_user(request: Request, code: str) -> ExternalUser:
    if not code:
        raise OAuthError("无效的参数")
    o = get_ctx(request).options
    unreachable = "无法连接至飞书服务器，请稍后重试！"
    body = {
        "client_id": o.get("LarkClientId"),
        "client_secret": o.get("LarkClientSecret"),
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": f"{o.server_address}/oauth/lark",
    }
    async with _client(request) as http:
        token = await _json(http, unreachable, "POST", LARK_TOKEN_URL, json=body, headers={"Accept": "application/json"})
        info = await _json(http, unreachable, "GET", LARK_USER_URL, headers={"Authorization": f"Bearer {_text(token, 'access_token')}"})
    open_id = _text(info, "open_id")
    if not open_id:  # One API would register every such user under an empty id
        raise OAuthError(EMPTY_USER)
    return ExternalUser(id=open_id, display_name=_text(info, "name") or "Lark User")


async def oidc_user(request: Request, code: str) -> ExternalUser:
    if not code:
        raise OAuthError("无效的参数")
    o = get_ctx(request).options
    unreachable = "无法连接至 OIDC 服务器，请稍后重试！"
    token_url, info_url = o.get("OidcTokenEndpoint"), o.get("OidcUserinfoEndpoint")
    if not token_url or not info_url:
        raise OAuthError(unreachable)
    body = {
        "client_id": o.get("OidcClientId"),
        "client_secret": o.get("OidcClientSecret"),
        "code": code,
        "grant_type": "authorization_code",
        "redirect_uri": f"{o.server_address}/oauth/oidc",
    }
    async with _client(request) as http:
        token = await _json(http, unreachable, "POST", token_url, json=body, headers={"Accept": "application/json"})
        info = await _json(http, unreachable, "GET", info_url, headers={"Authorization": f"Bearer {_text(token, 'access_token')}"})
    sub = _text(info, "sub")
    if not sub:
        raise OAuthError(EMPTY_USER)
    return ExternalUser(
        id=sub, display_name=_text(info, "name") or "OIDC User", email=_text(info, "email"), username=_text(info, "preferred_username")
    )


async def wechat_id(request: Request, code: str) -> str:
    if not code:
        raise OAuthError("无效的参数")
    o = get_ctx(request).options
    url = f"{o.get('WeChatServerAddress')}/api/wechat/user"
    import httpx

    async with _client(request) as http:
        try:
            resp = await http.get(url, params={"code": code}, headers={"Authorization": o.get("WeChatServerToken")})
            data = resp.json()
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # One API passes the transport error text through
            raise OAuthError(str(exc) or type(exc).__name__) from exc
    if not isinstance(data, dict):
        raise OAuthError("验证码错误或已过期")
    if data.get("success") is not True:
        raise OAuthError(_text(data, "message"))
    found = _text(data, "data")
    if not found:
        raise OAuthError("验证码错误或已过期")
    return found
