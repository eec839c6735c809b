"""Set up channels and tokens through the management API, the way an operator would."""

from __future__ import annotations

from typing import Any

import httpx


async def add_channel(root: httpx.AsyncClient, base_url: str, **fields: Any) -> int:
    """Create one channel (type OpenAI by default) and return its id."""
    body = {
        "name": fields.pop("name", "fake"),
        "type": fields.pop("type", 1),
        "key": fields.pop("key", "sk-upstream-good"),
        "base_url": base_url,
        "models": fields.pop(
            "models",
            "gpt-3.5-turbo,gpt-4o-mini,text-embedding-3-small,dall-e-3,whisper-1,tts-1,text-moderation-stable,text-moderation-latest",
        ),
        "group": fields.pop("group", "default"),
        **fields,
    }
    resp = await root.post("/api/channel/", json=body)
    assert resp.json()["success"], resp.text
    listing = (await root.get("/api/channel/?p=0")).json()["data"]
    return max(c["id"] for c in listing if c["name"] == body["name"])


async def update_channel(root: httpx.AsyncClient, channel_id: int, **fields: Any) -> dict[str, Any]:
    resp = await root.put("/api/channel/", json={"id": channel_id, **fields})
    assert resp.json()["success"], resp.text
    return resp.json()["data"]


async def add_token(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    """Create a token for the client's user; returns the token row (with `key`)."""
    body = {"name": fields.pop("name", "t"), "expired_time": -1, "remain_quota": 0, "unlimited_quota": True, **fields}
    resp = await client.post("/api/token/", json=body)
    assert resp.json()["success"], resp.text
    return resp.json()["data"]


async def set_option(root: httpx.AsyncClient, key: str, value: str) -> None:
    resp = await root.put("/api/option/", json={"key": key, "value": value})
    assert resp.json()["success"], resp.text


def bearer(token: dict[str, Any], suffix: str = "") -> dict[str, str]:
    return {"Authorization": f"Bearer sk-{token['key']}{suffix}"}
