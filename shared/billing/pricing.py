"""Quota arithmetic (docs/one-api-compat.md §6.3-§6.5) and image/audio request checks (§5.5, §5.10).

Pure functions: the relay engine supplies token counts and ratios and gets quota back. Go's
float64 -> int64 conversions truncate toward zero; Python's int() does the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.billing.tokenizer import count_text

SPEECH_INPUT_LIMIT = 4096  # bytes of `input` for /v1/audio/speech

IMAGE_SIZE_RATIOS: dict[str, dict[str, float]] = {
    "dall-e-2": {"256x256": 1, "512x512": 1.125, "1024x1024": 1.25},
    "dall-e-3": {"1024x1024": 1, "1024x1792": 2, "1792x1024": 2},
    "ali-stable-diffusion-xl": {"512x1024": 1, "1024x768": 1, "1024x1024": 1, "576x1024": 1, "1024x576": 1},
    "ali-stable-diffusion-v1.5": {"512x1024": 1, "1024x768": 1, "1024x1024": 1, "576x1024": 1, "1024x576": 1},
    "wanx-v1": {"1024x1024": 1, "720x1280": 1, "1280x720": 1},
    "step-1x-medium": {"256x256": 1, "512x512": 1, "768x768": 1, "1024x1024": 1, "1280x800": 1, "800x1280": 1},
}
IMAGE_N_RANGES: dict[str, tuple[int, int]] = {
    "dall-e-2": (1, 10),
    "dall-e-3": (1, 1),
    "ali-stable-diffusion-xl": (1, 4),
    "ali-stable-diffusion-v1.5": (1, 4),
    "wanx-v1": (1, 4),
    "cogview-3": (1, 1),
    "step-1x-medium": (1, 1),
}
IMAGE_PROMPT_LIMITS: dict[str, int] = {
    "dall-e-2": 1000,
    "dall-e-3": 4000,
    "ali-stable-diffusion-xl": 4000,
    "ali-stable-diffusion-v1.5": 4000,
    "wanx-v1": 4000,
    "cogview-3": 833,
    "step-1x-medium": 4000,
}
IMAGE_MODEL_ALIASES: dict[str, str] = {
    "ali-stable-diffusion-xl": "stable-diffusion-xl",
    "ali-stable-diffusion-v1.5": "stable-diffusion-v1.5",
}


# --- text -------------------------------------------------------------------------------------


def pre_consume_quota(prompt_tokens: int, max_tokens: int, pre_consumed_quota_option: int, ratio: float) -> int:
    """int((PreConsumedQuota + prompt + max_tokens) × ratio); max_tokens 0 adds nothing."""
    tokens = pre_consumed_quota_option + prompt_tokens + (max_tokens or 0)
    return int(tokens * ratio)


def text_quota(prompt_tokens: float, completion_tokens: int, model_ratio: float, group_ratio: float, completion_ratio: float) -> int:
    """ceil((prompt + completion × completionRatio) × modelRatio × groupRatio), at least 1 when
    the ratio is not 0, and 0 when both counts are 0."""
    if prompt_tokens + completion_tokens == 0:
        return 0
    ratio = model_ratio * group_ratio
    quota = int(math.ceil((prompt_tokens + completion_tokens * completion_ratio) * ratio))
    if ratio != 0 and quota <= 0:
        quota = 1
    return quota


# Options (ours) pricing prompt-cache tokens, with Anthropic's list multipliers as defaults.
CACHE_RATIO_KEYS = {"AnthropicCacheWriteRatio": 1.25, "AnthropicCacheReadRatio": 0.1}


def parse_cache_ratio(value: str) -> float | None:
    """A cache ratio option's value, or None when it is not a number in [0, 100]."""
    try:
        ratio = float(value)
    except ValueError:
        return None
    return ratio if 0 <= ratio <= 100 else None


def cache_ratios(options: Mapping[str, str]) -> tuple[float, float]:
    """(write, read) ratios from the option map; a missing or unreadable value keeps its default."""
    write, read = (parse_cache_ratio(options.get(key, "")) for key in CACHE_RATIO_KEYS)
    defaults = list(CACHE_RATIO_KEYS.values())
    return (defaults[0] if write is None else write, defaults[1] if read is None else read)


def prompt_weight(prompt_tokens: int, cache_write: int, cache_read: int, write_ratio: float, read_ratio: float) -> float:
    """Prompt tokens as billed: uncached ones at 1, cache writes and reads (part of prompt_tokens)
    at their own ratios (options AnthropicCacheWriteRatio / AnthropicCacheReadRatio)."""
    return prompt_tokens - cache_write - cache_read + cache_write * write_ratio + cache_read * read_ratio


