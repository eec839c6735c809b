"""Credential listing: no admin route reveals another user's access token (One API listed every
user's, root's included, so any admin could act as root), and the table keeps only its hash."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, inspect, select, text

from master.db.engine import create_engine, parse_dsn
from master.db.schema import main_metadata, users
from shared.settings import build_settings
from tests.support.app import client_for, login, make_user, running_master
from tests.support.services import FreshDatabase


async def _promote(root: httpx.AsyncClient, app: object, username: str) -> httpx.AsyncClient:
    admin = await make_user(root, app, username)
    assert (await root.post("/api/user/manage", json={"username": username, "action": "promote"})).json()["success"]
    await login(admin, username, "password123")  # the promotion ended the session made before it
    return admin


async def test_admin_listings_never_carry_access_tokens(master: tuple[object, httpx.AsyncClient], root_client: httpx.AsyncClient) -> None:
    app = master[0]
    root_token = (await root_client.get("/api/user/token")).json()["data"]
    admin = await _promote(root_client, app, "boss")
    alice = await make_user(root_client, app, "alice")
    alice_token = (await alice.get("/api/user/token")).json()["data"]
    try:
        answers = [
            await admin.get("/api/user/"),
            await admin.get("/api/user/", params={"order": "quota"}),
            await admin.get("/api/user/search", params={"keyword": "root"}),
            await admin.get("/api/user/search", params={"keyword": ""}),
            await admin.get("/api/user/1"),
            await root_client.get("/api/user/"),  # not even root sees others' tokens
            await root_client.get("/api/user/search", params={"keyword": "alice"}),
        ]
        listed = [u for a in answers[:4] for u in a.json()["data"]]
        assert {u["username"] for u in listed} >= {"root", "boss", "alice"}
        assert all(u["access_token"] == "" and u["password"] == "" for u in listed)
        for answer in answers:
            assert root_token not in answer.text and alice_token not in answer.text
        # The tokens still work: hashed at rest, compared by hash.
        for token in (root_token, f"Bearer {alice_token}"):
            me = await client_for(app).get("/api/user/self", headers={"Authorization": token})
            assert me.json()["success"] is True and me.json()["data"]["access_token"] == ""
    finally:
        await admin.aclose()
        await alice.aclose()


async def test_access_tokens_are_stored_hashed(master: tuple[object, httpx.AsyncClient], root_client: httpx.AsyncClient) -> None:
    app = master[0]
    token = (await root_client.get("/api/user/token")).json()["data"]
    async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
        stored = (await conn.execute(select(users.c.access_token).where(users.c.username == "root"))).scalar_one()
    assert stored != token and token not in stored and len(stored) == 32
    # The stored value is not itself a credential.
    as_stored = await client_for(app).get("/api/user/self", headers={"Authorization": stored})
    assert as_stored.json() == {"success": False, "message": "无权进行此操作，access token 无效"}
    # A new token replaces the old one.
    newer = (await root_client.get("/api/user/token")).json()["data"]
    old = await client_for(app).get("/api/user/self", headers={"Authorization": token})
    assert old.json()["success"] is False
    assert (await client_for(app).get("/api/user/self", headers={"Authorization": newer})).json()["success"] is True


@pytest.mark.parametrize("history", ["one_api", "our_m0001"])
@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
async def test_a_one_api_database_keeps_its_plaintext_access_token_working(tmp_path: Path, backend: str, history: str) -> None:
    """One API stores access tokens in clear (and so did our first release, at migration m0001);
    the first start hashes them in place."""
    db = FreshDatabase(backend, tmp_path, from_template=False)
    settings = build_settings(db.env())
    engine = create_engine(parse_dsn(settings.sql_dsn, settings.sqlite_path), settings)
    plaintext = "0123456789abcdef0123456789abcdef"
    try:  # One API's tables (no sessions), filled as One API leaves them
        async with engine.begin() as conn:
            await conn.run_sync(
                lambda c: main_metadata.create_all(c, tables=[t for t in main_metadata.sorted_tables if t.name != "sessions"])
            )
            await conn.execute(
                insert(users).values(username="root", password="", role=100, status=1, access_token=plaintext, aff_code="abcd", quota=0)
            )
            if history == "our_m0001":
                await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
                await conn.execute(text("INSERT INTO alembic_version VALUES ('m0001')"))
    finally:
        await engine.dispose()
    try:
        async with running_master(db.env()) as (app, client):
            me = await client.get("/api/user/self", headers={"Authorization": plaintext})
            assert me.json()["success"] is True and me.json()["data"]["username"] == "root"
            async with app.state.ctx.store.main.connect() as conn:  # type: ignore[attr-defined]
                stored = (await conn.execute(select(users.c.access_token))).scalar_one()
                tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert stored != plaintext
            assert "sessions" in tables  # came with the upgrade
    finally:
        db.drop()
