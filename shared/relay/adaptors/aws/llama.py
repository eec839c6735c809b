"""Meta Llama 3 on Bedrock: OpenAI chat -> Llama 3's prompt format, and its answers back.

Bedrock's Llama body is `{"prompt", "max_gen_len", "temperature", "top_p"}` and its answer (whole,
or each stream chunk) `{"generation", "prompt_token_count", "generation_token_count",
"stop_reason"}`; the last stream chunk also carries `amazon-bedrock-invocationMetrics`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from shared.relay.adaptors.common import content_text, conversion_error, member, now, sse_json
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, Usage

STOP = {"stop": "stop", "length": "length"}


def convert(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise conversion_error("field messages is required")
    prompt = ["<|begin_of_text|>"]
    for message in messages:
        if not isinstance(message, dict):
            raise conversion_error("invalid message")
        role = message.get("role") if message.get("role") in ("system", "user", "assistant") else "user"
        prompt.append(f"<|start_header_id|>{role}<|end_header_id|>\n\n{content_text(message.get('content'))}<|eot_id|>")
    prompt.append("<|start_header_id|>assistant<|end_header_id|>\n\n")
    request: dict[str, Any] = {"prompt": "".join(prompt)}
    if body.get("max_tokens"):
        request["max_gen_len"] = body["max_tokens"]
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            request[key] = body[key]
    return request


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def convert_response(meta: RelayMeta, status: int, body: bytes) -> ConvertedResponse:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RelayError(500, f"unmarshal response body failed: {exc}", code="unmarshal_response_body_failed") from exc
    if not isinstance(doc, dict):
        raise RelayError(500, "unexpected upstream response", code="unmarshal_response_body_failed")
    text = str(doc.get("generation") or "")
    prompt, completion = _count(doc.get("prompt_token_count")), _count(doc.get("generation_token_count"))
    usage = Usage(prompt, completion, prompt + completion)
    answer = {
        "id": f"chatcmpl-{now()}",
        "object": "chat.completion",
        "created": now(),
        "model": meta.actual_model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": STOP.get(str(doc.get("stop_reason")))}
        ],
        "usage": usage.as_dict(),
    }
    return ConvertedResponse(status=status, body=orjson.dumps(answer), usage=usage, text=text)


class LlamaStream:
    """Bedrock Llama chunks (decoded into `data:` lines by BedrockStream) -> chat.completion.chunk."""

    def __init__(self, meta: RelayMeta) -> None:
        self.usage: Usage | None = None
        self.text_parts: list[str] = []
        self.saw_done = False
        self._model = meta.actual_model
        self._created = now()
        self._prompt = 0
        self._completion = 0

    def feed(self, line: bytes) -> Iterable[bytes]:
        chunk = sse_json(line)
        if chunk is None:
            return ()
        if chunk.get("type") == "error":  # an event-stream exception, as BedrockStream reports it
            return (orjson.dumps({"error": member(chunk, "error")}),)
        self._prompt = _count(chunk.get("prompt_token_count")) or self._prompt
        self._completion = max(self._completion, _count(chunk.get("generation_token_count")))
        metrics = member(chunk, "amazon-bedrock-invocationMetrics")
        self._prompt = _count(metrics.get("inputTokenCount")) or self._prompt
        self._completion = _count(metrics.get("outputTokenCount")) or self._completion
        if self._prompt or self._completion:
            self.usage = Usage(self._prompt, self._completion, self._prompt + self._completion)
        text = chunk.get("generation")
        text = text if isinstance(text, str) else ""
        if text:
            self.text_parts.append(text)
        finish = STOP.get(str(chunk.get("stop_reason"))) if chunk.get("stop_reason") else None
        if not text and finish is None:
            return ()
        return (
            orjson.dumps(
                {
                    "id": f"chatcmpl-{self._created}",
                    "object": "chat.completion.chunk",
                    "created": self._created,
                    "model": self._model,
                    "choices": [{"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}],
                }
            ),
        )

    def finish(self) -> Iterable[bytes]:
        return ()
