"""Quota arithmetic (docs/one-api-compat.md §6.3-§6.5) and image/audio request checks (§5.5, §5.10)."""

from __future__ import annotations

import pytest

from shared.billing import pricing
from shared.billing.ratios import Ratios
from shared.billing.tokenizer import count_text

RATIOS = Ratios.default()


def test_pre_consume_quota() -> None:
    assert pricing.pre_consume_quota(10, 100, 500, 2.5) == 1525  # (500 + 10 + 100) × 2.5
    assert pricing.pre_consume_quota(10, 0, 500, 2.5) == 1275  # max_tokens 0 adds nothing
    assert pricing.pre_consume_quota(110, 0, 500, 0.075) == 45  # 45.75 truncated
    assert pricing.pre_consume_quota(0, 0, 0, 30) == 0


def test_trusted_user_rule() -> None:
    assert pricing.is_trusted(100_001, 1000)
    assert not pricing.is_trusted(100_000, 1000)


@pytest.mark.parametrize(
    ("model", "group", "prompt", "completion", "quota"),
    [
        ("gpt-4o", 1.0, 1000, 500, 7500),  # (1000 + 500 × 4) × 2.5
        ("gpt-3.5-turbo", 1.0, 1000, 500, 625),  # (1000 + 500 × 3) × 0.25
        ("claude-3-opus-20240229", 1.5, 100, 50, 3938),  # ceil((100 + 250) × 11.25 = 3937.5)
        ("gpt-4o-mini", 1.0, 7, 3, 2),  # ceil((7 + 12) × 0.075 = 1.425)
        ("deepseek-reasoner", 1.0, 10, 7, 11),  # ceil((10 + 7 × 3.98…) × 0.275 = 10.415)
        ("gpt-4", 0.5, 3, 2, 53),  # ceil((3 + 4) × 7.5 = 52.5)
        ("no-such-model", 1.0, 10, 10, 600),  # fallback ratio 30, completion 1
    ],
)
def test_text_quota(model: str, group: float, prompt: int, completion: int, quota: int) -> None:
    mr, cr = RATIOS.model_ratio(model, 1), RATIOS.completion_ratio(model, 1)
    assert pricing.text_quota(prompt, completion, mr, group, cr) == quota


def test_text_quota_edges() -> None:
    assert pricing.text_quota(0, 0, 2.5, 1, 4) == 0  # nothing counted: nothing charged
    assert pricing.text_quota(1, 0, 0.000025, 1, 1) == 1  # tiny but non-zero ratio: at least 1
    assert pricing.text_quota(1, 0, -500000, 1, 1) == 1  # non-positive result with ratio != 0 -> 1
    assert pricing.text_quota(100, 100, 0, 1, 1) == 0  # free model (ratio 0)
    assert pricing.text_quota(100, 100, 2.5, 0, 4) == 0  # free group


def test_consume_log_content() -> None:
    assert pricing.consume_log_content(2.5, 1, 4) == "倍率：2.50 × 1.00 × 4.00"
    assert pricing.consume_log_content(0.075, 1.5, 4 / 3) == "倍率：0.07 × 1.50 × 1.33"
    assert pricing.consume_log_content(20, 1) == "倍率：20.00 × 1.00"


@pytest.mark.parametrize(
    ("model", "size", "quality", "n", "group", "quota"),
    [
        ("dall-e-3", "1024x1024", "standard", 1, 1, 20000),  # $0.04
        ("dall-e-3", "1024x1024", "hd", 1, 1, 40000),
        ("dall-e-3", "1792x1024", "", 1, 1, 40000),
        ("dall-e-3", "1024x1792", "hd", 1, 1, 60000),
        ("dall-e-2", "256x256", "", 1, 1, 10000),
        ("dall-e-2", "512x512", "", 3, 1, 33750),  # int(10 × 1.125 × 1000) × 3
        ("dall-e-2", "1024x1024", "hd", 2, 0.5, 12500),  # hd only matters for dall-e-3
        ("wanx-v1", "720x1280", "", 4, 1, 32000),
        ("black-forest-labs/flux-schnell", "1024x1024", "", 1, 1, 1500),
        ("cogview-3", "2048x2048", "", 1, 1, 7100),  # unlisted size: ratio 1
    ],
)
def test_image_quota(model: str, size: str, quality: str, n: int, group: float, quota: int) -> None:
    assert pricing.image_quota(model, size, quality, n, RATIOS.model_ratio(model), group) == quota


