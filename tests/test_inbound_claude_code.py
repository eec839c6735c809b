"""A scripted Claude-Code-like session through /v1/messages: a cached system prompt in blocks,
several tools, streamed turns that call a tool and get its `tool_result` back (one an error),
`count_tokens` before and after, Claude Code's `?beta=true` and headers. Every event sequence is
checked against Anthropic's grammar, for an OpenAI-format channel (converted) and an Anthropic one
(passed through), and every turn is billed and logged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fake_upstream.state import Canned
from tests.support.anthropic_events import check_sequence, frames, stop_and_usage
from tests.support.relay_kit import relay_world

REPLY = Canned().reply_text
SYSTEM = [
    {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
    {"type": "text", "text": "Work in /repo. Be concise.", "cache_control": {"type": "ephemeral"}},
]
TOOLS = [
    {
        "name": "Bash",
        "description": "Run a shell command",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]},
    },
    {
        "name": "Read",
        "description": "Read a file",
        "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]},
    },
    {
        "name": "Edit",
        "description": "Edit a file",
        "input_schema": {
            "type": "object",
            "properties": {"file_path": {"type": "string"}, "old": {"type": "string"}, "new": {"type": "string"}},
        },
        "cache_control": {"type": "ephemeral"},
    },
]
HEADERS = {"anthropic-version": "2023-06-01", "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14", "x-app": "cli"}


@pytest.mark.parametrize(("model", "channel"), [("gpt-4o-mini", {"type": 1}), ("claude-sonnet-4-5", {"type": 14, "key": "claude-key"})])
async def test_claude_code_session(sqlite_database, fake_upstream, model: str, channel: dict[str, Any]) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel(name="upstream", models=model, **channel)
        token = await w.token()
        headers = {**HEADERS, "x-api-key": f"sk-{token['key']}"}
        transport = httpx.ASGITransport(app=w.app, client=("127.0.0.1", 40004))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            conversation: list[dict[str, Any]] = []

            async def count() -> int:
                body = {"model": model, "system": SYSTEM, "tools": TOOLS, "messages": conversation}
                resp = await http.post("/v1/messages/count_tokens?beta=true", headers=headers, json=body)
                assert resp.status_code == 200, resp.text
                return int(resp.json()["input_tokens"])

            async def turn(content: Any) -> tuple[str, list[dict[str, Any]]]:
                conversation.append({"role": "user", "content": content})
                body = {
                    "model": model,
                    "max_tokens": 32000,
                    "stream": True,
                    "system": SYSTEM,
                    "tools": TOOLS,
                    "messages": conversation,
                    "metadata": {"user_id": "user_abc_account__session_1"},
                    "temperature": 1,
                }
                resp = await http.post("/v1/messages?beta=true", headers=headers, json=body)
                assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream"), resp.text
                events = frames(resp.text)
                blocks = check_sequence(events)
                stop, usage = stop_and_usage(events)
                assert usage["output_tokens"] == 11
                conversation.append({"role": "assistant", "content": blocks})
                return stop, blocks

            conversation.append({"role": "user", "content": "Fix the failing test in app.py"})
            first_count = await count()
            conversation.pop()
            stop, blocks = await turn("Fix the failing test in app.py")
            assert stop == "tool_use" and [b["type"] for b in blocks] == ["tool_use"]
            assert blocks[0]["name"] == "Bash" and blocks[0]["input"] == {"query": "fake"}
            stop, blocks = await turn(
                [{"type": "tool_result", "tool_use_id": blocks[0]["id"], "content": "1 failed: test_app.py::test_sum"}]
            )
            assert stop == "end_turn" and blocks == [{"type": "text", "text": REPLY}]
            stop, blocks = await turn([{"type": "text", "text": "Now run the tests again."}])
            assert stop == "tool_use" and blocks[0]["type"] == "tool_use"
            stop, blocks = await turn(
                [
                    {
                        "type": "tool_result",
                        "tool_use_id": blocks[0]["id"],
                        "is_error": True,
                        "content": [{"type": "text", "text": "command not found: pytest"}],
                    },
                ]
            )
            assert stop == "end_turn" and blocks == [{"type": "text", "text": REPLY}]
            assert await count() > first_count

            upstream = [r for r in fake_upstream.requests if r.path in ("/v1/messages", "/v1/chat/completions")]
            assert len(upstream) == 4  # count_tokens is answered by the gateway
            last = upstream[-1].json()
            if channel["type"] == 14:
                assert last["system"] == SYSTEM and last["tools"] == TOOLS  # cache_control and all
                assert upstream[-1].headers["anthropic-beta"] == HEADERS["anthropic-beta"]
            else:
                assert [m["role"] for m in last["messages"]] == [
                    "system",
                    "user",
                    "assistant",
                    "tool",
                    "assistant",
                    "user",
                    "assistant",
                    "tool",
                ]
                assert last["messages"][-1] == {
                    "role": "tool",
                    "tool_call_id": "call_fake_0",
                    "content": "Error: command not found: pytest",
                }
                assert [t["function"]["name"] for t in last["tools"]] == ["Bash", "Read", "Edit"]

        async def four_rows() -> list[dict[str, Any]] | None:
            rows = await w.consume_logs()
            return rows if len(rows) == 4 else None

        rows = await w.wait_for(four_rows)
        assert all(r["is_stream"] and r["model_name"] == model and r["quota"] > 0 for r in rows)
