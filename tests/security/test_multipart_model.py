"""A multipart body names its model once (issue 12, item 9).

The relay routes and bills by the `model` field it parsed, and sends the body upstream as the
client wrote it. With two `model` fields the gateway could bill one model while the upstream
serves the other, so such a body is refused before anything is reserved or sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.relay_kit import bearer, error_of, relay_world

AUDIO = {"file": ("a.mp3", b"ID3 fake audio", "audio/mpeg")}


@pytest.mark.parametrize(
    "data,files",
    [
        ({"model": ["whisper-1", "gpt-4o"]}, AUDIO),
        ({"model": "whisper-1", "response_format": ["text", "verbose_json"]}, AUDIO),
        ({}, {**AUDIO, "model": ("model.txt", b"whisper-1", "text/plain")}),
    ],
    ids=["two-models", "two-response-formats", "model-as-a-file"],
)
async def test_a_repeated_or_file_model_field_is_refused(
    sqlite_database, fake_upstream, data: dict[str, Any], files: dict[str, Any]
) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        token = await w.token()
        resp = await w.root.post("/v1/audio/transcriptions", headers=bearer(token), data=data, files=files)
        assert resp.status_code == 400, resp.text
        assert error_of(resp)["code"] == "invalid_request"
        assert not fake_upstream.requests


async def test_a_single_model_field_is_relayed(sqlite_database, fake_upstream) -> None:
    async with relay_world(sqlite_database, fake_upstream) as w:
        await w.channel()
        token = await w.token()
        resp = await w.root.post(
            "/v1/audio/transcriptions",
            headers=bearer(token),
            data={"model": "whisper-1", "timestamp_granularities[]": ["word", "segment"]},
            files=AUDIO,
        )
        assert resp.status_code == 200, resp.text
        assert fake_upstream.last.body.count(b'name="model"') == 1
