"""Public informational routes (docs/one-api-compat.md §4.5): status, notice, about, home page content."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from master.api.common import ok, route
from master.context import get_ctx
from shared.settings import VERSION


def _plain_number(value: float) -> float | int:
    return int(value) if value.is_integer() else value


async def status(request: Request) -> Response:
    ctx = get_ctx(request)
    o = ctx.options
    return ok(
        {
            "version": VERSION,
            "start_time": ctx.started_at,
            "email_verification": o.flag("EmailVerificationEnabled"),
            "github_oauth": o.flag("GitHubOAuthEnabled"),
            "github_client_id": o.get("GitHubClientId"),
            "lark_client_id": o.get("LarkClientId"),
            "system_name": o.get("SystemName"),
            "logo": o.get("Logo"),
            "footer_html": o.get("Footer"),
            "wechat_qrcode": o.get("WeChatAccountQRCodeImageURL"),
            "wechat_login": o.flag("WeChatAuthEnabled"),
            "server_address": o.server_address,
            "turnstile_check": o.flag("TurnstileCheckEnabled"),
            "turnstile_site_key": o.get("TurnstileSiteKey"),
            "top_up_link": o.get("TopUpLink"),
            "chat_link": o.get("ChatLink"),
            "quota_per_unit": _plain_number(o.number("QuotaPerUnit")),
            "display_in_currency": o.flag("DisplayInCurrencyEnabled"),
            "oidc": o.flag("OidcEnabled"),
            "oidc_client_id": o.get("OidcClientId"),
            "oidc_well_known": o.get("OidcWellKnown"),
            "oidc_authorization_endpoint": o.get("OidcAuthorizationEndpoint"),
            "oidc_token_endpoint": o.get("OidcTokenEndpoint"),
            "oidc_userinfo_endpoint": o.get("OidcUserinfoEndpoint"),
        }
    )


def _option_text(key: str):
    async def handler(request: Request) -> Response:
        return ok(get_ctx(request).options.get(key))

    handler.__name__ = f"get_{key}"
    return handler


routes = [
    route("/api/status", status, ["GET"]),
    route("/api/notice", _option_text("Notice"), ["GET"]),
    route("/api/about", _option_text("About"), ["GET"]),
    route("/api/home_page_content", _option_text("HomePageContent"), ["GET"]),
]
