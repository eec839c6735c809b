"""Log listing, searching, sums and pruning, and the group list (docs/one-api-compat.md §4.11), on every backend."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from master.db.schema import logs
from tests.support.access import add_user, client_as

LOG_KEYS = {
    "id",
    "user_id",
    "created_at",
    "type",
    "content",
    "username",
    "token_name",
    "model_name",
    "quota",
    "prompt_tokens",
    "completion_tokens",
    "channel",
    "request_id",
    "elapsed_time",
    "is_stream",
    "system_prompt_reset",
}
NO_PERMISSION = {"success": False, "message": "无权进行此操作，权限不足"}


def row(**fields: Any) -> dict[str, Any]:
    base = {
        "user_id": 0,
        "created_at": 1000,
        "type": 2,
        "content": "",
        "username": "",
        "token_name": "",
        "model_name": "",
        "quota": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "channel_id": 0,
        "request_id": "",
        "elapsed_time": 0,
        "is_stream": False,
        "system_prompt_reset": False,
    }
    return {**base, **fields}


async def add_logs(app: object, rows: list[dict[str, Any]]) -> None:
    async with app.state.ctx.store.logs.begin() as conn:  # type: ignore[attr-defined]
        await conn.execute(insert(logs), rows)


async def data(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    body = (await client.get(path, params=params)).json()
    assert body["success"] is True, body
    return body["data"]


@pytest.fixture
async def people(master: tuple[object, httpx.AsyncClient]) -> AsyncIterator[dict[str, Any]]:
    """An admin and two common users (alice, bob), with clients, and a fixed set of log rows."""
    app = master[0]
    ids = {name: await add_user(app, name, role=role) for name, role in (("boss", 10), ("alice", 1), ("bob", 1))}
    await add_logs(
        app,
        [
            row(
                user_id=ids["alice"],
                username="alice",
                created_at=100,
                type=2,
                quota=10,
                token_name="t1",
                model_name="gpt-4",
                channel_id=1,
                content="consume a",
                is_stream=True,
                request_id="r1",
            ),
            row(
                user_id=ids["alice"],
                username="alice",
                created_at=200,
                type=2,
                quota=20,
                token_name="t2",
                model_name="gpt-3.5",
                channel_id=2,
                content="consume b",
            ),
            row(user_id=ids["alice"], username="alice", created_at=300, type=1, quota=1000, content="充值 1000"),
            row(
                user_id=ids["bob"],
                username="bob",
                created_at=300,
                type=2,
                quota=40,
                token_name="t1",
                model_name="gpt-4",
                channel_id=1,
                content="consume c",
            ),
            row(user_id=ids["bob"], username="bob", created_at=400, type=4, content="system note"),
            row(user_id=0, username="", created_at=500, type=5, model_name="gpt-4", channel_id=2, content="test"),
        ],
    )
    clients = {name: await client_as(app, name) for name in ids}
    yield {"ids": ids, **clients}
    for client in clients.values():
        await client.aclose()


async def test_auth_levels_and_groups(master: tuple[object, httpx.AsyncClient], people: dict[str, Any]) -> None:
    anonymous, alice, boss = master[1], people["alice"], people["boss"]
    for path in ("/api/log/", "/api/log/self", "/api/group/"):
        assert (await anonymous.get(path)).status_code == 401
    for method, path in (
        ("GET", "/api/log/"),
        ("DELETE", "/api/log/?target_timestamp=9999"),
        ("GET", "/api/log/stat"),
        ("GET", "/api/log/search?keyword=1"),
        ("GET", "/api/group/"),
    ):
        assert (await alice.request(method, path)).json() == NO_PERMISSION, path
    assert len(await data(alice, "/api/log/self")) == 3
    assert len(await data(boss, "/api/log/")) == 6

    assert sorted(await data(boss, "/api/group/")) == ["default", "svip", "vip"]
    master[0].state.ctx.options.values["GroupRatio"] = '{"default":1,"gold":0.5}'  # type: ignore[attr-defined]
    assert sorted(await data(boss, "/api/group/")) == ["default", "gold"]


async def test_all_logs_filters_and_search(master: tuple[object, httpx.AsyncClient], people: dict[str, Any]) -> None:
    boss = people["boss"]
    everything = await data(boss, "/api/log/")
    assert [r["created_at"] for r in everything] == [500, 400, 300, 300, 200, 100]
    assert all(set(r) == LOG_KEYS for r in everything)
    first = everything[-1]
    assert first["channel"] == 1 and first["is_stream"] is True and first["request_id"] == "r1"
    assert first["username"] == "alice" and first["token_name"] == "t1" and first["id"] > 0

    def contents(rows: list[dict[str, Any]]) -> list[str]:
        return [r["content"] for r in rows]

    assert contents(await data(boss, "/api/log/", type=0)) == contents(everything)
    assert contents(await data(boss, "/api/log/", type=2)) == ["consume c", "consume b", "consume a"]
    assert contents(await data(boss, "/api/log/", username="bob")) == ["system note", "consume c"]
    assert contents(await data(boss, "/api/log/", token_name="t1")) == ["consume c", "consume a"]
    assert contents(await data(boss, "/api/log/", model_name="gpt-4", channel=2)) == ["test"]
    assert contents(await data(boss, "/api/log/", start_timestamp=200, end_timestamp=300)) == [
        "consume c",
        "充值 1000",
        "consume b",
    ]  # both bounds inclusive
    assert contents(await data(boss, "/api/log/", type="x", channel="nope", username="")) == contents(everything)
    assert await data(boss, "/api/log/", channel=99999999999) == []
    for path in ("/api/log/?username=%00", "/api/log/search?keyword=%00", "/api/log/stat?token_name=%00"):
        resp = await boss.get(path)  # PostgreSQL rejects NUL: a business error, never a 500
        assert resp.status_code == 200 and isinstance(resp.json()["success"], bool), path

    assert [r["content"] for r in await data(boss, "/api/log/search", keyword="consume")] == ["consume c", "consume b", "consume a"]
    by_type = await data(boss, "/api/log/search", keyword="4")
    assert [r["content"] for r in by_type] == ["system note"] and by_type[0]["id"] > 0
    assert await data(boss, "/api/log/search", keyword="onsume") == []  # prefix match only
    await add_logs(master[0], [row(content=f"bulk {i}") for i in range(105)])
    newest = await data(boss, "/api/log/search", keyword="bulk")
    assert len(newest) == 100 and newest[0]["content"] == "bulk 104"


async def test_self_logs_and_pagination(master: tuple[object, httpx.AsyncClient], people: dict[str, Any]) -> None:
    alice = people["alice"]
    own = await data(alice, "/api/log/self")
    assert [r["content"] for r in own] == ["充值 1000", "consume b", "consume a"]
    assert all(r["id"] == 0 and r["username"] == "alice" and set(r) == LOG_KEYS for r in own)
    assert [r["content"] for r in await data(alice, "/api/log/self", type=2, model_name="gpt-4")] == ["consume a"]
    assert [r["content"] for r in await data(alice, "/api/log/self", token_name="t2")] == ["consume b"]
    assert len(await data(alice, "/api/log/self", start_timestamp=150, end_timestamp=300)) == 2
    # username is not a filter of the self view
    assert len(await data(alice, "/api/log/self", username="bob")) == 3

    found = await data(alice, "/api/log/self/search", keyword="1")
    assert [r["content"] for r in found] == ["充值 1000"] and found[0]["id"] == 0
    assert await data(alice, "/api/log/self/search", keyword="consume") == []  # compares the type only
    assert await data(alice, "/api/log/self/search", keyword="4") == []  # bob's system log

    await add_logs(master[0], [row(user_id=people["ids"]["bob"], username="bob", content=f"n{i}") for i in range(6)])
    boss, bob = people["boss"], people["bob"]
    first, second = await data(boss, "/api/log/", p=0), await data(boss, "/api/log/", p=1)
    assert len(first) == 10 and len(second) == 2
    ids = [r["id"] for r in first + second]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 12
    own_first, own_second = await data(bob, "/api/log/self", p=0), await data(bob, "/api/log/self", p=1)
    assert len(own_first) == 8 and own_second == []


async def test_self_stat_sums_by_user_id_not_username(master: tuple[object, httpx.AsyncClient]) -> None:
    """A deleted user's name is freed and can be taken again; the newcomer's stat must not include
    the old account's spending (nor miss its own after a rename)."""
    app = master[0]
    old_id = await add_user(app, "old")
    newcomer_id = await add_user(app, "carol")
    await add_logs(
        app,
        [
            row(user_id=old_id, username="carol", type=2, quota=500, content="the old carol"),
            row(user_id=newcomer_id, username="carol", type=2, quota=7, content="the new carol"),
            row(user_id=newcomer_id, username="carol-before-rename", type=2, quota=3, content="renamed since"),
        ],
    )
    carol = await client_as(app, "carol")
    try:
        assert await data(carol, "/api/log/self/stat") == {"quota": 10}
    finally:
        await carol.aclose()


