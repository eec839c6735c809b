"""/v1/models, /v1/models/:model (docs/one-api-compat.md §5.11) and the OpenAI billing routes (§4.13)."""

from __future__ import annotations

import time

from tests.support.relay_kit import bearer, relay_world


async def test_models_list_and_retrieve(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(models="gpt-3.5-turbo,gpt-4o-mini,house-model")
        await w.channel(name="vip-only", models="gpt-4o,vip-model", group="vip")
        everything = await w.token(name="all")
        allow = await w.token(name="allow", models="gpt-4o-mini,another-custom")

        resp = await w.root.get("/v1/models", headers=bearer(everything))
        assert resp.status_code == 200
        body = resp.json()
        assert body["object"] == "list"
        assert {m["id"] for m in body["data"]} == {"gpt-3.5-turbo", "gpt-4o-mini", "house-model"}
        by_id = {m["id"]: m for m in body["data"]}
        assert by_id["gpt-3.5-turbo"]["owned_by"] == "openai"
        assert by_id["gpt-3.5-turbo"]["permission"][0]["object"] == "model_permission"
        assert by_id["house-model"] == {
            "id": "house-model",
            "object": "model",
            "created": 1626777600,
            "owned_by": "custom",
            "permission": None,
            "root": "house-model",
            "parent": None,
        }
        # Catalogue entries first, custom ones after.
        assert body["data"][-1]["id"] == "house-model"

        resp = await w.root.get("/v1/models", headers=bearer(allow))
        assert {m["id"] for m in resp.json()["data"]} == {"gpt-4o-mini", "another-custom"}

        resp = await w.root.get("/v1/models/gpt-3.5-turbo", headers=bearer(everything))
        assert resp.status_code == 200
        assert resp.json()["id"] == "gpt-3.5-turbo" and resp.json()["object"] == "model"
        resp = await w.root.get("/v1/models/no-such-model", headers=bearer(everything))
        assert resp.status_code == 200
        assert resp.json() == {
            "error": {
                "message": "The model 'no-such-model' does not exist",
                "type": "invalid_request_error",
                "param": "model",
                "code": "model_not_found",
            }
        }
        # Token auth guards the model routes.
        assert (await w.root.get("/v1/models")).status_code == 401


async def test_billing_routes(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        client, user_id = await w.user("jo", quota=2_000_000)
        expires = int(time.time()) + 86400
        limited = await w.token(client, name="lim", unlimited_quota=False, remain_quota=1_000_000, expired_time=expires)
        unlimited = await w.token(client, name="unl")

        for prefix in ("", "/v1"):
            resp = await w.root.get(f"{prefix}/dashboard/billing/subscription", headers=bearer(limited))
            assert resp.status_code == 200
            assert resp.json() == {
                "object": "billing_subscription",
                "has_payment_method": True,
                "soft_limit_usd": 2,
                "hard_limit_usd": 2,
                "system_hard_limit_usd": 2,
                "access_until": expires,
            }
            resp = await w.root.get(f"{prefix}/dashboard/billing/usage?start_date=2024-01-01", headers=bearer(limited))
            assert resp.json() == {"object": "list", "total_usage": 0}

        # One chat: ceil((17 + 11×3) × 0.25) = 13 quota -> $0.000026 -> 0.0026 cents.
        assert (await w.chat(limited)).status_code == 200
        await w.flush()
        resp = await w.root.get("/v1/dashboard/billing/usage", headers=bearer(limited))
        assert resp.json()["total_usage"] == 13 / 500000 * 100
        resp = await w.root.get("/dashboard/billing/subscription", headers=bearer(limited))
        assert resp.json()["hard_limit_usd"] == 2  # remain + used is unchanged by spending

        resp = await w.root.get("/dashboard/billing/subscription", headers=bearer(unlimited))
        assert resp.json()["hard_limit_usd"] == 100000000 and resp.json()["access_until"] == 0
        resp = await w.root.get("/dashboard/billing/usage", headers=bearer(unlimited))
        assert resp.json()["total_usage"] == 0

        # Quota units instead of dollars, and the user's figures instead of the token's.
        await w.option("DisplayInCurrencyEnabled", "false")
        resp = await w.root.get("/dashboard/billing/subscription", headers=bearer(limited))
        assert resp.json()["hard_limit_usd"] == 1_000_000
        await w.option("DisplayTokenStatEnabled", "false")
        resp = await w.root.get("/dashboard/billing/subscription", headers=bearer(limited))
        assert resp.json()["hard_limit_usd"] == 2_000_000 - 13 and resp.json()["access_until"] == 0
        resp = await w.root.get("/dashboard/billing/usage", headers=bearer(limited))
        assert resp.json()["total_usage"] == 13 * 100
        # Live figures: a request settled after the last snapshot rebuild counts at once.
        assert (await w.chat(limited)).status_code == 200
        await w.flush()
        resp = await w.root.get("/dashboard/billing/usage", headers=bearer(limited))
        assert resp.json()["total_usage"] == 26 * 100
        resp = await w.root.get("/dashboard/billing/subscription", headers=bearer(limited))
        assert resp.json()["hard_limit_usd"] == 2_000_000 - 26
        await client.aclose()
