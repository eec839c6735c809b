"""URL, headers and body of an upstream call for every channel type served by the OpenAI adaptor."""

from __future__ import annotations

from typing import Any

import orjson

from shared.relay import modes
from shared.relay.adaptors import channel_types as ct
from shared.relay.adaptors.common import path_segment, unsupported_mode
from shared.relay.types import RelayMeta

CLOUDFLARE_GATEWAY = "https://gateway.ai.cloudflare.com"
OPENROUTER_HEADERS = {"HTTP-Referer": "https://github.com/songquanpeng/one-api", "X-Title": "One API"}


def full_url(base_url: str, path: str, channel_type: int) -> str:
    """Base URL + path, with the OpenAI-compatible and Cloudflare AI Gateway prefix rules."""
    if channel_type in (ct.OPENAI_COMPATIBLE, ct.GEMINI_OPENAI_COMPATIBLE):
        return base_url.removesuffix("/") + path.removeprefix("/v1")
    if base_url.startswith(CLOUDFLARE_GATEWAY):
        if channel_type == ct.OPENAI:
            return base_url + path.removeprefix("/v1")
        if channel_type == ct.AZURE:
            return base_url + path.removeprefix("/openai/deployments")
    return base_url + path


def _azure_url(meta: RelayMeta) -> str:
    version = path_segment(meta.config.get("api_version", ""))
    base = meta.base_url
    model = path_segment(meta.actual_model)
    if meta.mode == modes.IMAGES:
        return f"{base}/openai/deployments/{model}/images/generations?api-version={version}"
    # Audio keeps the mapped model as the deployment name; translations use the generic path.
    if meta.mode == modes.TRANSCRIPTION:
        return f"{base}/openai/deployments/{model}/audio/transcriptions?api-version={version}"
    if meta.mode == modes.SPEECH:
        return f"{base}/openai/deployments/{model}/audio/speech?api-version={version}"
    if meta.mode == modes.TRANSLATION:
        return full_url(base, meta.request_path, meta.channel_type)
    task = meta.request_path.split("?", 1)[0].removeprefix("/v1/")
    # Azure deployment names cannot contain dots: gpt-3.5-turbo is deployed as gpt-35-turbo.
    deployment = path_segment(meta.actual_model.replace(".", ""))
    return full_url(base, f"/openai/deployments/{deployment}/{task}?api-version={version}", meta.channel_type)


def _special_url(meta: RelayMeta) -> str | None:
    """Types with their own fixed chat/embedding paths; None for types without such rules."""
    base, mode, kind = meta.base_url, meta.mode, meta.channel_type
    if kind == ct.MINIMAX:
        if mode == modes.CHAT:
            return f"{base}/v1/text/chatcompletion_v2"
    elif kind == ct.DOUBAO:
        if mode == modes.CHAT:
            # Volcengine Ark "bot" applications have their own endpoint.
            if meta.actual_model.startswith("bot"):
                return f"{base}/api/v3/bots/chat/completions"
            return f"{base}/api/v3/chat/completions"
        if mode == modes.EMBEDDINGS:
            return f"{base}/api/v3/embeddings"
    elif kind == ct.NOVITA:
        if mode == modes.CHAT:
            return f"{base}/chat/completions"
    elif kind == ct.BAIDU_V2:
        if mode == modes.CHAT:
            return f"{base}/v2/chat/completions"
    elif kind == ct.ALI_BAILIAN:
        if mode == modes.CHAT:
            return f"{base}/compatible-mode/v1/chat/completions"
        if mode == modes.EMBEDDINGS:
            return f"{base}/compatible-mode/v1/embeddings"
    else:
        return None
    raise unsupported_mode(mode)


def request_url(meta: RelayMeta) -> str:
    if meta.channel_type == ct.AZURE:
        return _azure_url(meta)
    special = _special_url(meta)
    if special is not None:
        return special
    return full_url(meta.base_url, meta.request_path, meta.channel_type)


def request_headers(meta: RelayMeta, converted: bool) -> dict[str, str]:
    headers: dict[str, str] = {}
    content_type = meta.client_headers.get("content-type")
    if converted:
        headers["Content-Type"] = "application/json"
    elif content_type:
        headers["Content-Type"] = content_type  # multipart boundaries must survive pass-through
    accept = meta.client_headers.get("accept")
    if accept:
        headers["Accept"] = accept
    elif meta.is_stream:
        headers["Accept"] = "text/event-stream"
    if meta.channel_type == ct.AZURE:
        headers["api-key"] = meta.api_key
    else:
        headers["Authorization"] = f"Bearer {meta.api_key}"
    if meta.channel_type == ct.OPENROUTER:
        headers.update(OPENROUTER_HEADERS)
    return headers


def request_body(meta: RelayMeta, body: dict[str, Any]) -> bytes:
    """A converted request: re-serialised, and a stream always asks upstream for usage."""
    if body.get("stream") and meta.mode in (modes.CHAT, modes.COMPLETIONS):
        options = body.get("stream_options")
        body = {**body, "stream_options": {**(options if isinstance(options, dict) else {}), "include_usage": True}}
    return orjson.dumps(body)
