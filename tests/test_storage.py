"""Storage choices of docs/one-api-compat.md §1.3: SQL_DSN forms, LOG_SQL_DSN, pool sizing, migrations that keep
a database carried over from One API."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import insert, inspect, select, text

from master.access_tokens import stored_form
from master.db import columns, migrate
from master.db.columns import upgrade_columns
from master.db.engine import DSNError, create_engine, parse_dsn
from master.db.schema import log_metadata, logs, main_metadata, users
from master.db.store import open_store
from shared.settings import build_settings
from tests.support.app import running_master
from tests.support.services import FreshDatabase

ROOT = Path(__file__).resolve().parent.parent


def test_dsn_forms() -> None:
    sqlite = parse_dsn("", "/data/one-api.db")
    assert sqlite.dialect == "sqlite" and sqlite.url.database == "/data/one-api.db"
    pg = parse_dsn("postgres://u:p@db:5433/oneapi?sslmode=disable", "x")
    assert pg.dialect == "postgresql" and pg.url.drivername == "postgresql+asyncpg"
    assert (pg.url.host, pg.url.port, pg.url.database, pg.url.password) == ("db", 5433, "oneapi", "p")
    assert "sslmode" not in pg.url.query
    mysql = parse_dsn("root:s3cret@tcp(mysql.local:3307)/oneapi?parseTime=true", "x")
    assert mysql.dialect == "mysql" and mysql.url.drivername == "mysql+aiomysql"
    assert (mysql.url.username, mysql.url.password, mysql.url.host, mysql.url.port, mysql.url.database) == (
        "root",
        "s3cret",
        "mysql.local",
        3307,
        "oneapi",
    )
    assert parse_dsn("oneapi@tcp(h)/db", "x").url.port == 3306
    with pytest.raises(DSNError):
        parse_dsn("definitely not a dsn", "x")


def test_pool_sizing_and_lifetime_settings() -> None:
    settings = build_settings({"SQL_MAX_IDLE_CONNS": "5", "SQL_MAX_OPEN_CONNS": "12", "SQL_MAX_LIFETIME": "30"})
    engine = create_engine(parse_dsn("postgres://postgres@127.0.0.1:5432/postgres", "x"), settings)
    assert engine.pool.size() == 5 and engine.pool._max_overflow == 7  # noqa: SLF001 - the pool's own bound
    assert engine.pool._recycle == 30  # noqa: SLF001
    # One API's README name for the lifetime, in minutes, is read too.
    assert build_settings({"SQL_CONN_MAX_LIFETIME": "2"}).sql_max_lifetime == 120


@pytest.mark.db
async def test_logs_live_in_log_sql_dsn(tmp_path: Path) -> None:
    """Main tables on SQLite, logs in a PostgreSQL database of their own."""
    log_db = FreshDatabase("postgres", tmp_path, from_template=False)
    env = {"SQL_DSN": "", "SQLITE_PATH": str(tmp_path / "main.db"), "LOG_SQL_DSN": log_db.dsn}
    try:
        async with running_master(env) as (app, client):
            await client.post("/api/user/login", json={"username": "root", "password": "123456"})
            resp = await client.post("/api/topup", json={"user_id": 1, "quota": 1000, "remark": "to the log db"})
            assert resp.json()["success"], resp.text
            store = app.state.ctx.store
            assert store.dialect == "sqlite" and store.log_dialect == "postgresql"
            async with store.logs.connect() as conn:
                rows = (await conn.execute(select(logs.c.content, logs.c.quota))).all()
            assert [tuple(r) for r in rows] == [("to the log db", 1000)]
            listed = (await client.get("/api/log/?p=0")).json()["data"]
            assert [r["content"] for r in listed] == ["to the log db"]
            async with store.main.connect() as conn:
                names = await conn.run_sync(lambda c: inspect(c).get_table_names())
            assert "logs" not in names and "users" in names
    finally:
        log_db.drop()


async def test_migrations_keep_a_one_api_database(tmp_path: Path) -> None:
    """Tables made by One API (no migration history) are kept with their rows; the history starts."""
    path = tmp_path / "from-one-api.db"
    sync = create_sync_engine(f"sqlite:///{path}")
    main_metadata.create_all(sync)
    with sync.begin() as conn:
        conn.execute(insert(users).values(username="carried", password="x", role=1, status=1, access_token="a" * 32, aff_code="abcd"))
    sync.dispose()
    store = await open_store(build_settings({"SQLITE_PATH": str(path)}))
    try:
        async with store.main.connect() as conn:
            names = (await conn.execute(select(users.c.username))).scalars().all()
            tokens = (await conn.execute(select(users.c.access_token))).scalars().all()
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert names == ["carried"]
        assert tokens == [stored_form("a" * 32)]  # One API's plaintext token, hashed in place
        assert {"alembic_version", "alembic_version_logs", "logs", "sessions"} <= set(tables)
    finally:
        await store.close()


def test_script_heads_are_read_without_alembic(tmp_path: Path) -> None:
    assert migrate.script_heads("main") == {"m0005_bulk_quota"} and migrate.script_heads("logs") == {"l0001"}
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision = "a"\ndown_revision = None\nbranch_labels = ("main",)\n')
    (versions / "b.py").write_text('revision = "b"\ndown_revision = "a"\n')
    (versions / "c.py").write_text('revision = "c"\ndown_revision = ("b",)\n')
    assert migrate.script_heads("main", versions) == {"c"}
    (versions / "d.py").write_text('revision = make_id()\ndown_revision = "c"\n')  # not a literal: ask Alembic
    assert migrate.script_heads("main", versions) is None


def test_master_migrates_in_a_child_and_keeps_alembic_out(tmp_path: Path) -> None:
    """A fresh database is migrated by `python -m master.db.migrate`; the master's own check then
    finds it at head without importing Alembic (~14 MB of RSS it would keep)."""
    script = (
        "import asyncio, json, sys\n"
        "from master.db import migrate\n"
        "from master.db.store import open_store\n"
        "from shared.settings import build_settings\n"
        f"settings = build_settings({{'SQLITE_PATH': {str(tmp_path / 'fresh.db')!r}}})\n"
        "import os; os.environ.update(SQLITE_PATH=settings.sqlite_path, SQL_DSN='', LOG_SQL_DSN='')\n"
        "child = migrate.upgrade_in_child(settings)\n"
        "async def main():\n"
        "    store = await open_store(settings)\n"
        "    await store.close()\n"
        "asyncio.run(main())\n"
        "print(json.dumps({'child': child, 'alembic': 'alembic' in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"child": True, "alembic": False}


async def test_missing_columns_are_added_and_nothing_else_changes(tmp_path: Path) -> None:
    """An old `logs` table gains our columns with their defaults; a column we do not know (a newer
    One API's) is kept; the next start finds nothing to add."""
    path = tmp_path / "old-logs.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE logs (id integer, user_id integer, content text, ip text DEFAULT '', PRIMARY KEY (id))")
        conn.execute("INSERT INTO logs (id, user_id, content, ip) VALUES (1, 2, 'kept', '10.0.0.1')")
    settings = build_settings({"SQLITE_PATH": str(path)})
    store = await open_store(settings)
    try:
        async with store.logs.connect() as conn:
            row = (await conn.execute(select(logs, text("ip")).select_from(logs))).mappings().one()
        assert (row["content"], row["ip"], row["request_id"], row["elapsed_time"], row["is_stream"]) == ("kept", "10.0.0.1", "", 0, False)
        assert await upgrade_columns(store.logs, log_metadata) == []
    finally:
        await store.close()


def test_a_column_added_meanwhile_by_another_master_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two masters starting at once both see `logs.request_id` missing; the second one's ALTER
    fails, finds the column there, and goes on."""
    sync = create_sync_engine(f"sqlite:///{tmp_path / 'race.db'}")
    with sync.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE logs (id integer, content text, PRIMARY KEY (id))")
        stale = columns.missing_columns(conn, [log_metadata])
        conn.exec_driver_sql("ALTER TABLE logs ADD COLUMN request_id VARCHAR(191) DEFAULT ''")  # the other master
        calls = iter([stale])
        real = columns.missing_columns
        monkeypatch.setattr(columns, "missing_columns", lambda c, m: next(calls, None) or real(c, m))
        added = columns.add_missing_columns(conn, [log_metadata])
    sync.dispose()
    assert "logs.request_id" not in added and "logs.elapsed_time" in added
