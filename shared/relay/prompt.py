"""The prompt estimate of a text request, without letting a large prompt stall the node.

Counting is CPU work proportional to the prompt (tiktoken took 6.5 s for an 8 MB prompt on this
machine, issue 12 item 6). So, in this order, before any token is counted:

1. `measure` walks the strings the count would cover (O(number of strings): a string's UTF-8 size is
   its length when it is ASCII) and gives their bytes and a lower bound of the count: a token is at
   most MAX_TOKEN_BYTES bytes, so a string of n bytes is at least ceil(n / MAX_TOKEN_BYTES) tokens.
2. Over MAX_PROMPT_BYTES the request is refused (413).
3. The caller checks the balances against the reservation this lower bound implies: a request that
   cannot afford even that is refused without counting, with the answer counting would have led to.
4. A prompt of INLINE_PROMPT_BYTES or more is counted in a small thread pool (tiktoken's encoder
   releases the GIL), so the event loop keeps serving other requests and /healthz; smaller ones are
   counted inline, where a thread hop would cost more than the count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from shared.billing import tokenizer
from shared.relay import modes
from shared.relay.types import RelayError

MAX_TOKEN_BYTES = 128  # the longest token of cl100k_base and o200k_base (tests/security/test_prompt_flood.py checks)
INLINE_PROMPT_BYTES = 16 * 1024  # tiktoken counts this in well under a millisecond for ordinary text
APPROXIMATE_RATIO = 0.38  # ApproximateTokenEnabled: int(bytes × 0.38) per string (shared.billing.tokenizer)


@dataclass(frozen=True)
class PromptSize:
    text_bytes: int  # UTF-8 bytes of every string the count covers
    work_bytes: int  # text plus image URLs (data: URLs are decoded to size the image)
    min_tokens: int  # a lower bound of the tiktoken count
    min_tokens_approximate: int  # the same under ApproximateTokenEnabled

    def lower_bound(self, approximate: bool) -> int:
        return self.min_tokens_approximate if approximate else self.min_tokens


def utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def _size(strings: list[str], work: int, overhead: int) -> PromptSize:
    text = tokens = approximate = 0
    for string in strings:
        n = utf8_size(string)
        text += n
        tokens += -(-n // MAX_TOKEN_BYTES)
        approximate += int(n * APPROXIMATE_RATIO)
    return PromptSize(text, text + work, tokens + overhead, approximate + overhead)


def measure(mode: int, body: Mapping[str, Any]) -> PromptSize:
    """The strings `shared.billing.tokenizer` counts for this mode, measured without counting."""
    strings: list[str] = []
    if mode == modes.CHAT:
        messages = body.get("messages")
        overhead = 3  # the reply's priming
        images = 0
        for message in messages if isinstance(messages, list) else ():
            if not isinstance(message, dict):
                continue
            overhead += 2  # 3 per message, minus 1 for a name under gpt-3.5-turbo-0301
            content = message.get("content")
            if isinstance(content, str):
                strings.append(content)
            elif isinstance(content, list):
                for part in content:
                    if not isinstance(part, dict):
                        continue
                    if part.get("type") == "text" and isinstance(part.get("text"), str):
                        strings.append(part["text"])
                    elif isinstance(part.get("image_url"), dict) and isinstance(part["image_url"].get("url"), str):
                        images += len(part["image_url"]["url"])
            role, name = message.get("role"), message.get("name")
            if isinstance(role, str):
                strings.append(role)
            if isinstance(name, str):
                strings.append(name)
        return _size(strings, images, overhead)
    field = "prompt" if mode == modes.COMPLETIONS else "input" if mode == modes.MODERATIONS else None
    if field is not None and isinstance(body.get(field), str):
        strings.append(body[field])
    return _size(strings, 0, 0)


def too_large(size: PromptSize, limit: int) -> RelayError | None:
    if size.text_bytes <= limit:
        return None
    return RelayError(413, f"prompt is larger than {limit} bytes", "invalid_request_error", code="prompt_too_large")


class PromptCounter:
    """Counts prompts: small ones inline, large ones in a pool of `threads` threads."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="prompt-count")

    async def in_pool(self, count: Callable[[], int]) -> int:
        return await asyncio.get_running_loop().run_in_executor(self._pool, count)

    async def count(self, mode: int, body: Mapping[str, Any], model: str, approximate: bool, size: PromptSize, images: Any) -> int:
        """The prompt estimate of a text request (docs/one-api-compat.md §6.2); `images` sizes remote image URLs."""
        offload = self.in_pool if size.work_bytes >= INLINE_PROMPT_BYTES else tokenizer.inline
        if mode == modes.CHAT:
            return await tokenizer.count_messages(body.get("messages") or [], model, approximate, images, offload)
        await tokenizer.load_encoder(model, approximate)  # off the loop the first time (o200k: ~0.5 s)
        return await offload(lambda: tokenizer.count_input(mode, body, model, approximate))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
