"""Model, completion and group ratios (reference §6.1).

The built-in tables are One API's defaults; the `ModelRatio`, `CompletionRatio` and `GroupRatio`
options overlay them. A built-in model can be overridden but never removed.
"""

from __future__ import annotations

USD = 500.0  # a model ratio of 1 = $0.002 per 1K tokens
MILLI_USD = USD / 1000
RMB = USD / 7

DEFAULT_MODEL_RATIO: dict[str, float] = {
    "gpt-4": 15,
    "gpt-4-turbo": 5,
    "gpt-4o": 2.5,
    "gpt-4o-2024-05-13": 2.5,
    "gpt-4o-2024-08-06": 1.25,
    "gpt-4o-2024-11-20": 1.25,
    "gpt-4o-mini": 0.075,
    "gpt-3.5-turbo": 0.25,
    "o1": 7.5,
    "o1-mini": 1.5,
    "o3-mini": 1.5,
    "claude-3-5-sonnet-20240620": 3.0 / 1000 * USD,
    "claude-3-5-sonnet-20241022": 3.0 / 1000 * USD,
    "claude-3-5-sonnet-latest": 3.0 / 1000 * USD,
    "claude-3-5-haiku-20241022": 1.0 / 1000 * USD,
    "claude-3-opus-20240229": 15.0 / 1000 * USD,
    "gemini-1.5-pro": 1.25 * MILLI_USD,
    "gemini-1.5-flash": 0.075 * MILLI_USD,
    "gemini-2.0-flash": 0.15 * MILLI_USD,
    "deepseek-chat": 0.14 * MILLI_USD,
    "deepseek-reasoner": 0.55 * MILLI_USD,
    "text-embedding-3-small": 0.01,
    "text-embedding-3-large": 0.065,
    "text-embedding-ada-002": 0.05,
    "dall-e-2": 10,
    "dall-e-3": 20,
    "whisper-1": 15,
    "tts-1": 7.5,
    "tts-1-hd": 15,
}

DEFAULT_COMPLETION_RATIO: dict[str, float] = {
    "llama3-8b-8192(33)": 2,
    "llama3-70b-8192(33)": 0.0035 / 0.00265,
    "whisper-1": 0,
    "deepseek-chat": 2,
    "deepseek-reasoner": 2.19 / 0.55,
}

DEFAULT_GROUP_RATIO: dict[str, float] = {"default": 1, "vip": 1, "svip": 1}
