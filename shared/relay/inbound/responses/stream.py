"""chat.completion.chunk payloads -> Responses stream events, in OpenAI's order:

response.created, response.in_progress; per output item: output_item.added, then for a message
content_part.added, output_text.delta…, output_text.done, content_part.done; for a function call
function_call_arguments.delta…, function_call_arguments.done; for reasoning the summary events;
then output_item.done; finally response.completed (or response.incomplete when the answer hit its
length limit or a content filter, response.failed when the stream broke off or carried an error).
Every event has a sequence_number counting from 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.relay.inbound.responses.answer import as_dict, finish, item_id, shell, usage_object
from shared.relay.inbound.responses.errors import failure_error
from shared.relay.types import Usage

Event = dict[str, Any]


@dataclass
class _Item:
    """One output item being streamed."""

    output_index: int
    item: dict[str, Any]
    text: list[str] = field(default_factory=list)  # text, summary or arguments so far


class ResponsesStream:
    """Converts one chat stream; feed it chunk dicts, then call `end` (or `fail`)."""

    def __init__(self, request: dict[str, Any], response_id: str, model: str) -> None:
        self.response = shell(request, response_id, model, "in_progress")
        self.usage: Usage | None = None
        self.finish_reason: str | None = None
        self.ended = False
        self._seq = 0
        self._items: list[_Item] = []
        self._message: _Item | None = None
        self._reasoning: _Item | None = None
        self._tools: dict[int, _Item] = {}

    def _event(self, kind: str, **fields: Any) -> Event:
        event = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return event

    def _snapshot(self) -> dict[str, Any]:
        return {**self.response, "output": [entry.item for entry in self._items]}

    def start(self) -> list[Event]:
        return [self._event("response.created", response=self._snapshot()), self._event("response.in_progress", response=self._snapshot())]

    # -- chat chunks ------------------------------------------------------------------------------

    def feed(self, chunk: dict[str, Any]) -> list[Event]:
        if isinstance(chunk.get("model"), str) and chunk["model"]:
            self.response["model"] = chunk["model"]
        if isinstance(chunk.get("error"), dict):
            return self.fail(chunk["error"])
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            prompt, completion = _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
            if prompt or completion:
                self.usage = Usage(prompt, completion, prompt + completion)
        events: list[Event] = []
        for choice in _list(chunk.get("choices")):
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = as_dict(choice.get("delta"))
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                events += self._reasoning_delta(reasoning)
            content = delta.get("content")
            if isinstance(content, str) and content:
                events += self._text_delta(content)
            for call in _list(delta.get("tool_calls")):
                if isinstance(call, dict):
                    events += self._tool_delta(call)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])
        return events

    def _open(self, item: dict[str, Any]) -> tuple[_Item, Event]:
        entry = _Item(len(self._items), item)
        self._items.append(entry)
        return entry, self._event("response.output_item.added", output_index=entry.output_index, item=dict(item))

    def _reasoning_delta(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self._reasoning is None:
            self._reasoning, added = self._open({"id": item_id("rs"), "type": "reasoning", "summary": []})
            events.append(added)
            events.append(
                self._event(
                    "response.reasoning_summary_part.added",
                    item_id=self._reasoning.item["id"],
                    output_index=self._reasoning.output_index,
                    summary_index=0,
                    part={"type": "summary_text", "text": ""},
                )
            )
        entry = self._reasoning
        entry.text.append(text)
        events.append(
            self._event(
                "response.reasoning_summary_text.delta",
                item_id=entry.item["id"],
                output_index=entry.output_index,
                summary_index=0,
                delta=text,
            )
        )
        return events

    def _text_delta(self, text: str) -> list[Event]:
        events = self._close_reasoning()
        if self._message is None:
            item = {"id": item_id("msg"), "type": "message", "status": "in_progress", "role": "assistant", "content": []}
            self._message, added = self._open(item)
            events.append(added)
            events.append(
                self._event(
                    "response.content_part.added",
                    item_id=item["id"],
                    output_index=self._message.output_index,
                    content_index=0,
                    part={"type": "output_text", "text": "", "annotations": [], "logprobs": []},
                )
            )
        entry = self._message
        entry.text.append(text)
        events.append(
            self._event(
                "response.output_text.delta",
                item_id=entry.item["id"],
                output_index=entry.output_index,
                content_index=0,
                delta=text,
                logprobs=[],
            )
        )
        return events

    def _tool_delta(self, call: dict[str, Any]) -> list[Event]:
        index = call.get("index", 0)
        index = index if isinstance(index, int) else 0
        function = as_dict(call.get("function"))
        events: list[Event] = []
        entry = self._tools.get(index)
        if entry is None:
            events += self._close_reasoning() + self._close_message()
            item = {
                "id": item_id("fc"),
                "type": "function_call",
                "status": "in_progress",
                "call_id": str(call.get("id") or item_id("call")),
                "name": str(function.get("name") or ""),
                "arguments": "",
            }
            entry, added = self._open(item)
            self._tools[index] = entry
            events.append(added)
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            entry.text.append(arguments)
            events.append(
                self._event(
                    "response.function_call_arguments.delta", item_id=entry.item["id"], output_index=entry.output_index, delta=arguments
                )
            )
        return events

    # -- closing items ----------------------------------------------------------------------------

    def _close_reasoning(self) -> list[Event]:
        entry, self._reasoning = self._reasoning, None
        if entry is None:
            return []
        text = "".join(entry.text)
        part = {"type": "summary_text", "text": text}
        entry.item["summary"] = [part]
        ids = {"item_id": entry.item["id"], "output_index": entry.output_index, "summary_index": 0}
        return [
            self._event("response.reasoning_summary_text.done", **ids, text=text),
            self._event("response.reasoning_summary_part.done", **ids, part=part),
            self._event("response.output_item.done", output_index=entry.output_index, item=entry.item),
        ]

    def _close_message(self) -> list[Event]:
        entry, self._message = self._message, None
        if entry is None:
            return []
        text = "".join(entry.text)
        part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
        entry.item.update(status="completed", content=[part])
        ids = {"item_id": entry.item["id"], "output_index": entry.output_index, "content_index": 0}
        return [
            self._event("response.output_text.done", **ids, text=text, logprobs=[]),
            self._event("response.content_part.done", **ids, part=part),
            self._event("response.output_item.done", output_index=entry.output_index, item=entry.item),
        ]

    def _close_tools(self) -> list[Event]:
        events: list[Event] = []
        for entry in sorted(self._tools.values(), key=lambda e: e.output_index):
            arguments = "".join(entry.text)
            entry.item.update(status="completed", arguments=arguments)
            events.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=entry.item["id"],
                    output_index=entry.output_index,
                    name=entry.item["name"],
                    arguments=arguments,
                )
            )
            events.append(self._event("response.output_item.done", output_index=entry.output_index, item=entry.item))
        self._tools = {}
        return events

    def text(self) -> str:
        """Everything the model wrote (text, reasoning, arguments), to count when upstream reports no usage."""
        return "".join(part for entry in self._items for part in entry.text)

    # -- the end ----------------------------------------------------------------------------------

    def end(self, usage: Usage | None = None) -> list[Event]:
        """The closing events once the chat stream is over; `usage` when the stream reported none.
        A stream that ended without a finish_reason broke off: the response failed."""
        if self.ended:
            return []
        if self.finish_reason is None:
            return self.fail({"code": "server_error", "message": "the upstream stream ended before the answer was complete"})
        events = self._close_reasoning() + self._close_message() + self._close_tools()
        self.ended = True
        finish(self.response, self.finish_reason)
        self.response["usage"] = usage_object(self.usage or usage)
        kind = "response.completed" if self.response["status"] == "completed" else "response.incomplete"
        events.append(self._event(kind, response=self._snapshot()))
        return events

    def fail(self, error: Any) -> list[Event]:
        if self.ended:
            return []
        self.ended = True
        self.response.update(status="failed", error=failure_error(error), usage=usage_object(self.usage))
        return [self._event("response.failed", response=self._snapshot())]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _list(value: Any) -> list[Any]:
    """Upstream chunks pass through the chat pipeline unchecked: a list field of another type is empty."""
    return value if isinstance(value, list) else []
