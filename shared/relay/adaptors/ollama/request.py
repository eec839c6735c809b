"""OpenAI chat/embedding requests -> Ollama's native /api/chat and /api/embed (docs/one-api-compat.md §5.8, Ollama)."""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import content_parts, conversion_error, image_source, image_url_of, unsupported_mode
from shared.relay.types import RelayMeta

# OpenAI field -> Ollama `options` key.
OPTIONS = {
    "seed": "seed",
    "temperature": "temperature",
    "top_p": "top_p",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "max_tokens": "num_predict",
    "num_ctx": "num_ctx",  # a non-standard request field One API accepts
}
EMBEDDING_OPTIONS = ("seed", "temperature", "top_p", "frequency_penalty", "presence_penalty")


def request_url(meta: RelayMeta) -> str:
    if meta.mode == modes.CHAT:
        return f"{meta.base_url}/api/chat"
    if meta.mode == modes.EMBEDDINGS:
        return f"{meta.base_url}/api/embed"
    raise unsupported_mode(meta.mode)


def request_headers(meta: RelayMeta) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {meta.api_key}"}
    if meta.is_stream:
        headers["Accept"] = "application/x-ndjson"
    return headers


def _options(body: dict[str, Any], names: Any) -> dict[str, Any]:
    return {OPTIONS[name]: body[name] for name in names if body.get(name) is not None}


def _arguments(raw: Any) -> dict[str, Any]:
    """OpenAI's tool-call arguments (a JSON string) -> the object Ollama wants."""
    if isinstance(raw, dict):
        return raw
    try:
        parsed = orjson.loads(raw) if isinstance(raw, str) and raw else {}
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _tool_calls(calls: Any) -> list[dict[str, Any]]:
    converted = []
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            converted.append({"function": {"name": str(function.get("name") or ""), "arguments": _arguments(function.get("arguments"))}})
    return converted


def _message(message: dict[str, Any]) -> dict[str, Any]:
    texts: list[str] = []
    images: list[str] = []
    for part in content_parts(message.get("content")):
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif part.get("type") == "image_url":
            images.append(image_source(image_url_of(part))[1])  # Ollama takes bare base64
    converted: dict[str, Any] = {"role": str(message.get("role") or "user"), "content": "\n".join(texts)}
    if images:
        converted["images"] = images
    calls = _tool_calls(message.get("tool_calls"))
    if calls:
        converted["tool_calls"] = calls
    return converted


def convert_chat(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise conversion_error("field messages is required")
    if not all(isinstance(m, dict) for m in messages):
        raise conversion_error("invalid message")
    request = {
        "model": body.get("model"),
        "messages": [_message(m) for m in messages],
        "stream": bool(body.get("stream")),
        "options": _options(body, OPTIONS),
    }
    tools = body.get("tools")
    if isinstance(tools, list) and tools and body.get("tool_choice") != "none":
        request["tools"] = [t for t in tools if isinstance(t, dict)]  # Ollama takes OpenAI's function tools
    return request


def convert_embeddings(body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not inputs or not all(isinstance(item, str) for item in inputs):
        raise conversion_error("input must be a string or a list of strings")
    return {"model": body.get("model"), "input": inputs, "options": _options(body, EMBEDDING_OPTIONS)}
