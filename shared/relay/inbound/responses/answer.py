"""A chat completion answer -> the Responses `response` object (non-stream), and the parts of that
object the stream converter shares: the shell echoed from the request, output items, usage."""

from __future__ import annotations

import os
import time
from typing import Any

from shared.relay.types import Usage

# chat finish_reason -> (status, incomplete_details.reason)
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def item_id(prefix: str) -> str:
    return f"{prefix}_{os.urandom(16).hex()}"


def shell(request: dict[str, Any], response_id: str, model: str, status: str) -> dict[str, Any]:
    """The response object before any output, echoing the request as OpenAI does."""
    reasoning = as_dict(request.get("reasoning"))
    text = as_dict(request.get("text")) or {"format": {"type": "text"}}
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "model": model,
        "output": [],
        "parallel_tool_calls": request.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
        "store": False,  # converted answers are not stored (GET answers 404)
        "temperature": request.get("temperature"),
        "text": text,
        "tool_choice": request.get("tool_choice", "auto"),
        "tools": request.get("tools") or [],
        "top_p": request.get("top_p"),
        "truncation": "disabled",
        "usage": None,
        "user": request.get("user"),
        "metadata": request.get("metadata") or {},
    }


def usage_object(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }


def finish(response: dict[str, Any], finish_reason: str | None) -> None:
    """Set status and incomplete_details from the chat finish_reason."""
    reason = _INCOMPLETE.get(finish_reason or "")
    response["status"] = "incomplete" if reason else "completed"
    response["incomplete_details"] = {"reason": reason} if reason else None


def message_item(text: str, status: str = "completed", refusal: bool = False) -> dict[str, Any]:
    part = {"type": "refusal", "refusal": text} if refusal else {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"id": item_id("msg"), "type": "message", "status": status, "role": "assistant", "content": [part]}


def reasoning_item(text: str) -> dict[str, Any]:
    return {"id": item_id("rs"), "type": "reasoning", "summary": [{"type": "summary_text", "text": text}]}


def function_item(call_id: str, name: str, arguments: str, status: str = "completed") -> dict[str, Any]:
    return {"id": item_id("fc"), "type": "function_call", "status": status, "call_id": call_id, "name": name, "arguments": arguments}


def convert_answer(chat: dict[str, Any], request: dict[str, Any], response_id: str, usage: Usage | None) -> dict[str, Any]:
    """The whole Responses object for a whole chat completion answer."""
    response = shell(request, response_id, str(chat.get("model") or request.get("model") or ""), "completed")
    choices = chat.get("choices") if isinstance(chat.get("choices"), list) else []
    choice = as_dict(choices[0]) if choices else {}
    message = as_dict(choice.get("message"))
    output = response["output"]
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        output.append(reasoning_item(reasoning))
    content = message.get("content")
    if isinstance(content, list):
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    if isinstance(content, str) and content:
        output.append(message_item(content))
    if isinstance(message.get("refusal"), str) and message["refusal"]:
        output.append(message_item(message["refusal"], refusal=True))
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            output.append(
                function_item(str(call.get("id") or item_id("call")), str(function.get("name") or ""), str(function.get("arguments") or ""))
            )
    finish(response, choice.get("finish_reason"))
    response["usage"] = usage_object(usage)
    return response
