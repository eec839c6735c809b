"""The pre-step that turns remote image URLs in a chat body into data: URLs.

Providers such as Anthropic and Gemini want image bytes inline. Fetching is I/O, and user-supplied
URLs must go through the engine's hardened client (no private addresses, size and time caps), so the
engine calls `adaptor.prepare(body, user_content_client)` (Anthropic, Gemini), which runs
`inline_images(body, client.fetch)` before `build_request`; the conversions then only ever see data:
URLs and stay free of I/O.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

from shared.relay.types import RelayError

# fetch(url) -> (Content-Type, raw bytes); raise RelayError (or anything) when the URL is refused or fails.
ImageFetcher = Callable[[str], Awaitable[tuple[str, bytes]]]

_MAGIC = (
    (b"\x89PNG", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
)


def image_mime(content_type: str, data: bytes) -> str:
    """The image type to declare: the server's Content-Type without parameters, or sniffed from the
    bytes when the server says something generic (providers reject application/octet-stream)."""
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime.startswith("image/"):
        return mime
    for magic, sniffed in _MAGIC:
        if data.startswith(magic):
            return sniffed
    return "image/jpeg"


def _remote_image_parts(body: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict) or not isinstance(message.get("content"), list):
            continue
        for part in message["content"]:
            if not isinstance(part, dict) or part.get("type") != "image_url":
                continue
            value = part.get("image_url")
            url = value.get("url") if isinstance(value, dict) else value
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                found.append(part)
    return found


def has_remote_images(body: dict[str, Any] | None) -> bool:
    return body is not None and bool(_remote_image_parts(body))


async def inline_images(body: dict[str, Any], fetch: ImageFetcher) -> None:
    """Replace every http(s) `image_url` in `body["messages"]` by a data: URL, in place. Each distinct
    URL is fetched once, all concurrently. A failed fetch becomes RelayError(400, invalid_image_url)."""
    parts = _remote_image_parts(body)
    if not parts:
        return
    urls = list(dict.fromkeys(_url(part) for part in parts))

    async def one(url: str) -> str:
        try:
            mime, data = await fetch(url)
        except RelayError:
            raise
        except Exception as exc:  # the fetcher is the engine's: any failure means "this image is unusable"
            raise RelayError(
                400, f"failed to fetch image {url[:100]}: {exc}", type="invalid_request_error", code="invalid_image_url"
            ) from exc
        return f"data:{image_mime(mime, data)};base64,{base64.b64encode(data).decode('ascii')}"

    resolved = dict(zip(urls, await asyncio.gather(*(one(url) for url in urls)), strict=True))
    for part in parts:
        data_url = resolved[_url(part)]
        if isinstance(part.get("image_url"), dict):
            part["image_url"]["url"] = data_url
        else:
            part["image_url"] = {"url": data_url}


def _url(part: dict[str, Any]) -> str:
    value = part.get("image_url")
    url = value.get("url") if isinstance(value, dict) else value
    return url if isinstance(url, str) else ""


async def prepare_images(body: dict[str, Any], user_content: Any) -> None:
    """The `prepare` step of adaptors that need image bytes: inline remote image URLs through the
    node's hardened client (anything with `async fetch(url) -> (content_type, bytes)`); without one
    they are refused at build time."""
    if user_content is not None and has_remote_images(body):
        await inline_images(body, user_content.fetch)
