"""A Responses request -> the chat completions request that carries the same conversation.

Only what chat completions can express is converted: messages (text, images), function tools and
their calls and outputs, instructions, sampling and output limits, reasoning effort and structured
output. Anything else (hosted tools, stored items, files) is refused with a 400 naming it, rather
than dropped: a silently missing tool or file would change the answer.
"""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay.inbound.responses.errors import invalid, previous_not_stored
from shared.relay.types import RelayError

MAX_INPUT_ITEMS = 10_000  # a conversation longer than this is refused (the body cap bounds it too)
MIN_OUTPUT_TOKENS = 16  # OpenAI's own lower bound for max_output_tokens
_ROLES = {"user": "user", "assistant": "assistant", "system": "system", "developer": "system"}
# Request fields with a chat equivalent of the same name and meaning.
_SAME = ("temperature", "top_p", "user", "parallel_tool_calls", "service_tier", "top_logprobs")
# Fields that ask the gateway for state or hosted features it does not have when converting.
_STATEFUL = ("conversation", "prompt")


def validate(body: Any) -> dict[str, Any]:
    """The checks every Responses request gets, whichever channel serves it."""
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model is required", "model")
    if "input" in body and not isinstance(body["input"], (str, list)):
        raise invalid("input must be a string or a list of input items", "input")
    if isinstance(body.get("input"), list) and len(body["input"]) > MAX_INPUT_ITEMS:
        raise invalid(f"input has more than {MAX_INPUT_ITEMS} items", "input")
    instructions = body.get("instructions")
    if instructions is not None and not isinstance(instructions, str):
        raise invalid("instructions must be a string", "instructions")
    limit = body.get("max_output_tokens")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or not MIN_OUTPUT_TOKENS <= limit <= 1073741823):
        raise invalid(f"max_output_tokens must be an integer of at least {MIN_OUTPUT_TOKENS}", "max_output_tokens")
    if not isinstance(body.get("stream", False), bool):
        raise invalid("stream must be a boolean", "stream")
    if body.get("background"):
        # A background response is billed when it ends, which only a later GET would show: refused
        # rather than served unbilled.
        raise invalid("background responses are not supported by this gateway", "background")
    previous = body.get("previous_response_id")
    if previous is not None and (not isinstance(previous, str) or not previous):
        raise invalid("previous_response_id must be a response id", "previous_response_id")
    tools = body.get("tools")
    if tools is not None and not (isinstance(tools, list) and all(isinstance(t, dict) for t in tools)):
        raise invalid("tools must be a list of tool objects", "tools")
    return body


def convert_request(body: dict[str, Any]) -> tuple[dict[str, Any], RelayError | None]:
    """The chat completions request for a validated Responses request, and the first feature it
    uses that chat completions cannot carry (None when the conversion is whole). What cannot be
    converted is left out of the chat request, which still serves to count the prompt; the request
    then needs an OpenAI or Azure channel. Malformed input raises RelayError 400."""
    problems: list[RelayError] = []
    for name in _STATEFUL:
        if body.get(name) is not None:
            problems.append(invalid(f"{name} is only supported on OpenAI and Azure channels", name))
    if body.get("previous_response_id") is not None:
        problems.append(previous_not_stored())
    messages: list[dict[str, Any]] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": body["instructions"]})
    raw_input = body.get("input")
    if isinstance(raw_input, str):
        messages.append({"role": "user", "content": raw_input})
    elif isinstance(raw_input, list):
        for index, item in enumerate(raw_input):
            _add_item(messages, item, index, problems)
    if not any(m["role"] != "system" for m in messages):
        if not problems:
            raise invalid("input is required", "input")
        messages.append({"role": "user", "content": ""})  # only counted: a passthrough channel serves it
    chat: dict[str, Any] = {"model": body["model"], "messages": messages}
    for name in _SAME:
        if body.get(name) is not None:
            chat[name] = body[name]
    if body.get("top_logprobs"):
        chat["logprobs"] = True
    if body.get("max_output_tokens") is not None:
        chat["max_tokens"] = body["max_output_tokens"]
    reasoning = body.get("reasoning")
    if isinstance(reasoning, dict) and isinstance(reasoning.get("effort"), str):
        chat["reasoning_effort"] = reasoning["effort"]
    response_format = _response_format(body.get("text"))
    if response_format is not None:
        chat["response_format"] = response_format
    tools = [tool for i, t in enumerate(body.get("tools") or []) if (tool := _tool(t, i, problems)) is not None]
    if tools:
        chat["tools"] = tools
    if body.get("tool_choice") is not None:
        choice = _tool_choice(body["tool_choice"], problems)
        if tools:  # a choice among no (convertible) tools means nothing to chat completions
            chat["tool_choice"] = choice
    if body.get("stream"):
        chat["stream"] = True
        chat["stream_options"] = {"include_usage": True}  # response.completed reports usage
    return chat, (problems[0] if problems else None)


