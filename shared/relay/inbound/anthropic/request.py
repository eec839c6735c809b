"""Anthropic Messages request -> the OpenAI chat request the gateway validates, counts, bills and
sends to every non-Anthropic channel (the inverse of shared.relay.adaptors.anthropic.request)."""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay.types import RelayError

MAX_BLOCKS = 10000  # content blocks per request, all messages together


def invalid(message: str) -> RelayError:
    return RelayError(400, message, type="invalid_request_error", code="invalid_request_error")


def _text_of(content: Any, where: str) -> str:
    """A string, or the text of a list of text blocks (system prompts, tool results)."""
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if not isinstance(content, list):
        raise invalid(f"{where}: must be a string or a list of content blocks")
    texts = []
    for block in content:
        if not isinstance(block, dict):
            raise invalid(f"{where}: each content block must be an object")
        if block.get("type") == "text":
            text = block.get("text")
            if not isinstance(text, str):
                raise invalid(f"{where}: a text block needs a string `text`")
            texts.append(text)
    return "\n".join(texts)


def _image_part(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise invalid(f"{where}: an image block needs a `source` object")
    if source.get("type") == "base64":
        media, data = source.get("media_type"), source.get("data")
        if not isinstance(media, str) or not isinstance(data, str):
            raise invalid(f"{where}: a base64 image source needs `media_type` and `data` strings")
        url = f"data:{media};base64,{data}"
    elif source.get("type") == "url" and isinstance(source.get("url"), str):
        url = source["url"]
    else:
        raise invalid(f"{where}: image source type must be base64 or url")
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_result(block: dict[str, Any], where: str) -> dict[str, Any]:
    tool_use_id = block.get("tool_use_id")
    if not isinstance(tool_use_id, str) or not tool_use_id:
        raise invalid(f"{where}: a tool_result block needs a `tool_use_id` string")
    text = _text_of(block.get("content"), where)
    if block.get("is_error") is True:
        text = f"Error: {text}"
    return {"role": "tool", "tool_call_id": tool_use_id, "content": text}


def _tool_call(block: dict[str, Any], where: str) -> dict[str, Any]:
    call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
    if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, dict):
        raise invalid(f"{where}: a tool_use block needs `id` and `name` strings and an `input` object")
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": orjson.dumps(arguments).decode()}}


def _message(index: int, message: Any) -> list[dict[str, Any]]:
    """One Anthropic turn -> the chat messages it becomes: tool results are messages of their own
    (role `tool`, first, as OpenAI wants them right after the assistant's tool calls)."""
    where = f"messages.{index}"
    if not isinstance(message, dict):
        raise invalid(f"{where}: must be an object")
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise invalid(f"{where}.role: must be user or assistant")
    content = message.get("content")
    if isinstance(content, str):
        return [{"role": role, "content": content}]
    if not isinstance(content, list):
        raise invalid(f"{where}.content: must be a string or a list of content blocks")
    parts: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for block in content:
        if not isinstance(block, dict):
            raise invalid(f"{where}.content: each content block must be an object")
        kind = block.get("type")
        if kind == "text":
            text = block.get("text")
            if not isinstance(text, str):
                raise invalid(f"{where}.content: a text block needs a string `text`")
            parts.append({"type": "text", "text": text})
        elif kind == "image" and role == "user":
            parts.append(_image_part(block, f"{where}.content"))
        elif kind == "tool_result" and role == "user":
            results.append(_tool_result(block, f"{where}.content"))
        elif kind == "tool_use" and role == "assistant":
            calls.append(_tool_call(block, f"{where}.content"))
        elif kind in ("thinking", "redacted_thinking", "document", "search_result", "server_tool_use"):
            continue  # no chat-completions equivalent: the upstream model never sees them
        else:
            raise invalid(f"{where}.content: unknown content block type {str(kind)[:40]!r}")
    out: list[dict[str, Any]] = list(results)
    if role == "assistant":
        text = "".join(p["text"] for p in parts)
        if text or calls:
            turn: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                turn["tool_calls"] = calls
            out.append(turn)
    elif parts:
        only_text = all(p["type"] == "text" for p in parts)
        out.append({"role": "user", "content": "".join(p["text"] for p in parts) if only_text else parts})
    return out


def _tools(tools: Any) -> list[dict[str, Any]]:
    if not isinstance(tools, list):
        raise invalid("tools: must be a list")
    out = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise invalid(f"tools.{index}: needs a `name` string")
        if "input_schema" not in tool:
            continue  # a server tool (web search, bash, ...) the upstream cannot run
        function: dict[str, Any] = {"name": tool["name"], "parameters": tool["input_schema"]}
        if isinstance(tool.get("description"), str):
            function["description"] = tool["description"]
        out.append({"type": "function", "function": function})
    return out


def _tool_choice(choice: Any) -> Any:
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind == "auto":
        return "auto"
    if kind == "any":
        return "required"
    if kind == "none":
        return "none"
    if kind == "tool" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    raise invalid("tool_choice: type must be auto, any, tool or none")


def _int_field(body: dict[str, Any], name: str, required: bool) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(f"{name}: must be a positive integer")
    return value


def to_chat(body: Any, counting: bool = False) -> dict[str, Any]:
    """Validate a Messages request and convert it; `counting` (count_tokens) needs no max_tokens."""
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model: field required")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("messages: field required")
    blocks = sum(len(m["content"]) for m in messages if isinstance(m, dict) and isinstance(m.get("content"), list))
    if blocks > MAX_BLOCKS:
        raise invalid(f"messages: at most {MAX_BLOCKS} content blocks")
    chat: dict[str, Any] = {"model": model}
    max_tokens = _int_field(body, "max_tokens", required=not counting)
    if max_tokens is not None:
        chat["max_tokens"] = max_tokens
    system = _text_of(body.get("system"), "system")
    chat["messages"] = ([{"role": "system", "content": system}] if system else []) + [
        turn for index, message in enumerate(messages) for turn in _message(index, message)
    ]
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise invalid("stream: must be a boolean")
    if stream and not counting:
        chat["stream"] = True
    for key in ("temperature", "top_p"):
        value = body.get(key)
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise invalid(f"{key}: must be a number")
            chat[key] = value
    stop = body.get("stop_sequences")
    if stop is not None:
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise invalid("stop_sequences: must be a list of strings")
        if stop:
            chat["stop"] = stop
    if body.get("tools") is not None:
        tools = _tools(body["tools"])
        if tools:
            chat["tools"] = tools
            if body.get("tool_choice") is not None:
                chat["tool_choice"] = _tool_choice(body["tool_choice"])
    # `thinking` is not forwarded: OpenAI-format models take no budget, and a reasoning field
    # would be refused by the models that have none. Reasoning an upstream returns anyway comes
    # back as thinking blocks (shared.relay.inbound.anthropic.stream).
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str):
        chat["user"] = metadata["user_id"]
    return chat
