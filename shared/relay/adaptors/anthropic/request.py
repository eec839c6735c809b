"""OpenAI chat request -> Anthropic Messages request (docs/one-api-compat.md §5.8, Anthropic)."""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay.adaptors.common import (
    content_parts,
    content_text,
    conversion_error,
    image_source,
    image_url_of,
)
from shared.relay.types import RelayMeta

DEFAULT_MAX_TOKENS = 4096
DEFAULT_VERSION = "2023-06-01"
MODEL_ALIASES = {"claude-instant-1": "claude-instant-1.1", "claude-2": "claude-2.1"}


def request_headers(meta: RelayMeta) -> dict[str, str]:
    beta = "max-tokens-3-5-sonnet-2024-07-15" if meta.actual_model.startswith("claude-3-5-sonnet") else "messages-2023-12-15"
    headers = {
        "Content-Type": "application/json",
        "x-api-key": meta.api_key,
        "anthropic-version": meta.client_headers.get("anthropic-version") or DEFAULT_VERSION,
        "anthropic-beta": beta,
    }
    accept = meta.client_headers.get("accept")
    if accept:
        headers["Accept"] = accept
    elif meta.is_stream:
        headers["Accept"] = "text/event-stream"
    return headers


def _tool(tool: Any) -> dict[str, Any] | None:
    function = tool.get("function") if isinstance(tool, dict) else None
    if not isinstance(function, dict) or not function.get("name"):
        return None
    schema = function.get("parameters")
    converted = {
        "name": function["name"],
        "input_schema": schema if isinstance(schema, dict) else {"type": "object", "properties": {}},
    }
    if function.get("description"):
        converted["description"] = function["description"]
    return converted


def _tool_choice(choice: Any) -> dict[str, Any] | None:
    """OpenAI tool_choice -> Anthropic's; None means "send no tools at all" (OpenAI's "none")."""
    if isinstance(choice, dict):
        function = choice.get("function")
        if isinstance(function, dict) and function.get("name"):
            return {"type": "tool", "name": function["name"]}
    if choice in ("any", "required"):
        return {"type": "any"}
    if choice == "none":
        return None
    return {"type": "auto"}


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str) and raw:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _blocks(content: Any) -> list[dict[str, Any]]:
    blocks = []
    for part in content_parts(content):
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("text"), str) and part["text"]:  # null or odd text: no block
            blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            mime, data = image_source(image_url_of(part))
            blocks.append({"type": "image", "source": {"type": "base64", "media_type": mime, "data": data}})
    return blocks


def _message(message: dict[str, Any]) -> dict[str, Any] | None:
    role = message.get("role")
    if role in ("tool", "function"):
        result = {
            "type": "tool_result",
            "tool_use_id": message.get("tool_call_id") or "",
            "content": content_text(message.get("content")),
        }
        return {"role": "user", "content": [result]}
    blocks = _blocks(message.get("content"))
    if role == "assistant":
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                blocks.append(
                    {
                        "type": "tool_use",
                        "id": call.get("id") or "",
                        "name": function.get("name") or "",
                        "input": _arguments(function.get("arguments")),
                    }
                )
    if not blocks:
        return None  # Anthropic rejects empty content; an empty turn carries nothing anyway
    return {"role": "assistant" if role == "assistant" else "user", "content": blocks}


def convert(body: dict[str, Any]) -> dict[str, Any]:
    messages_in = body.get("messages")
    if not isinstance(messages_in, list):
        raise conversion_error("field messages is required")
    model = str(body.get("model") or "")
    request: dict[str, Any] = {
        "model": MODEL_ALIASES.get(model, model),
        "max_tokens": body.get("max_tokens") or body.get("max_completion_tokens") or DEFAULT_MAX_TOKENS,
    }
    for key in ("temperature", "top_p", "top_k"):
        if body.get(key) is not None:
            request[key] = body[key]
    if body.get("stream"):
        request["stream"] = True
    stop = body.get("stop")
    if isinstance(stop, str) and stop:
        request["stop_sequences"] = [stop]
    elif isinstance(stop, list) and stop:
        request["stop_sequences"] = [s for s in stop if isinstance(s, str)]

    tools = [t for t in (_tool(tool) for tool in body.get("tools") or []) if t]
    if tools:
        choice = _tool_choice(body.get("tool_choice"))
        if choice is not None:
            request["tools"] = tools
            request["tool_choice"] = choice

    system: list[str] = []
    messages: list[dict[str, Any]] = []
    for message in messages_in:
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        if message.get("role") == "system":
            system.append(content_text(message.get("content")))
            continue
        converted = _message(message)
        if converted is None:
            continue
        if messages and messages[-1]["role"] == converted["role"]:
            # Parallel tool results arrive as several `tool` messages; Anthropic wants one user turn.
            messages[-1]["content"].extend(converted["content"])
        else:
            messages.append(converted)
    if system:
        request["system"] = "\n".join(system)
    request["messages"] = messages
    return request
