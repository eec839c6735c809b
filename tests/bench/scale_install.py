"""Installs of N tokens and N/5 users in PostgreSQL for `make bench-scale`, built by COPY.

Keys are derived from the token's number (so the load driver can recompute the first 10,000 without
reading them back) in the shape shared.keys.generate_token_key gives them: 16 alphanumerics, then 32
hex digits with the letters at even positions upper-cased. Row 1 of users is root, whose access
token is the bench's admin credential; the bench's users hold quota enough for any run and its tokens
are limited (so applied batches touch token rows too, as they do on a real install).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg

from master.access_tokens import stored_form
from master.users.accounts import hash_password

ROOT = Path(__file__).resolve().parents[2]
PG = "postgres://postgres@127.0.0.1:5432"
USER_QUOTA = 10**15
TOKEN_QUOTA = 10**12
COPY_CHUNK = 50_000


def bench_key(number: int) -> str:
    """The 48-character key of bench token `number`, in generate_token_key's shape."""
    digest = hashlib.blake2b(f"bench-scale-token-{number}".encode(), digest_size=24).hexdigest()
    mixed = "".join(c.upper() if i % 2 == 0 and c.isalpha() else c for i, c in enumerate(digest[16:]))
    return digest[:16] + mixed


def token_owner(number: int, users: int) -> int:
    """The user id of bench token `number` (1-based): spread over users 2..users+1 (1 is root)."""
    return 2 + (number - 1) % users


def database_name(size: int, tag: str = "") -> str:
    """The install's database; `tag` keeps two benches on one PostgreSQL from dropping each other's."""
    return f"oneapi_bench_scale_{size}" + (f"_{tag}" if tag else "")


def _psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql], check=True, capture_output=True)


def recreate_database(name: str) -> str:
    """Drop and create database `name`, migrate it with the master's own migrations; its SQL_DSN."""
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _psql(f'CREATE DATABASE "{name}"')
    dsn = f"{PG}/{name}"
    env = {**os.environ, "SQL_DSN": dsn, "LOG_SQL_DSN": ""}
    subprocess.run([sys.executable, "-m", "master.db.migrate"], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    return dsn


def drop_database(name: str) -> None:
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _user_rows(count: int, admin_access: str) -> Iterator[tuple[object, ...]]:
    password = hash_password("bench-scale-not-for-login")
    yield (1, "root", password, "Root User", 100, 1, stored_form(admin_access), USER_QUOTA, "default", "root")
    for uid in range(2, count + 2):
        yield (uid, f"bench{uid}", password, f"bench{uid}", 1, 1, None, USER_QUOTA, "default", None)


def _token_rows(count: int, users: int, now: int) -> Iterator[tuple[object, ...]]:
    for n in range(1, count + 1):
        yield (n, token_owner(n, users), bench_key(n), 1, f"bench-{n}", now, now, -1, TOKEN_QUOTA, False, 0, "")


def _chunks(rows: Iterator[tuple[object, ...]]) -> Iterator[list[tuple[object, ...]]]:
    chunk: list[tuple[object, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= COPY_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _fill(dsn: str, tokens: int, users: int, admin_access: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            user_columns = ["id", "username", "password", "display_name", "role", "status", "access_token", "quota", "group", "aff_code"]
            for chunk in _chunks(_user_rows(users, admin_access)):
                await conn.copy_records_to_table("users", records=chunk, columns=user_columns)
            token_columns = [
                "id",
                "user_id",
                "key",
                "status",
                "name",
                "created_time",
                "accessed_time",
                "expired_time",
                "remain_quota",
                "unlimited_quota",
                "used_quota",
                "subnet",
            ]
            for chunk in _chunks(_token_rows(tokens, users, int(time.time()))):
                await conn.copy_records_to_table("tokens", records=chunk, columns=token_columns)
            for table in ("users", "tokens"):
                await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
        await conn.execute("ANALYZE users; ANALYZE tokens")
    finally:
        await conn.close()


def build_install(size: int, admin_access: str, tag: str = "") -> tuple[str, float]:
    """A fresh, migrated database holding `size` tokens and size/5 users; (its DSN, seconds taken)."""
    started = time.monotonic()
    dsn = recreate_database(database_name(size, tag))
    asyncio.run(_fill(dsn, size, max(1, size // 5), admin_access))
    return dsn, round(time.monotonic() - started, 1)
