"""Gemini generateContent / embedContent / batchEmbedContents bodies -> OpenAI chat / embeddings bodies.

The inverse of shared.relay.adaptors.gemini.request (OpenAI -> Gemini), so that a Gemini client is
served by every channel type through the chat pipeline, with its billing, limits and logs.
"""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay.types import RelayError

MAX_CONTENTS = 10_000  # turns in one request; the body cap bounds the bytes, this the loop
MAX_EMBED_REQUESTS = 2_048  # the texts one batchEmbedContents may carry
SCHEMA_TYPES = ("OBJECT", "ARRAY", "STRING", "NUMBER", "INTEGER", "BOOLEAN", "NULL")


def invalid(message: str) -> RelayError:
    return RelayError(400, message, type="invalid_request_error", code="invalid_gemini_request")


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid(f"{what} must be a JSON object")
    return value


def _list(value: Any, what: str, cap: int = MAX_CONTENTS) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(f"{what} must be a list")
    if len(value) > cap:
        raise invalid(f"{what} has more than {cap} items")
    return value


def lower_schema(schema: Any) -> Any:
    """Gemini's Schema spells types in capitals (`OBJECT`); JSON Schema, which OpenAI reads, in lower case."""
    if isinstance(schema, dict):
        out = {}
        for key, value in schema.items():
            if key == "type" and isinstance(value, str) and value.upper() in SCHEMA_TYPES:
                out[key] = value.lower()
            else:
                out[key] = lower_schema(value)
        return out
    if isinstance(schema, list):
        return [lower_schema(item) for item in schema]
    return schema


def _text_parts(value: Any, what: str) -> str:
    """The text of a `systemInstruction`: a string, a Content, or a list of parts."""
    if isinstance(value, str):
        return value
    parts = value.get("parts") if isinstance(value, dict) else value
    texts = []
    for part in _list(parts, f"{what}.parts"):
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            texts.append(part["text"])
    return "\n".join(texts)


class _Calls:
    """Tool-call ids: Gemini may omit them, so a functionResponse is matched to the oldest open
    call of the same name (or to its own `id` when the client sent one)."""

    def __init__(self) -> None:
        self.count = 0
        self.open: list[tuple[str, str]] = []  # (id, name)

    def new(self, name: str, given: Any) -> str:
        self.count += 1
        call_id = given if isinstance(given, str) and given else f"call_{self.count}"
        self.open.append((call_id, name))
        return call_id

    def answer(self, name: str, given: Any) -> str:
        if isinstance(given, str) and given:
            self.open = [c for c in self.open if c[0] != given]
            return given
        for index, (call_id, open_name) in enumerate(self.open):
            if open_name == name:
                del self.open[index]
                return call_id
        self.count += 1
        return f"call_{self.count}"


def _user_part(part: dict[str, Any]) -> dict[str, Any] | None:
    if isinstance(part.get("text"), str):
        return {"type": "text", "text": part["text"]}
    inline = part.get("inlineData") or part.get("inline_data")
    if isinstance(inline, dict):
        mime = inline.get("mimeType") or inline.get("mime_type") or "image/png"
        data = inline.get("data")
        if not isinstance(data, str) or not isinstance(mime, str):
            raise invalid("inlineData needs mimeType and base64 data")
        return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}
    file_data = part.get("fileData") or part.get("file_data")
    if isinstance(file_data, dict):
        uri = file_data.get("fileUri") or file_data.get("file_uri")
        if not isinstance(uri, str) or not uri:
            raise invalid("fileData needs a fileUri")
        return {"type": "image_url", "image_url": {"url": uri}}
    return None


def _messages(contents: list[Any], calls: _Calls) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for index, content in enumerate(contents):
        content = _object(content, f"contents[{index}]")
        role = content.get("role") or "user"
        parts = [p for p in _list(content.get("parts"), f"contents[{index}].parts") if isinstance(p, dict)]
        if role == "model":
            text = "".join(p["text"] for p in parts if isinstance(p.get("text"), str) and not p.get("thought"))
            tool_calls = []
            for part in parts:
                call = part.get("functionCall") or part.get("function_call")
                if isinstance(call, dict):
                    name = str(call.get("name") or "")
                    args = call.get("args") if isinstance(call.get("args"), dict) else {}
                    tool_calls.append(
                        {
                            "id": calls.new(name, call.get("id")),
                            "type": "function",
                            "function": {"name": name, "arguments": orjson.dumps(args).decode()},
                        }
                    )
            message: dict[str, Any] = {"role": "assistant", "content": text or (None if tool_calls else "")}
            if tool_calls:
                message["tool_calls"] = tool_calls
            messages.append(message)
            continue
        if role not in ("user", "function", "tool"):
            raise invalid(f"contents[{index}].role must be user or model")
        user_parts: list[dict[str, Any]] = []
        for part in parts:
            result = part.get("functionResponse") or part.get("function_response")
            if isinstance(result, dict):
                name = str(result.get("name") or "")
                payload = result.get("response")
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": calls.answer(name, result.get("id")),
                        "content": orjson.dumps(payload if payload is not None else {}).decode(),
                    }
                )
                continue
            converted = _user_part(part)
            if converted is not None:
                user_parts.append(converted)
        if user_parts:
            only_text = all(p["type"] == "text" for p in user_parts)
            messages.append({"role": "user", "content": "".join(p["text"] for p in user_parts) if only_text else user_parts})
    return messages