def cache_log_content(cache_write: int, cache_read: int, write_ratio: float, read_ratio: float) -> str:
    """Appended to a text log row's content when the prompt used a provider cache."""
    return f"，缓存写入 {cache_write} × {write_ratio:.2f}，缓存读取 {cache_read} × {read_ratio:.2f}"


def is_trusted(user_quota: int, pre_consumed: int) -> bool:
    """One API skips the reservation when the user holds more than 100× the estimate."""
    return user_quota > 100 * pre_consumed


# --- consume log ------------------------------------------------------------------------------


def consume_log_content(model_ratio: float, group_ratio: float, completion_ratio: float | None = None) -> str:
    """`倍率：<model> × <group> × <completion>` (text) or the two-factor form (images, audio)."""
    if completion_ratio is None:
        return f"倍率：{model_ratio:.2f} × {group_ratio:.2f}"
    return f"倍率：{model_ratio:.2f} × {group_ratio:.2f} × {completion_ratio:.2f}"


# --- images -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRequest:
    """The fields of an image generation body that billing and validation read, with defaults."""

    model: str
    prompt: str
    size: str
    quality: str
    n: int

    @classmethod
    def from_body(cls, body: Mapping[str, Any]) -> ImageRequest:
        """Defaults n=1, size 1024x1024, model dall-e-2. Raises ValueError on wrong field types
        (-> 400 `invalid_image_request`)."""
        model, prompt, size, quality = (body.get(k) or "" for k in ("model", "prompt", "size", "quality"))
        n = body.get("n") or 0
        for name, value in (("model", model), ("prompt", prompt), ("size", size), ("quality", quality)):
            if not isinstance(value, str):
                raise ValueError(f"json: cannot unmarshal into field {name} of type string")
        if isinstance(n, float) and n.is_integer():
            n = int(n)
        if isinstance(n, bool) or not isinstance(n, int):
            raise ValueError("json: cannot unmarshal into field n of type int")
        return cls(model=model or "dall-e-2", prompt=prompt, size=size or "1024x1024", quality=quality, n=n or 1)


def validate_image_request(model: str, prompt: str, size: str, n: int) -> tuple[str, str] | None:
    """None when valid, else (code, message) for a 400 (§5.5)."""
    if prompt == "":
        return "prompt_missing", "prompt is required"
    sizes = IMAGE_SIZE_RATIOS.get(model)
    if model != "cogview-3" and sizes is not None and size not in sizes:
        return "size_not_supported", "size not supported for this image model"
    limit = IMAGE_PROMPT_LIMITS.get(model)
    if limit is not None and len(prompt.encode("utf-8", "surrogatepass")) > limit:
        return "prompt_too_long", "prompt is too long"
    bounds = IMAGE_N_RANGES.get(model)
    if bounds is not None and not bounds[0] <= n <= bounds[1]:
        return "n_not_within_range", "invalid value of n"
    return None


def image_model_alias(model: str) -> str:
    """The Ali alias sent upstream (`ali-stable-diffusion-xl` -> `stable-diffusion-xl`)."""
    return IMAGE_MODEL_ALIASES.get(model, model)


def image_size_ratio(model: str, size: str, quality: str = "") -> float:
    """Size ratio from the table (1 when unlisted); dall-e-3 hd: ×2 at 1024x1024, else ×1.5."""
    ratio = float(IMAGE_SIZE_RATIOS.get(model, {}).get(size, 1))
    if quality == "hd" and model == "dall-e-3":
        ratio *= 2 if size == "1024x1024" else 1.5
    return ratio


def image_quota(model: str, size: str, quality: str, n: int, model_ratio: float, group_ratio: float) -> int:
    """int(modelRatio × groupRatio × sizeRatio × 1000) × n. Replicate bills one image: pass n=1."""
    ratio = model_ratio * group_ratio
    return int(ratio * image_size_ratio(model, size, quality) * 1000) * n


# --- audio ------------------------------------------------------------------------------------


def validate_speech_input(text: str) -> tuple[str, str] | None:
    """None when valid, else (code, message): input over 4096 bytes -> 400 `text_too_long`."""
    if len(text.encode("utf-8", "surrogatepass")) > SPEECH_INPUT_LIMIT:
        return "text_too_long", "input is too long (over 4096 characters)"
    return None


def speech_quota(text: str, ratio: float) -> int:
    """TTS cost, reserved up front and final: int(len(input in UTF-8 bytes) × ratio)."""
    return int(len(text.encode("utf-8", "surrogatepass")) * ratio)


def transcription_pre_quota(pre_consumed_quota_option: int, ratio: float) -> int:
    """Reservation of a transcription/translation: int(PreConsumedQuota × ratio)."""
    return int(pre_consumed_quota_option * ratio)


def transcription_quota(text: str, model: str = "whisper-1", approximate: bool = False) -> int:
    """Final cost of a transcription/translation: the tiktoken count of the text, no ratio."""
    return count_text(text, model, approximate)
