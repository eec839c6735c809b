"""Cloudflare Workers AI URLs and bodies (docs/one-api-compat.md §5.8, Cloudflare): account-scoped OpenAI-compatible
paths for chat and embeddings, the native /run/{model} for completions."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from shared.relay import modes
from shared.relay.adaptors.common import conversion_error, path_segment, unsupported_mode
from shared.relay.types import RelayError, RelayMeta

GATEWAY = "https://gateway.ai.cloudflare.com"
COMPLETION_FIELDS = ("max_tokens", "temperature", "top_p", "seed")


def is_gateway(base_url: str) -> bool:
    """An AI Gateway URL for Workers AI is the prefix itself (it already names the account)."""
    return base_url.startswith(GATEWAY) and base_url.endswith("/workers-ai")


def prefix(meta: RelayMeta) -> str:
    if is_gateway(meta.base_url):
        return meta.base_url
    account = meta.config.get("user_id", "")
    if not account:
        raise RelayError(500, "get request url failed: the channel has no Cloudflare account ID", code="do_request_failed")
    return f"{meta.base_url}/client/v4/accounts/{path_segment(account)}/ai"


def model_path(model: str) -> str:
    """`@cf/meta/llama-3-8b-instruct` keeps its slashes (they are the model's path); nothing else
    that could leave the path (`?`, `#`, `%`, `..`) survives."""
    parts = model.split("/")
    if not model or any(part in ("", ".", "..") for part in parts):
        raise conversion_error(f"invalid Cloudflare model name: {model[:100]}")
    return "/".join(quote(part, safe="@") for part in parts)  # `@` is a plain path character (RFC 3986)


def request_url(meta: RelayMeta) -> str:
    base = prefix(meta)
    if meta.mode == modes.CHAT:
        return f"{base}/v1/chat/completions"
    if meta.mode == modes.EMBEDDINGS:
        return f"{base}/v1/embeddings"
    if meta.mode == modes.COMPLETIONS:
        run = "" if is_gateway(meta.base_url) else "/run"
        return f"{base}{run}/{model_path(meta.actual_model)}"
    raise unsupported_mode(meta.mode)


def completion_body(body: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI completions request -> Workers AI's text-generation input."""
    prompt = body.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1:
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise conversion_error("prompt must be a string")
    converted: dict[str, Any] = {"prompt": prompt}
    converted.update({name: body[name] for name in COMPLETION_FIELDS if body.get(name) is not None})
    if body.get("stream"):
        converted["stream"] = True
    return converted
