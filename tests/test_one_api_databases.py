"""A database made by One API, of the releases people run, opens whole on every backend.

Each fixture (tests/fixtures/one_api_schemas/<release>/<backend>.sql) is One API's tables as its
gorm AutoMigrate creates them on that backend, with seed rows. The master opens it as a migrating
user would: every seeded value reads back byte-identical, the columns the release lacks are added
(and nothing else changes shape, so One API can open it again), a relayed request writes a log,
`/api/log/` answers, a redemption works, and short keys (PostgreSQL pads `char(48)`) authenticate.
"""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

from master.access_tokens import stored_form
from master.db.engine import create_engine, parse_dsn
from master.db.schema import log_metadata, main_metadata
from shared.settings import build_settings
from tests.fake_upstream.server import FakeUpstream
from tests.support.app import client_for, login, running_master
from tests.support.services import FreshDatabase

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "one_api_schemas"
RELEASES = ["v0.5.11", "v0.6.10", "HEAD"]
BACKENDS = ["sqlite", "postgres", "mysql"]
ORDER = {"abilities": '"group", model, channel_id', "options": '"key"'}  # the rest: by id
ROOT_TOKEN = "InitialRootToken2024"  # 20 characters in a char(48) column
ROOT_ACCESS_TOKEN = "RootAccess2024"  # 14 characters in a char(32) column
ALICE_KEY = "aB3dE5gH7jK9mN1pA6B1C2D3E4F5A6B7C8D9E0F1A2B3C4D5"
GIFT_CODE = "9c7e1b2a3d4f5e6a7b8c9d0e1f2a3b4c"


def load_fixture(db: FreshDatabase, release: str) -> None:
    script = FIXTURES / release / f"{db.backend}.sql"
    if db.backend == "sqlite":
        with sqlite3.connect(db.sqlite_path) as conn:
            conn.executescript(script.read_text())
    elif db.backend == "postgres":
        subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db.name, "-v", "ON_ERROR_STOP=1", "-qf", str(script)],
            check=True,
            capture_output=True,
        )
    else:
        with script.open("rb") as sql:
            subprocess.run(["mariadb", "-h", "127.0.0.1", "-uroot", db.name], stdin=sql, check=True, capture_output=True)


def _quoted(name: str, backend: str) -> str:
    return f"`{name}`" if backend == "mysql" else f'"{name}"'


async def raw_tables(db: FreshDatabase) -> dict[str, Any]:
    """Every table's column types and rows exactly as the driver returns them (no type processing,
    so PostgreSQL's char padding and numeric values show as stored)."""
    engine = create_engine(parse_dsn(db.dsn, db.sqlite_path), build_settings({}))
    tables: dict[str, Any] = {}
    try:
        async with engine.connect() as conn:
            shapes = await conn.run_sync(
                lambda c: {t: {col["name"]: str(col["type"]) for col in inspect(c).get_columns(t)} for t in inspect(c).get_table_names()}
            )
            for table, columns in shapes.items():
                if table.startswith("alembic_version"):
                    continue
                order = ORDER.get(table, "id").replace('"', "`" if db.backend == "mysql" else '"')
                names = ", ".join(_quoted(c, db.backend) for c in columns)
                rows = (await conn.execute(text(f"SELECT {names} FROM {_quoted(table, db.backend)} ORDER BY {order}"))).all()
                tables[table] = {"columns": columns, "rows": [dict(zip(columns, row, strict=True)) for row in rows]}
    finally:
        await engine.dispose()
    return tables


def assert_kept(before: dict[str, Any], after: dict[str, Any], table: str, changed: dict[Any, set[str]] | None = None) -> None:
    """Every column the release had is unchanged in type, and every seeded value is identical
    (except `changed` columns of the rows keyed by their first column)."""
    old, new = before[table], after[table]
    for column, kind in old["columns"].items():
        assert new["columns"][column] == kind, (table, column)
    assert len(new["rows"]) >= len(old["rows"]), table
    for old_row, new_row in zip(old["rows"], new["rows"], strict=False):
        skip = (changed or {}).get(next(iter(old_row.values())), set())
        for column, value in old_row.items():
            if column not in skip:
                assert new_row[column] == value, (table, column, value, new_row[column])


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> FreshDatabase:
    """An empty database on each backend (the conftest's own is already migrated by us); named
    `database` so that the conftest marks the PostgreSQL and MariaDB runs `db`."""
    db = FreshDatabase(request.param, tmp_path, from_template=False)
    yield db
    db.drop()