def _tools(tools: list[Any]) -> list[dict[str, Any]]:
    out = []
    for tool in tools:
        if not isinstance(tool, dict):
            continue
        declarations = tool.get("functionDeclarations") or tool.get("function_declarations")
        for declaration in _list(declarations, "tools.functionDeclarations"):
            if not isinstance(declaration, dict) or not isinstance(declaration.get("name"), str):
                raise invalid("a function declaration needs a name")
            function: dict[str, Any] = {"name": declaration["name"]}
            if isinstance(declaration.get("description"), str):
                function["description"] = declaration["description"]
            schema = declaration.get("parametersJsonSchema") or declaration.get("parameters")
            if isinstance(schema, dict):
                function["parameters"] = lower_schema(schema)
            out.append({"type": "function", "function": function})
    return out


def _tool_choice(config: Any) -> Any:
    calling = config.get("functionCallingConfig") if isinstance(config, dict) else None
    if not isinstance(calling, dict):
        return None
    mode = str(calling.get("mode") or "").upper()
    allowed = calling.get("allowedFunctionNames")
    if mode == "NONE":
        return "none"
    if mode == "ANY":
        if isinstance(allowed, list) and len(allowed) == 1 and isinstance(allowed[0], str):
            return {"type": "function", "function": {"name": allowed[0]}}
        return "required"
    if mode == "AUTO":
        return "auto"
    return None


_CONFIG_FIELDS = {
    "temperature": "temperature",
    "topP": "top_p",
    "maxOutputTokens": "max_tokens",
    "candidateCount": "n",
    "presencePenalty": "presence_penalty",
    "frequencyPenalty": "frequency_penalty",
    "seed": "seed",
}


def _generation(config: dict[str, Any], body: dict[str, Any]) -> None:
    for gemini_name, openai_name in _CONFIG_FIELDS.items():
        if config.get(gemini_name) is not None:
            body[openai_name] = config[gemini_name]
    stop = config.get("stopSequences")
    if isinstance(stop, list) and stop:
        body["stop"] = [s for s in stop if isinstance(s, str)]
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if isinstance(schema, dict):
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": lower_schema(schema)},
        }
    elif config.get("responseMimeType") == "application/json":
        body["response_format"] = {"type": "json_object"}


def chat_body(model: str, request: Any, stream: bool) -> dict[str, Any]:
    """A GenerateContentRequest -> an OpenAI chat completions body for `model`."""
    request = _object(request, "request body")
    calls = _Calls()
    messages: list[dict[str, Any]] = []
    system = request.get("systemInstruction") or request.get("system_instruction")
    if system:
        text = _text_parts(system, "systemInstruction")
        if text:
            messages.append({"role": "system", "content": text})
    messages.extend(_messages(_list(request.get("contents"), "contents"), calls))
    if not any(m["role"] != "system" for m in messages):
        raise invalid("contents is required")
    body: dict[str, Any] = {"model": model, "messages": messages}
    tools = _tools(_list(request.get("tools"), "tools"))
    if tools:
        body["tools"] = tools
        choice = _tool_choice(request.get("toolConfig") or request.get("tool_config"))
        if choice is not None:
            body["tool_choice"] = choice
    config = request.get("generationConfig") or request.get("generation_config")
    if config is not None:
        _generation(_object(config, "generationConfig"), body)
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}  # Gemini's last chunk carries usageMetadata
    return body


def count_body(model: str, request: Any) -> dict[str, Any]:
    """countTokens takes `contents` (and tools, systemInstruction) or a whole `generateContentRequest`."""
    request = _object(request, "request body")
    inner = request.get("generateContentRequest") or request.get("generate_content_request")
    return chat_body(model, inner if inner is not None else request, stream=False)


def _embed_text(request: Any, what: str) -> str:
    request = _object(request, what)
    content = _object(request.get("content"), f"{what}.content")
    texts = [
        p["text"] for p in _list(content.get("parts"), f"{what}.content.parts") if isinstance(p, dict) and isinstance(p.get("text"), str)
    ]
    if not texts:
        raise invalid(f"{what}.content needs a text part")
    return "".join(texts)


def embed_body(model: str, request: Any, batch: bool) -> dict[str, Any]:
    """embedContent (one text) or batchEmbedContents (`requests`) -> an OpenAI embeddings body."""
    if not batch:
        body: dict[str, Any] = {"model": model, "input": _embed_text(request, "request body")}
        dimensions = request.get("outputDimensionality")
    else:
        requests = _list(_object(request, "request body").get("requests"), "requests", MAX_EMBED_REQUESTS)
        if not requests:
            raise invalid("requests is required")
        body = {"model": model, "input": [_embed_text(r, f"requests[{i}]") for i, r in enumerate(requests)]}
        first = requests[0]
        dimensions = first.get("outputDimensionality") if isinstance(first, dict) else None
    if isinstance(dimensions, int) and not isinstance(dimensions, bool) and dimensions > 0:
        body["dimensions"] = dimensions
    return body