async def test_quota_stats_and_delete(master: tuple[object, httpx.AsyncClient], people: dict[str, Any]) -> None:
    boss, alice, bob = people["boss"], people["alice"], people["bob"]
    assert await data(boss, "/api/log/stat") == {"quota": 70}  # type-2 rows only
    assert await data(boss, "/api/log/stat", type=1) == {"quota": 70}  # type is ignored
    assert await data(boss, "/api/log/stat", username="alice") == {"quota": 30}
    assert await data(boss, "/api/log/stat", model_name="gpt-4", channel=1) == {"quota": 50}
    assert await data(boss, "/api/log/stat", token_name="t1", start_timestamp=101) == {"quota": 40}
    assert await data(boss, "/api/log/stat", end_timestamp=50) == {"quota": 0}
    assert await data(alice, "/api/log/self/stat") == {"quota": 30}
    assert await data(alice, "/api/log/self/stat", username="bob", channel=2) == {"quota": 20}
    assert await data(bob, "/api/log/self/stat") == {"quota": 40}

    required = {"success": False, "message": "target timestamp is required"}
    assert (await boss.delete("/api/log/")).json() == required
    assert (await boss.delete("/api/log/?target_timestamp=0")).json() == required
    assert (await boss.delete("/api/log/?target_timestamp=soon")).json() == required
    assert (await boss.delete("/api/log/?target_timestamp=300")).json() == {"success": True, "message": "", "data": 2}
    async with master[0].state.ctx.store.logs.connect() as conn:  # type: ignore[attr-defined]
        left = (await conn.execute(select(func.min(logs.c.created_at), func.count()).select_from(logs))).one()
    assert tuple(left) == (300, 4)
