"""OpenAI chat/embedding requests -> Gemini generateContent / batchEmbedContents (docs/one-api-compat.md §5.8, Gemini)."""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import (
    content_parts,
    content_text,
    conversion_error,
    image_source,
    image_url_of,
    path_segment,
    unsupported_mode,
)
from shared.relay.types import RelayMeta

SAFETY_CATEGORIES = (
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
)
SYSTEM_INSTRUCTION_MODELS = {"gemini-2.0-flash", "gemini-2.0-flash-exp", "gemini-2.0-flash-thinking-exp-01-21"}
MAX_IMAGES_PER_MESSAGE = 16
MIME_TYPES = {"json_object": "application/json", "text": "text/plain"}


def api_version(meta: RelayMeta) -> str:
    configured = meta.config.get("api_version", "")
    if configured:
        return configured
    if "gemini-2.0" in meta.actual_model or "gemini-1.5" in meta.actual_model:
        return "v1beta"
    return meta.gemini_version


def request_url(meta: RelayMeta) -> str:
    if meta.mode == modes.EMBEDDINGS:
        action = "batchEmbedContents"
    elif meta.mode == modes.CHAT:
        action = "streamGenerateContent?alt=sse" if meta.is_stream else "generateContent"
    else:
        raise unsupported_mode(meta.mode)
    return f"{meta.base_url}/{path_segment(api_version(meta))}/models/{path_segment(meta.actual_model)}:{action}"


def request_headers(meta: RelayMeta) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "x-goog-api-key": meta.api_key}
    if meta.is_stream:
        headers["Accept"] = "text/event-stream"
    return headers


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = orjson.loads(raw) if isinstance(raw, str) and raw else {}
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _parts(content: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    images = 0
    for part in content_parts(content):
        if part.get("type") == "text":
            parts.append({"text": str(part.get("text") or "")})
        elif part.get("type") == "image_url":
            images += 1
            if images > MAX_IMAGES_PER_MESSAGE:
                continue
            mime, data = image_source(image_url_of(part))
            parts.append({"inlineData": {"mimeType": mime, "data": data}})
    return parts or [{"text": ""}]


def _tool_result(message: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    text = content_text(message.get("content"))
    try:
        result = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        result = text
    name = names.get(str(message.get("tool_call_id") or ""), "") or str(message.get("name") or "")
    response = result if isinstance(result, dict) else {"content": result}
    return {"role": "user", "parts": [{"functionResponse": {"name": name, "response": response}}]}


def _generation_config(body: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if body.get("temperature") is not None:
        config["temperature"] = body["temperature"]
    if body.get("top_p") is not None:
        config["topP"] = body["top_p"]
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens")
    if max_tokens:
        config["maxOutputTokens"] = max_tokens
    stop = body.get("stop")
    if isinstance(stop, str) and stop:
        config["stopSequences"] = [stop]
    elif isinstance(stop, list) and stop:
        config["stopSequences"] = [s for s in stop if isinstance(s, str)]
    response_format = body.get("response_format")
    if isinstance(response_format, dict):
        mime = MIME_TYPES.get(response_format.get("type", ""))
        if mime:
            config["responseMimeType"] = mime
        schema = response_format.get("json_schema")
        if isinstance(schema, dict) and schema.get("schema") is not None:
            config["responseSchema"] = schema["schema"]
            config["responseMimeType"] = MIME_TYPES["json_object"]
    return config


def convert_chat(meta: RelayMeta, body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise conversion_error("field messages is required")
    model = str(body.get("model") or meta.actual_model)
    request: dict[str, Any] = {
        "contents": [],
        "safetySettings": [{"category": c, "threshold": meta.gemini_safety_setting} for c in SAFETY_CATEGORIES],
        "generationConfig": _generation_config(body),
    }
    tools = body.get("tools")
    if isinstance(tools, list) and tools:
        functions = [t["function"] for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)]
        request["tools"] = [{"functionDeclarations": functions}]
    elif isinstance(body.get("functions"), list) and body["functions"]:
        request["tools"] = [{"functionDeclarations": body["functions"]}]

    contents: list[dict[str, Any]] = request["contents"]
    system_parts: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}  # tool_call id -> function name: Gemini answers results by name
    for message in messages:
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        role = message.get("role")
        if role in ("tool", "function"):
            contents.append(_tool_result(message, call_names))
            continue
        parts = _parts(message.get("content"))
        if role == "assistant" and message.get("tool_calls"):
            parts = [p for p in parts if p.get("text") or "inlineData" in p]
            for call in message["tool_calls"]:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    call_names[str(call.get("id") or "")] = str(function.get("name") or "")
                    parts.append(
                        {
                            "functionCall": {
                                "name": function.get("name") or "",
                                "args": _arguments(function.get("arguments")),
                            }
                        }
                    )
        if role == "system":
            if model in SYSTEM_INSTRUCTION_MODELS:
                system_parts.extend(parts)
                continue
            # Older models know only user/model turns: the system text becomes a user turn the
            # model acknowledges, so turns still alternate.
            contents.append({"role": "user", "parts": parts})
            contents.append({"role": "model", "parts": [{"text": "Okay"}]})
            continue
        contents.append({"role": "model" if role == "assistant" else "user", "parts": parts})
    if system_parts:
        request["systemInstruction"] = {"parts": system_parts}
    return request


def convert_embeddings(meta: RelayMeta, body: dict[str, Any]) -> dict[str, Any]:
    raw = body.get("input")
    inputs = [raw] if isinstance(raw, str) else raw
    if not isinstance(inputs, list) or not all(isinstance(item, str) for item in inputs):
        raise conversion_error("input must be a string or a list of strings")
    model = f"models/{meta.actual_model}"
    return {"requests": [{"model": model, "content": {"parts": [{"text": text}]}} for text in inputs]}