def _add_item(messages: list[dict[str, Any]], item: Any, index: int, problems: list[RelayError]) -> None:
    where = f"input[{index}]"
    if not isinstance(item, dict):
        raise invalid(f"{where} must be an object", "input")
    kind = item.get("type", "message")
    if kind == "message":
        raw_role = item.get("role")
        role = _ROLES.get(raw_role) if isinstance(raw_role, str) else None
        if role is None:
            raise invalid(f"{where}.role must be one of user, assistant, system, developer", "input")
        content = _content(item.get("content"), where, role, problems)
        messages.append({"role": role, "content": content})
    elif kind == "function_call":
        call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments", "")
        if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, str):
            raise invalid(f"{where}: a function_call needs call_id, name and arguments as strings", "input")
        call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant" and "tool_calls" in last:
            last["tool_calls"].append(call)
        elif last is not None and last["role"] == "assistant":
            last["tool_calls"] = [call]
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        call_id, output = item.get("call_id"), item.get("output")
        if not isinstance(call_id, str):
            raise invalid(f"{where}: a function_call_output needs a call_id", "input")
        if isinstance(output, list):
            output = _text_of_parts(output, where, problems)
        elif not isinstance(output, str):
            output = orjson.dumps(output).decode()
        messages.append({"role": "tool", "tool_call_id": call_id, "content": output})
    elif kind == "reasoning":
        return  # a model's earlier reasoning: chat completions has no place to send it back
    else:
        problems.append(invalid(f"{where}: input items of type {kind!r} are only supported on OpenAI and Azure channels", "input"))


def _content(content: Any, where: str, role: str, problems: list[RelayError]) -> Any:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise invalid(f"{where}.content must be a string or a list of content parts", "input")
    parts: list[dict[str, Any]] = []
    for number, part in enumerate(content):
        if not isinstance(part, dict):
            raise invalid(f"{where}.content[{number}] must be an object", "input")
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            text = part.get("text")
            if not isinstance(text, str):
                raise invalid(f"{where}.content[{number}].text must be a string", "input")
            parts.append({"type": "text", "text": text})
        elif kind == "refusal":
            parts.append({"type": "text", "text": str(part.get("refusal") or "")})
        elif kind == "input_image":
            url = part.get("image_url")
            if not isinstance(url, str) or not url:
                problems.append(
                    invalid(f"{where}.content[{number}]: images by file_id are only supported on OpenAI and Azure channels", "input")
                )
                continue
            image: dict[str, Any] = {"url": url}
            if isinstance(part.get("detail"), str):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        else:
            problems.append(
                invalid(f"{where}.content[{number}]: content of type {kind!r} is only supported on OpenAI and Azure channels", "input")
            )
    if role != "user" and all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)  # assistant and system turns as plain text
    return parts


def _text_of_parts(parts: list[Any], where: str, problems: list[RelayError]) -> str:
    texts = []
    for part in parts:
        if isinstance(part, dict) and part.get("type") in ("input_text", "output_text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            problems.append(
                invalid(f"{where}: function_call_output parts other than text are only supported on OpenAI and Azure channels", "input")
            )
    return "".join(texts)


def _tool(tool: dict[str, Any], index: int, problems: list[RelayError]) -> dict[str, Any] | None:
    if tool.get("type") != "function":
        problems.append(
            invalid(f"tools[{index}]: tools of type {tool.get('type')!r} are only supported on OpenAI and Azure channels", "tools")
        )
        return None
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise invalid(f"tools[{index}].name is required", "tools")
    function: dict[str, Any] = {"name": name}
    for field in ("description", "parameters", "strict"):
        if tool.get(field) is not None:
            function[field] = tool[field]
    return {"type": "function", "function": function}


def _tool_choice(choice: Any, problems: list[RelayError]) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    if isinstance(choice, dict) and choice.get("type") == "function" and isinstance(choice.get("name"), str):
        return {"type": "function", "function": {"name": choice["name"]}}
    if isinstance(choice, dict) and isinstance(choice.get("type"), str):
        problems.append(invalid(f"tool_choice of type {choice['type']!r} is only supported on OpenAI and Azure channels", "tool_choice"))
        return "auto"
    raise invalid("tool_choice must be auto, none, required or a function", "tool_choice")


def _response_format(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, dict) or not isinstance(text.get("format"), dict):
        return None
    fmt = text["format"]
    kind = fmt.get("type")
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema = {k: fmt[k] for k in ("name", "schema", "strict", "description") if fmt.get(k) is not None}
        return {"type": "json_schema", "json_schema": schema}
    if kind in (None, "text"):
        return None
    raise invalid(f"text.format of type {kind!r} is not supported", "text")
