"""The Zhipu adaptor (channel type 16): `glm-*` models, embeddings and CogView images on the OpenAI-like v4 API,
older models on v3's model-api; every call carries the JWT signed from the `id.secret` key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors.common import conversion_error, path_segment, unsupported_mode
from shared.relay.adaptors.errors import upstream_error
from shared.relay.adaptors.openai import response as openai_response
from shared.relay.adaptors.openai.stream import OpenAIStream
from shared.relay.adaptors.zhipu import v3
from shared.relay.adaptors.zhipu.jwt import token_for
from shared.relay.types import ConvertedResponse, RelayError, RelayMeta, StreamConverter, UpstreamRequest


def uses_v4(meta: RelayMeta) -> bool:
    return meta.mode != modes.CHAT or meta.actual_model.startswith("glm-")


def _clamp(body: dict[str, Any], key: str) -> None:
    value = body.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        body[key] = min(max(value, 0), 1)  # v4 refuses values outside [0, 1]


def _object(body: dict[str, Any] | None, raw: bytes) -> dict[str, Any]:
    if body is not None:
        return body
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise conversion_error("request body is not JSON") from None
    if not isinstance(parsed, dict):
        raise conversion_error("request body is not a JSON object")
    return parsed


def parse_error(status: int, body: bytes) -> RelayError:
    """v4's OpenAI-shaped `error` object, or v3's `{code, msg, success: false}`."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and doc.get("success") is False:
        return v3.error_of(doc.get("code"), str(doc.get("msg") or ""))
    return upstream_error(status if status >= 400 else 500, body)


class ZhipuAdaptor:
    name = "zhipu"

    upstream_error = staticmethod(parse_error)

    def build_request(self, meta: RelayMeta, body: dict[str, Any] | None, raw: bytes) -> UpstreamRequest:
        if meta.mode not in (modes.CHAT, modes.EMBEDDINGS, modes.IMAGES):
            raise unsupported_mode(meta.mode)
        doc = dict(_object(body, raw))
        headers = {"Content-Type": "application/json", "Authorization": token_for(meta.api_key)}
        if meta.mode == modes.IMAGES:  # CogView: OpenAI's answer shape, relayed as it comes
            image: dict[str, Any] = {"model": meta.actual_model, "prompt": doc.get("prompt")}
            if isinstance(doc.get("user"), str) and doc["user"]:
                image["user_id"] = doc["user"]
            return UpstreamRequest("POST", f"{meta.base_url}/api/paas/v4/images/generations", headers, orjson.dumps(image))
        if meta.mode == modes.EMBEDDINGS:
            text = doc.get("input")
            if isinstance(text, list):
                if len(text) != 1:
                    raise conversion_error("Zhipu embeddings take exactly one input")
                text = text[0]
            if not isinstance(text, str):
                raise conversion_error("field input must be a string")
            payload = {"model": meta.actual_model, "input": text}
            return UpstreamRequest("POST", f"{meta.base_url}/api/paas/v4/embeddings", headers, orjson.dumps(payload))
        if uses_v4(meta):
            _clamp(doc, "temperature")
            _clamp(doc, "top_p")
            return UpstreamRequest("POST", f"{meta.base_url}/api/paas/v4/chat/completions", headers, orjson.dumps(doc))
        if meta.is_stream:
            headers["Accept"] = "text/event-stream"
        method = "sse-invoke" if meta.is_stream else "invoke"
        url = f"{meta.base_url}/api/paas/v3/model-api/{path_segment(meta.actual_model)}/{method}"
        return UpstreamRequest("POST", url, headers, orjson.dumps(v3.convert_request(doc)))

    def convert_response(self, meta: RelayMeta, status: int, headers: Mapping[str, str], body: bytes) -> ConvertedResponse:
        if uses_v4(meta):
            return openai_response.convert(meta.mode, status, headers, body)
        return v3.convert_response(meta, status, body)

    def stream_converter(self, meta: RelayMeta) -> StreamConverter:
        if uses_v4(meta):
            return OpenAIStream(meta.mode)
        return v3.V3Stream(meta)