@pytest.mark.parametrize(
    ("model", "prompt", "size", "n", "error"),
    [
        ("dall-e-2", "", "1024x1024", 1, "prompt_missing"),
        ("dall-e-2", "cat", "1792x1024", 1, "size_not_supported"),
        ("dall-e-3", "cat", "512x512", 1, "size_not_supported"),
        ("ali-stable-diffusion-xl", "cat", "720x1280", 1, "size_not_supported"),
        ("wanx-v1", "cat", "720x1280", 4, None),
        ("step-1x-medium", "cat", "800x1280", 1, None),
        ("cogview-3", "cat", "999x999", 1, None),  # any size
        ("my-model", "x" * 100_000, "1x1", 50, None),  # no tables: anything goes
        ("dall-e-2", "x" * 1000, "256x256", 1, None),
        ("dall-e-2", "x" * 1001, "256x256", 1, "prompt_too_long"),
        ("dall-e-2", "你" * 334, "256x256", 1, "prompt_too_long"),  # 1002 UTF-8 bytes
        ("dall-e-3", "x" * 4000, "1024x1024", 1, None),
        ("dall-e-3", "x" * 4001, "1024x1024", 1, "prompt_too_long"),
        ("cogview-3", "x" * 834, "1024x1024", 1, "prompt_too_long"),
        ("dall-e-2", "cat", "512x512", 10, None),
        ("dall-e-2", "cat", "512x512", 11, "n_not_within_range"),
        ("dall-e-2", "cat", "512x512", 0, "n_not_within_range"),
        ("dall-e-3", "cat", "1024x1024", 2, "n_not_within_range"),
        ("ali-stable-diffusion-v1.5", "cat", "1024x576", 5, "n_not_within_range"),
        ("step-1x-medium", "cat", "512x512", 2, "n_not_within_range"),
    ],
)
def test_validate_image_request(model: str, prompt: str, size: str, n: int, error: str | None) -> None:
    result = pricing.validate_image_request(model, prompt, size, n)
    assert (result[0] if result else None) == error


def test_image_error_messages() -> None:
    assert pricing.validate_image_request("dall-e-2", "", "1", 1) == ("prompt_missing", "prompt is required")
    assert pricing.validate_image_request("dall-e-2", "a", "1", 1) == (
        "size_not_supported",
        "size not supported for this image model",
    )
    assert pricing.validate_image_request("dall-e-2", "a" * 1001, "256x256", 1) == ("prompt_too_long", "prompt is too long")
    assert pricing.validate_image_request("dall-e-3", "a", "1024x1024", 3) == ("n_not_within_range", "invalid value of n")


def test_image_request_defaults_and_aliases() -> None:
    req = pricing.ImageRequest.from_body({"prompt": "cat"})
    assert (req.model, req.size, req.n, req.quality) == ("dall-e-2", "1024x1024", 1, "")
    req = pricing.ImageRequest.from_body({"prompt": "cat", "model": "dall-e-3", "size": "1792x1024", "n": 2.0, "quality": "hd"})
    assert (req.model, req.size, req.n, req.quality) == ("dall-e-3", "1792x1024", 2, "hd")
    assert pricing.ImageRequest.from_body({"prompt": "cat", "n": None}).n == 1
    for bad in ({"prompt": 1}, {"prompt": "x", "n": "2"}, {"prompt": "x", "n": 1.5}, {"prompt": "x", "size": [1]}):
        with pytest.raises(ValueError):
            pricing.ImageRequest.from_body(bad)
    assert pricing.image_model_alias("ali-stable-diffusion-xl") == "stable-diffusion-xl"
    assert pricing.image_model_alias("ali-stable-diffusion-v1.5") == "stable-diffusion-v1.5"
    assert pricing.image_model_alias("dall-e-3") == "dall-e-3"


def test_audio() -> None:
    assert pricing.speech_quota("héllo", 7.5) == 45  # 6 bytes × 7.5
    assert pricing.speech_quota("hello", 15 * 1.5) == 112  # 112.5 truncated
    assert pricing.validate_speech_input("a" * 4096) is None
    assert pricing.validate_speech_input("a" * 4097) == ("text_too_long", "input is too long (over 4096 characters)")
    assert pricing.validate_speech_input("é" * 2049) is not None  # 4098 bytes
    assert pricing.transcription_pre_quota(500, 15) == 7500
    text = "The quick brown fox jumps over the lazy dog."
    assert pricing.transcription_quota(text) == count_text(text, "whisper-1") == 10  # no ratio applied
    assert pricing.transcription_quota(text, approximate=True) == int(len(text) * 0.38)
