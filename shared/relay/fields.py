"""Type checks of the known fields of a text request, as One API's JSON decoding makes them.

One API decodes every text body into its `GeneralOpenAIRequest` struct (docs/one-api-compat.md §5.5); a known
field of the wrong JSON type fails that decoding with a 400 `invalid_text_request` whose message is
Go's: `json: cannot unmarshal string into Go struct field GeneralOpenAIRequest.temperature of type
float64`. Without these checks such a body would reach the adaptors (whose conversions assume the
types) and the upstream. `null` is always accepted (Go leaves the zero value). Unknown fields pass, and so does
`messages`, whose shape `validate` (shared.relay.text) answers with One API's own message.
"""

from __future__ import annotations

from typing import Any

from shared.relay.types import RelayError

# Go type names -> a check of the decoded JSON value.
_FLOAT, _INT, _BOOL, _STRING, _LIST, _OBJECT = "float64", "int", "bool", "string", "slice", "struct"

REQUEST_FIELDS: dict[str, str] = {
    "model": _STRING,
    "frequency_penalty": _FLOAT,
    "presence_penalty": _FLOAT,
    "temperature": _FLOAT,
    "top_p": _FLOAT,
    "seed": _FLOAT,
    "logprobs": _BOOL,
    "top_logprobs": _INT,
    "max_tokens": _INT,
    "max_completion_tokens": _INT,
    "n": _INT,
    "top_k": _INT,
    "dimensions": _INT,
    "num_ctx": _INT,
    "stream": _BOOL,
    "store": _BOOL,
    "parallel_tool_calls": _BOOL,
    "user": _STRING,
    "encoding_format": _STRING,
    "instruction": _STRING,
    "size": _STRING,
    "service_tier": _STRING,
    "quality": _STRING,
    "style": _STRING,
    "modalities": _LIST,
    "tools": _LIST,
    "stream_options": _OBJECT,
    "response_format": _OBJECT,
    "audio": _OBJECT,
}
MESSAGE_FIELDS: dict[str, str] = {
    "role": _STRING,
    "name": _STRING,
    "tool_call_id": _STRING,
    "tool_calls": _LIST,
}


def _json_kind(value: Any) -> str:
    """The JSON type word Go's error names for a value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


_PYTHON_TYPES: dict[str, tuple[type, ...]] = {
    _FLOAT: (int, float),
    _INT: (int,),
    _BOOL: (bool,),
    _STRING: (str,),
    _LIST: (list,),
    _OBJECT: (dict,),
}


def _fits(value: Any, go_type: str) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) and go_type != _BOOL:
        return False
    return isinstance(value, _PYTHON_TYPES[go_type])


def _refusal(value: Any, struct: str, path: str, go_type: str) -> RelayError:
    kind = _json_kind(value)
    if kind == "number":
        kind = f"number {value}"
    message = f"json: cannot unmarshal {kind} into Go struct field {struct}.{path} of type {go_type}"
    return RelayError(400, message, code="invalid_text_request")


def check_field_types(body: dict[str, Any]) -> None:
    """Raise a 400 `invalid_text_request` for the first known field whose JSON type is wrong."""
    for name, value in body.items():  # the body's few keys, not the table: this is the hot path
        go_type = REQUEST_FIELDS.get(name)
        if go_type is not None and not _fits(value, go_type):
            raise _refusal(value, "GeneralOpenAIRequest", name, go_type)
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if not isinstance(message, dict):
                continue  # validate() answers non-object messages with its own message
            for name, value in message.items():
                go_type = MESSAGE_FIELDS.get(name)
                if go_type is not None and not _fits(value, go_type):
                    raise _refusal(value, "Message", f"messages.{name}", go_type)
