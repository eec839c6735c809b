"""What an operator and a client do against the fleet, synchronously."""

from __future__ import annotations

from typing import Any

import httpx


def add_channel(admin: httpx.Client, base_url: str, **fields: Any) -> int:
    body = {
        "name": "fake",
        "type": 1,
        "key": "sk-upstream-good",
        "base_url": base_url,
        "models": "gpt-3.5-turbo",
        "group": "default",
        **fields,
    }
    resp = admin.post("/api/channel/", json=body)
    assert resp.json()["success"], resp.text
    return max(c["id"] for c in admin.get("/api/channel/?p=0").json()["data"] if c["name"] == body["name"])


def add_token(admin: httpx.Client, **fields: Any) -> dict[str, Any]:
    body = {"name": "t", "expired_time": -1, "remain_quota": 0, "unlimited_quota": True, **fields}
    resp = admin.post("/api/token/", json=body)
    assert resp.json()["success"], resp.text
    return resp.json()["data"]


def set_token_status(admin: httpx.Client, token: dict[str, Any], status: int) -> None:
    resp = admin.put("/api/token/?status_only=true", json={"id": token["id"], "status": status})
    assert resp.json()["success"], resp.text


def chat(url: str, token: dict[str, Any], timeout: float = 10) -> httpx.Response:
    return httpx.post(
        url + "/v1/chat/completions",
        headers={"Authorization": f"Bearer sk-{token['key']}"},
        json={"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]},
        timeout=timeout,
    )
