"""/v1/messages through a master and a slave (real processes), with the official `anthropic` SDK,
against the fake upstream in both directions: converted to an OpenAI-format channel and passed
through to an Anthropic channel. Text, stream, tool use round trip, image input, an error, token
counting, and the slave's log rows equal to the same conversation sent to /v1/chat/completions."""

from __future__ import annotations

import base64
import subprocess
from typing import Any

import anthropic
import httpx

from tests.cluster.harness import wait_for
from tests.cluster.ops import add_channel, add_token
from tests.fake_upstream.state import Canned

REPLY = Canned().reply_text
TOOLS: list[Any] = [
    {"name": "search", "description": "Search", "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}}}
]
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nfake").decode()


def conversation(sdk: anthropic.Anthropic, model: str) -> None:
    hello: list[Any] = [{"role": "user", "content": "Hello"}]
    answer = sdk.messages.create(model=model, max_tokens=64, system="Be brief.", messages=hello)
    assert answer.content[0].type == "text" and answer.content[0].text == REPLY
    with sdk.messages.stream(model=model, max_tokens=64, messages=hello) as stream:
        assert "".join(stream.text_stream) == REPLY
        assert stream.get_final_message().stop_reason == "end_turn"
    first = sdk.messages.create(model=model, max_tokens=64, tools=TOOLS, messages=hello)
    use = first.content[0]
    assert first.stop_reason == "tool_use" and use.type == "tool_use" and use.input == {"query": "fake"}
    turns: list[Any] = [
        *hello,
        {"role": "assistant", "content": [use.model_dump()]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "found"}]},
    ]
    second = sdk.messages.create(model=model, max_tokens=64, tools=TOOLS, messages=turns)
    assert second.content[0].type == "text" and second.content[0].text == REPLY
    image: list[Any] = [
        {
            "role": "user",
            "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                {"type": "text", "text": "What is it?"},
            ],
        }
    ]
    assert sdk.messages.create(model=model, max_tokens=64, messages=image).content[0].type == "text"
    assert sdk.messages.count_tokens(model=model, messages=hello).input_tokens > 0


def test_messages_through_a_master_and_a_slave(fleet, fake_upstream) -> None:
    master = fleet.start_master()
    slave = fleet.slave("slave-a")
    master.wait(), slave.wait()
    with fleet.admin() as admin:
        add_channel(admin, fake_upstream.url, name="openai", models="gpt-4o-mini")
        add_channel(admin, fake_upstream.url, name="claude", type=14, key="claude-key", models="claude-sonnet-4-5")
        token = add_token(admin)  # last: seen => the channels too
    key = f"sk-{token['key']}"
    probe = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}
    wait_for(
        lambda: httpx.post(slave.url + "/v1/messages/count_tokens", headers={"x-api-key": key}, json=probe).status_code == 200,
        5,
        what="token on the slave",
    )

    for node in (master, slave):
        with anthropic.Anthropic(api_key=key, base_url=node.url, max_retries=0, timeout=10) as sdk:
            for model in ("gpt-4o-mini", "claude-sonnet-4-5"):
                conversation(sdk, model)
        with anthropic.Anthropic(api_key="sk-unknown", base_url=node.url, max_retries=0, timeout=10) as stranger:
            try:
                stranger.messages.create(model="gpt-4o-mini", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
            except anthropic.AuthenticationError as exc:
                assert exc.body["type"] == "error" and exc.body["error"]["type"] == "authentication_error"
            else:
                raise AssertionError(f"an unknown key was served by {node.name}")
    served = len(fake_upstream.requests)
    assert served == 2 * 2 * 5  # nodes × channels × upstream calls per conversation (counting stays home)

    # The same conversation through both doors of the slave bills and logs the same.
    with httpx.Client(base_url=slave.url, timeout=10) as http:
        for model in ("gpt-4o-mini", "claude-sonnet-4-5"):
            chat = http.post(
                "/v1/chat/completions",
                headers={"Authorization": f"Bearer {key}"},
                json={
                    "model": model,
                    "max_tokens": 64,
                    "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
                },
            )
            messages = http.post(
                "/v1/messages",
                headers={"x-api-key": key},
                json={"model": model, "max_tokens": 64, "system": "Be brief.", "messages": [{"role": "user", "content": "Hello"}]},
            )
            assert chat.status_code == messages.status_code == 200

    query = "select quota, prompt_tokens, completion_tokens, model_name, channel_id, is_stream from logs where type = 2 order by id"

    def logged() -> list[str]:
        out = subprocess.run(["psql", fleet.dsn, "-tAc", query], check=True, capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line]

    wait_for(lambda: len(logged()) == served + 4, 10, what="every request logged on the master")
    rows = logged()
    assert rows[-4] == rows[-3] and rows[-2] == rows[-1], rows[-4:]
    assert all(int(row.split("|")[0]) > 0 for row in rows)
