"""The openai SDK's Responses API through a real master and a real slave: converted (Anthropic
channel) and passed through (OpenAI channel), text, streams, a function-call round trip, an image,
errors; a response stored through the slave is read and deleted through the master (the sealed id
names its channel on every node); and the master's log rows equal those of the same conversation
sent to /v1/chat/completions."""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest

from tests.cluster.harness import wait_for
from tests.cluster.ops import add_channel, add_token
from tests.fake_upstream.common import TOOL_ARGUMENTS
from tests.fake_upstream.state import Canned

REPLY = Canned().reply_text
IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
TOOLS: Any = [{"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {"query": {"type": "string"}}}}]
MODELS = ("claude-3-5-haiku-20241022", "gpt-4o")  # converted, passed through


def _conversation(sdk: openai.OpenAI, model: str) -> int:
    """Every kind of call once; returns how many were billed."""
    answer = sdk.responses.create(model=model, input="Hello", instructions="Be brief.")
    assert answer.output_text == REPLY
    events = list(sdk.responses.create(model=model, input="Stream it", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == REPLY
    call = next(i for i in sdk.responses.create(model=model, input="Look it up", tools=TOOLS).output if i.type == "function_call")
    assert json.loads(call.arguments) == TOOL_ARGUMENTS
    done = sdk.responses.create(
        model=model,
        tools=TOOLS,
        input=[
            {"role": "user", "content": "Look it up"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "42"},
        ],
    )
    assert done.output_text == REPLY
    picture = sdk.responses.create(
        model=model,
        input=[{"role": "user", "content": [{"type": "input_text", "text": "What is this?"}, {"type": "input_image", "image_url": IMAGE}]}],
    )
    assert picture.output_text == REPLY
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(model=model, input="x", max_output_tokens=1)
    return 5


def test_responses_through_master_and_slave(fleet, fake_upstream) -> None:
    master = fleet.start_master()
    slave = fleet.slave("slave-a")
    master.wait(), slave.wait()
    with fleet.admin() as admin:
        add_channel(admin, fake_upstream.url, name="openai", models="gpt-4o")
        add_channel(admin, fake_upstream.url, name="claude", type=14, key="claude-key", models=MODELS[0])
        token = add_token(admin)
    key = f"sk-{token['key']}"
    wait_for(
        lambda: (
            httpx.post(
                slave.url + "/v1/responses", headers={"Authorization": f"Bearer {key}"}, json={"model": MODELS[1], "input": "ready?"}
            ).status_code
            == 200
        ),
        10,
        what="token and channels on the slave",
    )
    billed = 1
    for node in (master, slave):
        sdk = openai.OpenAI(api_key=key, base_url=node.url + "/v1", max_retries=0, timeout=20)
        for model in MODELS:
            billed += _conversation(sdk, model)

    on_slave = openai.OpenAI(api_key=key, base_url=slave.url + "/v1", max_retries=0, timeout=20)
    on_master = openai.OpenAI(api_key=key, base_url=master.url + "/v1", max_retries=0, timeout=20)
    stored = on_slave.responses.create(model=MODELS[1], input="Keep this.")
    follow = on_master.responses.create(model=MODELS[1], input="Next.", previous_response_id=stored.id)
    assert follow.previous_response_id == stored.id
    assert on_master.responses.retrieve(stored.id).id == stored.id
    on_master.responses.delete(stored.id)
    with pytest.raises(openai.NotFoundError):
        on_slave.responses.retrieve(stored.id)
    billed += 2

    # The same conversation through /v1/chat/completions and /v1/responses, on the slave.
    for model in MODELS:
        on_slave.chat.completions.create(
            model=model, messages=[{"role": "system", "content": "Same."}, {"role": "user", "content": "Same question"}]
        )
        on_slave.responses.create(model=model, instructions="Same.", input="Same question")
    billed += 4

    with fleet.admin() as admin:

        def rows() -> list[dict[str, Any]]:  # every page (10 rows each), newest first
            found: list[dict[str, Any]] = []
            for number in range(10):
                page = admin.get(f"/api/log/?p={number}&type=2").json()["data"]
                found += page
                if len(page) < 10:
                    break
            return found

        wait_for(lambda: len(rows()) >= billed, 20, interval=0.2, what="every call logged on the master")
        logs = rows()  # newest first
    assert len(logs) == billed
    fields = ("model_name", "channel", "prompt_tokens", "completion_tokens", "quota", "is_stream")
    pairs = [tuple(r[f] for f in fields) for r in logs[:4]]
    assert pairs[0] == pairs[1] and pairs[2] == pairs[3], pairs
