"""Stored responses belong to the user who made them.

Every user of an OpenAI channel shares its upstream key, so upstream shows a stored response (its
prompt and answer) to anyone holding the id. The gateway's ids are sealed with the user and the
channel: another user's id, an edited id, or a bare upstream id gets 404 on GET and DELETE and 400
as previous_response_id, and nothing reaches upstream."""

from __future__ import annotations

import httpx

from tests.support.relay_kit import relay_world


async def test_another_users_or_a_forged_response_id_is_refused(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="openai", models="gpt-4o")
        alice_client, _ = await w.user("alice", quota=1_000_000)
        bob_client, _ = await w.user("bob", quota=1_000_000)
        alice = {"Authorization": f"Bearer sk-{(await w.token(alice_client))['key']}"}
        bob = {"Authorization": f"Bearer sk-{(await w.token(bob_client))['key']}"}
        transport = httpx.ASGITransport(app=w.app, client=("127.0.0.1", 40004))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            made = await http.post("/v1/responses", headers=alice, json={"model": "gpt-4o", "input": "my secret plan"})
            assert made.status_code == 200, made.text
            ours = made.json()["id"]
            upstream_id = next(iter(fake_upstream.state.stored_responses))
            assert (await http.get(f"/v1/responses/{ours}", headers=alice)).status_code == 200
            before = len(fake_upstream.requests)
            flipped = ours[:-2] + ("A" if ours[-2] != "A" else "B") + ours[-1]
            for stranger_id, headers in ((ours, bob), (flipped, alice), (upstream_id, alice), (upstream_id, bob)):
                for method, path in (("GET", ""), ("GET", "/input_items"), ("DELETE", "")):
                    resp = await http.request(method, f"/v1/responses/{stranger_id}{path}", headers=headers)
                    assert resp.status_code == 404, (method, stranger_id, resp.text)
                    assert "my secret plan" not in resp.text
                follow = await http.post(
                    "/v1/responses", headers=headers, json={"model": "gpt-4o", "input": "and?", "previous_response_id": stranger_id}
                )
                assert follow.status_code == 400 and follow.json()["error"]["param"] == "previous_response_id", follow.text
            assert len(fake_upstream.requests) == before  # none of it reached upstream
            assert upstream_id in fake_upstream.state.stored_responses
