"""Option reads and writes of docs/one-api-compat.md §4.12 (RootAuth), on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from master.db.schema import options as options_table
from master.options import Options
from tests.support.access import add_user, client_as

NO_PERMISSION = {"success": False, "message": "无权进行此操作，权限不足"}
DONE = {"success": True, "message": ""}


@pytest.fixture
async def root(master: tuple[object, httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    client = await client_as(master[0], "root")
    yield client
    await client.aclose()


async def put(client: httpx.AsyncClient, key: str, value: str) -> dict[str, Any]:
    resp = await client.put("/api/option/", json={"key": key, "value": value})
    assert resp.status_code == 200
    return resp.json()


async def option_map(client: httpx.AsyncClient) -> dict[str, str]:
    body = (await client.get("/api/option/")).json()
    assert body["success"] is True
    return {item["key"]: item["value"] for item in body["data"]}


async def stored(app: object, key: str) -> str | None:
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        return (await conn.execute(select(options_table.c.value).where(options_table.c.key == key))).scalar_one_or_none()


async def test_root_only_and_hidden_keys(master: tuple[object, httpx.AsyncClient], root: httpx.AsyncClient) -> None:
    app, anonymous = master
    assert (await anonymous.get("/api/option/")).status_code == 401
    assert (await anonymous.put("/api/option/", json={"key": "Notice", "value": "x"})).status_code == 401
    for name, role in (("common", 1), ("admin", 10)):
        await add_user(app, name, role=role)
        client = await client_as(app, name)
        try:
            assert (await client.get("/api/option/")).json() == NO_PERMISSION
            assert (await client.put("/api/option/", json={"key": "Notice", "value": "x"})).json() == NO_PERMISSION
        finally:
            await client.aclose()
    assert await stored(app, "Notice") is None

    values = await option_map(root)
    for hidden in ("SMTPToken", "GitHubClientSecret", "WeChatServerToken", "MessagePusherToken"):
        assert hidden not in values
    assert values["TurnstileSecretKey"] == ""  # ends in Key, so it is shown
    assert values["SystemName"] == "One API" and values["ServerAddress"] == "" and values["QuotaPerUnit"] == "500000"
    assert values["GroupRatio"] == '{"default":1,"svip":1,"vip":1}'
    assert all(isinstance(v, str) for v in values.values())
    assert (await put(root, "LarkClientSecret", "s3cret")) == DONE
    assert (await put(root, "LarkClientId", "cli")) == DONE
    values = await option_map(root)
    assert "LarkClientSecret" not in values and values["LarkClientId"] == "cli"


async def test_malformed_bodies_then_persisted_writes(master: tuple[object, httpx.AsyncClient], root: httpx.AsyncClient) -> None:
    for raw in (
        b"",
        b"{",
        b"[]",
        b'"Notice"',
        b'{"key": "Notice", "value": 5}',
        b'{"key": "Notice", "value": true}',
        b'{"key": 1, "value": "x"}',
        b'{"value": "x"}',
        b'{"key": "", "value": "x"}',
    ):
        resp = await root.put("/api/option/", content=raw)
        assert resp.status_code == 400, raw
        assert resp.json() == {"success": False, "message": "invalid parameter"}
    zh = await root.put("/api/option/", content=b"{", headers={"Accept-Language": "zh"})
    assert zh.status_code == 400 and zh.json()["message"] == "无效的参数"
    # null is Go's zero value: an empty string
    assert (await root.put("/api/option/", json={"key": "Footer", "value": None})).json() == DONE
    assert await stored(master[0], "Notice") is None and await stored(master[0], "Footer") == ""
    # A key longer than the column (191 characters) fails in the database on PostgreSQL and MySQL.
    too_long = await put(root, "K" * 300, "v")
    if master[0].state.ctx.store.dialect == "sqlite":  # type: ignore[attr-defined]
        assert too_long == DONE
    else:
        assert too_long["success"] is False and too_long["message"]
        assert "K" * 300 not in await option_map(root)

    app = master[0]
    ctx = app.state.ctx  # type: ignore[attr-defined]
    before = ctx.config_version
    assert await put(root, "Notice", "<b>hello</b> 你好") == DONE
    assert (await option_map(root))["Notice"] == "<b>hello</b> 你好"
    assert (await root.get("/api/notice")).json()["data"] == "<b>hello</b> 你好"
    assert await put(root, "Notice", "second") == DONE  # the row exists now: updated, not duplicated
    assert await put(root, "Notice", "second") == DONE  # an unchanged value is still a success
    assert await stored(app, "Notice") == "second"
    assert await put(root, "SomethingNew", "") == DONE  # any key is accepted
    assert (await option_map(root))["SomethingNew"] == ""
    assert ctx.config_version >= before + 4
    fresh = Options()
    await fresh.load(ctx.store.main)
    assert fresh.get("Notice") == "second" and fresh.get("SomethingNew") == ""


async def test_pre_checks_and_ratio_options(master: tuple[object, httpx.AsyncClient], root: httpx.AsyncClient) -> None:
    assert await put(root, "Theme", "neon") == {"success": False, "message": "无效的主题"}
    assert await put(root, "Theme", "berry") == DONE
    cases = [
        ("GitHubOAuthEnabled", "GitHubClientId", "无法启用 GitHub OAuth，请先填入 GitHub Client Id 以及 GitHub Client Secret！"),
        ("WeChatAuthEnabled", "WeChatServerAddress", "无法启用微信登录，请先填入微信登录相关配置信息！"),
        ("TurnstileCheckEnabled", "TurnstileSiteKey", "无法启用 Turnstile 校验，请先填入 Turnstile 校验相关配置信息！"),
        ("EmailDomainRestrictionEnabled", "EmailDomainWhitelist", "无法启用邮箱域名限制，请先填入限制的邮箱域名！"),
    ]
    assert await put(root, "EmailDomainWhitelist", "") == DONE
    for switch, needed, message in cases:
        assert await put(root, switch, "true") == {"success": False, "message": message}, switch
        assert await put(root, switch, "false") == DONE  # switching off needs nothing
        assert await put(root, needed, "filled") == DONE
        assert await put(root, switch, "true") == DONE
    values = await option_map(root)
    assert values["Theme"] == "berry" and values["GitHubOAuthEnabled"] == "true"
    assert master[0].state.ctx.options.flag("TurnstileCheckEnabled")  # type: ignore[attr-defined]
    assert await stored(master[0], "Theme") == "berry"

    ctx = master[0].state.ctx  # type: ignore[attr-defined]
    assert await put(root, "GroupRatio", '{"default":1,"gold":0.5}') == DONE
    assert sorted((await root.get("/api/group/")).json()["data"]) == ["default", "gold"]
    for key, bad in (("GroupRatio", "{not json"), ("ModelRatio", '{"gpt-4": "high"}'), ("CompletionRatio", "[1,2]")):
        before = ctx.options.get(key)
        resp = await put(root, key, bad)
        assert resp["success"] is False and resp["message"].startswith(f"{key}: "), resp
        assert await stored(master[0], key) == bad  # persisted first, as One API does
        assert ctx.options.get(key) == before  # but this node keeps billing with the last good map
    assert sorted((await root.get("/api/group/")).json()["data"]) == ["default", "gold"]
