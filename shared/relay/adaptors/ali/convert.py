"""OpenAI chat/embeddings <-> DashScope's native text-generation and text-embedding bodies."""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay.adaptors.common import content_text, conversion_error, member, now
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage

INTERNET_SUFFIX = "-internet"  # One API's convention: `qwen-max-internet` = qwen-max with web search
TOP_P_MAX = 0.9999  # DashScope refuses top_p >= 1


def upstream_model(model: str) -> tuple[str, bool]:
    """The model DashScope is asked for, and whether web search is on."""
    if model.endswith(INTERNET_SUFFIX):
        return model[: -len(INTERNET_SUFFIX)], True
    return model, False


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def chat_request(meta: RelayMeta, body: dict[str, Any]) -> dict[str, Any]:
    messages = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        converted: dict[str, Any] = {
            "role": str(message.get("role") or "user").lower(),
            "content": content_text(message.get("content")),
        }
        for key in ("name", "tool_calls", "tool_call_id"):
            if message.get(key) is not None:
                converted[key] = message[key]
        messages.append(converted)
    model, search = upstream_model(meta.actual_model)
    parameters: dict[str, Any] = {"result_format": "message", "incremental_output": bool(meta.is_stream)}
    if search:
        parameters["enable_search"] = True
    for key in ("seed", "max_tokens", "temperature", "top_k"):
        if _number(body.get(key)):
            parameters[key] = body[key]
    if _number(body.get("top_p")):
        parameters["top_p"] = min(body["top_p"], TOP_P_MAX)
    if isinstance(body.get("tools"), list) and body["tools"]:
        parameters["tools"] = body["tools"]
    return {"model": model, "input": {"messages": messages}, "parameters": parameters}


def embeddings_request(meta: RelayMeta, body: dict[str, Any]) -> dict[str, Any]:
    texts = body.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise conversion_error("field input must be a string or a list of strings")
    return {"model": meta.actual_model, "input": {"texts": texts}}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_of(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None
    prompt, completion = _int(raw.get("input_tokens")), _int(raw.get("output_tokens"))
    total = _int(raw.get("total_tokens")) or prompt + completion
    if not prompt and not completion and total:  # embeddings report the total only
        prompt = total
    return Usage(prompt, completion, total)


def error_of(status: int, doc: dict[str, Any]) -> RelayError:
    """DashScope's `{code, message, request_id}`; InvalidApiKey is an authentication failure."""
    code = doc.get("code")
    kind = "authentication_error" if code == "InvalidApiKey" else "ali_error"
    return RelayError(status if status >= 400 else 500, str(doc.get("message") or code or "DashScope error"), type=kind, code=code)


def _parse(body: bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    return doc


def finish_reason(value: Any) -> str | None:
    return value if isinstance(value, str) and value and value != "null" else None


def chat_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    doc = _parse(body)
    if doc.get("code"):
        raise error_of(status, doc)
    choices = []
    texts = []
    for index, choice in enumerate(member(doc, "output").get("choices") or []):
        if not isinstance(choice, dict):
            continue
        message = member(choice, "message")
        text = content_text(message.get("content"))
        texts.append(text)
        out: dict[str, Any] = {"role": "assistant", "content": text}
        if isinstance(message.get("tool_calls"), list):
            out["tool_calls"] = message["tool_calls"]
        choices.append({"index": index, "message": out, "finish_reason": finish_reason(choice.get("finish_reason"))})
    usage = usage_of(doc.get("usage")) or Usage()
    answer = {
        "id": f"chatcmpl-{doc.get('request_id') or ''}",
        "object": "chat.completion",
        "created": now(),
        "model": meta.actual_model,
        "choices": choices,
        "usage": usage.as_dict(),
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text="".join(texts))


def embeddings_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    doc = _parse(body)
    if doc.get("code"):
        raise error_of(status, doc)
    data = [
        {"object": "embedding", "index": _int(item.get("text_index")), "embedding": item.get("embedding") or []}
        for item in member(doc, "output").get("embeddings") or []
        if isinstance(item, dict)
    ]
    usage = usage_of(doc.get("usage")) or Usage()
    answer = {"object": "list", "data": data, "model": meta.actual_model, "usage": usage.as_dict()}
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage)