@pytest.mark.parametrize("release", RELEASES)
async def test_one_api_database_opens_whole(release: str, database: FreshDatabase, fake_upstream: FakeUpstream) -> None:
    db = database
    load_fixture(db, release)
    # The channel points at this test's fake upstream (the only edit before the "before" picture).
    engine = create_engine(parse_dsn(db.dsn, db.sqlite_path), build_settings({}))
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE channels SET base_url = :url WHERE id = 1"), {"url": fake_upstream.url})
    await engine.dispose()
    before = await raw_tables(db)
    stored_key = before["tokens"]["rows"][0]["key"]
    assert stored_key == (ROOT_TOKEN.ljust(48) if db.backend == "postgres" else ROOT_TOKEN)  # char(48) pads there

    async with running_master(db.env()) as (app, root):
        opened = await raw_tables(db)
        # The one intended change to existing values: access tokens are stored hashed (README,
        # "Security model"; docs/one-api-compat.md §3.1 – 3.7). Everything else is as it was.
        users_before = before["users"]["rows"]
        hashed = {row["id"]: {"access_token"} for row in users_before}
        for table in before:
            assert_kept(before, opened, table, hashed if table == "users" else None)
        for old, new in zip(users_before, opened["users"]["rows"], strict=False):
            if old["access_token"]:
                assert new["access_token"] == stored_form(old["access_token"].rstrip(" "))
        # Our schema's columns are all there now; the ones the release lacked read their defaults.
        for metadata in (main_metadata, log_metadata):
            for table in metadata.sorted_tables:
                if table.name in before:
                    assert {c.name for c in table.columns} <= set(opened[table.name]["columns"]), table.name
        if release != "HEAD":  # logs gained request_id, elapsed_time, is_stream, system_prompt_reset after v0.6.10
            consume_log = opened["logs"]["rows"][1]
            assert consume_log["request_id"] == "" and consume_log["elapsed_time"] == 0
            assert not consume_log["is_stream"] and not consume_log["system_prompt_reset"]

        await login(root, "root", "123456")
        listed = (await root.get("/api/log/?p=0")).json()
        assert listed["success"], listed
        assert sorted(row["id"] for row in listed["data"]) == [1, 2]

        channels = {c["id"]: c for c in (await root.get("/api/channel/?p=0")).json()["data"]}
        assert (channels[2]["balance"], channels[2]["other"], channels[2]["priority"]) == (12.5, "2024-03-01-preview", 3)
        assert channels[2]["model_mapping"] == '{"gpt-4":"gpt-4-0613"}' and channels[2]["group"] == "default,vip"

        # The short keys: root's INITIAL_ROOT_TOKEN and its management access token.
        tokens = {t["id"]: t for t in (await root.get("/api/token/?p=0")).json()["data"]}
        assert tokens[1]["key"] == ROOT_TOKEN
        self_view = await client_for(app).get("/api/user/self", headers={"Authorization": ROOT_ACCESS_TOKEN})
        assert self_view.json()["success"], self_view.text
        chat = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hello from an old database"}]}
        for key in (ROOT_TOKEN, ALICE_KEY):
            resp = await root.post("/v1/chat/completions", headers={"Authorization": f"Bearer sk-{key}"}, json=chat)
            assert resp.status_code == 200, (key, resp.text)
        await app.state.relay.flush()
        consumed = [r for r in (await root.get("/api/log/?p=0&type=2")).json()["data"] if r["id"] > 2]
        assert sorted(r["token_name"] for r in consumed) == ["Initial Root Token", "alice-key"]
        assert all(r["request_id"] and r["model_name"] == "gpt-3.5-turbo" for r in consumed), consumed

        # A redemption by a carried-over user.
        alice = client_for(app)
        await login(alice, "alice", "password123")
        quota_before = (await alice.get("/api/user/self")).json()["data"]["quota"]
        redeemed = (await alice.post("/api/user/topup", json={"key": GIFT_CODE})).json()
        assert redeemed == {"success": True, "message": "", "data": 50000}, redeemed
        assert (await alice.get("/api/user/self")).json()["data"]["quota"] == quota_before + 50000
        await alice.aclose()

    after = await raw_tables(db)
    # Written by what the test did: token and user counters, channel 1's usage, the redeemed code.
    for table in ("abilities", "options"):
        assert after[table] == before[table] | {"columns": after[table]["columns"]}, table
    assert_kept(before, after, "channels", {1: {"used_quota"}})
    assert_kept(
        before, after, "tokens", {1: {"accessed_time", "remain_quota", "used_quota"}, 2: {"accessed_time", "remain_quota", "used_quota"}}
    )
    assert_kept(
        before,
        after,
        "users",
        {1: {"quota", "used_quota", "request_count", "access_token"}, 2: {"quota", "used_quota", "request_count", "access_token"}},
    )
    assert_kept(before, after, "redemptions", {1: {"status", "redeemed_time"}})
    assert_kept(before, after, "logs")
    assert len(after["logs"]["rows"]) == len(before["logs"]["rows"]) + 3  # two consume logs and the top-up
