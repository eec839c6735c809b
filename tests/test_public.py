"""Public routes, request ids and routing quirks of docs/one-api-compat.md §4.1 and §4.5."""

from __future__ import annotations

import httpx

STATUS_KEYS = {
    "version",
    "start_time",
    "email_verification",
    "github_oauth",
    "github_client_id",
    "lark_client_id",
    "system_name",
    "logo",
    "footer_html",
    "wechat_qrcode",
    "wechat_login",
    "server_address",
    "turnstile_check",
    "turnstile_site_key",
    "top_up_link",
    "chat_link",
    "quota_per_unit",
    "display_in_currency",
    "oidc",
    "oidc_client_id",
    "oidc_well_known",
    "oidc_authorization_endpoint",
    "oidc_token_endpoint",
    "oidc_userinfo_endpoint",
}


async def test_status_has_exactly_one_apis_keys(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/status")
    body = resp.json()
    assert resp.status_code == 200
    assert body["success"] is True and body["message"] == ""
    assert set(body["data"]) == STATUS_KEYS
    assert body["data"]["system_name"] == "One API"
    assert body["data"]["quota_per_unit"] == 500000
    assert body["data"]["server_address"] == "http://localhost:3000"
    assert resp.headers["x-oneapi-request-id"]


async def test_trailing_slash_redirects_like_gin(client: httpx.AsyncClient) -> None:
    resp = await client.get("/api/status/?x=1")
    assert resp.status_code == 301
    assert resp.headers["location"] == "/api/status?x=1"


async def test_unknown_api_path_and_method_get_json_404(client: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/api/nothing"), ("DELETE", "/api/status")):
        resp = await client.request(method, path)
        assert resp.status_code == 404
        assert resp.json() == {
            "error": {"message": f"Invalid URL ({method} {path})", "type": "invalid_request_error", "param": "", "code": ""}
        }


async def test_option_texts_default_empty(client: httpx.AsyncClient) -> None:
    for path in ("/api/notice", "/api/about", "/api/home_page_content"):
        assert (await client.get(path)).json() == {"success": True, "message": "", "data": ""}
