"""Relay token authentication (docs/one-api-compat.md §5.2) and distribution (§5.3): every refusal's status and
exact body, `{"error": {"message": "<text> (request id: <X-Oneapi-Request-Id>)", "type": "one_api_error"}}`."""

from __future__ import annotations

import time

import httpx

from tests.support.relay_kit import CHAT, bearer, bearer_key, error_of, relay_world, with_request_id


def assert_refused(resp: httpx.Response, status: int, message: str) -> None:
    assert resp.status_code == status, resp.text
    assert error_of(resp) == {"message": with_request_id(resp, message), "type": "one_api_error"}


async def test_token_refusals(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        good = await w.token(name="good")
        url = "/v1/chat/completions"
        body = {"model": "gpt-3.5-turbo", "messages": CHAT}

        # Missing and unknown keys.
        assert_refused(await w.root.post(url, json=body), 401, "未提供令牌")
        assert_refused(await w.root.post(url, json=body, headers=bearer_key("sk-")), 401, "未提供令牌")
        assert_refused(await w.root.post(url, json=body, headers=bearer_key("sk-doesnotexist")), 401, "无效的令牌")

        # A disabled token.
        disabled = await w.token(name="off")
        resp = await w.root.put("/api/token/?status_only=true", json={**disabled, "status": 2})
        assert resp.json()["success"], resp.text
        assert_refused(await w.root.post(url, json=body, headers=bearer(disabled)), 401, "该令牌状态不可用")

        # Expired: refused, and status 3 (expired) written to the database.
        soon = await w.token(name="soon", expired_time=int(time.time()) + 3600)
        resp = await w.root.put("/api/token/", json={**soon, "expired_time": int(time.time()) - 5})
        assert resp.json()["success"], resp.text
        assert_refused(await w.root.post(url, json=body, headers=bearer(soon)), 401, "该令牌已过期")
        await w.flush()
        assert (await w.token_row(soon["id"]))["status"] == 3
        # Once the snapshot says so, the status itself refuses it.
        assert_refused(await w.root.post(url, json=body, headers=bearer(soon)), 401, "该令牌已过期")

        # Exhausted: a limited token with nothing left -> "该令牌额度已用尽", status 4 written.
        empty = await w.token(name="empty", unlimited_quota=False, remain_quota=0)
        assert_refused(await w.root.post(url, json=body, headers=bearer(empty)), 401, "该令牌额度已用尽")
        await w.flush()
        assert (await w.token_row(empty["id"]))["status"] == 4
        assert_refused(await w.root.post(url, json=body, headers=bearer(empty)), 401, f"令牌 empty（#{empty['id']}）额度已用尽")

        # Subnet: the client here is 127.0.0.1, and X-Forwarded-For from an untrusted peer changes
        # nothing (tests/security/test_forwarded_headers.py covers TRUSTED_PROXIES).
        fenced = await w.token(name="fenced", subnet="10.0.0.0/8, 192.168.1.0/24")
        assert_refused(
            await w.root.post(url, json=body, headers=bearer(fenced)),
            403,
            "该令牌只能在指定网段使用：10.0.0.0/8, 192.168.1.0/24，当前 ip：127.0.0.1",
        )
        assert_refused(
            await w.root.post(url, json=body, headers={**bearer(fenced), "X-Forwarded-For": "10.1.2.3", "X-Real-IP": "10.1.2.3"}),
            403,
            "该令牌只能在指定网段使用：10.0.0.0/8, 192.168.1.0/24，当前 ip：127.0.0.1",
        )

        # Model allow-list.
        allowed = await w.token(name="allow", models="gpt-4o-mini")
        assert_refused(await w.root.post(url, json=body, headers=bearer(allowed)), 403, "该令牌无权使用模型：gpt-3.5-turbo")
        resp = await w.root.post(url, json={**body, "model": "gpt-4o-mini"}, headers=bearer(allowed))
        assert resp.status_code == 200, resp.text

        # The good token works, with or without the sk- prefix.
        assert (await w.root.post(url, json=body, headers=bearer(good))).status_code == 200
        assert (await w.root.post(url, json=body, headers=bearer_key(good["key"]))).status_code == 200


async def test_disabled_user_and_channel_suffix(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        first = await w.channel(name="one", key="key-one")
        second = await w.channel(name="two", key="key-two")
        user, user_id = await w.user("alice", quota=10_000_000)
        token = await w.token(user, name="alice-token")
        url = "/v1/chat/completions"
        body = {"model": "gpt-3.5-turbo", "messages": CHAT}

        # A common user may not pin a channel.
        assert_refused(await w.root.post(url, json=body, headers=bearer(token, f"-{first}")), 403, "普通用户不支持指定渠道")
        assert (await w.root.post(url, json=body, headers=bearer(token))).status_code == 200

        # A disabled user is refused.
        resp = await w.root.post("/api/user/manage", json={"username": "alice", "action": "disable"})
        assert resp.json()["success"], resp.text
        assert_refused(await w.root.post(url, json=body, headers=bearer(token)), 403, "用户已被封禁")
        await user.aclose()

        # Root pins a channel: every request goes to it, and a failure there is not retried.
        await w.option("RetryTimes", "3")
        root_token = await w.token(name="root-token")
        fake_upstream.reset()
        for _ in range(4):
            resp = await w.root.post(url, json=body, headers=bearer(root_token, f"-{second}"))
            assert resp.status_code == 200, resp.text
        assert [r.key for r in fake_upstream.requests] == ["key-two"] * 4
        fake_upstream.reset()
        fake_upstream.behaviour_for_key("key-two", "500")
        resp = await w.root.post(url, json=body, headers=bearer(root_token, f"-{second}"))
        assert resp.status_code == 500
        assert [r.key for r in fake_upstream.requests] == ["key-two"]
        fake_upstream.behaviour_for_key("key-two", None)

        # An unknown or malformed channel id, and a disabled channel.
        assert_refused(await w.root.post(url, json=body, headers=bearer(root_token, "-9999")), 400, "无效的渠道 Id")
        assert_refused(await w.root.post(url, json=body, headers=bearer(root_token, "-abc")), 400, "无效的渠道 Id")
        resp = await w.root.put("/api/channel/", json={"id": first, "status": 2})
        assert resp.json()["success"], resp.text
        assert_refused(await w.root.post(url, json=body, headers=bearer(root_token, f"-{first}")), 403, "该渠道已被禁用")


async def test_distribution_and_routes(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(models="gpt-3.5-turbo")
        token = await w.token()
        h = bearer(token)

        # No channel serves the model in the user's group.
        resp = await w.root.post("/v1/chat/completions", headers=h, json={"model": "gpt-4-unknown", "messages": CHAT})
        assert_refused(resp, 503, "当前分组 default 下对于模型 gpt-4-unknown 无可用渠道")

        # Not-implemented routes: Distribute answers first (no model -> 503, as in One API).
        for method, path in [
            ("POST", "/v1/images/edits"),
            ("GET", "/v1/files"),
            ("POST", "/v1/assistants"),
            ("DELETE", "/v1/models/gpt-3.5-turbo"),
        ]:
            resp = await w.root.request(method, path, headers=h)
            assert_refused(resp, 503, "当前分组 default 下对于模型  无可用渠道")
        assert (await w.root.post("/v1/threads", headers=h)).status_code == 503

        # Unknown /v1 path: OpenAI-style JSON 404.
        resp = await w.root.get("/v1/unknown/thing", headers=h)
        assert resp.status_code == 404
        assert resp.json() == {
            "error": {"message": "Invalid URL (GET /v1/unknown/thing)", "type": "invalid_request_error", "param": "", "code": ""}
        }

        # CORS preflight: 204 before auth, with the CORS headers.
        resp = await w.root.options(
            "/v1/chat/completions",
            headers={
                "Origin": "https://example.com",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert resp.status_code == 204
        assert resp.headers["access-control-allow-origin"] == "*"
        assert "POST" in resp.headers["access-control-allow-methods"]
        # Ordinary relay answers carry CORS headers too.
        resp = await w.root.post("/v1/chat/completions", headers=h, json={"model": "gpt-3.5-turbo", "messages": CHAT})
        assert resp.status_code == 200
        assert resp.headers["access-control-allow-origin"] == "*"


async def test_not_implemented_after_distribution(sqlite_database, fake_upstream) -> None:
    """Auth runs before everything: a not-implemented route without a key is a 401, not a 501."""
    async with relay_world(sqlite_database, fake_upstream) as w:
        resp = await w.root.post("/v1/images/variations")
        assert_refused(resp, 401, "未提供令牌")
