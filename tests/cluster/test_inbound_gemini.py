"""google-genai against real master and slave processes: Gemini's native API on every node, through
an OpenAI channel (converted) and a Gemini channel (passed through), billed and logged on the master
exactly as the same conversation sent to /v1/chat/completions."""

from __future__ import annotations

from typing import Any

import httpx
from google import genai
from google.genai import errors, types

from tests.cluster.harness import wait_for
from tests.cluster.ops import add_channel, add_token
from tests.fake_upstream.common import TOOL_ARGUMENTS
from tests.fake_upstream.state import Canned

REPLY = Canned().reply_text
MODELS = ("gpt-4o-mini", "gemini-1.5-flash")
LOOKUP = types.FunctionDeclaration(
    name="lookup", parameters=types.Schema(type=types.Type.OBJECT, properties={"query": types.Schema(type=types.Type.STRING)})
)
LOG_FIELDS = ("model_name", "channel", "quota", "prompt_tokens", "completion_tokens", "is_stream")


def _client(url: str, key: str) -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=url, api_version="v1beta"))


def _conversation(client: genai.Client, model: str) -> None:
    assert client.models.generate_content(model=model, contents="Hello over the cluster").text == REPLY
    assert "".join(c.text or "" for c in client.models.generate_content_stream(model=model, contents="Stream it")) == REPLY
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[LOOKUP])])
    first = client.models.generate_content(model=model, contents="Look up fake", config=config)
    assert first.function_calls and first.function_calls[0].args == TOOL_ARGUMENTS
    history = [
        types.Content(role="user", parts=[types.Part(text="Look up fake")]),
        first.candidates[0].content,
        types.Content(role="user", parts=[types.Part.from_function_response(name="lookup", response={"result": "found"})]),
    ]
    assert client.models.generate_content(model=model, contents=history, config=config).text == REPLY
    assert (client.models.count_tokens(model=model, contents="Count me").total_tokens or 0) > 0


def _logs(admin: httpx.Client) -> list[dict[str, Any]]:
    """Every consume row of the `genai` token (the listing is paged)."""
    rows: list[dict[str, Any]] = []
    for page in range(20):
        batch = admin.get(f"/api/log/?p={page}&type=2&token_name=genai").json()["data"]
        rows += batch
        if not batch:
            break
    return sorted((r for r in rows if r["token_name"] == "genai"), key=lambda r: r["id"])


def test_google_genai_through_master_and_slave(fleet, fake_upstream) -> None:
    master = fleet.start_master()
    slave = fleet.slave("slave-a")
    master.wait()
    slave.wait()
    with fleet.admin() as admin:
        add_channel(admin, fake_upstream.url, name="openai", models="gpt-4o-mini,text-embedding-3-small")
        add_channel(admin, fake_upstream.url, name="gemini", type=24, key="gemini-key", models="gemini-1.5-flash")
        probe = f"sk-{add_token(admin, name='probe')['key']}"
        key = f"sk-{add_token(admin, name='genai')['key']}"
        body = {"contents": [{"role": "user", "parts": [{"text": "ready?"}]}]}
        wait_for(
            lambda: (
                httpx.post(
                    f"{slave.url}/v1beta/models/gemini-1.5-flash:generateContent", json=body, headers={"x-goog-api-key": probe}, timeout=10
                ).status_code
                == 200
            ),
            10,
            what="the token and channels on the slave",
        )
        for node in (master, slave):
            client = _client(node.url, key)
            for model in MODELS:
                _conversation(client, model)
            embedded = client.models.embed_content(model="text-embedding-3-small", contents=["one", "two"])
            assert len(embedded.embeddings) == 2
            wrong = _client(node.url, "sk-wrong")  # held: a genai.Client closes its connection pool when collected
            try:
                wrong.models.generate_content(model="gpt-4o-mini", contents="hi")
            except errors.ClientError as exc:
                assert exc.code == 401 and exc.status == "UNAUTHENTICATED"
            else:
                raise AssertionError("a wrong key was served")
        # 2 nodes × (2 models × 4 billed generations + 1 embedding) consume rows on the master.
        wait_for(lambda: len(_logs(admin)) >= 18, 20, what="the slave's log rows on the master")
        assert len(_logs(admin)) == 18

        # The same first turn through /v1/chat/completions on the slave, and through Gemini's API.
        on_slave = _client(slave.url, key)
        for model in MODELS:
            chat = httpx.post(
                f"{slave.url}/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                timeout=10,
                json={"model": model, "messages": [{"role": "user", "content": "Hello over the cluster"}]},
            )
            assert chat.status_code == 200
            assert on_slave.models.generate_content(model=model, contents="Hello over the cluster").text == REPLY
        wait_for(lambda: len(_logs(admin)) == 22, 20, what="the comparison rows")
        rows = _logs(admin)[-4:]
        for chat_row, gemini_row in zip(rows[0::2], rows[1::2], strict=True):
            assert chat_row["quota"] > 0
            assert {f: chat_row[f] for f in LOG_FIELDS} == {f: gemini_row[f] for f in LOG_FIELDS}
