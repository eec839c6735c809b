"""GET /api/channel/types: the console's channel type list and per-type fields, served from the
provider registry (shared/relay/adaptors/registry.py) rather than hard-coded in the console."""

from __future__ import annotations

from typing import Any

import httpx

from master.users.accounts import create_user
from shared.relay.adaptors import registry
from tests.support.access import access_token
from tests.support.app import client_for


async def test_channel_types_come_from_the_registry(master: tuple[Any, httpx.AsyncClient]) -> None:
    app = master[0]
    async with client_for(app) as admin:
        admin.headers["Authorization"] = await access_token(app, "root")
        body = (await admin.get("/api/channel/types")).json()
    assert body["success"] is True
    assert body["data"] == registry.console_types()
    by_id = {t["id"]: t for t in body["data"]}
    assert set(by_id) == set(range(1, registry.DUMMY))
    assert by_id[42]["fields"][2] == {
        "name": "config.vertex_ai_adc",
        "label": {"en": "Service account JSON (ADC)", "zh": "服务账号 JSON (ADC)"},
        "hint": {"en": "The JSON key of a service account", "zh": "服务账号的 JSON 密钥"},
        "placeholder": "",
        "default": "",
        "secret": False,
        "multiline": True,
    }
    assert by_id[15]["key_format"] == {"en": "Format: APIKey|SecretKey", "zh": "格式：APIKey|SecretKey"}
    assert by_id[36]["base_url"] == "https://api.deepseek.com" and by_id[36]["relays"] is True
    assert by_id[15]["relays"] is True  # Baidu relays (issue 13)


async def test_channel_types_need_an_admin(master: tuple[Any, httpx.AsyncClient]) -> None:
    app = master[0]
    await create_user(app.state.ctx, "alice", "password123")
    async with client_for(app) as anonymous:
        assert (await anonymous.get("/api/channel/types")).json()["success"] is False
    async with client_for(app) as user:
        user.headers["Authorization"] = f"Bearer {await access_token(app, 'alice')}"
        body = (await user.get("/api/channel/types")).json()
    assert body == {"success": False, "message": "无权进行此操作，权限不足"}
