"""Rate limits per token, per user and per group (shared.relay.ratelimit) on one node, with the
node's own windows and with Redis's: requests per minute, tokens per minute (reserved, then
corrected at settlement), parallel requests (slots freed when a client leaves), the 429 and the
x-ratelimit-* headers, and the fields in the management API."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from shared.billing import tokenizer
from shared.cluster.convert import replica_from_message, snapshot_message
from shared.limits import Limits
from shared.relay.ratelimit import duration, parse_group_limits
from tests.support.relay_kit import CHAT, bearer, error_of, relay_world
from tests.support.services import fresh_redis_db, redis_url

MODES = ["local", "redis"]


def _env(mode: str) -> dict[str, str]:
    return {"REDIS_CONN_STRING": redis_url(fresh_redis_db())} if mode == "redis" else {}


def _refused(resp: httpx.Response, kind: str, who: str) -> dict[str, Any]:
    assert resp.status_code == 429, resp.text
    error = error_of(resp)
    assert error["code"] == "rate_limit_exceeded"
    assert error["type"] == ("tokens" if kind == "TPM" else "requests")
    assert f"Rate limit reached for {who}" in error["message"] and kind in error["message"], error
    assert int(resp.headers["retry-after"]) >= 1
    return error


@pytest.mark.parametrize("mode", MODES)
async def test_rpm_3_serves_3_of_6_rapid_requests(sqlite_database, fake_upstream, mode) -> None:
    async with relay_world(sqlite_database, fake_upstream, _env(mode)) as w:
        await w.channel()
        token = await w.token(rpm_limit=3)
        assert token["rpm_limit"] == 3 and token["tpm_limit"] == 0 and token["max_parallel_requests"] == 0
        answers = [await w.chat(token) for _ in range(6)]
        assert [r.status_code for r in answers] == [200, 200, 200, 429, 429, 429]
        assert len(fake_upstream.requests) == 3
        for served, remaining in zip(answers[:3], ("2", "1", "0"), strict=True):
            assert served.headers["x-ratelimit-limit-requests"] == "3"
            assert served.headers["x-ratelimit-remaining-requests"] == remaining
            assert served.headers["x-ratelimit-reset-requests"].endswith("s")
            assert "x-ratelimit-limit-tokens" not in served.headers  # no tpm limit, no token trio
        for refused in answers[3:]:
            _refused(refused, "RPM", "token 't'")
            assert refused.headers["x-ratelimit-limit-requests"] == "3"
            assert refused.headers["x-ratelimit-remaining-requests"] == "0"
        # A stream carries the headers too, and a key without limits carries none.
        free = await w.token(name="free")
        resp = await w.chat(free, stream=True)
        assert resp.status_code == 200 and "x-ratelimit-limit-requests" not in resp.headers


@pytest.mark.parametrize("mode", MODES)
async def test_tpm_counts_the_reservation_then_the_settled_usage(sqlite_database, fake_upstream, mode) -> None:
    async with relay_world(sqlite_database, fake_upstream, _env(mode)) as w:
        await w.channel()
        prompt = await tokenizer.count_messages(CHAT, "gpt-3.5-turbo")
        completion = 5
        fake_upstream.configure(prompt_tokens=prompt, completion_tokens=completion)
        used = prompt + completion
        tpm = 1000
        token = await w.token(tpm_limit=tpm)

        # Reserved: prompt + max_tokens = the whole minute; settled at prompt + completion.
        first = await w.chat(token, max_tokens=tpm - prompt)
        assert first.status_code == 200, first.text
        assert first.headers["x-ratelimit-limit-tokens"] == str(tpm)
        assert first.headers["x-ratelimit-remaining-tokens"] == "0"
        # This reservation fits only because the first one was corrected down to its usage.
        second = await w.chat(token, max_tokens=tpm - used - prompt)
        assert second.status_code == 200, second.text
        assert second.headers["x-ratelimit-remaining-tokens"] == "0"
        # Both settled: 2 × used are counted; one token more than what is left is refused.
        third = await w.chat(token, max_tokens=tpm - 2 * used - prompt + 1)
        error = _refused(third, "TPM", "token 't'")
        assert f"Limit {tpm}, Used {2 * used}, Requested {tpm - 2 * used + 1}" in error["message"]
        assert third.headers["x-ratelimit-remaining-tokens"] == str(tpm - 2 * used)
        # A request that fails upstream gives its reservation back.
        fake_upstream.fail_next("/v1/chat/completions", "400")
        failed = await w.chat(token, max_tokens=tpm - 2 * used - prompt)
        assert failed.status_code == 400
        fits = await w.chat(token, max_tokens=tpm - 2 * used - prompt)
        assert fits.status_code == 200, fits.text
        assert len(fake_upstream.requests) == 4


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)  # a stream the client does not read stays open
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@contextlib.asynccontextmanager
async def _served(app: Any) -> AsyncIterator[str]:
    """The app behind a real uvicorn server (a client can really hang up); yields its base URL."""
    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_config=None, access_log=False))
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving
        sock.close()


@pytest.mark.parametrize("mode", MODES)
async def test_two_parallel_streams_of_five_and_the_slot_freed_by_a_disconnect(sqlite_database, fake_upstream, mode) -> None:
    async with relay_world(sqlite_database, fake_upstream, _env(mode)) as w:
        await w.channel()
        token = await w.token(max_parallel_requests=2)
        fake_upstream.configure(reply_text=" ".join(f"word{i}" for i in range(4000)))  # slow: nobody reads it all
        body = {"model": "gpt-3.5-turbo", "messages": CHAT, "stream": True}
        async with _served(w.app) as url, contextlib.AsyncExitStack() as held:
            small = httpx.AsyncHTTPTransport(socket_options=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)])
            http = await held.enter_async_context(httpx.AsyncClient(base_url=url, timeout=30, transport=small))

            async def open_stream() -> tuple[int, Any]:
                stream = http.stream("POST", "/v1/chat/completions", headers=bearer(token), json=body)
                resp = await stream.__aenter__()
                if resp.status_code != 200:
                    await resp.aread()
                    await stream.__aexit__(None, None, None)
                    return resp.status_code, None
                lines = resp.aiter_lines()
                assert (await anext(lines)).startswith("data: ")  # streaming, then left unread
                return 200, stream

            results = await asyncio.gather(*(open_stream() for _ in range(5)))
            statuses = sorted(status for status, _ in results)
            assert statuses == [200, 200, 429, 429, 429]
            open_streams = [s for _, s in results if s is not None]
            # The client hangs up one stream: its slot comes back; the other still holds one.
            await open_streams[0].__aexit__(None, None, None)
            for _ in range(500):
                resp = await http.post("/v1/chat/completions", headers=bearer(token), json={**body, "stream": False})
                if resp.status_code == 200:
                    break
                assert resp.status_code == 429 and "parallel requests: Limit 2" in error_of(resp)["message"]
                await asyncio.sleep(0.01)
            else:
                raise AssertionError("the slot of the disconnected stream was never freed")
            again = await http.post("/v1/chat/completions", headers=bearer(token), json={**body, "stream": False})
            assert again.status_code == 200  # a finished request's slot is free before its answer ends
            await open_streams[1].__aexit__(None, None, None)
            await held.aclose()
        limits = w.engine.limits
        if mode == "local":
            await w.wait_for(lambda: _idle(limits.local, f"t:{token['id']}"))


async def _idle(windows: Any, key: str) -> bool:
    return not windows._windows[key].running


async def test_group_limits_apply_to_each_user_of_the_group_and_the_tightest_wins(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(group="default,vip")
        bad = await w.root.put("/api/option/", json={"key": "GroupRateLimits", "value": '{"vip": {"rpm": 2}}'})
        assert not bad.json()["success"] and "unknown field 'rpm'" in bad.json()["message"]
        await w.option("GroupRateLimits", '{"vip": {"rpm_limit": 2}, "default": {"rpm_limit": 0}}')
        client, _ = await w.user("vera", quota=10_000_000, group="vip")
        token = await w.token(client)  # no token limit: the group's applies through the user
        answers = [await w.chat(token) for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        _refused(answers[2], "RPM", "user 'vera'")
        assert answers[0].headers["x-ratelimit-limit-requests"] == "2"

        # The user's own limit is tighter than the group's: it wins (and a second token shares it).
        client2, user2 = await w.user("walt", quota=10_000_000, group="vip")
        await w.set_user(user2, rpm_limit=1)
        assert (await w.root.get(f"/api/user/{user2}")).json()["data"]["rpm_limit"] == 1
        t1, t2 = await w.token(client2, name="a"), await w.token(client2, name="b")
        assert (await w.chat(t1)).status_code == 200
        _refused(await w.chat(t2), "RPM", "user 'walt'")
        await client.aclose()
        await client2.aclose()


async def test_limit_fields_in_the_management_api(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        token = await w.token(rpm_limit=5, tpm_limit=1000, max_parallel_requests=2)
        got = (await w.root.get(f"/api/token/{token['id']}")).json()["data"]
        assert (got["rpm_limit"], got["tpm_limit"], got["max_parallel_requests"]) == (5, 1000, 2)
        # One API's console sends the fields it knows only: the limits stay as they were.
        console = {k: got[k] for k in ("id", "name", "remain_quota", "expired_time", "unlimited_quota", "models", "subnet")}
        resp = await w.root.put("/api/token/", json={**console, "name": "renamed"})
        assert resp.json()["success"], resp.text
        row = await w.token_row(token["id"])
        assert (row["name"], row["rpm_limit"], row["tpm_limit"], row["max_parallel_requests"]) == ("renamed", 5, 1000, 2)
        # Ours sends them, 0 included (no limit).
        resp = await w.root.put("/api/token/", json={**console, "rpm_limit": 0, "tpm_limit": 7})
        assert resp.json()["data"]["rpm_limit"] == 0 and resp.json()["data"]["tpm_limit"] == 7
        for bad in (-1, 1.5, "3", True, 10**13):
            resp = await w.root.put("/api/token/", json={**console, "rpm_limit": bad})
            assert not resp.json()["success"] and "rpm_limit" in resp.json()["message"], (bad, resp.text)
        resp = await w.root.post("/api/token/", json={"name": "x", "max_parallel_requests": -2})
        assert not resp.json()["success"]

        # Users: an admin sets them; a user cannot lift their own.
        client, user_id = await w.user("uma", quota=1000)
        await w.set_user(user_id, rpm_limit=4, max_parallel_requests=1)
        row = await w.user_row(user_id)
        assert (row["rpm_limit"], row["tpm_limit"], row["max_parallel_requests"]) == (4, 0, 1)
        me = (await client.get("/api/user/self")).json()["data"]
        assert me["rpm_limit"] == 4
        await client.put("/api/user/self", json={"rpm_limit": 0, "max_parallel_requests": 0})
        assert (await w.user_row(user_id))["rpm_limit"] == 4
        await w.set_user(user_id, quota=2000)  # a console edit without the fields keeps them
        assert (await w.user_row(user_id))["rpm_limit"] == 4
        await client.aclose()


def test_limits_travel_in_the_cluster_snapshot() -> None:
    from shared.snapshot import build_snapshot

    users = [{"id": 1, "username": "a", "quota": 5, "rpm_limit": 3, "tpm_limit": 0, "max_parallel_requests": 9}]
    tokens = [{"id": 7, "user_id": 1, "key": "k" * 48, "status": 1, "tpm_limit": 500, "max_parallel_requests": 2}]
    snapshot = build_snapshot(4, users, tokens, [], {"GroupRateLimits": '{"vip": {"tpm_limit": 10}}'})
    replica = replica_from_message(snapshot_message(snapshot, "e", {}))
    assert replica.snapshot.users[1].limits == Limits(3, 0, 9)
    assert replica.snapshot.tokens_by_id[7].limits == Limits(0, 500, 2)
    assert parse_group_limits(replica.snapshot.options["GroupRateLimits"]) == {"vip": Limits(0, 10, 0)}


def test_limit_helpers() -> None:
    assert Limits(5, 0, 2).tighten(Limits(3, 100, 0)) == Limits(3, 100, 2)
    assert parse_group_limits("") == {}
    for bad in ("[1]", '{"g": 1}', '{"g": {"rpm_limit": -1}}', "{"):
        with pytest.raises(ValueError):
            parse_group_limits(bad)
    assert [duration(ms) for ms in (0, 120, 1500, 17000, 65000)] == ["0ms", "120ms", "1.5s", "17s", "1m5s"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
async def test_a_one_api_database_gets_the_limit_columns(tmp_path, backend) -> None:
    """Tables as One API made them (no limit columns, no migration history) gain the three columns,
    rows kept and unlimited; the token and user API then read and write them."""
    from sqlalchemy import MetaData, Table, insert, select
    from sqlalchemy.ext.asyncio import create_async_engine

    from master.db.engine import parse_dsn
    from master.db.schema import main_metadata, tokens, users
    from master.db.store import open_store
    from shared.limits import LIMIT_FIELDS
    from shared.settings import build_settings
    from tests.support.services import FreshDatabase

    db = FreshDatabase(backend, tmp_path, from_template=False)
    try:
        one_api = MetaData()
        for table in main_metadata.sorted_tables:
            Table(table.name, one_api, *[c._copy() for c in table.columns if c.name not in LIMIT_FIELDS])
        engine = create_async_engine(parse_dsn(db.dsn, db.sqlite_path).url)
        async with engine.begin() as conn:
            await conn.run_sync(one_api.create_all)
            await conn.execute(insert(one_api.tables["users"]).values(username="carried", password="x", role=1, status=1, aff_code="abcd"))
            await conn.execute(insert(one_api.tables["tokens"]).values(user_id=1, key="k" * 48, name="old", status=1))
        await engine.dispose()
        store = await open_store(build_settings(db.env()))
        try:
            async with store.main.connect() as conn:
                user = (await conn.execute(select(users))).mappings().one()
                token = (await conn.execute(select(tokens))).mappings().one()
            assert user["username"] == "carried" and token["name"] == "old"
            assert all(user[f] == 0 and token[f] == 0 for f in LIMIT_FIELDS)
        finally:
            await store.close()
    finally:
        db.drop()


@pytest.mark.parametrize("mode", MODES)
async def test_a_slot_is_freed_by_an_upstream_error_and_by_cancellation(sqlite_database, fake_upstream, mode) -> None:
    """The other exits: an upstream error, and a request cancelled mid-flight (what a server does
    to the requests still running when it shuts down)."""
    async with relay_world(sqlite_database, fake_upstream, _env(mode)) as w:
        await w.channel()
        token = await w.token(max_parallel_requests=1)
        # One at a time, back to back over a real server (the client reads each answer's end while
        # the server is still unwinding): each slot is free before its client sees the end.
        async with _served(w.app) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
            for stream in [False, True] * 10:
                body = {"model": "gpt-3.5-turbo", "messages": CHAT, "stream": stream}
                resp = await http.post("/v1/chat/completions", headers=bearer(token), json=body)
                assert resp.status_code == 200, resp.text
        fake_upstream.fail_next("/v1/chat/completions", "500")
        assert (await w.chat(token)).status_code == 500
        assert (await w.chat(token)).status_code == 200  # the failed request's slot is free

        fake_upstream.fail_next("/v1/chat/completions", "slow", delay=60)
        hanging = asyncio.ensure_future(w.chat(token))
        for _ in range(1000):  # until the request waits on the upstream, holding the slot
            if len(fake_upstream.requests) == 23:
                break
            await asyncio.sleep(0.01)
        _refused(await w.chat(token), "parallel requests", "token 't'")
        hanging.cancel()
        with pytest.raises(asyncio.CancelledError):
            await hanging
        assert (await w.chat(token)).status_code == 200


async def test_a_fleet_slot_left_by_a_dead_node_expires_with_its_lease() -> None:
    import redis.asyncio as aioredis

    from shared.relay.ratelimit import Subject
    from shared.relay.ratelimit_redis import RedisWindows, keys_of

    client = aioredis.from_url(redis_url(fresh_redis_db()))
    try:
        windows = RedisWindows(client)
        subject = Subject("t:1", "token 'x'", Limits(parallel=1))
        held = await windows.admit([subject], "dead-node-request", 0, lease=1)
        assert held is not None and held.refused is None
        refused = await windows.admit([subject], "next", 0, lease=1)
        assert refused is not None and refused.refused == (0, "parallel")
        for _ in range(300):  # never released: the lease (1 s here) ends it
            verdict = await windows.admit([subject], "next", 0, lease=1)
            assert verdict is not None
            if verdict.refused is None:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the slot never expired")
        assert await client.pttl(keys_of(subject)[2]) > 0  # every key expires on its own
    finally:
        await client.aclose()


async def test_local_windows_keep_only_recently_active_subjects(monkeypatch) -> None:
    from shared.relay import ratelimit
    from shared.relay.ratelimit import LocalWindows, Subject

    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(ratelimit.time, "time", lambda: clock["now"])
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock["now"])
    windows = LocalWindows()
    subjects = [Subject(f"t:{i}", "t", Limits(rpm=1)) for i in range(100)]
    for s in subjects:
        assert (await windows.admit([s], "a", 0, 60)).refused is None
    assert (await windows.admit([subjects[0]], "b", 0, 60)).refused == (0, "rpm")
    assert len(windows) == 100
    clock["now"] += 61  # a minute later the windows are empty: the next admission sweeps them
    assert (await windows.admit([subjects[0]], "c", 0, 60)).refused is None
    assert len(windows) == 1


async def test_limits_fall_back_to_the_node_while_redis_does_not_answer() -> None:
    import redis.asyncio as aioredis

    from shared.relay.auth import Caller
    from shared.relay.ratelimit import Admission, RateLimits
    from shared.relay.ratelimit_redis import RedisWindows
    from shared.relay.types import RelayError
    from shared.snapshot import build_snapshot
    from tests.support.ports import free_port

    users = [{"id": 1, "username": "a", "status": 1}]
    tokens = [{"id": 2, "user_id": 1, "key": "k" * 48, "name": "t", "status": 1, "rpm_limit": 2, "max_parallel_requests": 5}]
    snapshot = build_snapshot(1, users, tokens, [], {})
    caller = Caller(snapshot.tokens_by_id[2], snapshot.users[1], "")
    dead = aioredis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    limits = RateLimits(RedisWindows(dead))
    admitted = [Admission(), Admission()]
    for admission in admitted:
        await limits.admit(snapshot, caller, admission, 0)
        assert admission.held and admission.windows is limits.local
    with pytest.raises(RelayError) as refused:
        await limits.admit(snapshot, caller, Admission(), 0)
    assert refused.value.status == 429
    for admission in admitted:
        await limits.finish(admission)
    assert not limits.local._windows["t:2"].running
    await dead.aclose()
