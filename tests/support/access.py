"""Management API clients that authenticate with a user's access token (`Authorization: <token>`),
so tests of one resource do not depend on the login or user-admin routes."""

from __future__ import annotations

import httpx
from sqlalchemy import insert, update

from master.access_tokens import stored_form
from master.db.schema import users
from shared.keys import random_alnum, uuid_hex
from tests.support.app import client_for


async def access_token(app: object, username: str) -> str:
    """A new access token for `username` (the table keeps only its hash, so one is issued)."""
    token = uuid_hex()
    async with app.state.ctx.store.main.begin() as conn:  # type: ignore[attr-defined]
        done = await conn.execute(update(users).where(users.c.username == username).values(access_token=stored_form(token)))
    assert done.rowcount == 1, username
    return token


async def add_user(app: object, username: str, role: int = 1, status: int = 1) -> int:
    """Insert a user row directly (no default token, no bonus logs); returns its id."""
    values = {
        "username": username,
        "password": "",
        "display_name": username,
        "role": role,
        "status": status,
        "access_token": stored_form(uuid_hex()),
        "aff_code": random_alnum(4),
        "quota": 0,
        "group": "default",
        "inviter_id": 0,
    }
    async with app.state.ctx.store.main.begin() as conn:  # type: ignore[attr-defined]
        return (await conn.execute(insert(users).values(**values))).inserted_primary_key[0]


async def client_as(app: object, username: str) -> httpx.AsyncClient:
    """A fresh client sending `username`'s access token; close it with `aclose()`."""
    client = client_for(app)
    client.headers["Authorization"] = await access_token(app, username)
    return client
