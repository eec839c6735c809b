"""POST /v1/messages/count_tokens: the prompt counted the way the gateway bills it."""

from __future__ import annotations

from typing import Any

from shared.relay import modes, prompt
from shared.relay.inbound.anthropic.request import to_chat


async def count_tokens(engine: Any, body: Any) -> tuple[str, dict[str, int]]:
    """(model, answer): the estimate the reservation of the same /v1/messages request would use
    (the project's tokenizer over the chat conversion), not a call upstream."""
    chat = to_chat(body, counting=True)
    snapshot = engine.snapshot
    approximate = snapshot.option_flag("ApproximateTokenEnabled") if snapshot is not None else False
    size = prompt.measure(modes.CHAT, chat)
    oversized = prompt.too_large(size, engine.settings.max_prompt_bytes)
    if oversized is not None:
        raise oversized
    tokens = await engine.prompts.count(modes.CHAT, chat, chat["model"], approximate, size, engine.user_content)
    return chat["model"], {"input_tokens": tokens}
