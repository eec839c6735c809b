"""What a client sends cannot steer the upstream URL (issue 12, item 9).

Model and deployment names are percent-encoded as one path segment (Azure, Gemini, the engines
route), and the client's query string stays at the gateway: only what an adaptor adds itself
(Azure's api-version, Gemini's alt=sse) goes upstream."""

from __future__ import annotations

import orjson

from tests.support.relay_kit import CHAT, bearer, relay_world

ODD = "team/dep?x=1#f"  # a name with a slash, a query and a fragment in it
ODD_ENCODED = "team%2Fdep%3Fx%3D1%23f"


async def test_the_client_query_string_is_not_forwarded(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai")
        token = await w.token()
        body = {"model": "gpt-3.5-turbo", "messages": CHAT}
        resp = await w.root.post("/v1/chat/completions?api-version=evil&key=x&alt=json", headers=bearer(token), json=body)
        assert resp.status_code == 200, resp.text
        assert fake_upstream.last.raw_path == "/v1/chat/completions" and fake_upstream.last.query == ""


async def test_azure_keeps_only_its_own_api_version(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        mapping = orjson.dumps({"gpt-3.5-turbo": ODD}).decode()
        await w.channel(type=3, key="azure-secret", config='{"api_version": "2024-06-01"}', models="gpt-3.5-turbo", model_mapping=mapping)
        token = await w.token()
        body = {"model": "gpt-3.5-turbo", "messages": CHAT}
        await w.root.post("/v1/chat/completions?api-version=1999-01-01&foo=bar", headers=bearer(token), json=body)
        assert fake_upstream.last.raw_path == f"/openai/deployments/{ODD_ENCODED}/chat/completions"
        assert fake_upstream.last.query == "api-version=2024-06-01"


async def test_gemini_model_is_one_path_segment(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        mapping = orjson.dumps({"gemini-1.5-flash": ODD}).decode()
        await w.channel(type=24, key="gemini-secret", models="gemini-1.5-flash", model_mapping=mapping)
        token = await w.token()
        body = {"model": "gemini-1.5-flash", "messages": CHAT, "stream": True}
        await w.root.post("/v1/chat/completions?alt=json&key=stolen", headers=bearer(token), json=body)
        assert fake_upstream.last.raw_path == f"/v1/models/{ODD_ENCODED}:streamGenerateContent"
        assert fake_upstream.last.query == "alt=sse"


async def test_the_engines_route_name_cannot_add_a_query(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai")
        token = await w.token()
        body = {"model": "text-embedding-3-small", "input": "hello"}
        await w.root.post("/v1/engines/x%3Fuser%3Dadmin%23/embeddings?y=2", headers=bearer(token), json=body)
        assert fake_upstream.last.raw_path == "/v1/engines/x%3Fuser%3Dadmin%23/embeddings"
        assert fake_upstream.last.query == ""
